// The router's queue and redirect decisions, with backends whose status the test sets.
#include <doctest/doctest.h>

#include "actors/router.hpp"
#include "tests/unit/actors/actor_fixture.hpp"

using namespace b2bua;
using b2bua::test::ActorFixture;
using std::chrono::milliseconds;

namespace {

struct QueueFixture : ActorFixture {
  caf::actor router;
  std::shared_ptr<BackendStatus> backend = std::make_shared<BackendStatus>();

  QueueFixture() {
    backend->uri = "sip:10.0.0.5:5060";
    backend->max_calls = 1;
  }

  std::shared_ptr<BackendDirectory> dir;

  void start(RoutePolicy policy, std::shared_ptr<BackendDirectory> backends = {}) {
    RouterConfig cfg;
    cfg.own_addresses = {"127.0.0.1:5060"};
    dir = backends;
    router = sys.spawn(router_actor, std::move(policy), cfg, transport, registry,
                       std::shared_ptr<SipPort>(sip), std::move(backends));
    sched.run();
  }
  ~QueueFixture() {
    caf::anon_send_exit(router, caf::exit_reason::user_shutdown);
    if (dir) {
      dir->stop();
    }
    sched.run();
  }
  /// From users of the INVITEs sent, in order.
  std::vector<std::string> invited() const {
    std::vector<std::string> out;
    for (const auto& a : sip->actions) {
      if (a.kind == SipActionKind::invite) {
        out.push_back(a.invite.from_user);
      }
    }
    return out;
  }
  void incoming(LegId leg, std::string from) {
    IncomingCall c;
    c.leg = leg;
    c.from_user = from;
    c.from_uri = "sip:" + from + "@10.0.0.1";
    c.to_user = "bob";
    c.to_uri = "sip:bob@b2b.example";
    c.request_uri = c.to_uri;
    c.ruri_user = "bob";
    c.max_forwards = 70;
    caf::anon_send(router, incoming_atom::value, std::move(c));
    sched.run();
  }
  /// The R-URIs of INVITEs sent, in order, as "leg-of-A" is not on the INVITE: count them.
  std::size_t invites() const {
    std::size_t n = 0;
    for (const auto& a : sip->actions) {
      n += a.kind == SipActionKind::invite;
    }
    return n;
  }
  int last_status(LegId leg) const {
    auto a = sip->on(leg);
    return a.empty() ? 0 : a.back().status;
  }
};

// Queues every call for `target`: vip callers with priority 5, "hurry" with a 300 ms timeout.
RoutePolicy queue_policy(std::string group = {}) {
  return [group](const IncomingCall& call, RouteReply reply) {
    auto d = group.empty() ? RouteDecision::route_to("sip:10.0.0.5:5060", "q")
                           : RouteDecision::route_to_group(group, "q");
    d.kind = RouteDecision::Kind::queue;
    d.queue_priority = call.from_user == "vip" ? 5 : 1;
    d.queue_timeout_ms = call.from_user == "hurry" ? 300 : 10000;
    reply(std::move(d));
  };
}

}  // namespace

TEST_CASE("reserve_room takes the first backend with room and moves it to the front") {
  auto full = std::make_shared<BackendStatus>();
  full->max_calls = 1;
  REQUIRE(full->try_acquire());
  auto open = std::make_shared<BackendStatus>();
  open->mode = static_cast<std::uint8_t>(BreakerMode::open);
  auto free = std::make_shared<BackendStatus>();
  free->max_calls = 2;
  std::vector<Attempt> at(3);
  at[0].backend.status = full;
  at[1].backend.status = open;
  at[2].backend.status = free;
  at[2].target = "free";
  CHECK(has_room(at));
  REQUIRE(reserve_room(at));
  CHECK(at[0].target == "free");
  CHECK(at[0].reserved);
  CHECK(free->active_calls.load() == 1);
  std::vector<Attempt> none(2);
  none[0].backend.status = full;
  none[1].backend.status = open;
  CHECK_FALSE(has_room(none));
  CHECK_FALSE(reserve_room(none));
  std::vector<Attempt> untracked(1);  // no status: no limit known, always room
  CHECK(reserve_room(untracked));
  CHECK_FALSE(untracked[0].reserved);
}

TEST_CASE_FIXTURE(QueueFixture, "a redirect decision answers 302 with the Contact, no bridge") {
  start([](const IncomingCall&, RouteReply reply) {
    reply(RouteDecision::redirect("sip:bob@192.0.2.7", "moved"));
  });
  incoming(1, "alice");
  auto a = sip->on(1);
  REQUIRE(a.size() == 1);
  CHECK(a[0].kind == SipActionKind::redirect);
  CHECK(a[0].status == 302);
  CHECK(a[0].contact == "sip:bob@192.0.2.7");
  CHECK(invites() == 0);
}

TEST_CASE_FIXTURE(QueueFixture, "queued calls without a known backend limit are routed at once") {
  start(queue_policy());
  incoming(1, "alice");
  incoming(3, "carol");
  CHECK(invites() == 2);  // untracked literal targets always have room
}

TEST_CASE_FIXTURE(QueueFixture, "a caller cancelling while the decision is pending is dropped") {
  RouteReply held;
  start([&held](const IncomingCall&, RouteReply reply) { held = std::move(reply); });
  incoming(1, "alice");
  caf::anon_send(router, sip_atom::value, make_event(1, LegEventKind::cancelled, 487));
  sched.run();
  held(RouteDecision::route_to("sip:10.0.0.5:5060"));
  sched.run();
  CHECK(invites() == 0);
  CHECK(sip->on(1).empty());
}

TEST_CASE_FIXTURE(QueueFixture, "a full backend queues calls with 182, serves them by priority, and times them out with 503") {
  auto d = std::make_shared<BackendDirectory>(sys, std::shared_ptr<SipPort>(sip), BreakerConfig{});
  GroupSpec g;
  g.name = "pbx";
  g.targets.push_back({"sip:10.0.0.5:5060", 1, 1, false});
  d->set_groups({g});
  sched.run();
  auto status = d->all().front();
  start(queue_policy("pbx"), d);
  incoming(1, "first");
  CHECK(invited() == std::vector<std::string>{"first"});
  CHECK(status->active_calls.load() == 1);
  incoming(3, "low");
  incoming(5, "vip");
  incoming(7, "hurry");
  CHECK(last_status(3) == 182);
  CHECK(last_status(5) == 182);
  CHECK(last_status(7) == 182);
  CHECK(invited().size() == 1);
  sched.advance_time(milliseconds(301));
  sched.run();
  CHECK(last_status(7) == 503);
  CHECK(sip->on(7).back().warning == "b2bua.queue.timeout");
  // The first call's slot frees (as when its bridge ends): the next look serves the vip first.
  const_cast<BackendStatus&>(*status).release();
  sched.advance_time(milliseconds(500));
  sched.run();
  CHECK(invited() == std::vector<std::string>{"first", "vip"});
  CHECK(status->active_calls.load() == 1);
  // The caller still waiting cancels: it leaves the queue and never reaches the backend.
  caf::anon_send(router, sip_atom::value, make_event(3, LegEventKind::cancelled, 487));
  sched.run();
  const_cast<BackendStatus&>(*status).release();
  sched.advance_time(milliseconds(500));
  sched.run();
  CHECK(invited().size() == 2);
}
