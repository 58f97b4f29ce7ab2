// Worker: the epoll loop of one relay thread, its forwarding table and the batched packet path.
#include "rtp/relay_worker.hpp"
#include "rtp/relay_worker_impl.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <variant>

#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rtp/dtmf_relay.hpp"
#include "rtp/rtp_header.hpp"

namespace b2bua::rtp {

std::int64_t steady_now_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

namespace {

// Decides whether a datagram from `src` is accepted on `s`, latching as LatchMode::latch says.
bool accept_source(LatchMode mode, Sock& s, const Endpoint& sdp_peer, const sockaddr_storage& src,
                   socklen_t len) {
  if (mode == LatchMode::sdp) {
    return same_endpoint(sdp_peer, src);
  }
  if (!s.latched.known()) {
    s.latched = Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&src), len);
    s.candidate_hits = 0;
    return s.latched.known();
  }
  if (same_endpoint(s.latched, src)) {
    s.candidate_hits = 0;
    return true;
  }
  if (s.candidate_hits > 0 && same_endpoint(s.candidate, src)) {
    ++s.candidate_hits;
  } else {
    s.candidate = Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&src), len);
    s.candidate_hits = 1;
  }
  if (s.candidate_hits >= relatch_after) {
    s.latched = s.candidate;
    s.candidate_hits = 0;
    return true;
  }
  return false;
}

void reset_latch(Sock& s) {
  s.latched = Endpoint{};
  s.candidate = Endpoint{};
  s.candidate_hits = 0;
}

}  // namespace

void Worker::Impl::run() {
  epoll_event events[64];
  while (!stopping.load(std::memory_order_acquire)) {
    int n = ::epoll_wait(epoll_fd, events, 64, wait_ms());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      break;  // EBADF/EINVAL: cannot happen with our own fds
    }
    bool commands = false;
    for (int i = 0; i < n; ++i) {
      if (events[i].data.ptr == nullptr) {
        commands = true;
      } else {
        on_readable(*static_cast<Sock*>(events[i].data.ptr));
      }
    }
    // Commands run only after the batch of events: a removal must not free a socket that a
    // later event of the same batch points to.
    if (commands) {
      std::uint64_t count = 0;
      [[maybe_unused]] auto r = ::read(event_fd, &count, sizeof count);
      run_commands();
    }
    if (!sending.empty()) {
      send_digits();
    }
  }
  for (auto& [id, relay] : relays) {
    unregister(*relay);
  }
}

void Worker::Impl::run_commands() {
  std::deque<Command> work;
  {
    std::lock_guard lock(mu);
    work.swap(queue);
  }
  for (auto& c : work) {
    std::visit([this](auto& cmd) { execute(cmd); }, c);
  }
}

void Worker::Impl::execute(AddCmd& c) {
  auto& setup = c.setup;
  if (setup.id == 0 || relays.count(setup.id) != 0) {
    return;  // the engine never does this
  }
  auto relay = std::make_unique<Relay>();
  relay->id = setup.id;
  relay->mode = setup.mode;
  relay->streams.resize(setup.streams.size());
  for (std::size_t i = 0; i < setup.streams.size(); ++i) {
    const auto& in = setup.streams[i];
    auto& st = relay->streams[i];
    const SideSockets* socks[2] = {&in.a, &in.b};
    const SidePeer* peers[2] = {&in.peer_a, &in.peer_b};
    for (int s = 0; s < 2; ++s) {
      auto& side = st.side[s];
      side.peer = *peers[s];
      side.stats.set_clock_rate(in.clock_rate);
      side.rtp.fd = socks[s]->rtp_fd;
      side.rtcp.fd = socks[s]->rtcp_fd;
      for (Sock* k : {&side.rtp, &side.rtcp}) {
        k->relay = relay.get();
        k->stream = &st;
        k->side = static_cast<Side>(s);
        k->rtcp = (k == &side.rtcp);
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.ptr = k;
        // Failure (ENOMEM) leaves that socket silent; the call then times out on RTP.
        ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, k->fd, &ev);
      }
    }
  }
  relays.emplace(setup.id, std::move(relay));
  totals.relays.store(relays.size(), std::memory_order_relaxed);
}

void Worker::Impl::execute(PeerCmd& c) {
  auto i = relays.find(c.id);
  if (i == relays.end() || c.stream >= i->second->streams.size()) {
    return;
  }
  auto& side = i->second->streams[c.stream].side[static_cast<int>(c.side)];
  side.peer = c.peer;
  side.stats.set_clock_rate(c.clock_rate);
  reset_latch(side.rtp);
  reset_latch(side.rtcp);
}

void Worker::Impl::unregister(Relay& r) {
  for (auto& st : r.streams) {
    for (auto& side : st.side) {
      ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, side.rtp.fd, nullptr);
      ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, side.rtcp.fd, nullptr);
    }
  }
}

void Worker::Impl::execute(RemoveCmd& c) {
  auto i = relays.find(c.id);
  if (i != relays.end()) {
    unregister(*i->second);
    std::erase(sending, i->second.get());
    relays.erase(i);
    totals.relays.store(relays.size(), std::memory_order_relaxed);
  }
  if (c.done) {
    c.done();
  }
}

void Worker::Impl::execute(StatsCmd& c) {
  RelayStats out;
  out.relay = c.id;
  out.now_ns = steady_now_ns();
  auto i = relays.find(c.id);
  if (i != relays.end()) {
    out.found = true;
    for (auto& st : i->second->streams) {
      for (int s = 0; s < 2; ++s) {
        const auto& side = st.side[s];
        auto& o = s == 0 ? out.a : out.b;
        o.packets += side.c.packets;
        o.bytes += side.c.bytes;
        o.rtcp_packets += side.c.rtcp_packets;
        o.forwarded += side.c.forwarded;
        o.dropped += side.c.dropped;
        o.lost += side.stats.lost();
        o.jitter_us = std::max(o.jitter_us, side.stats.jitter_us());
        o.last_packet_ns = std::max(o.last_packet_ns, side.c.last_ns);
      }
    }
  }
  if (c.cb) {
    c.cb(out);
  }
}

void Worker::Impl::on_readable(Sock& s) {
  for (unsigned k = 0; k < batch; ++k) {
    rx[k].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
  }
  int n = ::recvmmsg(s.fd, rx.data(), batch, MSG_DONTWAIT, nullptr);
  if (n <= 0) {
    return;  // EAGAIN, or a pending socket error that this call has now cleared
  }
  const std::int64_t now = steady_now_ns();
  Relay& relay = *s.relay;
  SideState& in = s.stream->side[static_cast<int>(s.side)];
  SideState& out = s.stream->side[static_cast<int>(other(s.side))];
  const Endpoint& expected = s.rtcp ? in.peer.rtcp : in.peer.rtp;
  unsigned queued[2] = {0, 0};
  std::uint64_t accepted = 0;
  std::uint64_t bytes = 0;
  std::uint64_t dropped = 0;
  for (int k = 0; k < n; ++k) {
    const auto& hdr = rx[k].msg_hdr;
    const std::size_t len = rx[k].msg_len;
    if ((hdr.msg_flags & MSG_TRUNC) != 0 ||
        !accept_source(relay.mode, s, expected, rx_addr[k], hdr.msg_namelen)) {
      ++dropped;
      continue;
    }
    ++accepted;
    bytes += len;
    std::span<const std::uint8_t> pkt(static_cast<const std::uint8_t*>(rx_iov[k].iov_base), len);
    const bool rtcp_shaped = is_rtcp(pkt);
    const bool rtcp = s.rtcp || (in.peer.rtcp_mux && rtcp_shaped);
    RtpHeader h;
    const bool rtp = !rtcp && !rtcp_shaped && parse_rtp(pkt, h) == RtpParse::ok;
    if (rtcp) {
      ++in.c.rtcp_packets;
    } else if (rtp) {
      in.stats.on_packet(h, len, now);
      // One compare per packet: `off` never equals a 7-bit payload type.
      if (h.payload_type == in.dtmf.payload_type && !pick_up(relay, s, in, h, pkt)) {
        out.tx.on_held_back(h.seq);  // converted to SIP INFO for the other side
        continue;
      }
    }
    // RTCP goes to the other side's RTCP socket unless that side multiplexes.
    const int q = (rtcp && !out.peer.rtcp_mux) ? 1 : 0;
    Sock& via = q == 1 ? out.rtcp : out.rtp;
    const Endpoint& dst = destination(relay.mode, via, q == 1 ? out.peer.rtcp : out.peer.rtp);
    if (!dst.known()) {
      ++dropped;
      continue;
    }
    if (rtp) {
      auto* bytes_out = static_cast<std::uint8_t*>(rx_iov[k].iov_base);
      out.tx.on_forward(std::span<std::uint8_t>(bytes_out, len), h, now);
    }
    auto& m = tx[q][queued[q]];
    m.msg_hdr.msg_name = const_cast<sockaddr_storage*>(&dst.addr);
    m.msg_hdr.msg_namelen = dst.len;
    tx_iov[q][queued[q]] = iovec{rx_iov[k].iov_base, len};
    ++queued[q];
  }
  in.c.packets += accepted;
  in.c.bytes += bytes;
  in.c.dropped += dropped;
  if (accepted != 0) {
    in.c.last_ns = now;
  }
  const std::uint64_t forwarded_before = in.c.forwarded;
  const std::uint64_t dropped_before = in.c.dropped;
  flush(out.rtp.fd, 0, queued[0], in.c);
  flush(out.rtcp.fd, 1, queued[1], in.c);
  bump(totals.rx_batches, 1);
  bump(totals.packets, accepted);
  bump(totals.bytes, bytes);
  bump(totals.forwarded, in.c.forwarded - forwarded_before);
  bump(totals.dropped, dropped + (in.c.dropped - dropped_before));
}

void Worker::Impl::flush(int fd, int q, unsigned count, SideCounters& in) {
  unsigned off = 0;
  // Each round sends at least one message or gives up: at most `count` rounds.
  while (off < count) {
    int r = ::sendmmsg(fd, tx[q].data() + off, count - off, MSG_DONTWAIT);
    bump(totals.tx_batches, 1);
    if (r > 0) {
      off += static_cast<unsigned>(r);
      in.forwarded += static_cast<unsigned>(r);
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
      in.dropped += count - off;  // never wait for the kernel: drop the rest of the batch
      return;
    }
    ++in.dropped;  // this destination failed (unreachable, refused): skip it
    ++off;
  }
}

// ---- Worker ---------------------------------------------------------------------------------

Worker::Worker(unsigned index, unsigned batch)
    : impl_(std::make_unique<Impl>(index, batch == 0 ? 1 : (batch > 1024 ? 1024 : batch))) {}

Worker::~Worker() {
  stop();
}

unsigned Worker::index() const {
  return impl_->index;
}

std::string Worker::start(int cpu, int rt_priority) {
  auto& m = *impl_;
  if (m.thread.joinable() || m.epoll_fd >= 0) {
    return "worker " + std::to_string(m.index) + " already started";
  }
  m.epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  m.event_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (m.epoll_fd < 0 || m.event_fd < 0) {
    return std::string("epoll/eventfd: ") + std::strerror(errno);
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // marks the command queue
  if (::epoll_ctl(m.epoll_fd, EPOLL_CTL_ADD, m.event_fd, &ev) != 0) {
    return std::string("epoll_ctl(eventfd): ") + std::strerror(errno);
  }
  {
    std::lock_guard lock(m.mu);
    m.accepting = true;
  }
  m.thread = std::thread([this] { impl_->run(); });
  std::string name = "b2b-rtp-" + std::to_string(m.index);
  name.resize(std::min<std::size_t>(name.size(), 15));  // the kernel's limit
  ::pthread_setname_np(m.thread.native_handle(), name.c_str());
  if (cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (cpu >= CPU_SETSIZE) {
      stop();
      return "cpu " + std::to_string(cpu) + " out of range";
    }
    CPU_SET(cpu, &set);
    int rc = ::pthread_setaffinity_np(m.thread.native_handle(), sizeof set, &set);
    if (rc != 0) {
      stop();
      return "media.cpus: cannot pin to cpu " + std::to_string(cpu) + ": " + std::strerror(rc);
    }
  }
  if (rt_priority > 0) {
    sched_param param{};
    param.sched_priority = rt_priority;
    int rc = ::pthread_setschedparam(m.thread.native_handle(), SCHED_FIFO, &param);
    if (rc != 0) {
      stop();
      return "media.rt_priority: cannot run SCHED_FIFO at " + std::to_string(rt_priority) + ": " +
             std::strerror(rc) + (rc == EPERM ? " (needs CAP_SYS_NICE or RLIMIT_RTPRIO)" : "");
    }
  }
  return {};
}

void Worker::stop() {
  auto& m = *impl_;
  {
    std::lock_guard lock(m.mu);
    m.accepting = false;
  }
  if (m.thread.joinable()) {
    m.stopping.store(true, std::memory_order_release);
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(m.event_fd, &one, sizeof one);
    m.thread.join();
  }
  // Complete what the thread did not run, so that callers always hear back.
  std::deque<Command> left;
  {
    std::lock_guard lock(m.mu);
    left.swap(m.queue);
  }
  for (auto& c : left) {
    if (auto* r = std::get_if<RemoveCmd>(&c); r != nullptr && r->done) {
      r->done();
    } else if (auto* s = std::get_if<StatsCmd>(&c); s != nullptr && s->cb) {
      RelayStats none;
      none.relay = s->id;
      s->cb(none);
    }
  }
  m.sending.clear();
  m.relays.clear();
  m.totals.relays.store(0, std::memory_order_relaxed);
}

bool Worker::add(RelaySetup setup) {
  Command c = AddCmd{std::move(setup)};
  return impl_->post(c);
}

bool Worker::set_peer(RelayId id, std::uint32_t stream, Side side, SidePeer peer,
                      std::uint32_t clock_rate) {
  Command c = PeerCmd{id, stream, side, peer, clock_rate};
  return impl_->post(c);
}

void Worker::remove(RelayId id, Done done) {
  Command c = RemoveCmd{id, std::move(done)};
  if (!impl_->post(c)) {
    if (auto& r = std::get<RemoveCmd>(c); r.done) {
      r.done();
    }
  }
}

void Worker::stats(RelayId id, StatsCallback cb) {
  Command c = StatsCmd{id, std::move(cb)};
  if (!impl_->post(c)) {
    if (auto& s = std::get<StatsCmd>(c); s.cb) {
      RelayStats none;
      none.relay = id;
      s.cb(none);
    }
  }
}

bool Worker::set_dtmf(RelayId id, DtmfPickup pickup, DigitCallback cb) {
  Command c = DtmfCmd{id, pickup, std::move(cb)};
  return impl_->post(c);
}

bool Worker::send_digit(RelayId id, DigitRequest digit) {
  Command c = DigitCmd{id, std::move(digit)};
  return impl_->post(c);
}

RelayTotals Worker::totals() const {
  const auto& t = impl_->totals;
  RelayTotals out;
  out.packets = t.packets.load(std::memory_order_relaxed);
  out.bytes = t.bytes.load(std::memory_order_relaxed);
  out.forwarded = t.forwarded.load(std::memory_order_relaxed);
  out.dropped = t.dropped.load(std::memory_order_relaxed);
  out.rx_batches = t.rx_batches.load(std::memory_order_relaxed);
  out.tx_batches = t.tx_batches.load(std::memory_order_relaxed);
  out.relays = t.relays.load(std::memory_order_relaxed);
  out.digits_picked = t.digits_picked.load(std::memory_order_relaxed);
  out.digits_injected = t.digits_injected.load(std::memory_order_relaxed);
  out.digits_dropped = t.digits_dropped.load(std::memory_order_relaxed);
  return out;
}

}  // namespace b2bua::rtp
