// Unit tests of the per-backend circuit breaker: the state machine alone, and the actor on CAF's
// testing scheduler with its manual clock (cooldown, half-open trials, recovery, back-off, probes).
#include <doctest/doctest.h>

#include <optional>

#include "actors/backend_group.hpp"
#include "actors/breaker.hpp"
#include "tests/unit/actors/actor_fixture.hpp"

using namespace b2bua;
using b2bua::test::ActorFixture;
using std::chrono::milliseconds;

TEST_CASE("the breaker opens after N consecutive failures; a success in between resets the count") {
  BreakerConfig cfg;
  cfg.failure_threshold = 3;
  BreakerMachine m(cfg);
  CHECK(m.admit());
  m.on_failure();
  m.on_failure();
  m.on_success();
  m.on_failure();
  m.on_failure();
  CHECK(m.mode() == BreakerMode::closed);
  auto c = m.on_failure();
  CHECK(c.changed);
  CHECK(c.to == BreakerMode::open);
  CHECK_FALSE(m.admit());
  CHECK(m.cooldown_ms() == cfg.cooldown_ms);
}

TEST_CASE("half-open lets the configured trials through; success closes, failure reopens longer") {
  BreakerConfig cfg;
  cfg.failure_threshold = 1;
  cfg.cooldown_ms = 1000;
  cfg.max_cooldown_ms = 3000;
  cfg.half_open_trials = 2;
  BreakerMachine m(cfg);
  m.on_failure();
  REQUIRE(m.mode() == BreakerMode::open);
  m.on_cooldown_end();
  REQUIRE(m.mode() == BreakerMode::half_open);
  CHECK(m.admit());
  CHECK(m.admit());
  CHECK_FALSE(m.admit());  // both trials taken
  m.on_failure();
  CHECK(m.mode() == BreakerMode::open);
  CHECK(m.cooldown_ms() == 2000);  // back-off doubled
  m.on_cooldown_end();
  m.on_failure();
  CHECK(m.cooldown_ms() == 3000);  // capped at max_cooldown_ms
  m.on_cooldown_end();
  CHECK(m.admit());
  m.on_success();
  CHECK(m.mode() == BreakerMode::closed);
  m.on_failure();
  CHECK(m.cooldown_ms() == 1000);  // recovered: back-off starts over
}

TEST_CASE("a 503 with Retry-After opens the breaker at once for at least that long") {
  BreakerConfig cfg;
  cfg.failure_threshold = 5;
  cfg.cooldown_ms = 1000;
  BreakerMachine m(cfg);
  m.on_failure(30000);
  CHECK(m.mode() == BreakerMode::open);
  CHECK(m.cooldown_ms() == 30000);
}

TEST_CASE("a backend's Retry-After is honoured for at most an hour, without overflow") {
  struct Row {
    std::uint32_t seconds;
    std::uint32_t ms;
  };
  for (Row r : {Row{0, 0}, Row{1, 1000}, Row{90, 90000}, Row{3600, 3600000}, Row{3601, 3600000},
                Row{4294967, 3600000}, Row{2147483647, 3600000}, Row{4294967295u, 3600000}}) {
    CAPTURE(r.seconds);
    CHECK(BreakerMachine::pause_ms(r.seconds) == r.ms);
  }
}

TEST_CASE("an operator's disabled refuses everything until enabled, then starts closed") {
  BreakerMachine m(BreakerConfig{});
  m.set_disabled(true);
  CHECK_FALSE(m.admit());
  m.on_success();
  CHECK(m.mode() == BreakerMode::disabled);
  m.set_disabled(false);
  CHECK(m.mode() == BreakerMode::closed);
  CHECK(m.admit());
}

namespace {

struct BreakerFixture : ActorFixture {
  std::shared_ptr<BackendStatus> status = std::make_shared<BackendStatus>();
  caf::actor breaker;
  caf::actor asker;
  std::shared_ptr<std::optional<bool>> answer = std::make_shared<std::optional<bool>>();

  void start(BreakerConfig cfg, ProbeConfig probe = {}) {
    status->uri = "sip:10.0.0.9:5060";
    breaker = sys.spawn(breaker_actor, status, cfg, probe, std::shared_ptr<SipPort>(sip));
    sched.run();
  }
  ~BreakerFixture() {
    caf::anon_send_exit(breaker, caf::exit_reason::user_shutdown);
    sched.run();
  }
  BreakerMode mode() const { return status->current(); }
  bool admit() {
    answer->reset();
    auto a = answer;
    auto b = breaker;
    sys.spawn([a, b](caf::event_based_actor* self) {
      self->request(b, std::chrono::seconds(1), admit_atom::value).then([a](bool ok) { *a = ok; });
    });
    sched.run();
    REQUIRE(answer->has_value());
    return **answer;
  }
  void outcome(bool ok, std::uint32_t retry_after = 0) {
    caf::anon_send(breaker, outcome_atom::value, ok, retry_after, std::string("test"));
    sched.run();
  }
  void advance(int ms) {
    sched.advance_time(milliseconds(ms));
    sched.run();
  }
  /// Advances in 100 ms steps, so that timers re-armed by timers keep their real spacing.
  void advance_steps(int ms) {
    for (int t = 0; t < ms; t += 100) {
      advance(100);
    }
  }
};

}  // namespace

TEST_CASE_FIXTURE(BreakerFixture, "the actor opens, waits its cooldown, trials, and recovers") {
  BreakerConfig cfg;
  cfg.failure_threshold = 2;
  cfg.cooldown_ms = 5000;
  start(cfg);
  CHECK(admit());
  outcome(false);
  outcome(false);
  CHECK(mode() == BreakerMode::open);
  CHECK(status->state_changes.load() == 1);
  CHECK_FALSE(admit());
  advance(4999);
  CHECK(mode() == BreakerMode::open);
  advance(2);
  CHECK(mode() == BreakerMode::half_open);
  CHECK(admit());        // the one trial
  CHECK_FALSE(admit());  // no second one while it runs
  outcome(true);
  CHECK(mode() == BreakerMode::closed);
  CHECK(admit());
  CHECK(status->failures_total.load() == 2);
  CHECK(status->successes_total.load() == 1);
}

TEST_CASE_FIXTURE(BreakerFixture, "a failed trial reopens with a doubled cooldown") {
  BreakerConfig cfg;
  cfg.failure_threshold = 1;
  cfg.cooldown_ms = 1000;
  start(cfg);
  outcome(false);
  advance(1001);
  REQUIRE(mode() == BreakerMode::half_open);
  CHECK(admit());
  outcome(false);
  CHECK(mode() == BreakerMode::open);
  advance(1500);
  CHECK(mode() == BreakerMode::open);  // 2000 ms this time
  advance(501);
  CHECK(mode() == BreakerMode::half_open);
}

TEST_CASE_FIXTURE(BreakerFixture, "a trial that never reports back frees its slot after a cooldown") {
  BreakerConfig cfg;
  cfg.failure_threshold = 1;
  cfg.cooldown_ms = 1000;
  start(cfg);
  outcome(false);
  advance(1001);
  CHECK(admit());
  CHECK_FALSE(admit());
  advance(1001);
  CHECK(admit());
}

TEST_CASE_FIXTURE(BreakerFixture, "OPTIONS probes open a dead backend and bring it back when it answers") {
  BreakerConfig cfg;
  cfg.failure_threshold = 2;
  cfg.cooldown_ms = 3000;
  ProbeConfig probe;
  probe.enabled = true;
  probe.interval_ms = 1000;
  probe.timeout_ms = 500;
  start(cfg, probe);
  auto probes = [this] {
    std::vector<SipAction> out;
    for (const auto& a : sip->actions) {
      if (a.kind == SipActionKind::options) {
        out.push_back(a);
      }
    }
    return out;
  };
  REQUIRE(probes().size() == 1);  // one at start
  CHECK(probes()[0].invite.request_uri == "sip:10.0.0.9:5060");
  // Probes at 0 and 1000 ms go unanswered (timeouts at 500 and 1500): open until 4500.
  advance_steps(2500);
  CHECK(mode() == BreakerMode::open);
  const auto sent = probes().size();
  CHECK(sent == 2);
  advance_steps(2000);  // open: no probes during the cooldown; half-open at 4500
  CHECK(probes().size() == sent);
  CHECK(mode() == BreakerMode::half_open);
  advance_steps(600);  // the probe at 5000 is the trial
  REQUIRE(probes().size() == sent + 1);
  auto last = probes().back();
  caf::anon_send(breaker, probe_atom::value, last.tag, 200);
  sched.run();
  CHECK(mode() == BreakerMode::closed);
  CHECK(status->last_probe_status.load() == 200);
  CHECK(status->last_probe_latency_us.load() >= 0);
}

TEST_CASE_FIXTURE(BreakerFixture, "probe replies outside the alive codes count as failures") {
  BreakerConfig cfg;
  cfg.failure_threshold = 1;
  ProbeConfig probe;
  probe.enabled = true;
  probe.alive = {2, 404};
  start(cfg, probe);
  CHECK(probe_alive(probe.alive, 200));
  CHECK(probe_alive(probe.alive, 404));
  CHECK_FALSE(probe_alive(probe.alive, 503));
  auto tag = sip->actions.back().tag;
  caf::anon_send(breaker, probe_atom::value, tag, 503);
  sched.run();
  CHECK(mode() == BreakerMode::open);
}

TEST_CASE("round robin, weighted, least calls, hash and failover orders") {
  BackendGroup g;
  for (int i = 0; i < 3; ++i) {
    BackendRef r;
    r.uri = "sip:b" + std::to_string(i);
    r.status = std::make_shared<BackendStatus>();
    g.members.push_back(r);
    g.weights.push_back(1);
  }
  IncomingCall call;
  call.call_id = "abc";
  call.from_user = "alice";
  auto first = [&] { return pick_order(g, call).front().uri; };
  g.strategy = LbStrategy::round_robin;
  CHECK(first() == "sip:b0");
  CHECK(first() == "sip:b1");
  CHECK(first() == "sip:b2");
  auto order = pick_order(g, call);  // the rest follow in rotation, for failover
  CHECK(order.size() == 3);
  CHECK(order[0].uri == "sip:b0");
  CHECK(order[1].uri == "sip:b1");
  g.max_attempts = 2;
  CHECK(pick_order(g, call).size() == 2);
  g.max_attempts = 0;

  g.strategy = LbStrategy::failover;
  CHECK(first() == "sip:b0");
  CHECK(first() == "sip:b0");

  g.strategy = LbStrategy::least_calls;
  g.members[0].status->active_calls = 5;
  g.members[1].status->active_calls = 1;
  g.members[2].status->active_calls = 3;
  CHECK(first() == "sip:b1");

  g.strategy = LbStrategy::hash;
  g.hash_key = "from_user";
  const auto sticky = first();
  call.call_id = "other";
  CHECK(first() == sticky);  // same From user, same backend

  g.weights = {3, 1, 0};
  g.schedule = smooth_wrr_schedule(g.weights);
  CHECK(g.schedule == std::vector<std::size_t>{0, 0, 1, 0});
  g.strategy = LbStrategy::weighted;
  g.cursor = 0;
  int counts[3] = {0, 0, 0};
  for (int i = 0; i < 40; ++i) {
    auto u = first();
    counts[u.back() - '0']++;
  }
  CHECK(counts[0] == 30);
  CHECK(counts[1] == 10);
  CHECK(counts[2] == 0);
}

TEST_CASE("a backend's call slots stop at max_calls") {
  BackendStatus s;
  s.max_calls = 2;
  CHECK(s.try_acquire());
  CHECK(s.try_acquire());
  CHECK_FALSE(s.try_acquire());
  s.release();
  CHECK(s.try_acquire());
  s.release();
  s.release();
  s.release();  // never below zero
  CHECK(s.active_calls.load() == 0);
}

TEST_CASE_FIXTURE(ActorFixture, "a reload keeps the breakers of backends that stay and stops the others") {
  BackendDirectory dir(sys, std::shared_ptr<SipPort>(sip), BreakerConfig{});
  GroupSpec g;
  g.name = "pbx";
  g.targets = {{"sip:a", 1, 0, false}, {"sip:b", 2, 5, false}};
  dir.set_groups({g});
  sched.run();
  auto before = dir.all();
  REQUIRE(before.size() == 2);
  const BackendStatus* kept = before[0].get();  // sorted by URI: sip:a
  REQUIRE(dir.group("pbx"));
  CHECK(dir.group("pbx")->schedule.size() == 3);  // weights 1 + 2
  GroupSpec g2;
  g2.name = "pbx2";
  g2.targets = {{"sip:a", 1, 0, false}, {"sip:c", 1, 0, false}};
  dir.set_groups({g2}, /*keep_removed=*/true);  // first step of a reload: nothing removed yet
  CHECK(dir.group("pbx"));
  CHECK(dir.all().size() == 3);
  dir.set_groups({g2});
  sched.run();
  auto after = dir.all();
  REQUIRE(after.size() == 2);
  CHECK(after[0].get() == kept);  // same breaker and counters for sip:a
  CHECK(after[1]->uri == "sip:c");
  CHECK_FALSE(dir.group("pbx"));
  CHECK(dir.literal("sip:d").breaker);  // literal targets get a breaker on demand
  CHECK(dir.all().size() == 3);
  CHECK(dir.set_disabled("sip:c", true));
  sched.run();
  CHECK(dir.all()[1]->current() == BreakerMode::disabled);
  CHECK_FALSE(dir.set_disabled("sip:nope", true));
  dir.stop();
  sched.run();
}
