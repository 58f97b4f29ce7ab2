// Worker: batching, its command queue and its handling of odd datagrams, driven directly.
#include "rtp/relay_worker.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

#include <filesystem>
#include <fstream>
#include <string>

#include <poll.h>
#include <sched.h>
#include <unistd.h>

#include "rtp/port_pool.hpp"
#include "rtp/rtp_header.hpp"
#include "rtp/telephone_event.hpp"
#include "tests/unit/rtp/udp_helpers.hpp"

using namespace b2bua::rtp;
using namespace b2bua::rtp::test;

namespace {

RelayStats worker_stats(Worker& w, RelayId id, std::thread::id* on = nullptr) {
  auto p = std::make_shared<std::promise<std::pair<RelayStats, std::thread::id>>>();
  auto f = p->get_future();
  w.stats(id, [p](const RelayStats& s) { p->set_value({s, std::this_thread::get_id()}); });
  REQUIRE(f.wait_for(std::chrono::seconds(2)) == std::future_status::ready);
  auto [s, tid] = f.get();
  if (on != nullptr) {
    *on = tid;
  }
  return s;
}

// Two port pairs from a probed range and a one-stream relay from A to a callee.
struct WorkerFixture {
  std::unique_ptr<PortPool> pool;
  PortPair a;
  PortPair b;
  UdpPeer caller;
  UdpPeer callee;

  WorkerFixture() {
    auto base = free_port_range(4);
    REQUIRE(base);
    pool = std::make_unique<PortPool>("127.0.0.1", *base, static_cast<std::uint16_t>(*base + 3));
    auto pa = pool->acquire();
    auto pb = pool->acquire();
    REQUIRE(pa);
    REQUIRE(pb);
    a = *pa;
    b = *pb;
  }
  ~WorkerFixture() {
    pool->release(a);
    pool->release(b);
  }

  RelaySetup setup(RelayId id) const {
    StreamSetup st;
    st.a = SideSockets{a.rtp_fd, a.rtcp_fd};
    st.b = SideSockets{b.rtp_fd, b.rtcp_fd};
    st.peer_b.rtp = Endpoint::from("127.0.0.1", callee.port());
    st.peer_b.rtcp = Endpoint::from("127.0.0.1", static_cast<std::uint16_t>(callee.port() + 1));
    RelaySetup r;
    r.id = id;
    r.streams.push_back(st);
    return r;
  }
};

}  // namespace

TEST_CASE_FIXTURE(WorkerFixture, "packets waiting on a socket are read and sent in batches") {
  constexpr int n = 100;
  for (int i = 0; i < n; ++i) {
    REQUIRE(caller.send_to(a.rtp_port, rtp_packet(static_cast<std::uint16_t>(i), 0, 1)));
  }
  Worker w(0, 32);
  REQUIRE(w.start().empty());
  REQUIRE(w.add(setup(1)));
  int got = 0;
  while (got < n && callee.recv()) {
    ++got;
  }
  CHECK(got == n);
  // Totals are bumped after each batch is sent: a command round trip waits for that.
  CHECK(worker_stats(w, 1).a.forwarded == n);
  auto t = w.totals();
  CHECK(t.forwarded == n);
  CHECK(t.packets == n);
  // 100 queued datagrams with batches of 32 take 4 recvmmsg calls; allow for stragglers still in
  // flight when the relay was added, but one call per packet would fail this.
  CHECK(t.rx_batches <= 10);
  CHECK(t.tx_batches <= 10);
  MESSAGE(n << " packets in " << t.rx_batches << " receive and " << t.tx_batches
            << " send batches");
  CHECK(t.relays == 1);
}

TEST_CASE_FIXTURE(WorkerFixture,
                  "remove hands the sockets back on the worker thread and stops reading them") {
  Worker w(3);
  REQUIRE(w.start().empty());
  REQUIRE(w.add(setup(1)));
  REQUIRE(caller.send_to(a.rtp_port, rtp_packet(1, 0, 1)));
  REQUIRE(callee.recv());
  std::thread::id stats_thread;
  CHECK(worker_stats(w, 1, &stats_thread).found);
  CHECK(stats_thread != std::this_thread::get_id());

  auto done = std::make_shared<std::promise<std::thread::id>>();
  auto f = done->get_future();
  w.remove(1, [done] { done->set_value(std::this_thread::get_id()); });
  REQUIRE(f.wait_for(std::chrono::seconds(2)) == std::future_status::ready);
  CHECK(f.get() == stats_thread);
  CHECK(w.totals().relays == 0);
  CHECK_FALSE(worker_stats(w, 1).found);

  // The socket is still open (the pool holds it) but nobody reads it any more.
  REQUIRE(caller.send_to(a.rtp_port, rtp_packet(2, 0, 1)));
  pollfd p{a.rtp_fd, POLLIN, 0};
  CHECK(::poll(&p, 1, 1000) == 1);
  CHECK(callee.idle());
}

TEST_CASE_FIXTURE(
    WorkerFixture,
    "oversized datagrams are dropped; non-RTP ones are relayed without touching the statistics") {
  Worker w(0);
  REQUIRE(w.start().empty());
  REQUIRE(w.add(setup(1)));
  REQUIRE(caller.send_to(a.rtp_port, rtp_packet(1, 0, 1)));
  REQUIRE(caller.send_to(a.rtp_port, std::vector<std::uint8_t>(max_datagram + 1, 0x80)));
  REQUIRE(caller.send_to(a.rtp_port, std::vector<std::uint8_t>{0x00, 0x01, 0x02}));  // STUN-ish
  REQUIRE(caller.send_to(a.rtp_port, rtp_packet(2, 160, 1)));
  auto first = callee.recv();
  auto second = callee.recv();
  auto third = callee.recv();
  REQUIRE(first);
  REQUIRE(second);
  REQUIRE(third);
  CHECK(seq_of(first->bytes) == 1);
  CHECK(second->bytes.size() == 3);
  CHECK(seq_of(third->bytes) == 2);
  auto s = worker_stats(w, 1);
  CHECK(s.a.dropped == 1);
  CHECK(s.a.packets == 3);
  CHECK(s.a.forwarded == 3);
  CHECK(s.a.lost == 0);
}

namespace {

struct EventSeen {
  RtpHeader h;
  TelephoneEvent ev;
};

// The datagrams `peer` receives until `n` RFC 4733 packets (payload type `pt`) have arrived;
// fewer when nothing comes for two seconds.
std::vector<EventSeen> receive_events(const UdpPeer& peer, std::size_t n, std::uint8_t pt) {
  std::vector<EventSeen> out;
  while (out.size() < n) {
    auto d = peer.recv();
    if (!d) {
      break;
    }
    EventSeen e;
    if (parse_rtp(d->bytes, e.h) == RtpParse::ok && e.h.payload_type == pt &&
        parse_telephone_event(std::span<const std::uint8_t>(d->bytes).subspan(e.h.header_size),
                              e.ev)) {
      out.push_back(e);
    }
  }
  return out;
}

// Digits the worker reports, collected from its thread.
struct DigitLog {
  std::mutex mu;
  std::vector<PickedDigit> digits;
  Worker::DigitCallback callback() {
    return [this](const PickedDigit& d) {
      std::lock_guard lock(mu);
      digits.push_back(d);
    };
  }
  std::size_t size() {
    std::lock_guard lock(mu);
    return digits.size();
  }
};

// The packets of /usr/share/sip-tester/dtmf_2833_1.pcap: digit 1, 7 updates and the end packet
// three times (the same sequence number, as that capture has), 280 ms.
std::vector<std::vector<std::uint8_t>> pcap_digit_one(std::uint16_t seq, std::uint32_t ts) {
  std::vector<std::vector<std::uint8_t>> out;
  for (int k = 0; k < 10; ++k) {
    EventPacket p;
    p.marker = k == 0;
    p.seq = static_cast<std::uint16_t>(seq + std::min(k, 7));
    p.timestamp = ts;
    p.ssrc = 0x0e05384e;
    p.event.event = 1;
    p.event.volume = 10;
    p.event.end = k >= 7;
    p.event.duration = static_cast<std::uint16_t>(k >= 7 ? 2240 : 320 * k);
    std::vector<std::uint8_t> b(event_packet_size);
    build_event_packet(p, b);
    out.push_back(std::move(b));
  }
  return out;
}

}  // namespace

TEST_CASE_FIXTURE(WorkerFixture,
                  "an injected digit arrives as RFC 4733 events that continue the forwarded audio") {
  Worker w(0);
  REQUIRE(w.start().empty());
  REQUIRE(w.add(setup(1)));
  REQUIRE(caller.send_to(a.rtp_port, rtp_packet(1000, 5000, 0xcafe)));
  REQUIRE(callee.recv());
  DigitRequest d;
  d.towards = Side::b;
  d.digit = "5";
  d.duration_ms = 120;
  d.payload_type = 101;
  REQUIRE(w.send_digit(1, d));
  auto got = receive_events(callee, 6, 101);  // 3 updates (50, 100, 120 ms) and 3 ends
  REQUIRE(got.size() == 6);
  std::uint16_t duration = 0;
  for (std::size_t k = 0; k < got.size(); ++k) {
    CAPTURE(k);
    CHECK(got[k].h.marker == (k == 0));
    CHECK(got[k].h.ssrc == 0xcafe);
    CHECK(got[k].h.seq == 1001 + k);
    CHECK(got[k].h.timestamp == got[0].h.timestamp);
    CHECK(got[k].ev.event == 5);
    CHECK(got[k].ev.end == (k >= 3));
    CHECK(got[k].ev.duration >= duration);
    duration = got[k].ev.duration;
  }
  CHECK(got[0].h.timestamp >= 5000);
  CHECK(duration == 960);  // 120 ms at 8 kHz
  // The audio that follows is shifted past the six inserted packets.
  REQUIRE(caller.send_to(a.rtp_port, rtp_packet(1001, 5160, 0xcafe)));
  auto audio = callee.recv();
  REQUIRE(audio);
  CHECK(seq_of(audio->bytes) == 1007);
  CHECK(w.totals().digits_injected == 1);
}

TEST_CASE_FIXTURE(WorkerFixture, "digits beyond the queue limit are dropped and counted") {
  Worker w(0);
  REQUIRE(w.start().empty());
  REQUIRE(w.add(setup(1)));
  DigitRequest d;
  d.digit = "1";
  d.duration_ms = 40;
  for (std::size_t k = 0; k < max_queued_digits + 6; ++k) {
    REQUIRE(w.send_digit(1, d));
  }
  worker_stats(w, 1);  // a command round trip: every request has been handled
  // One digit may have started before the last requests arrived; the rest were over the limit.
  const auto t = w.totals();
  CHECK(t.digits_dropped >= 5);
  CHECK(t.digits_dropped <= 6);
}

TEST_CASE_FIXTURE(WorkerFixture, "a picked-up digit is reported once and held back on request") {
  bool forward = true;
  SUBCASE("forwarded") {
    forward = true;
  }
  SUBCASE("held back") {
    forward = false;
  }
  CAPTURE(forward);
  Worker w(0);
  REQUIRE(w.start().empty());
  REQUIRE(w.add(setup(1)));
  DigitLog log;
  DtmfPickup p;
  p.side = Side::a;
  p.payload_type = 101;
  p.forward = forward;
  REQUIRE(w.set_dtmf(1, p, log.callback()));
  worker_stats(w, 1);  // applied
  REQUIRE(caller.send_to(a.rtp_port, rtp_packet(7983, 13000, 0x0e05384e)));
  for (const auto& pkt : pcap_digit_one(7984, 13280)) {
    REQUIRE(caller.send_to(a.rtp_port, pkt));
  }
  REQUIRE(caller.send_to(a.rtp_port, rtp_packet(7992, 15520, 0x0e05384e)));
  std::vector<std::uint16_t> seqs;
  int events = 0;
  while (auto d = callee.recv(forward ? 2000 : 300)) {
    RtpHeader h;
    REQUIRE(parse_rtp(d->bytes, h) == RtpParse::ok);
    if (h.payload_type == 101) {
      ++events;
    } else {
      seqs.push_back(h.seq);
    }
    if (seqs.size() == 2) {
      break;
    }
  }
  REQUIRE(wait_until([&] { return log.size() >= 1; }));
  worker_stats(w, 1);
  REQUIRE(log.size() == 1);
  CHECK(log.digits[0] == PickedDigit{1, 0, Side::a, "1", 280});
  CHECK(w.totals().digits_picked == 1);
  REQUIRE(seqs.size() == 2);
  CHECK(seqs[0] == 7983);
  if (forward) {
    CHECK(events == 10);
    CHECK(seqs[1] == 7992);
  } else {
    CHECK(events == 0);
    CHECK(seqs[1] == 7984);  // the gap of the 8 sequence numbers held back is closed
  }
}

TEST_CASE("a stopped worker answers every command at once") {
  Worker w(0);
  REQUIRE(w.start().empty());
  w.stop();
  w.stop();  // idempotent
  CHECK_FALSE(w.add(RelaySetup{}));
  CHECK_FALSE(w.set_peer(1, 0, Side::a, SidePeer{}, 0));
  bool stats_called = false;
  w.stats(1, [&](const RelayStats& s) { stats_called = !s.found; });
  CHECK(stats_called);
  bool removed = false;
  w.remove(1, [&] { removed = true; });
  CHECK(removed);
}

TEST_CASE("a worker pinned to a CPU that does not exist reports it") {
  Worker w(0);
  auto err = w.start(CPU_SETSIZE - 1);
  CHECK(err.find("cpu") != std::string::npos);
}

namespace {
// The scheduling policy of this process's thread named `name`, or -1 when there is none.
int policy_of_thread(const std::string& name) {
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    std::ifstream comm(task.path() / "comm");
    std::string got;
    if (std::getline(comm, got) && got == name) {
      return ::sched_getscheduler(std::stoi(task.path().filename().string()));
    }
  }
  return -1;
}
}  // namespace

TEST_CASE("media.rt_priority: the worker runs SCHED_FIFO, or start says why it cannot") {
  Worker w(7);
  auto err = w.start(-1, 10);
  if (::geteuid() == 0) {
    REQUIRE(err.empty());
    CHECK(policy_of_thread("b2b-rtp-7") == SCHED_FIFO);
  } else {
    CHECK(err.find("media.rt_priority") != std::string::npos);
    CHECK(policy_of_thread("b2b-rtp-7") == -1);  // stopped again
  }
  w.stop();
  Worker normal(8);
  REQUIRE(normal.start().empty());
  CHECK(policy_of_thread("b2b-rtp-8") == SCHED_OTHER);
}
