// Mid-call offer/answer, glare, hold and INFO across one bridge and its two leg actors, on CAF's
// testing scheduler with its manual clock (bypass mode: SDP passes untouched).
#include <doctest/doctest.h>

#include "actors/bridge.hpp"
#include "actors/call_leg.hpp"
#include "tests/unit/actors/actor_fixture.hpp"

using namespace b2bua;
using b2bua::test::ActorFixture;
using b2bua::test::one_attempt;

namespace {

constexpr LegId a_leg = 7;
constexpr LegId b_leg = 100;

std::string sdp(const std::string& who, const std::string& direction) {
  return "v=0\r\no=" + who + " 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
         "m=audio 4000 RTP/AVP 0\r\na=" + direction + "\r\n";
}

struct MidCallFixture : ActorFixture {
  caf::actor bridge;

  MidCallFixture() {
    IncomingCall call;
    call.leg = a_leg;
    call.call_id = "caller-call-id";
    call.from_uri = "sip:alice@10.0.0.1";
    call.from_user = "alice";
    call.to_uri = "sip:bob@b2b.example";
    call.to_user = "bob";
    call.sdp = "v=0 offer";
    BridgeConfig cfg;
    bridge = sys.spawn(bridge_actor, call, RouteDecision::route_to("sip:127.0.0.1:5080", "all"),
                       one_attempt("sip:bob@127.0.0.1:5080"), cfg, transport, registry,
                       std::shared_ptr<SipPort>(sip));
    sched.run();
  }

  // The callee answers the INVITE's offer in a reliable 183 (RFC 3262).
  void early_answer(std::string body = "v=0 early answer") {
    LegEvent ev = make_event(b_leg, LegEventKind::early_media, 183, "Session Progress");
    ev.sdp = std::move(body);
    ev.reliable = true;
    send(b_leg, std::move(ev));
  }

  void answer_call(bool confirm = true) {
    sip_event(b_leg, LegEventKind::answered, 200, "OK", "v=0 answer");
    if (confirm) {
      sip_event(a_leg, LegEventKind::confirmed);
    }
  }

  void send(LegId leg, LegEvent ev) {
    ev.leg = leg;
    caf::anon_send(rec->owners.at(leg), sip_atom::value, std::move(ev));
    sched.run();
  }
  void reoffer(LegId leg, std::uint64_t txn, std::string body, std::string method = "INVITE") {
    LegEvent ev = make_event(leg, LegEventKind::reoffer);
    ev.txn = txn;
    ev.sdp = std::move(body);
    ev.method = std::move(method);
    send(leg, std::move(ev));
  }
  void reanswer(LegId leg, int status, std::string body = {}, std::string method = "INVITE") {
    LegEvent ev = make_event(leg, LegEventKind::reanswer, status, status == 200 ? "OK" : "Error");
    ev.sdp = std::move(body);
    ev.method = std::move(method);
    send(leg, std::move(ev));
  }
  void advance(std::chrono::milliseconds ms) {
    sched.advance_time(ms);
    sched.run();
  }

  SipAction last(LegId leg) const {
    auto v = sip->on(leg);
    REQUIRE_FALSE(v.empty());
    return v.back();
  }
  std::size_t count(LegId leg) const { return sip->on(leg).size(); }
  const CallInfo& info() const { return rec->calls.back().first; }
};

}  // namespace

TEST_CASE_FIXTURE(MidCallFixture, "a re-INVITE from the caller reaches the callee, its answer the caller's request") {
  answer_call();
  reoffer(a_leg, 5, "v=0 new offer");
  auto b = last(b_leg);
  CHECK(b.kind == SipActionKind::reoffer);
  CHECK(b.method == "INVITE");
  CHECK(b.sdp == "v=0 new offer");
  reanswer(b_leg, 200, "v=0 new answer");
  auto a = last(a_leg);
  CHECK(a.kind == SipActionKind::respond_request);
  CHECK(a.tag == 5);
  CHECK(a.status == 200);
  CHECK(a.sdp == "v=0 new answer");
}

TEST_CASE_FIXTURE(MidCallFixture, "an UPDATE from the callee goes to the caller as an UPDATE, errors come back") {
  answer_call();
  reoffer(b_leg, 8, "v=0 upd", "UPDATE");
  auto a = last(a_leg);
  CHECK(a.kind == SipActionKind::reoffer);
  CHECK(a.method == "UPDATE");
  reanswer(a_leg, 488, {}, "UPDATE");
  auto b = last(b_leg);
  CHECK(b.kind == SipActionKind::respond_request);
  CHECK(b.tag == 8);
  CHECK(b.status == 488);
  reoffer(b_leg, 9, "v=0 upd2", "UPDATE");  // closed: the next offer goes through
  CHECK(last(a_leg).kind == SipActionKind::reoffer);
}

TEST_CASE_FIXTURE(MidCallFixture, "glare: the callee's offer while the caller's is open gets 491") {
  answer_call();
  reoffer(a_leg, 1, "v=0 a");
  const auto b_before = count(b_leg);
  reoffer(b_leg, 2, "v=0 b");
  REQUIRE(count(b_leg) == b_before + 1);
  auto b = last(b_leg);
  CHECK(b.kind == SipActionKind::respond_request);
  CHECK(b.tag == 2);
  CHECK(b.status == 491);
  CHECK(b.warning == "b2bua.offer.glare");
  reanswer(b_leg, 200, "v=0 b answers");
  CHECK(last(a_leg).tag == 1);
  CHECK(last(a_leg).status == 200);
}

TEST_CASE_FIXTURE(MidCallFixture, "glare: the caller's offer while the callee's is open gets 491") {
  answer_call();
  reoffer(b_leg, 1, "v=0 b");
  reoffer(a_leg, 2, "v=0 a");
  auto a = last(a_leg);
  CHECK(a.kind == SipActionKind::respond_request);
  CHECK(a.tag == 2);
  CHECK(a.status == 491);
  reanswer(a_leg, 200, "v=0 a answers");
  CHECK(last(b_leg).tag == 1);
  CHECK(last(b_leg).status == 200);
}

TEST_CASE_FIXTURE(MidCallFixture, "a second offer from the same side while its first is open gets 500 with Retry-After") {
  answer_call();
  reoffer(a_leg, 1, "v=0 a");
  reoffer(a_leg, 2, "v=0 a again");  // e.g. an UPDATE while its own re-INVITE is pending
  const auto r = last(a_leg);
  CHECK(r.status == 500);
  CHECK(r.tag == 2);
  CHECK(r.warning == "b2bua.offer.pending");
  CHECK(r.retry_after >= 1);
  CHECK(r.retry_after <= 10);
  // The first offer is unaffected: its answer still reaches the caller's request 1.
  reanswer(b_leg, 200, "v=0 b answers");
  CHECK(last(a_leg).tag == 1);
  CHECK(last(a_leg).status == 200);
}

TEST_CASE_FIXTURE(MidCallFixture, "crossing offers: the callee's 491 is retried after 2.1-4 s, its own offer gets 491 meanwhile") {
  answer_call();
  reoffer(a_leg, 1, "v=0 a");
  const auto sent = count(b_leg);
  reanswer(b_leg, 491);                 // the callee's UA saw our offer cross its own
  reoffer(b_leg, 2, "v=0 b");           // ... which reaches us now
  CHECK(last(b_leg).status == 491);
  CHECK(count(b_leg) == sent + 1);
  advance(std::chrono::milliseconds(2099));
  CHECK(count(b_leg) == sent + 1);      // not before 2.1 s: b2buad owns the B Call-ID
  advance(std::chrono::milliseconds(1901));
  REQUIRE(count(b_leg) == sent + 2);
  CHECK(last(b_leg).kind == SipActionKind::reoffer);
  CHECK(last(b_leg).sdp == "v=0 a");
  CHECK(sip->on(a_leg).back().kind != SipActionKind::respond_request);  // the caller still waits
  reanswer(b_leg, 200, "v=0 b answers");
  CHECK(last(a_leg).tag == 1);
  CHECK(last(a_leg).status == 200);
}

TEST_CASE_FIXTURE(MidCallFixture, "crossing offers: the caller's 491 is retried within 2 s") {
  answer_call();
  reoffer(b_leg, 1, "v=0 b");
  const auto sent = count(a_leg);
  reanswer(a_leg, 491);
  reoffer(a_leg, 2, "v=0 a");
  CHECK(last(a_leg).status == 491);
  advance(std::chrono::milliseconds(2001));
  REQUIRE(count(a_leg) == sent + 2);
  CHECK(last(a_leg).kind == SipActionKind::reoffer);
  reanswer(a_leg, 200, "v=0 a answers");
  CHECK(last(b_leg).status == 200);
}

TEST_CASE_FIXTURE(MidCallFixture, "offers before the caller's ACK get 491, before the early answer 500") {
  reoffer(a_leg, 1, "v=0 early", "UPDATE");
  CHECK(last(a_leg).status == 500);
  CHECK(last(a_leg).warning == "b2bua.offer.early_pending");
  CHECK(last(a_leg).retry_after >= 1);
  CHECK(last(a_leg).retry_after <= 10);
  CHECK(count(b_leg) == 1);  // only the INVITE
  answer_call(false);
  reoffer(b_leg, 2, "v=0 b");
  CHECK(last(b_leg).status == 491);
  sip_event(a_leg, LegEventKind::confirmed);
  reoffer(b_leg, 3, "v=0 b");
  CHECK(last(a_leg).kind == SipActionKind::reoffer);
}

TEST_CASE_FIXTURE(MidCallFixture, "hold and resume by the caller show as its leg and the call on_hold") {
  answer_call();
  reoffer(a_leg, 1, sdp("alice", "sendonly"));
  CHECK(info().state == "answered");  // not before the answer
  reanswer(b_leg, 200, sdp("bob", "recvonly"));
  CHECK(info().state == "on_hold");
  CHECK(info().legs[0].on_hold);
  CHECK_FALSE(info().legs[1].on_hold);
  reoffer(a_leg, 2, sdp("alice", "sendrecv"));
  reanswer(b_leg, 200, sdp("bob", "sendrecv"));
  CHECK(info().state == "answered");
  CHECK_FALSE(info().legs[0].on_hold);
  // Subscribers (through the registry) got hold then resume, both the caller's.
  REQUIRE(rec->events.size() == 2);
  CHECK(rec->events[0].event.kind == LegEventKind::hold);
  CHECK(rec->events[1].event.kind == LegEventKind::resume);
  CHECK(rec->events[0].role == "a");
  CHECK(rec->events[1].call == info().id);
}

TEST_CASE_FIXTURE(MidCallFixture, "a refused hold leaves the call as it was") {
  answer_call();
  reoffer(b_leg, 1, sdp("bob", "inactive"));
  reanswer(a_leg, 488);
  CHECK(last(b_leg).status == 488);
  CHECK_FALSE(info().legs[1].on_hold);
  CHECK(info().state == "answered");
}

TEST_CASE_FIXTURE(MidCallFixture, "a re-INVITE without SDP: the offer comes back in the 200, the answer goes on in the ACK") {
  answer_call();
  reoffer(a_leg, 4, "");
  CHECK(last(b_leg).kind == SipActionKind::reoffer);
  CHECK(last(b_leg).sdp.empty());
  reanswer(b_leg, 200, "v=0 b offers");
  CHECK(last(a_leg).kind == SipActionKind::respond_request);
  CHECK(last(a_leg).sdp == "v=0 b offers");
  reoffer(b_leg, 5, "v=0 b");  // still open until the ACK
  CHECK(last(b_leg).status == 491);
  reanswer(a_leg, 0, "v=0 a answers", "ACK");
  auto ack = last(b_leg);
  CHECK(ack.kind == SipActionKind::ack);
  CHECK(ack.sdp == "v=0 a answers");
  reoffer(b_leg, 6, "v=0 b");
  CHECK(last(a_leg).kind == SipActionKind::reoffer);
}

TEST_CASE_FIXTURE(MidCallFixture, "INFO goes to the other leg both ways, its response comes back, DTMF digits are noted") {
  answer_call();
  LegEvent info_a = make_event(a_leg, LegEventKind::info);
  info_a.txn = 21;
  info_a.content_type = "application/dtmf-relay";
  info_a.body = "Signal=5\r\nDuration=160\r\n";
  send(a_leg, info_a);
  auto b = last(b_leg);
  CHECK(b.kind == SipActionKind::info);
  CHECK(b.tag == 21);
  CHECK(b.content_type == "application/dtmf-relay");
  CHECK(b.body == info_a.body);
  LegEvent resp = make_event(b_leg, LegEventKind::info, 200, "OK");
  resp.txn = 21;
  send(b_leg, resp);
  auto a = last(a_leg);
  CHECK(a.kind == SipActionKind::respond_request);
  CHECK(a.tag == 21);
  CHECK(a.status == 200);
  CHECK(info().legs[0].dtmf == "5");

  LegEvent info_b = make_event(b_leg, LegEventKind::info);
  info_b.txn = 22;
  info_b.content_type = "application/dtmf";
  info_b.body = "#";
  send(b_leg, info_b);
  CHECK(last(a_leg).kind == SipActionKind::info);
  LegEvent refused = make_event(a_leg, LegEventKind::info, 415, "Unsupported Media Type");
  refused.txn = 22;
  send(a_leg, refused);
  CHECK(last(b_leg).status == 415);
  CHECK(last(b_leg).tag == 22);
  CHECK(info().legs[1].dtmf == "#");
  REQUIRE(rec->events.size() == 2);
  CHECK(rec->events[0].role == "a");
  CHECK(rec->events[0].event.kind == LegEventKind::dtmf);
  CHECK(rec->events[0].event.digit == "5");
  CHECK(rec->events[0].event.duration == 160);
  CHECK(rec->events[1].role == "b");
  CHECK(rec->events[1].event.digit == "#");
}

TEST_CASE_FIXTURE(MidCallFixture, "INFO before the answer is refused with 488 b2bua.info.no_call") {
  LegEvent ev = make_event(a_leg, LegEventKind::info);
  ev.txn = 3;
  ev.content_type = "application/dtmf";
  ev.body = "1";
  send(a_leg, ev);
  auto a = last(a_leg);
  CHECK(a.kind == SipActionKind::respond_request);
  CHECK(a.status == 488);
  CHECK(a.warning == "b2bua.info.no_call");
  CHECK(count(b_leg) == 1);  // only the INVITE
}

TEST_CASE_FIXTURE(MidCallFixture, "a hang-up while a 491 retry waits sends no offer afterwards") {
  answer_call();
  reoffer(a_leg, 1, "v=0 a");
  reanswer(b_leg, 491);
  sip_event(a_leg, LegEventKind::bye);
  const auto sent = count(b_leg);
  advance(std::chrono::milliseconds(4001));
  CHECK(count(b_leg) == sent);
  CHECK(last(b_leg).kind == SipActionKind::bye);
}

TEST_CASE_FIXTURE(MidCallFixture, "a reliable 18x from the callee is relayed as one to be sent reliably, an ordinary one not") {
  LegEvent rel = make_event(b_leg, LegEventKind::early_media, 183, "Session Progress");
  rel.sdp = "v=0 early";
  rel.reliable = true;
  send(b_leg, rel);
  auto a = last(a_leg);
  CHECK(a.status == 183);
  CHECK(a.reliable);
  CHECK(a.sdp == "v=0 early");
  LegEvent plain = make_event(b_leg, LegEventKind::ringing, 180, "Ringing");
  send(b_leg, plain);
  CHECK(last(a_leg).status == 180);
  CHECK_FALSE(last(a_leg).reliable);
}

TEST_CASE_FIXTURE(MidCallFixture, "an early UPDATE from the caller reaches the callee once it answered reliably") {
  early_answer();
  CHECK(last(a_leg).sdp == "v=0 early answer");
  reoffer(a_leg, 11, "v=0 early update", "UPDATE");
  auto b = last(b_leg);
  CHECK(b.kind == SipActionKind::reoffer);
  CHECK(b.method == "UPDATE");
  CHECK(b.sdp == "v=0 early update");
  reoffer(b_leg, 12, "v=0 crossing", "UPDATE");  // glare in the early dialog too
  CHECK(last(b_leg).status == 491);
  CHECK(last(b_leg).warning == "b2bua.offer.glare");
  reanswer(b_leg, 200, "v=0 early update answer", "UPDATE");
  auto a = last(a_leg);
  CHECK(a.kind == SipActionKind::respond_request);
  CHECK(a.tag == 11);
  CHECK(a.status == 200);
  CHECK(a.sdp == "v=0 early update answer");
  CHECK(info().state == "early");
}

TEST_CASE_FIXTURE(MidCallFixture, "after a reliable early answer the callee's 200 and later 18x bring no SDP back") {
  early_answer();
  reoffer(a_leg, 11, sdp("alice", "sendonly"), "UPDATE");
  reanswer(b_leg, 200, sdp("bob", "recvonly"), "UPDATE");
  CHECK(info().legs[0].on_hold);
  CHECK(info().state == "early");  // held, but not answered yet
  LegEvent again = make_event(b_leg, LegEventKind::early_media, 183, "Session Progress");
  again.sdp = "v=0 early answer";  // the old answer once more
  again.status = 180;
  send(b_leg, again);
  CHECK(last(a_leg).status == 180);
  CHECK(last(a_leg).sdp.empty());
  sip_event(b_leg, LegEventKind::answered, 200, "OK", "v=0 early answer");
  auto a = last(a_leg);
  CHECK(a.kind == SipActionKind::respond);
  CHECK(a.status == 200);
  CHECK(a.sdp.empty());
  CHECK(info().state == "on_hold");
  sip_event(a_leg, LegEventKind::confirmed);
  reoffer(b_leg, 13, sdp("bob", "sendrecv"));  // the answered call's offers go on as before
  CHECK(last(a_leg).kind == SipActionKind::reoffer);
}

TEST_CASE_FIXTURE(MidCallFixture, "an early UPDATE from the callee goes to the caller, a refusal with Retry-After comes back") {
  early_answer();
  reoffer(b_leg, 21, "v=0 callee update", "UPDATE");
  auto a = last(a_leg);
  CHECK(a.kind == SipActionKind::reoffer);
  CHECK(a.method == "UPDATE");
  LegEvent refused = make_event(a_leg, LegEventKind::reanswer, 500, "Server Internal Error");
  refused.method = "UPDATE";
  refused.warning = "b2bua.offer.early_pending";
  refused.retry_after = 4;
  send(a_leg, refused);
  auto b = last(b_leg);
  CHECK(b.kind == SipActionKind::respond_request);
  CHECK(b.tag == 21);
  CHECK(b.status == 500);
  CHECK(b.warning == "b2bua.offer.early_pending");
  CHECK(b.retry_after == 4);
  reoffer(a_leg, 22, "v=0 caller update", "UPDATE");  // closed: the next early offer goes
  CHECK(last(b_leg).kind == SipActionKind::reoffer);
}

TEST_CASE_FIXTURE(MidCallFixture, "before the answer a re-INVITE is refused, and after a failed call any offer") {
  early_answer();
  reoffer(a_leg, 31, "v=0 reinvite", "INVITE");
  CHECK(last(a_leg).status == 500);
  CHECK(last(a_leg).warning == "b2bua.offer.early_pending");
  CHECK(last(b_leg).kind != SipActionKind::reoffer);
  sip_event(b_leg, LegEventKind::failed, 486, "Busy Here");
  reoffer(a_leg, 32, "v=0 late", "UPDATE");
  CHECK(last(a_leg).tag == 32);
  CHECK(last(a_leg).status == 488);
  CHECK(last(a_leg).warning == "b2bua.offer.no_call");
}
