// The relay actor: its protocol on CAF's testing scheduler (a fake RelayControl, manual clock),
// and one round trip with the real Engine on the threaded scheduler.
#include "rtp/relay_actor.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <set>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "tests/unit/rtp/engine_fixture.hpp"

using namespace b2bua::rtp;
using namespace std::chrono_literals;

namespace {

// Synchronous stand-in for the Engine: answers stats on the calling (actor) thread.
struct FakeControl : RelayControl {
  std::size_t free_pairs = 4;
  std::set<RelayId> live;
  std::vector<RelayId> released;
  std::vector<PeerUpdate> peers;
  std::uint64_t packets = 0;  // what the next snapshot reports on side A
  int stats_calls = 0;

  RelayErrc allocate(RelayId id, std::uint32_t n, RelayPorts& out) override {
    if (2 * n > free_pairs) {
      return RelayErrc::pool_exhausted;
    }
    live.insert(id);
    out.relay = id;
    out.ip = "127.0.0.1";
    for (std::uint32_t i = 0; i < n; ++i) {
      auto p = static_cast<std::uint16_t>(40000 + 4 * i);
      out.streams.push_back(StreamPorts{p, static_cast<std::uint16_t>(p + 1),
                                        static_cast<std::uint16_t>(p + 2),
                                        static_cast<std::uint16_t>(p + 3)});
    }
    return RelayErrc::ok;
  }
  RelayErrc set_peer(RelayId id, const PeerUpdate& peer) override {
    if (live.count(id) == 0) {
      return RelayErrc::unknown_relay;
    }
    peers.push_back(peer);
    return RelayErrc::ok;
  }
  void release(RelayId id) override {
    released.push_back(id);
    live.erase(id);
  }
  void stats(RelayId id, StatsCallback cb) override {
    ++stats_calls;
    RelayStats s;
    s.relay = id;
    s.found = live.count(id) != 0;
    s.a.packets = packets;
    cb(s);
  }
  std::vector<DtmfPickup> pickups;
  DigitCallback on_digit;
  std::vector<DigitRequest> digits;
  RelayErrc set_dtmf(RelayId id, const DtmfPickup& p, DigitCallback cb) override {
    if (live.count(id) == 0) {
      return RelayErrc::unknown_relay;
    }
    pickups.push_back(p);
    on_digit = std::move(cb);
    return RelayErrc::ok;
  }
  RelayErrc send_digit(RelayId id, const DigitRequest& d) override {
    if (live.count(id) == 0) {
      return RelayErrc::unknown_relay;
    }
    digits.push_back(d);
    return RelayErrc::ok;
  }
};

struct Seen {
  std::optional<RelayPorts> ports;
  std::optional<caf::error> error;
  std::optional<RelayStats> stats;
  int peer_ok = 0;
  std::vector<RelayId> timeouts;
  std::vector<RelayStats> snapshots;  // periodic counters forwarded for the call table
  std::vector<PickedDigit> digits;    // RFC 4733 digits forwarded to the watcher
};

caf::behavior watcher_actor(caf::event_based_actor*, std::shared_ptr<Seen> s) {
  return {[s](rtp_timeout_atom, RelayId id) { s->timeouts.push_back(id); },
          [s](counters_atom, const RelayStats& st) { s->snapshots.push_back(st); },
          [s](digit_atom, const PickedDigit& d) { s->digits.push_back(d); }};
}

// Makes requests on behalf of the test and records the replies.
caf::behavior client_actor(caf::event_based_actor* self, std::shared_ptr<Seen> s) {
  auto fail = [s](caf::error& e) { s->error = e; };
  return {
      [=](allocate_atom, std::uint32_t n, caf::actor r) {
        self->request(r, caf::infinite, allocate_atom::value, n)
            .then([s](const RelayPorts& p) { s->ports = p; }, fail);
      },
      [=](set_peer_atom, PeerUpdate p, caf::actor r) {
        self->request(r, caf::infinite, set_peer_atom::value, std::move(p))
            .then([s]() { ++s->peer_ok; }, fail);
      },
      [=](stats_atom, caf::actor r) {
        self->request(r, caf::infinite, stats_atom::value)
            .then([s](const RelayStats& st) { s->stats = st; }, fail);
      },
  };
}

caf::actor_system_config& testing_config(caf::actor_system_config& cfg) {
  cfg.set("scheduler.policy", caf::atom("testing"));
  cfg.set("logger.verbosity", caf::atom("quiet"));
  cfg.set("logger.console", caf::atom("none"));
  return cfg;
}

struct RelayActorFixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{testing_config(cfg)};
  caf::scheduler::test_coordinator& sched =
      dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  std::shared_ptr<FakeControl> engine = std::make_shared<FakeControl>();
  std::shared_ptr<Seen> seen = std::make_shared<Seen>();
  caf::actor watcher;
  caf::actor client;  // makes requests and records the replies
  caf::actor relay;

  RelayActorFixture() {
    // Spawned with an argument: CAF 0.17 dereferences a null tuple for argument-less functors
    // (UBSan reports it), harmless but noisy.
    watcher = sys.spawn(watcher_actor, seen);
    client = sys.spawn(client_actor, seen);
    RelayActorConfig rc;
    rc.timeout_s = 3;
    rc.check_ms = 1000;
    relay = sys.spawn(relay_actor, std::shared_ptr<RelayControl>(engine), RelayId{77}, watcher, rc);
    sched.run();
  }

  ~RelayActorFixture() {
    for (auto& a : {relay, watcher, client}) {
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    }
    sched.run();
  }

  void allocate(std::uint32_t streams = 1) {
    caf::anon_send(client, allocate_atom::value, streams, relay);
    sched.run();
  }
  void answered() {
    caf::anon_send(relay, answered_atom::value);
    sched.run();
  }
  void tick() {
    sched.advance_time(std::chrono::milliseconds(1000));
    sched.run();
  }
};

}  // namespace

TEST_CASE_FIXTURE(RelayActorFixture,
                  "allocate replies with the ports and set_peer reaches the engine") {
  allocate(2);
  REQUIRE(seen->ports);
  CHECK(seen->ports->relay == 77);
  CHECK(seen->ports->streams.size() == 2);
  PeerUpdate p;
  p.side = Side::b;
  p.addr = "127.0.0.1";
  p.port = 5000;
  caf::anon_send(client, set_peer_atom::value, p, relay);
  sched.run();
  CHECK(seen->peer_ok == 1);
  REQUIRE(engine->peers.size() == 1);
  CHECK(engine->peers[0].port == 5000);
  CHECK(engine->peers[0].side == Side::b);
  CHECK_FALSE(seen->error);
}

TEST_CASE_FIXTURE(RelayActorFixture,
                  "an exhausted pool is an error reply and nothing is released later") {
  engine->free_pairs = 1;
  allocate(1);
  CHECK_FALSE(seen->ports);
  REQUIRE(seen->error);
  CHECK(seen->error->category() == relay_error_category);
  CHECK(seen->error->code() == static_cast<std::uint8_t>(RelayErrc::pool_exhausted));
  caf::anon_send(relay, release_atom::value);
  sched.run();
  CHECK(engine->released.empty());
}

TEST_CASE_FIXTURE(RelayActorFixture,
                  "DTMF pick-up and digits reach the engine, picked-up digits the watcher") {
  allocate();
  DtmfPickup p;
  p.side = Side::a;
  p.payload_type = 101;
  p.forward = false;
  caf::anon_send(relay, dtmf_atom::value, p);
  DigitRequest d;
  d.towards = Side::b;
  d.digit = "7";
  caf::anon_send(relay, digit_atom::value, d);
  sched.run();
  REQUIRE(engine->pickups.size() == 1);
  CHECK(engine->pickups[0].payload_type == 101);
  CHECK_FALSE(engine->pickups[0].forward);
  REQUIRE(engine->digits.size() == 1);
  CHECK(engine->digits[0].digit == "7");
  REQUIRE(engine->on_digit);
  // What the worker thread does when a digit ends: post it to the relay actor.
  PickedDigit picked{77, 0, Side::a, "#", 120};
  engine->on_digit(picked);
  sched.run();
  REQUIRE(seen->digits.size() == 1);
  CHECK(seen->digits[0] == picked);
}

TEST_CASE_FIXTURE(RelayActorFixture, "set_peer before allocate is an error reply") {
  caf::anon_send(client, set_peer_atom::value, PeerUpdate{}, relay);
  sched.run();
  CHECK(seen->peer_ok == 0);
  REQUIRE(seen->error);
  CHECK(seen->error->code() == static_cast<std::uint8_t>(RelayErrc::unknown_relay));
}

TEST_CASE_FIXTURE(RelayActorFixture, "stats are answered with the engine's snapshot") {
  allocate();
  engine->packets = 12;
  caf::anon_send(client, stats_atom::value, relay);
  sched.run();
  REQUIRE(seen->stats);
  CHECK(seen->stats->found);
  CHECK(seen->stats->relay == 77);
  CHECK(seen->stats->a.packets == 12);
}

TEST_CASE_FIXTURE(RelayActorFixture,
                  "the relay is released when the actor is told to, killed, or its watcher dies") {
  allocate();
  SUBCASE("release message") {
    caf::anon_send(relay, release_atom::value);
  }
  SUBCASE("killed") {
    caf::anon_send_exit(relay, caf::exit_reason::kill);
  }
  SUBCASE("watcher down") {
    caf::anon_send_exit(watcher, caf::exit_reason::user_shutdown);
  }
  sched.run();
  CHECK(engine->released == std::vector<RelayId>{77});
  CHECK(engine->live.empty());
}

TEST_CASE_FIXTURE(RelayActorFixture,
                  "no packets for timeout_s after the answer reports an RTP timeout once") {
  allocate();
  for (int i = 0; i < 10; ++i) {
    tick();  // not answered yet: no checks at all
  }
  CHECK(engine->stats_calls == 0);
  answered();
  tick();
  tick();
  CHECK(seen->timeouts.empty());
  tick();
  CHECK(seen->timeouts == std::vector<RelayId>{77});
  REQUIRE_FALSE(seen->snapshots.empty());  // every periodic snapshot reached the watcher too
  CHECK(seen->snapshots.front().relay == 77);
  for (int i = 0; i < 5; ++i) {
    tick();
  }
  CHECK(seen->timeouts.size() == 1);
  CHECK(engine->released.empty());  // the watcher decides how the call ends
}

TEST_CASE_FIXTURE(RelayActorFixture, "packets in either direction keep the call alive") {
  allocate();
  answered();
  for (int i = 0; i < 10; ++i) {
    engine->packets += 50;
    tick();
  }
  CHECK(seen->timeouts.empty());
  tick();  // media stops now: the last change was seen one tick ago
  tick();
  CHECK(seen->timeouts.empty());
  tick();
  CHECK(seen->timeouts.size() == 1);
}

TEST_CASE("the relay actor drives the real engine from a threaded actor system") {
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 1);
  cfg.set("logger.verbosity", caf::atom("quiet"));
  cfg.set("logger.console", caf::atom("none"));
  caf::actor_system sys{cfg};
  b2bua::rtp::test::EngineFixture f(4);
  const auto start = f.engine->ports_available();
  auto relay = sys.spawn(relay_actor, std::shared_ptr<RelayControl>(f.engine), RelayId{5},
                         caf::actor{}, RelayActorConfig{});
  caf::scoped_actor self{sys};
  std::optional<RelayPorts> ports;
  self->request(relay, 2s, allocate_atom::value, std::uint32_t{1})
      .receive([&](const RelayPorts& p) { ports = p; },
               [&](caf::error& e) { FAIL("allocate failed: " << sys.render(e)); });
  REQUIRE(ports);
  b2bua::rtp::test::UdpPeer caller, callee;
  for (auto [side, port] : {std::pair{Side::a, caller.port()}, std::pair{Side::b, callee.port()}}) {
    PeerUpdate p;
    p.side = side;
    p.addr = "127.0.0.1";
    p.port = port;
    bool ok = false;
    self->request(relay, 2s, set_peer_atom::value, p)
        .receive([&]() { ok = true; }, [&](caf::error& e) { FAIL(sys.render(e)); });
    CHECK(ok);
  }
  b2bua::rtp::test::read_stats(*f.engine, 5);  // the worker has applied both peers
  REQUIRE(caller.send_to(ports->streams[0].a_rtp, b2bua::rtp::test::rtp_packet(1, 0, 1)));
  REQUIRE(callee.recv());
  std::optional<RelayStats> stats;
  self->request(relay, 2s, stats_atom::value)
      .receive([&](const RelayStats& s) { stats = s; },
               [&](caf::error& e) { FAIL(sys.render(e)); });
  REQUIRE(stats);
  CHECK(stats->a.packets == 1);
  CHECK(stats->a.forwarded == 1);
  caf::anon_send_exit(relay, caf::exit_reason::user_shutdown);
  CHECK(b2bua::rtp::test::wait_until(
      [&] { return f.engine->relay_count() == 0 && f.engine->ports_available() == start; }));
}
