// The router actor: policy decisions, immediate answers, loops and routing deadlines.
#include <doctest/doctest.h>

#include <functional>

#include "actors/router.hpp"
#include "tests/unit/actors/actor_fixture.hpp"

using namespace b2bua;
using b2bua::test::ActorFixture;

namespace {

IncomingCall make_call(LegId leg, std::string ruri_user = "bob") {
  IncomingCall c;
  c.leg = leg;
  c.from_uri = "sip:alice@10.0.0.1";
  c.from_user = "alice";
  c.to_uri = "sip:" + ruri_user + "@b2b.example";
  c.to_user = ruri_user;
  c.request_uri = "sip:" + ruri_user + "@b2b.example";
  c.ruri_user = ruri_user;
  c.max_forwards = 70;
  return c;
}

struct RouterFixture : ActorFixture {
  caf::actor router;
  RouteReply held;  // for policies that answer later

  void start(RoutePolicy policy) {
    RouterConfig cfg;
    cfg.route_timeout_ms = 2000;
    cfg.own_addresses = {"127.0.0.1:5060"};
    router = sys.spawn(router_actor, std::move(policy), cfg, transport, registry,
                       std::shared_ptr<SipPort>(sip), std::shared_ptr<BackendDirectory>());
    sched.run();
  }
  void incoming(IncomingCall c) {
    caf::anon_send(router, incoming_atom::value, std::move(c));
    sched.run();
  }
  ~RouterFixture() {
    caf::anon_send_exit(router, caf::exit_reason::user_shutdown);
    sched.run();
  }
};

RoutePolicy fixed(std::string target) {
  return [target](const IncomingCall&, RouteReply reply) {
    reply(RouteDecision::route_to(target, "fixed"));
  };
}

}  // namespace

TEST_CASE_FIXTURE(RouterFixture, "a routed call gets a bridge whose B leg goes to the target with the R-URI user") {
  start(fixed("sip:127.0.0.1:5080"));
  incoming(make_call(1, "bob"));
  auto b = sip->on(100);
  REQUIRE(b.size() == 1);
  CHECK(b[0].kind == SipActionKind::invite);
  CHECK(b[0].invite.request_uri == "sip:bob@127.0.0.1:5080");
  CHECK(sip->on(1).empty());
}

TEST_CASE_FIXTURE(RouterFixture, "a target with a user part replaces the called user") {
  start(fixed("sip:alice@127.0.0.1:5080"));
  incoming(make_call(1, "bob"));
  auto b = sip->on(100);
  REQUIRE(b.size() == 1);
  CHECK(b[0].invite.request_uri == "sip:alice@127.0.0.1:5080");
}

TEST_CASE_FIXTURE(RouterFixture, "no matching route answers 404 with the no_match Warning id") {
  RouteRule rule;
  rule.name = "only-1000";
  rule.match_to = "1000";
  rule.targets = {"sip:127.0.0.1:5080"};
  start(make_table_policy({rule}));
  incoming(make_call(1, "bob"));
  auto a = sip->on(1);
  REQUIRE(a.size() == 1);
  CHECK(a[0].kind == SipActionKind::respond);
  CHECK(a[0].status == 404);
  CHECK(a[0].warning == "b2bua.route.no_match");
  CHECK(sip->on(100).empty());
}

TEST_CASE_FIXTURE(RouterFixture, "a route back to b2buad itself is refused with 482 and never sent") {
  start(fixed("sip:127.0.0.1:5060"));
  incoming(make_call(1));
  auto a = sip->on(1);
  REQUIRE(a.size() == 1);
  CHECK(a[0].status == 482);
  CHECK(a[0].warning == "b2bua.sip.loop");
  CHECK(sip->on(100).empty());
}

TEST_CASE_FIXTURE(RouterFixture, "a policy that answers later from elsewhere still routes the call") {
  start([this](const IncomingCall&, RouteReply reply) { held = std::move(reply); });
  incoming(make_call(1));
  CHECK(sip->actions.empty());
  REQUIRE(held);
  held(RouteDecision::route_to("sip:127.0.0.1:5080"));
  sched.run();
  REQUIRE(sip->on(100).size() == 1);
}

TEST_CASE_FIXTURE(RouterFixture, "a policy that never answers gives the caller 500 after the routing deadline") {
  start([this](const IncomingCall&, RouteReply reply) { held = std::move(reply); });
  incoming(make_call(1));
  sched.advance_time(std::chrono::milliseconds(2001));
  sched.run();
  auto a = sip->on(1);
  REQUIRE(a.size() == 1);
  CHECK(a[0].status == 500);
  CHECK(a[0].warning == "b2bua.route.timeout");
  held(RouteDecision::route_to("sip:127.0.0.1:5080"));  // too late: ignored
  sched.run();
  CHECK(sip->on(100).empty());
}

TEST_CASE_FIXTURE(RouterFixture, "a policy that throws gives the caller 500 and the router lives on") {
  start([](const IncomingCall& c, RouteReply reply) {
    if (c.leg == 1) {
      throw std::runtime_error("lookup failed");
    }
    reply(RouteDecision::route_to("sip:127.0.0.1:5080"));
  });
  incoming(make_call(1));
  REQUIRE(sip->on(1).size() == 1);
  CHECK(sip->on(1)[0].status == 500);
  incoming(make_call(2));
  CHECK(sip->on(100).size() == 1);
}

TEST_CASE_FIXTURE(RouterFixture, "while draining every new call is refused with 503 and Retry-After") {
  start(fixed("sip:127.0.0.1:5080"));
  caf::anon_send(router, drain_atom::value);
  sched.run();
  incoming(make_call(1));
  auto a = sip->on(1);
  REQUIRE(a.size() == 1);
  CHECK(a[0].status == 503);
  CHECK(a[0].retry_after == 5);
  CHECK(a[0].warning == "b2bua.draining");
}

TEST_CASE("targets_self compares host and port, with 5060 as the default port") {
  std::vector<std::string> own{"127.0.0.1:5060", "[::1]:5070"};
  CHECK(targets_self("sip:127.0.0.1", own));
  CHECK(targets_self("sip:bob@127.0.0.1:5060;transport=udp", own));
  CHECK(targets_self("sip:[::1]:5070", own));
  CHECK_FALSE(targets_self("sip:127.0.0.1:5080", own));
  CHECK_FALSE(targets_self("sip:127.0.0.2", own));
  CHECK_FALSE(targets_self("garbage", own));
  CHECK_FALSE(targets_self("", own));
}

TEST_CASE_FIXTURE(RouterFixture, "every call the router answers itself is reported ended to the registry") {
  RouteRule deny;
  deny.name = "deny";
  deny.match_to = "666";
  deny.action = "reject";
  deny.reject_status = 403;
  RouteRule self_loop;
  self_loop.name = "loop";
  self_loop.match_to = "me";
  self_loop.targets = {"sip:127.0.0.1:5060"};
  start(make_table_policy({deny, self_loop}));
  incoming(make_call(1, "666"));     // configured reject
  incoming(make_call(2, "nobody"));  // no match
  incoming(make_call(3, "me"));      // loop to ourselves
  CHECK(rec->ended == std::vector<CallId>{1, 2, 3});
  caf::anon_send(router, drain_atom::value);
  sched.run();
  incoming(make_call(4, "666"));     // draining
  CHECK(rec->ended == std::vector<CallId>{1, 2, 3, 4});
  CHECK(sip->on(4).at(0).status == 503);
}
