// rtp_load: RTP load generator and sink in one process, for bench/load/relay.sh.
//
// For N calls it binds 2N UDP sockets (the caller's and the callee's media socket of each call),
// prints their ports, reads from stdin where each socket must send (a relay's A-side and B-side
// ports, or nothing with --direct: then the two sockets of a call send straight to each other),
// then sends `pps` RTP packets per second from every socket and receives on all of them, in one
// thread: an epoll loop with a timerfd for pacing and recvmmsg for receiving. Each packet carries
// in its payload the call, the direction, a sequence number and the send time (CLOCK_MONOTONIC
// ns); the receive time is the kernel's (SO_TIMESTAMPNS, taken when the packet reaches the
// receiving socket's queue, so the sink's own scheduling delay is not counted), or the time
// recvmmsg returned with --user-stamp.
//
// Phases: warm-up (sent, not measured), measurement window (packets sent in it are counted and
// timed), drain (no more sending; packets arriving now still count, those still queued after it
// are lost). Received packets later than --late-ms are counted as "late". Then one line
//   result {json}
// with sent/received/lost/late, the one-way latency distribution of the measured packets, the
// host's UDP drop counters over the window, and the CPU used in the window (% of one core) by this
// process, by each --cpu-pid process and by all processes together (plus /proc/stat's busy share).
//
// stdin protocol (after the program printed "ready"):
//   peer <call> <ip>:<port> <ip>:<port>   caller socket sends to the first (relay A side),
//                                         callee socket sends to the second (relay B side)
//   go                                    start; calls without a peer line are not driven
// stdout: "port <call> <caller_port> <callee_port>" for each call, "ready", later "result {...}".
//
// Bounded: the run lasts warmup + measure + drain; the wait for "go" is bounded by --wait-s.
// Network: only the --bind address and the peers given (relay.sh passes 127.0.0.1 only).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

constexpr std::uint32_t magic = 0x42325252;  // "B2RR"
constexpr std::size_t rtp_header = 12;
constexpr std::size_t marker_size = 4 + 4 + 1 + 1 + 2 + 8 + 4;  // see Marker
constexpr unsigned recv_batch = 16;
constexpr std::size_t recv_buf = 2048;

struct Options {
  unsigned calls = 0;
  std::string bind_ip = "127.0.0.1";
  double warmup_s = 2.0;
  double measure_s = 10.0;
  unsigned drain_ms = 500;
  unsigned pps = 50;
  unsigned payload = 160;
  unsigned slots = 200;
  bool direct = false;
  bool connect_peers = true;
  bool kernel_stamp = true;
  double wait_s = 600;
  double late_ms = 50;
  std::vector<int> cpu_pids;
  std::string label;
};

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "rtp_load: %s\n", what);
  std::exit(2);
}

[[noreturn]] void die_errno(const char* what) {
  std::fprintf(stderr, "rtp_load: %s: %s\n", what, std::strerror(errno));
  std::exit(2);
}

void usage() {
  std::fprintf(stderr,
               "usage: rtp_load --calls N [--direct] [--bind IP] [--warmup-s S] [--measure-s S]\n"
               "                [--drain-ms MS] [--pps P] [--payload BYTES] [--slots K]\n"
               "                [--no-connect] [--user-stamp] [--cpu-pid PID]... [--wait-s S]\n"
               "                [--late-ms MS] [--label TEXT]\n");
}

Options parse_args(int argc, char** argv) {
  Options o;
  auto need = [&](int& i) -> const char* {
    if (i + 1 >= argc) {
      usage();
      die("missing value");
    }
    return argv[++i];
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--calls") {
      o.calls = static_cast<unsigned>(std::strtoul(need(i), nullptr, 10));
    } else if (a == "--bind") {
      o.bind_ip = need(i);
    } else if (a == "--warmup-s") {
      o.warmup_s = std::strtod(need(i), nullptr);
    } else if (a == "--measure-s") {
      o.measure_s = std::strtod(need(i), nullptr);
    } else if (a == "--drain-ms") {
      o.drain_ms = static_cast<unsigned>(std::strtoul(need(i), nullptr, 10));
    } else if (a == "--pps") {
      o.pps = static_cast<unsigned>(std::strtoul(need(i), nullptr, 10));
    } else if (a == "--payload") {
      o.payload = static_cast<unsigned>(std::strtoul(need(i), nullptr, 10));
    } else if (a == "--slots") {
      o.slots = static_cast<unsigned>(std::strtoul(need(i), nullptr, 10));
    } else if (a == "--direct") {
      o.direct = true;
    } else if (a == "--no-connect") {
      o.connect_peers = false;
    } else if (a == "--user-stamp") {
      o.kernel_stamp = false;
    } else if (a == "--cpu-pid") {
      o.cpu_pids.push_back(std::atoi(need(i)));
    } else if (a == "--late-ms") {
      o.late_ms = std::strtod(need(i), nullptr);
    } else if (a == "--wait-s") {
      o.wait_s = std::strtod(need(i), nullptr);
    } else if (a == "--label") {
      o.label = need(i);
    } else if (a == "-h" || a == "--help") {
      usage();
      std::exit(0);
    } else {
      usage();
      die("unknown argument");
    }
  }
  if (o.calls < 1 || o.calls > 20000) die("--calls must be 1..20000");
  if (o.pps < 1 || o.pps > 1000) die("--pps must be 1..1000");
  if (o.payload < marker_size || o.payload > 1400) die("--payload must be 32..1400");
  if (o.slots < 1 || o.slots > 1000) die("--slots must be 1..1000");
  if (!(o.warmup_s >= 0 && o.warmup_s <= 60)) die("--warmup-s must be 0..60");
  if (!(o.measure_s > 0 && o.measure_s <= 600)) die("--measure-s must be >0..600");
  if (o.drain_ms > 10000) die("--drain-ms must be <= 10000");
  if (!(o.wait_s > 0 && o.wait_s <= 3600)) die("--wait-s must be >0..3600");
  if (!(o.late_ms > 0 && o.late_ms <= 4000)) die("--late-ms must be >0..4000");
  return o;
}

std::int64_t now_ns(clockid_t c) {
  timespec ts{};
  clock_gettime(c, &ts);
  return std::int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

std::int64_t mono_ns() { return now_ns(CLOCK_MONOTONIC); }

// The payload marker, written right after the RTP header (little-endian, as this host).
struct Marker {
  std::uint32_t magic;
  std::uint32_t call;
  std::uint8_t dir;       // 0: caller -> callee, 1: callee -> caller
  std::uint8_t measured;  // sent inside the measurement window
  std::uint16_t pad;
  std::int64_t send_ns;   // CLOCK_MONOTONIC
  std::uint32_t seq;      // per stream, from 0
};

void put_marker(unsigned char* p, const Marker& m) {
  std::memcpy(p, &m.magic, 4);
  std::memcpy(p + 4, &m.call, 4);
  p[8] = m.dir;
  p[9] = m.measured;
  std::memcpy(p + 10, &m.pad, 2);
  std::memcpy(p + 12, &m.send_ns, 8);
  std::memcpy(p + 20, &m.seq, 4);
}

Marker get_marker(const unsigned char* p) {
  Marker m{};
  std::memcpy(&m.magic, p, 4);
  std::memcpy(&m.call, p + 4, 4);
  m.dir = p[8];
  m.measured = p[9];
  std::memcpy(&m.pad, p + 10, 2);
  std::memcpy(&m.send_ns, p + 12, 8);
  std::memcpy(&m.seq, p + 20, 4);
  return m;
}

// utime + stime of a process in clock ticks (all its threads), -1 if it is gone.
long long proc_ticks(const std::string& pid) {
  std::ifstream f("/proc/" + pid + "/stat");
  std::string s;
  if (!std::getline(f, s)) return -1;
  auto r = s.rfind(')');
  if (r == std::string::npos) return -1;
  std::istringstream in(s.substr(r + 2));
  std::string field;
  long long ut = 0, st = 0;
  // Fields after the comm: state(3) ... utime(14) stime(15); index 0 here is field 3.
  for (int i = 0; i < 13 && in >> field; ++i) {
    if (i == 11) ut = std::atoll(field.c_str());
    if (i == 12) st = std::atoll(field.c_str());
  }
  return ut + st;
}

// utime + stime + cutime + cstime of every process, by pid: the CPU of the whole host as the
// scheduler measured it (the tick-sampled /proc/stat misses periodic work on this kind of VM).
std::map<int, long long> all_proc_ticks() {
  std::map<int, long long> out;
  DIR* d = opendir("/proc");
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0') continue;
    std::ifstream f(std::string("/proc/") + e->d_name + "/stat");
    std::string s;
    if (!std::getline(f, s)) continue;
    auto r = s.rfind(')');
    if (r == std::string::npos || r + 2 >= s.size()) continue;
    std::istringstream in(s.substr(r + 2));
    std::string field;
    long long sum = 0;
    for (int i = 0; i < 15 && in >> field; ++i) {
      if (i >= 11) sum += std::atoll(field.c_str());  // utime stime cutime cstime
    }
    out[static_cast<int>(pid)] = sum;
  }
  closedir(d);
  return out;
}

// Host-wide (busy, total) jiffies from the first line of /proc/stat.
std::pair<long long, long long> host_ticks() {
  std::ifstream f("/proc/stat");
  std::string cpu;
  long long v[10] = {};
  f >> cpu;
  for (auto& x : v) f >> x;
  long long total = 0;
  for (int i = 0; i < 8; ++i) total += v[i];  // guest time is already in user
  long long idle = v[3] + v[4];
  return {total - idle, total};
}

// Kernel UDP counters (host-wide, /proc/net/snmp) and loopback backlog drops
// (/proc/net/softnet_stat): where packets were lost.
struct NetCounters {
  long long no_ports = 0, rcvbuf_errors = 0, sndbuf_errors = 0, softnet_dropped = 0;
};

NetCounters net_counters() {
  NetCounters n;
  std::ifstream f("/proc/net/snmp");
  std::string line, names;
  while (std::getline(f, line)) {
    if (line.rfind("Udp: ", 0) != 0) continue;
    if (names.empty()) {
      names = line;
      continue;
    }
    std::istringstream hn(names), hv(line);
    std::string k, v;
    hn >> k;
    hv >> v;
    while (hn >> k && hv >> v) {
      if (k == "NoPorts") n.no_ports = std::atoll(v.c_str());
      if (k == "RcvbufErrors") n.rcvbuf_errors = std::atoll(v.c_str());
      if (k == "SndbufErrors") n.sndbuf_errors = std::atoll(v.c_str());
    }
    break;
  }
  std::ifstream sf("/proc/net/softnet_stat");
  while (std::getline(sf, line)) {
    std::istringstream in(line);
    std::string processed, dropped;
    if (in >> processed >> dropped) n.softnet_dropped += std::strtoll(dropped.c_str(), nullptr, 16);
  }
  return n;
}

struct Stream {
  std::uint16_t rtp_seq = 0;
  std::uint32_t rtp_ts = 0;
  std::uint32_t ssrc = 0;
  std::uint32_t next_seq = 0;
  std::uint32_t measured_sent = 0;
  std::uint32_t measured_recv = 0;
  std::vector<std::uint64_t> seen;  // bitmap over seq
};

bool parse_endpoint(const std::string& s, sockaddr_in& out) {
  auto c = s.rfind(':');
  if (c == std::string::npos) return false;
  std::memset(&out, 0, sizeof out);
  out.sin_family = AF_INET;
  if (inet_pton(AF_INET, s.substr(0, c).c_str(), &out.sin_addr) != 1) return false;
  long port = std::strtol(s.c_str() + c + 1, nullptr, 10);
  if (port < 1 || port > 65535) return false;
  out.sin_port = htons(static_cast<std::uint16_t>(port));
  return true;
}

double pct(const std::vector<std::uint32_t>& sorted, double q) {
  if (sorted.empty()) return -1;
  auto idx = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size()))) ;
  if (idx > 0) --idx;
  if (idx >= sorted.size()) idx = sorted.size() - 1;
  return sorted[idx] / 1000.0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse_args(argc, argv);
  const unsigned n_sock = 2 * o.calls;

  // Room for 2N sockets plus a few.
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < n_sock + 32) {
    die("RLIMIT_NOFILE too low for 2 sockets per call");
  }

  sockaddr_in bind_addr{};
  bind_addr.sin_family = AF_INET;
  if (inet_pton(AF_INET, o.bind_ip.c_str(), &bind_addr.sin_addr) != 1) die("--bind must be IPv4");

  // Socket 2i: caller side of call i; 2i+1: callee side.
  std::vector<int> fds(n_sock, -1);
  std::vector<std::uint16_t> ports(n_sock, 0);
  for (unsigned s = 0; s < n_sock; ++s) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) die_errno("socket");
    if (o.kernel_stamp) {
      int on = 1;
      if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) != 0) {
        die_errno("SO_TIMESTAMPNS");
      }
    }
    sockaddr_in a = bind_addr;
    a.sin_port = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die_errno("bind");
    socklen_t len = sizeof a;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) die_errno("getsockname");
    fds[s] = fd;
    ports[s] = ntohs(a.sin_port);
  }
  for (unsigned c = 0; c < o.calls; ++c) {
    std::printf("port %u %u %u\n", c, ports[2 * c], ports[2 * c + 1]);
  }
  std::printf("ready\n");
  std::fflush(stdout);

  // Destinations: per socket.
  std::vector<sockaddr_in> dest(n_sock);
  std::vector<char> active(o.calls, 0);
  if (o.direct) {
    for (unsigned c = 0; c < o.calls; ++c) {
      dest[2 * c] = bind_addr;
      dest[2 * c].sin_port = htons(ports[2 * c + 1]);
      dest[2 * c + 1] = bind_addr;
      dest[2 * c + 1].sin_port = htons(ports[2 * c]);
      active[c] = 1;
    }
  }
  {
    // Read stdin up to "go", bounded by --wait-s.
    std::string buf;
    bool go = false;
    const std::int64_t deadline = mono_ns() + static_cast<std::int64_t>(o.wait_s * 1e9);
    std::size_t line_start = 0;
    while (!go) {
      std::int64_t left = deadline - mono_ns();
      if (left <= 0) die("timed out waiting for 'go' on stdin");
      pollfd p{0, POLLIN, 0};
      int r = poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left / 1000000 + 1, 1000)));
      if (r < 0 && errno != EINTR) die_errno("poll stdin");
      if (r <= 0) continue;
      char tmp[65536];
      ssize_t k = read(0, tmp, sizeof tmp);
      if (k < 0 && errno != EINTR) die_errno("read stdin");
      if (k == 0) die("stdin closed before 'go'");
      if (k < 0) continue;
      buf.append(tmp, static_cast<std::size_t>(k));
      std::size_t nl;
      while ((nl = buf.find('\n', line_start)) != std::string::npos) {
        std::string line = buf.substr(line_start, nl - line_start);
        line_start = nl + 1;
        std::istringstream in(line);
        std::string w;
        in >> w;
        if (w == "go") {
          go = true;
          break;
        }
        if (w == "peer" && !o.direct) {
          unsigned c = 0;
          std::string ea, eb;
          in >> c >> ea >> eb;
          if (c >= o.calls || !parse_endpoint(ea, dest[2 * c]) ||
              !parse_endpoint(eb, dest[2 * c + 1])) {
            std::fprintf(stderr, "rtp_load: bad peer line: %s\n", line.c_str());
            std::exit(2);
          }
          active[c] = 1;
        }
      }
    }
  }
  unsigned n_active = 0;
  for (char a : active) n_active += a ? 1 : 0;
  if (n_active == 0) die("no call to drive");

  if (o.connect_peers) {
    for (unsigned s = 0; s < n_sock; ++s) {
      if (!active[s / 2]) continue;
      if (connect(fds[s], reinterpret_cast<sockaddr*>(&dest[s]), sizeof dest[s]) != 0) {
        die_errno("connect");
      }
    }
  }

  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die_errno("epoll_create1");
  const std::uint64_t timer_key = ~std::uint64_t{0};
  for (unsigned s = 0; s < n_sock; ++s) {
    if (!active[s / 2]) continue;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = s;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[s], &ev) != 0) die_errno("epoll_ctl");
  }
  int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (tfd < 0) die_errno("timerfd_create");
  {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = timer_key;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev) != 0) die_errno("epoll_ctl timer");
  }

  // Streams: 2c = caller -> callee (sent on socket 2c), 2c+1 = callee -> caller.
  const std::int64_t period_ns = 1000000000LL / o.pps;
  const std::int64_t tick_ns = std::max<std::int64_t>(period_ns / o.slots, 1000);
  const std::uint32_t max_seq =
      static_cast<std::uint32_t>((o.warmup_s + o.measure_s) * o.pps) + 2 * o.pps + 16;
  std::vector<Stream> streams(n_sock);
  for (unsigned s = 0; s < n_sock; ++s) {
    streams[s].ssrc = 0x10000000u + s * 2654435761u;
    streams[s].rtp_seq = static_cast<std::uint16_t>(s * 7919u);
    streams[s].rtp_ts = s * 104729u;
    streams[s].seen.assign(max_seq / 64 + 1, 0);
  }
  // Calls per slot: call c goes in slot c % slots.
  std::vector<std::vector<unsigned>> slot_calls(o.slots);
  for (unsigned c = 0; c < o.calls; ++c) {
    if (active[c]) slot_calls[c % o.slots].push_back(c);
  }

  std::vector<std::uint32_t> lat;  // ns, measured packets
  lat.reserve(static_cast<std::size_t>(2.0 * n_active * o.pps * o.measure_s * 1.05) + 1024);

  const std::size_t pkt_len = rtp_header + o.payload;
  std::vector<unsigned char> pkt(pkt_len, 0);

  std::uint64_t sent = 0, send_err = 0, measured_sent = 0, measured_send_err = 0;
  std::uint64_t recv_total = 0, measured_recv = 0, dup = 0, stray = 0, bad = 0;
  std::uint64_t no_kstamp = 0, neg_lat = 0, late_ticks = 0, ticks = 0;
  std::int64_t max_tick_lag = 0;
  int last_send_errno = 0;

  const std::int64_t t_start = mono_ns();
  const std::int64_t t_meas0 = t_start + static_cast<std::int64_t>(o.warmup_s * 1e9);
  const std::int64_t t_meas1 = t_meas0 + static_cast<std::int64_t>(o.measure_s * 1e9);
  const std::int64_t t_end = t_meas1 + std::int64_t{o.drain_ms} * 1000000;

  {
    itimerspec its{};
    its.it_value.tv_sec = (t_start + tick_ns) / 1000000000;
    its.it_value.tv_nsec = (t_start + tick_ns) % 1000000000;
    its.it_interval.tv_sec = tick_ns / 1000000000;
    its.it_interval.tv_nsec = tick_ns % 1000000000;
    if (timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, nullptr) != 0) die_errno("timerfd_settime");
  }

  // CPU samples at the window's edges.
  std::vector<std::string> pid_str;
  for (int p : o.cpu_pids) pid_str.push_back(std::to_string(p));
  std::vector<long long> cpu0(pid_str.size(), -1), cpu1(pid_str.size(), -1);
  long long self0 = -1, self1 = -1;
  std::pair<long long, long long> host0{0, 0}, host1{0, 0};
  NetCounters net0, net1;
  std::map<int, long long> procs0, procs1;
  bool in_window = false, window_done = false;
  std::int64_t win_t0 = 0, win_t1 = 0;
  auto sample = [&](std::vector<long long>& v, long long& self, std::pair<long long, long long>& h) {
    for (std::size_t i = 0; i < pid_str.size(); ++i) v[i] = proc_ticks(pid_str[i]);
    self = proc_ticks("self");
    h = host_ticks();
    (&v == &cpu0 ? procs0 : procs1) = all_proc_ticks();
  };

  auto send_slot = [&](unsigned slot, std::int64_t due_ns) {
    for (unsigned c : slot_calls[slot]) {
      for (unsigned d = 0; d < 2; ++d) {
        const unsigned s = 2 * c + d;
        Stream& st = streams[s];
        if (st.next_seq >= max_seq) continue;
        const std::int64_t t = mono_ns();
        const bool measured = t >= t_meas0 && t < t_meas1;
        pkt[0] = 0x80;
        pkt[1] = 0;  // PCMU
        pkt[2] = static_cast<unsigned char>(st.rtp_seq >> 8);
        pkt[3] = static_cast<unsigned char>(st.rtp_seq);
        pkt[4] = static_cast<unsigned char>(st.rtp_ts >> 24);
        pkt[5] = static_cast<unsigned char>(st.rtp_ts >> 16);
        pkt[6] = static_cast<unsigned char>(st.rtp_ts >> 8);
        pkt[7] = static_cast<unsigned char>(st.rtp_ts);
        pkt[8] = static_cast<unsigned char>(st.ssrc >> 24);
        pkt[9] = static_cast<unsigned char>(st.ssrc >> 16);
        pkt[10] = static_cast<unsigned char>(st.ssrc >> 8);
        pkt[11] = static_cast<unsigned char>(st.ssrc);
        put_marker(pkt.data() + rtp_header,
                   Marker{magic, c, static_cast<std::uint8_t>(d),
                          static_cast<std::uint8_t>(measured ? 1 : 0), 0, t, st.next_seq});
        ssize_t r;
        if (o.connect_peers) {
          r = send(fds[s], pkt.data(), pkt_len, 0);
        } else {
          r = sendto(fds[s], pkt.data(), pkt_len, 0, reinterpret_cast<sockaddr*>(&dest[s]),
                     sizeof dest[s]);
        }
        ++st.rtp_seq;
        st.rtp_ts += 8000 / o.pps;
        ++st.next_seq;
        ++sent;
        if (measured) {
          ++measured_sent;
          ++st.measured_sent;
        }
        if (r < 0) {
          ++send_err;
          last_send_errno = errno;
          if (measured) ++measured_send_err;
        }
      }
    }
    max_tick_lag = std::max(max_tick_lag, mono_ns() - due_ns);
  };

  std::vector<mmsghdr> msgs(recv_batch);
  std::vector<iovec> iovs(recv_batch);
  std::vector<std::vector<unsigned char>> bufs(recv_batch, std::vector<unsigned char>(recv_buf));
  std::vector<std::vector<unsigned char>> ctls(recv_batch,
                                               std::vector<unsigned char>(CMSG_SPACE(64)));
  for (unsigned i = 0; i < recv_batch; ++i) {
    iovs[i].iov_base = bufs[i].data();
    iovs[i].iov_len = bufs[i].size();
  }

  std::vector<epoll_event> evs(1024);
  std::uint64_t tick_index = 0;
  const std::int64_t first_due = t_start + tick_ns;
  for (;;) {
    std::int64_t now = mono_ns();
    if (!in_window && !window_done && now >= t_meas0) {
      sample(cpu0, self0, host0);
      net0 = net_counters();
      win_t0 = mono_ns();
      in_window = true;
    }
    if (in_window && now >= t_meas1) {
      sample(cpu1, self1, host1);
      win_t1 = mono_ns();
      in_window = false;
      window_done = true;
    }
    if (now >= t_end) {
      net1 = net_counters();
      break;
    }
    int timeout_ms = static_cast<int>((t_end - now) / 1000000) + 1;
    if (!window_done) {
      std::int64_t edge = in_window ? t_meas1 : t_meas0;
      timeout_ms = std::min(timeout_ms, static_cast<int>(std::max<std::int64_t>(edge - now, 0) / 1000000) + 1);
    }
    int n = epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      die_errno("epoll_wait");
    }
    const std::int64_t offset = now_ns(CLOCK_REALTIME) - mono_ns();  // real - mono
    for (int e = 0; e < n; ++e) {
      if (evs[e].data.u64 == timer_key) {
        std::uint64_t exp = 0;
        if (read(tfd, &exp, sizeof exp) != sizeof exp) continue;
        if (exp > 1) late_ticks += exp - 1;
        for (std::uint64_t k = 0; k < exp; ++k) {
          const std::int64_t due = first_due + static_cast<std::int64_t>(tick_index) * tick_ns;
          if (due < t_meas1) {
            send_slot(static_cast<unsigned>(tick_index % o.slots), due);
            ++ticks;
          }
          ++tick_index;
        }
        continue;
      }
      const unsigned s = static_cast<unsigned>(evs[e].data.u64);
      for (unsigned i = 0; i < recv_batch; ++i) {
        std::memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
        msgs[i].msg_hdr.msg_iov = &iovs[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_control = ctls[i].data();
        msgs[i].msg_hdr.msg_controllen = ctls[i].size();
        msgs[i].msg_len = 0;
      }
      int got = recvmmsg(fds[s], msgs.data(), recv_batch, MSG_DONTWAIT, nullptr);
      if (got <= 0) continue;  // EAGAIN, or an ICMP error on a connected socket
      const std::int64_t user_rx = mono_ns();
      for (int i = 0; i < got; ++i) {
        ++recv_total;
        const std::size_t len = msgs[i].msg_len;
        if (len < rtp_header + marker_size) {
          ++bad;
          continue;
        }
        Marker m = get_marker(bufs[i].data() + rtp_header);
        if (m.magic != magic || m.call >= o.calls || m.dir > 1 || m.seq >= max_seq) {
          ++bad;
          continue;
        }
        // Packet of stream (call, dir) must arrive on the other socket of that call.
        const unsigned expect = 2 * m.call + (1 - m.dir);
        if (s != expect) {
          ++stray;
          continue;
        }
        std::int64_t rx = user_rx;
        if (o.kernel_stamp) {
          bool found = false;
          for (cmsghdr* cm = CMSG_FIRSTHDR(&msgs[i].msg_hdr); cm != nullptr;
               cm = CMSG_NXTHDR(&msgs[i].msg_hdr, cm)) {
            if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
              timespec ts{};
              std::memcpy(&ts, CMSG_DATA(cm), sizeof ts);
              rx = std::int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec - offset;
              found = true;
              break;
            }
          }
          if (!found) ++no_kstamp;
        }
        Stream& st = streams[2 * m.call + m.dir];
        std::uint64_t& word = st.seen[m.seq / 64];
        const std::uint64_t bit = std::uint64_t{1} << (m.seq % 64);
        if (word & bit) {
          ++dup;
          continue;
        }
        word |= bit;
        if (!m.measured) continue;  // packets still queued at the end are lost
        ++measured_recv;
        ++st.measured_recv;
        std::int64_t l = rx - m.send_ns;
        if (l < 0) {
          ++neg_lat;
          l = 0;
        }
        lat.push_back(static_cast<std::uint32_t>(std::min<std::int64_t>(l, 4000000000LL)));
      }
    }
  }
  if (!window_done) {  // cannot happen (t_end > t_meas1), but keep the numbers sane
    sample(cpu1, self1, host1);
    win_t1 = mono_ns();
  }

  // Results.
  std::sort(lat.begin(), lat.end());
  const double win_s = static_cast<double>(win_t1 - win_t0) / 1e9;
  const long hz = sysconf(_SC_CLK_TCK);
  auto cpu_pct = [&](long long a, long long b) -> double {
    if (a < 0 || b < 0 || win_s <= 0) return -1;
    return 100.0 * static_cast<double>(b - a) / static_cast<double>(hz) / win_s;
  };
  const std::uint64_t lost = measured_sent > measured_recv ? measured_sent - measured_recv : 0;
  // Received, but later than a jitter buffer would wait.
  const auto late_ns = static_cast<std::uint32_t>(o.late_ms * 1e6);
  const std::uint64_t late = static_cast<std::uint64_t>(
      lat.end() - std::upper_bound(lat.begin(), lat.end(), late_ns));
  const double loss_pct = measured_sent ? 100.0 * static_cast<double>(lost) / measured_sent : 100.0;
  unsigned worst_call = 0;
  std::uint32_t worst_lost = 0;
  unsigned calls_with_loss = 0;
  for (unsigned c = 0; c < o.calls; ++c) {
    std::uint32_t l = 0;
    for (unsigned d = 0; d < 2; ++d) {
      const Stream& st = streams[2 * c + d];
      l += st.measured_sent - std::min(st.measured_sent, st.measured_recv);
    }
    if (l > 0) ++calls_with_loss;
    if (l > worst_lost) {
      worst_lost = l;
      worst_call = c;
    }
  }
  long long procs_ticks = 0;
  for (const auto& [pid, t1] : procs1) {
    auto it = procs0.find(pid);
    if (it != procs0.end() && t1 >= it->second) procs_ticks += t1 - it->second;
  }
  const double all_procs = win_s > 0 ? 100.0 * procs_ticks / hz / win_s : -1;
  const double host_busy =
      host1.second > host0.second
          ? 100.0 * static_cast<double>(host1.first - host0.first) / (host1.second - host0.second)
          : -1;

  std::printf("result {\"label\":\"%s\",\"mode\":\"%s\",\"calls\":%u,\"pps\":%u,\"payload\":%u,"
              "\"slots\":%u,\"window_s\":%.3f,\"stamp\":\"%s\","
              "\"sent\":%" PRIu64 ",\"send_errors\":%" PRIu64 ",\"last_send_errno\":%d,"
              "\"measured_sent\":%" PRIu64 ",\"measured_send_errors\":%" PRIu64 ","
              "\"measured_received\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"loss_pct\":%.4f,"
              "\"late_ms\":%.1f,\"late\":%" PRIu64 ",\"late_pct\":%.4f,"
              "\"calls_with_loss\":%u,\"worst_call\":%u,\"worst_call_lost\":%u,"
              "\"received_total\":%" PRIu64 ",\"duplicates\":%" PRIu64 ",\"stray\":%" PRIu64
              ",\"malformed\":%" PRIu64 ",\"no_kernel_stamp\":%" PRIu64
              ",\"negative_latency\":%" PRIu64 ","
              "\"ticks\":%" PRIu64 ",\"late_ticks\":%" PRIu64 ",\"max_tick_lag_us\":%.1f,"
              "\"lat_us\":{\"n\":%zu,\"min\":%.1f,\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,"
              "\"p999\":%.1f,\"max\":%.1f},"
              "\"kernel\":{\"udp_rcvbuf_errors\":%lld,\"udp_sndbuf_errors\":%lld,"
              "\"udp_no_ports\":%lld,\"softnet_dropped\":%lld},"
              "\"gen_cpu_pct\":%.1f,\"all_procs_cpu_pct\":%.1f,\"host_busy_pct\":%.1f,"
              "\"host_cpus\":%ld,\"cpu_pct\":{",
              o.label.c_str(), o.direct ? "direct" : "relay", n_active, o.pps, o.payload, o.slots,
              win_s, o.kernel_stamp ? "kernel" : "user", sent, send_err, last_send_errno,
              measured_sent, measured_send_err, measured_recv, lost, loss_pct, o.late_ms, late,
              measured_sent ? 100.0 * static_cast<double>(late) / measured_sent : 0.0,
              calls_with_loss,
              worst_call, worst_lost, recv_total, dup, stray, bad, no_kstamp, neg_lat, ticks,
              late_ticks, static_cast<double>(max_tick_lag) / 1000.0, lat.size(),
              lat.empty() ? -1.0 : lat.front() / 1000.0, pct(lat, 0.50), pct(lat, 0.90),
              pct(lat, 0.99), pct(lat, 0.999), lat.empty() ? -1.0 : lat.back() / 1000.0,
              net1.rcvbuf_errors - net0.rcvbuf_errors, net1.sndbuf_errors - net0.sndbuf_errors,
              net1.no_ports - net0.no_ports, net1.softnet_dropped - net0.softnet_dropped,
              cpu_pct(self0, self1), all_procs, host_busy, sysconf(_SC_NPROCESSORS_ONLN));
  for (std::size_t i = 0; i < pid_str.size(); ++i) {
    std::printf("%s\"%s\":%.1f", i ? "," : "", pid_str[i].c_str(), cpu_pct(cpu0[i], cpu1[i]));
  }
  std::printf("}}\n");
  std::fflush(stdout);
  for (int fd : fds) close(fd);
  close(tfd);
  close(ep);
  return 0;
}
