// The call flow of one bridge and its two leg actors, on CAF's testing scheduler with a manual clock.
#include <doctest/doctest.h>

#include "actors/bridge.hpp"
#include "actors/call_leg.hpp"
#include "tests/unit/actors/actor_fixture.hpp"

using namespace b2bua;
using b2bua::test::ActorFixture;
using b2bua::test::one_attempt;

namespace {

constexpr LegId a_leg = 7;
constexpr LegId b_leg = 100;  // the first id RecordingSipPort hands out

struct BridgeFixture : ActorFixture {
  caf::actor bridge;

  BridgeFixture() {
    IncomingCall call;
    call.leg = a_leg;
    call.call_id = "caller-call-id";
    call.from_uri = "sip:alice@10.0.0.1";
    call.from_user = "alice";
    call.from_display = "Alice";
    call.to_uri = "sip:bob@b2b.example";
    call.to_user = "bob";
    call.request_uri = "sip:bob@b2b.example";
    call.ruri_user = "bob";
    call.source = "10.0.0.1:5060";
    call.max_forwards = 70;
    call.sdp = "v=0 offer";
    BridgeConfig cfg;
    cfg.no_answer_ms = 60000;
    bridge = sys.spawn(bridge_actor, call, RouteDecision::route_to("sip:127.0.0.1:5080", "all"),
                       one_attempt("sip:bob@127.0.0.1:5080"), cfg, transport, registry,
                       std::shared_ptr<SipPort>(sip));
    sched.run();
  }

  std::vector<SipAction> a_actions() const { return sip->on(a_leg); }
  std::vector<SipAction> b_actions() const { return sip->on(b_leg); }
  bool ended() const { return !rec->ended.empty(); }

  void answer_call() {
    sip_event(b_leg, LegEventKind::ringing, 180, "Ringing");
    sip_event(b_leg, LegEventKind::answered, 200, "OK", "v=0 answer");
    sip_event(a_leg, LegEventKind::confirmed);
  }
  void terminate_both() {
    sip_event(a_leg, LegEventKind::terminated);
    sip_event(b_leg, LegEventKind::terminated);
  }
};

}  // namespace

TEST_CASE_FIXTURE(BridgeFixture, "the B leg's INVITE carries the caller's SDP with a fresh Call-ID") {
  REQUIRE(rec->owners.count(a_leg) == 1);
  REQUIRE(rec->owners.count(b_leg) == 1);
  auto b = b_actions();
  REQUIRE(b.size() == 1);
  CHECK(b[0].kind == SipActionKind::invite);
  CHECK(b[0].invite.request_uri == "sip:bob@127.0.0.1:5080");
  CHECK(b[0].invite.to_uri == "sip:bob@127.0.0.1:5080");
  CHECK(b[0].invite.sdp == "v=0 offer");
  CHECK(b[0].invite.call_id != "caller-call-id");
  CHECK(b[0].invite.from_user == "alice");
  CHECK(b[0].invite.from_display == "Alice");
  CHECK(b[0].invite.max_forwards == 69);
  CHECK(a_actions().empty());
  REQUIRE_FALSE(rec->calls.empty());
  CHECK(rec->calls.back().first.state == "calling");
  CHECK(rec->calls.back().first.legs.size() == 2);
}

TEST_CASE_FIXTURE(BridgeFixture, "ringing, early media and the answer are relayed to the caller") {
  sip_event(b_leg, LegEventKind::ringing, 180, "Ringing");
  sip_event(b_leg, LegEventKind::early_media, 183, "Session Progress", "v=0 early");
  sip_event(b_leg, LegEventKind::answered, 200, "OK", "v=0 answer");
  auto a = a_actions();
  REQUIRE(a.size() == 3);
  CHECK(a[0].kind == SipActionKind::respond);
  CHECK(a[0].status == 180);
  CHECK(a[1].status == 183);
  CHECK(a[1].sdp == "v=0 early");
  CHECK(a[2].status == 200);
  CHECK(a[2].sdp == "v=0 answer");
  CHECK(rec->calls.back().first.state == "answered");
}

TEST_CASE_FIXTURE(BridgeFixture, "bridge sends BYE to B when A hangs up, and quits when both legs end") {
  answer_call();
  sip_event(a_leg, LegEventKind::bye);
  auto b = b_actions();
  REQUIRE(b.size() == 2);
  CHECK(b[1].kind == SipActionKind::bye);
  CHECK_FALSE(ended());
  terminate_both();
  REQUIRE(rec->ended.size() == 1);
  CHECK(rec->ended[0] == a_leg);
}

TEST_CASE_FIXTURE(BridgeFixture, "bridge sends BYE to A when B hangs up") {
  answer_call();
  sip_event(b_leg, LegEventKind::bye);
  auto a = a_actions();
  REQUIRE(a.size() == 3);  // 180, 200, BYE
  CHECK(a[2].kind == SipActionKind::bye);
  CHECK(b_actions().size() == 1);  // only the INVITE: B ended by itself
  terminate_both();
  CHECK(ended());
}

TEST_CASE_FIXTURE(BridgeFixture, "a CANCEL from the caller cancels the B leg and nothing more reaches A") {
  sip_event(b_leg, LegEventKind::ringing, 180, "Ringing");
  sip_event(a_leg, LegEventKind::cancelled, 487, "Request Terminated");
  auto b = b_actions();
  REQUIRE(b.size() == 2);
  CHECK(b[1].kind == SipActionKind::cancel);
  sip_event(b_leg, LegEventKind::failed, 487, "Request Terminated");
  CHECK(a_actions().size() == 1);  // only the 180; NUA already answered 487 to the caller
  terminate_both();
  CHECK(ended());
  CHECK(rec->calls.back().first.end_reason == "cancelled");
}

TEST_CASE_FIXTURE(BridgeFixture, "a CANCEL crossing the callee's 200 OK ends B with BYE and never answers A") {
  sip_event(b_leg, LegEventKind::ringing, 180, "Ringing");
  sip_event(a_leg, LegEventKind::cancelled, 487, "Request Terminated");
  sip_event(b_leg, LegEventKind::answered, 200, "OK", "v=0 answer");
  auto b = b_actions();
  REQUIRE(b.size() == 3);
  CHECK(b[1].kind == SipActionKind::cancel);
  CHECK(b[2].kind == SipActionKind::bye);
  for (const auto& a : a_actions()) {
    CHECK(a.status != 200);
  }
  terminate_both();
  CHECK(ended());
}

TEST_CASE_FIXTURE(BridgeFixture, "a BYE from the caller during ringing cancels B") {
  sip_event(b_leg, LegEventKind::ringing, 180, "Ringing");
  sip_event(a_leg, LegEventKind::bye);
  auto b = b_actions();
  REQUIRE(b.size() == 2);
  CHECK(b[1].kind == SipActionKind::cancel);
  sip_event(b_leg, LegEventKind::answered, 200, "OK", "v=0 answer");  // 200 raced the CANCEL
  b = b_actions();
  REQUIRE(b.size() == 3);
  CHECK(b[2].kind == SipActionKind::bye);
  CHECK(a_actions().size() == 1);
}

TEST_CASE_FIXTURE(BridgeFixture, "a callee's final error reaches the caller with the same code and reason") {
  sip_event(b_leg, LegEventKind::failed, 486, "Busy Here");
  auto a = a_actions();
  REQUIRE(a.size() == 1);
  CHECK(a[0].kind == SipActionKind::respond);
  CHECK(a[0].status == 486);
  CHECK(a[0].reason == "Busy Here");
  CHECK(a[0].warning.empty());
  terminate_both();
  CHECK(ended());
  CHECK(rec->calls.back().first.final_status == 486);
}

TEST_CASE_FIXTURE(BridgeFixture, "a transaction timeout of the B leg gives the caller 408 with a Warning id") {
  sip_event(b_leg, LegEventKind::failed, 408, "Request Timeout", "", "b2bua.target.timeout");
  auto a = a_actions();
  REQUIRE(a.size() == 1);
  CHECK(a[0].status == 408);
  CHECK(a[0].warning == "b2bua.target.timeout");
}

TEST_CASE_FIXTURE(BridgeFixture, "ringing past the no-answer timeout cancels B and gives the caller 480") {
  sip_event(b_leg, LegEventKind::ringing, 180, "Ringing");
  sched.advance_time(std::chrono::milliseconds(59999));
  sched.run();
  CHECK(b_actions().size() == 1);
  sched.advance_time(std::chrono::milliseconds(2));
  sched.run();
  auto b = b_actions();
  REQUIRE(b.size() == 2);
  CHECK(b[1].kind == SipActionKind::cancel);
  auto a = a_actions();
  REQUIRE(a.size() == 2);
  CHECK(a[1].status == 480);
  CHECK(a[1].warning == "b2bua.call.no_answer");
  sip_event(b_leg, LegEventKind::answered, 200, "OK", "v=0 late");  // answer after the timeout
  CHECK(b_actions().back().kind == SipActionKind::bye);
  CHECK(a_actions().size() == 2);
}

TEST_CASE_FIXTURE(BridgeFixture, "the no-answer timer does nothing once the call is answered") {
  answer_call();
  sched.advance_time(std::chrono::milliseconds(120000));
  sched.run();
  CHECK(b_actions().size() == 1);
  CHECK(a_actions().size() == 2);
}

TEST_CASE_FIXTURE(BridgeFixture, "a B leg that ends without a final response fails the caller with 503") {
  sip_event(b_leg, LegEventKind::terminated);
  auto a = a_actions();
  REQUIRE(a.size() == 1);
  CHECK(a[0].status == 503);
  CHECK(a[0].warning == "b2bua.target.gone");
}

TEST_CASE_FIXTURE(BridgeFixture, "a crashed B leg actor ends the caller's answered leg with BYE") {
  answer_call();
  caf::anon_send_exit(rec->owners.at(b_leg), caf::exit_reason::unhandled_exception);
  sched.run();
  auto a = a_actions();
  REQUIRE(a.size() == 3);
  CHECK(a[2].kind == SipActionKind::bye);
}

TEST_CASE_FIXTURE(BridgeFixture, "an operator hangup of an answered call sends BYE on both legs") {
  answer_call();
  caf::anon_send(bridge, hangup_atom::value, std::string("operator"));
  sched.run();
  CHECK(a_actions().back().kind == SipActionKind::bye);
  CHECK(b_actions().back().kind == SipActionKind::bye);
  terminate_both();
  CHECK(ended());
  CHECK(rec->calls.back().first.end_reason == "hangup");
}

TEST_CASE_FIXTURE(BridgeFixture, "an operator hangup before the answer cancels B and gives the caller 503") {
  sip_event(b_leg, LegEventKind::ringing, 180, "Ringing");
  caf::anon_send(bridge, hangup_atom::value, std::string("shutdown"));
  sched.run();
  CHECK(b_actions().back().kind == SipActionKind::cancel);
  CHECK(a_actions().back().status == 503);
}

TEST_CASE_FIXTURE(BridgeFixture, "a REST hangup before the answer cancels B and gives the caller 480") {
  sip_event(b_leg, LegEventKind::ringing, 180, "Ringing");
  caf::anon_send(bridge, hangup_atom::value, std::string("operator hangup"), 480);
  sched.run();
  CHECK(b_actions().back().kind == SipActionKind::cancel);
  CHECK(a_actions().back().status == 480);
  CHECK(a_actions().back().warning == "b2bua.call.hangup");
  CHECK(rec->calls.back().first.end_reason == "operator_hangup");
}

TEST_CASE("a leg ignores bridge requests that its SIP state no longer allows") {
  CallLegState a;
  a.id = 1;
  a.role = LegRole::a;
  auto r = a.on_bridge(make_event(1, LegEventKind::answered, 200, "OK"));
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK_FALSE(a.on_bridge(make_event(1, LegEventKind::failed, 500, "x")));  // already final
  auto bye = a.on_bridge(make_event(1, LegEventKind::bye));
  REQUIRE(bye);
  CHECK(bye->kind == SipActionKind::bye);
  CHECK_FALSE(a.on_bridge(make_event(1, LegEventKind::bye)));  // already ended

  CallLegState b;
  b.id = 2;
  b.role = LegRole::b;
  auto c = b.on_bridge(make_event(2, LegEventKind::cancelled));
  REQUIRE(c);
  CHECK(c->kind == SipActionKind::cancel);
  CallLegState b2;
  b2.role = LegRole::b;
  b2.on_sip(make_event(3, LegEventKind::answered, 200));
  auto c2 = b2.on_bridge(make_event(3, LegEventKind::cancelled));
  REQUIRE(c2);
  CHECK(c2->kind == SipActionKind::bye);  // too late to CANCEL an answered leg
  CallLegState b3;
  b3.role = LegRole::b;
  b3.on_sip(make_event(4, LegEventKind::failed, 486));
  CHECK_FALSE(b3.on_bridge(make_event(4, LegEventKind::cancelled)));
}

TEST_CASE_FIXTURE(BridgeFixture, "a callee repeating 180 does not keep the call ringing past the no-answer timeout") {
  sip_event(b_leg, LegEventKind::ringing, 180, "Ringing");
  for (int i = 0; i < 3; ++i) {  // RFC 3261 13.3.1.1: a UAS refreshes its provisional response
    sched.advance_time(std::chrono::milliseconds(25000));
    sched.run();
    sip_event(b_leg, LegEventKind::ringing, 180, "Ringing");
  }
  // 75 s after the first 180 (past no_answer_ms = 60 s): the call was ended, not kept ringing.
  auto b = b_actions();
  REQUIRE(b.size() == 2);
  CHECK(b[1].kind == SipActionKind::cancel);
  CHECK(a_actions().back().status == 480);
  CHECK(a_actions().size() == 2);  // one 180 relayed (the repeats were not), then the 480
}

TEST_CASE("a leg forwards a changed provisional response but not a repeat") {
  CallLegState b;
  b.role = LegRole::b;
  CHECK(b.on_sip(make_event(1, LegEventKind::ringing, 180, "Ringing")));
  CHECK_FALSE(b.on_sip(make_event(1, LegEventKind::ringing, 180, "Ringing")));
  auto early = make_event(1, LegEventKind::early_media, 183, "Session Progress");
  early.sdp = "v=0";
  CHECK(b.on_sip(early));
  CHECK_FALSE(b.on_sip(early));
  CHECK(b.on_sip(make_event(1, LegEventKind::answered, 200, "OK")));
}
