// Unit tests of failover in the bridge: attempts in order, breakers asked and told, the failover
// timeout, max_calls, and what the caller hears when every backend fails.
#include <doctest/doctest.h>

#include "actors/backend_group.hpp"
#include "actors/bridge.hpp"
#include "tests/unit/actors/actor_fixture.hpp"

using namespace b2bua;
using b2bua::test::ActorFixture;
using std::chrono::milliseconds;

namespace {

struct FailoverFixture : ActorFixture {
  static constexpr LegId a_leg = 1;
  std::vector<Attempt> attempts;
  std::vector<caf::actor> breakers;
  caf::actor bridge;

  /// One backend with a breaker (threshold 1: one failure opens it).
  std::shared_ptr<BackendStatus> add_backend(const std::string& host, std::uint32_t max_calls = 0) {
    Attempt at;
    at.target = "sip:bob@" + host;
    at.backend.uri = "sip:" + host;
    at.backend.status = std::make_shared<BackendStatus>();
    at.backend.status->uri = at.backend.uri;
    at.backend.status->max_calls = max_calls;
    BreakerConfig bc;
    bc.failure_threshold = 1;
    bc.cooldown_ms = 60000;
    at.backend.breaker = sys.spawn(breaker_actor, at.backend.status, bc, ProbeConfig{},
                                   std::shared_ptr<SipPort>());
    breakers.push_back(at.backend.breaker);
    attempts.push_back(at);
    sched.run();
    return at.backend.status;
  }

  void start() {
    IncomingCall call;
    call.leg = a_leg;
    call.from_uri = "sip:alice@10.0.0.1";
    call.from_user = "alice";
    call.to_uri = "sip:bob@b2b.example";
    call.to_user = "bob";
    call.request_uri = "sip:bob@b2b.example";
    call.ruri_user = "bob";
    call.max_forwards = 70;
    BridgeConfig cfg;
    cfg.failover_timeout_ms = 2000;
    bridge = sys.spawn(bridge_actor, call, RouteDecision::route_to_group("pbx", "pbx"), attempts,
                       cfg, transport, registry, std::shared_ptr<SipPort>(sip));
    sched.run();
  }

  ~FailoverFixture() {
    for (auto& b : breakers) {
      caf::anon_send_exit(b, caf::exit_reason::user_shutdown);
    }
    sched.run();
  }

  /// The INVITEs sent so far, in order: (leg, request_uri).
  std::vector<std::pair<LegId, std::string>> invites() const {
    std::vector<std::pair<LegId, std::string>> out;
    for (const auto& a : sip->actions) {
      if (a.kind == SipActionKind::invite) {
        out.emplace_back(a.leg, a.invite.request_uri);
      }
    }
    return out;
  }
  std::vector<SipAction> a_actions() const { return sip->on(a_leg); }
};

}  // namespace

TEST_CASE_FIXTURE(FailoverFixture, "a 503 from the first backend sends the call to the next; the caller hears only the answer") {
  auto s1 = add_backend("10.0.0.1");
  auto s2 = add_backend("10.0.0.2");
  start();
  auto inv = invites();
  REQUIRE(inv.size() == 1);
  CHECK(inv[0].second == "sip:bob@10.0.0.1");
  CHECK(s1->active_calls.load() == 1);
  sip_event(inv[0].first, LegEventKind::failed, 503, "Service Unavailable");
  inv = invites();
  REQUIRE(inv.size() == 2);
  CHECK(inv[1].second == "sip:bob@10.0.0.2");
  CHECK(a_actions().empty());  // nothing for the caller yet
  CHECK(s1->current() == BreakerMode::open);
  CHECK(s1->active_calls.load() == 0);
  CHECK(s2->active_calls.load() == 1);
  sip_event(inv[1].first, LegEventKind::answered, 200, "OK", "v=0 answer");
  auto a = a_actions();
  REQUIRE(a.size() == 1);
  CHECK(a[0].status == 200);
  CHECK(s2->successes_total.load() == 1);
  CHECK(rec->calls.back().first.attempts == 2);
  CHECK(rec->calls.back().first.backend == "sip:10.0.0.2");
}

TEST_CASE_FIXTURE(FailoverFixture, "a backend silent past the failover timeout is abandoned for the next") {
  auto s1 = add_backend("10.0.0.1");
  add_backend("10.0.0.2");
  start();
  const LegId first = invites()[0].first;
  sched.advance_time(milliseconds(1999));
  sched.run();
  CHECK(invites().size() == 1);
  sched.advance_time(milliseconds(2));
  sched.run();
  auto on_first = sip->on(first);
  REQUIRE(on_first.size() == 2);
  CHECK(on_first[1].kind == SipActionKind::abandon);
  REQUIRE(invites().size() == 2);
  CHECK(invites()[1].second == "sip:bob@10.0.0.2");
  CHECK(s1->failures_total.load() == 1);
}

TEST_CASE_FIXTURE(FailoverFixture, "a backend that answers in time is not abandoned") {
  add_backend("10.0.0.1");
  add_backend("10.0.0.2");
  start();
  const LegId first = invites()[0].first;
  sip_event(first, LegEventKind::trying, 100, "Trying");
  sched.advance_time(milliseconds(2500));
  sched.run();
  CHECK(invites().size() == 1);
  CHECK(sip->on(first).size() == 1);
}

TEST_CASE_FIXTURE(FailoverFixture, "a busy callee is relayed, not failed over") {
  auto s1 = add_backend("10.0.0.1");
  add_backend("10.0.0.2");
  start();
  sip_event(invites()[0].first, LegEventKind::failed, 486, "Busy Here");
  CHECK(invites().size() == 1);
  auto a = a_actions();
  REQUIRE(a.size() == 1);
  CHECK(a[0].status == 486);
  CHECK(s1->current() == BreakerMode::closed);  // the backend works: its callee is busy
  CHECK(s1->successes_total.load() == 1);
}

TEST_CASE_FIXTURE(FailoverFixture, "when every backend fails the caller gets the last real error with all_failed") {
  add_backend("10.0.0.1");
  add_backend("10.0.0.2");
  start();
  sip_event(invites()[0].first, LegEventKind::failed, 500, "Server Internal Error");
  sip_event(invites()[1].first, LegEventKind::failed, 408, "Request Timeout", "",
            "b2bua.target.timeout");
  auto a = a_actions();
  REQUIRE(a.size() == 1);
  CHECK(a[0].status == 500);
  CHECK(a[0].warning == "b2bua.backend.all_failed");
}

TEST_CASE_FIXTURE(FailoverFixture, "open breakers and full backends are skipped; none left gives 503 all_down") {
  auto s1 = add_backend("10.0.0.1");
  auto s2 = add_backend("10.0.0.2", 1);
  auto s3 = add_backend("10.0.0.3");
  caf::anon_send(breakers[0], outcome_atom::value, false, std::uint32_t{0}, std::string("down"));
  sched.run();
  REQUIRE(s1->current() == BreakerMode::open);
  REQUIRE(s2->try_acquire());  // another call holds its only slot
  start();
  auto inv = invites();
  REQUIRE(inv.size() == 1);
  CHECK(inv[0].second == "sip:bob@10.0.0.3");
  CHECK(s2->active_calls.load() == 1);
  // Once the third is open too, nothing is left.
  sip_event(inv[0].first, LegEventKind::failed, 503, "Service Unavailable");
  CHECK(s3->current() == BreakerMode::open);
  auto a = a_actions();
  REQUIRE(a.size() == 1);
  CHECK(a[0].status == 503);
  CHECK(a[0].warning.empty());  // a single attempt: the backend's own answer, as it is
}

TEST_CASE_FIXTURE(FailoverFixture, "no backend admitting the call gives 503 all_down with Retry-After at once") {
  auto s1 = add_backend("10.0.0.1");
  caf::anon_send(breakers[0], outcome_atom::value, false, std::uint32_t{0}, std::string("down"));
  sched.run();
  REQUIRE(s1->current() == BreakerMode::open);
  start();
  CHECK(invites().empty());
  auto a = a_actions();
  REQUIRE(a.size() == 1);
  CHECK(a[0].status == 503);
  CHECK(a[0].warning == "b2bua.backend.all_down");
  CHECK(a[0].retry_after > 0);
}

TEST_CASE_FIXTURE(FailoverFixture, "the caller cancelling during failover ends the call without a new attempt") {
  add_backend("10.0.0.1");
  add_backend("10.0.0.2");
  start();
  sip_event(a_leg, LegEventKind::cancelled, 487, "Request Terminated");
  auto first = invites()[0].first;
  CHECK(sip->on(first).back().kind == SipActionKind::cancel);
  sip_event(first, LegEventKind::failed, 487, "Request Terminated");
  CHECK(invites().size() == 1);
}
