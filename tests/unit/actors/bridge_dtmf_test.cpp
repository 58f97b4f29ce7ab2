// DTMF across the bridge: DtmfPolicy's rules, MediaSession's telephone-event edits, and the
// bridge converting between SIP INFO and RFC 4733 (relay mode, a recording relay control).
#include <doctest/doctest.h>

#include "actors/dtmf_policy.hpp"
#include "actors/media_session.hpp"
#include "tests/unit/actors/media_fixture.hpp"

using namespace b2bua;
using namespace b2bua::test;

namespace {

constexpr DtmfMode automatic = DtmfMode::automatic;
constexpr DtmfMode rfc4733 = DtmfMode::rfc4733;
constexpr DtmfMode info_mode = DtmfMode::info;

LegTelephoneEvent te(int pt) {
  LegTelephoneEvent t;
  t.receives = pt;
  t.sends = pt;
  return t;
}

const std::string offer_no_te =
    "v=0\r\no=alice 42 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
    "m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
const std::string answer_te =
    "v=0\r\no=bob 7 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\n"
    "m=audio 6000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n";

}  // namespace

TEST_CASE("DtmfPolicy converts only where a leg's mode and SDP ask for it") {
  struct Row {
    DtmfMode callee;
    int a_te;  // telephone-event payload type of each leg, -1 none
    int b_te;
    bool relay;
    bool inject_to_b;  // an INFO digit from A goes to B as RFC 4733
    bool info_to_b;    // an RFC 4733 digit from A goes to B as INFO
  };
  const Row rows[] = {
      {automatic, 101, 101, true, false, false},
      {automatic, 101, -1, true, false, true},  // B cannot take events, A sends them
      {automatic, -1, -1, true, false, false},
      {rfc4733, -1, 101, true, true, false},
      {rfc4733, -1, -1, true, false, false},  // B never agreed to events: INFO stays INFO
      {info_mode, 101, 101, true, false, true},
      {info_mode, 101, -1, false, false, false},  // bypass: nothing converts
      {rfc4733, 101, 101, false, false, false},
  };
  for (const auto& r : rows) {
    CAPTURE(static_cast<int>(r.callee));
    CAPTURE(r.a_te);
    CAPTURE(r.b_te);
    CAPTURE(r.relay);
    DtmfPolicy p(DtmfModes{automatic, r.callee}, r.relay);
    p.set_media(0, te(r.a_te), te(r.b_te));
    CHECK(p.inject_towards(Party::b) == r.inject_to_b);
    CHECK(p.info_towards(Party::b) == r.info_to_b);
    CHECK(p.pickup(Party::a).forward == !r.info_to_b);
    CHECK(p.pickup(Party::a).payload_type == (r.relay ? r.a_te : -1));
  }
}

TEST_CASE("DtmfPolicy: a refused INFO switches an auto leg with telephone-event to events") {
  DtmfPolicy p(DtmfModes{}, true);
  p.set_media(0, te(101), te(96));
  p.forwarded(Party::b, 7, DtmfDigit{"5", 0});
  p.forwarded(Party::b, 8, DtmfDigit{"6", 100});
  CHECK_FALSE(p.on_info_response(Party::b, 7, 200));  // accepted: relayed as it is
  CHECK_FALSE(p.inject_towards(Party::b));
  auto d = p.on_info_response(Party::b, 8, 415);
  REQUIRE(d);
  CHECK(d->digit == "6");
  CHECK(p.inject_towards(Party::b));
  CHECK_FALSE(p.on_info_response(Party::b, 8, 415));  // answered once only
  auto req = p.digit_request(Party::b, DtmfDigit{"#", 0});
  CHECK(req.payload_type == 96);
  CHECK(req.duration_ms == 160);
  CHECK(req.towards == rtp::Side::b);
  // A leg without telephone-event keeps its refusals.
  DtmfPolicy q(DtmfModes{}, true);
  q.set_media(0, te(101), te(-1));
  q.forwarded(Party::b, 9, DtmfDigit{"1", 0});
  CHECK_FALSE(q.on_info_response(Party::b, 9, 501));
  CHECK_FALSE(q.inject_towards(Party::b));
  CHECK(parse_dtmf_mode("auto") == automatic);
  CHECK_FALSE(parse_dtmf_mode("Auto"));
}

TEST_CASE(
    "MediaSession adds and strips telephone-event for the callee's mode, and undoes it back") {
  struct Row {
    DtmfMode callee;
    std::string offer;
    std::string answer;
    bool offer_has_te;   // in what the callee gets
    bool answer_has_te;  // in what the caller gets
    int a_sends;         // telephone-event in what b2buad sent the caller
    int b_receives;      // telephone-event the callee declared
  };
  const Row rows[] = {
      {rfc4733, offer_no_te, answer_te, true, false, -1, 101},
      {info_mode, offer, answer, false, true, 101, -1},
      {automatic, offer, answer, true, false, -1, -1},
      {automatic, offer_no_te, answer_te, false, true, 101, 101},
  };
  for (const auto& r : rows) {
    CAPTURE(static_cast<int>(r.callee));
    CAPTURE(r.offer);
    MediaSession m("192.0.2.10", "1");
    m.set_dtmf_modes(DtmfModes{automatic, r.callee});
    std::string error;
    REQUIRE(m.read_offer(r.offer, &error));
    rtp::RelayPorts ports;
    ports.streams.push_back(rtp::StreamPorts{30000, 30001, 30002, 30003});
    m.set_ports(ports);
    CHECK_FALSE(m.dtmf_stream());  // not before the answer
    auto to_b = m.offer_for_callee(r.offer, &error);
    REQUIRE_MESSAGE(to_b, error);
    CHECK(contains(*to_b, "telephone-event") == r.offer_has_te);
    auto to_a = m.answer_for_caller(r.answer, nullptr, &error);
    REQUIRE_MESSAGE(to_a, error);
    CHECK(contains(*to_a, "telephone-event") == r.answer_has_te);
    REQUIRE(m.dtmf_stream() == 0u);
    CHECK(m.telephone_event(rtp::Side::a).sends == r.a_sends);
    CHECK(m.telephone_event(rtp::Side::b).receives == r.b_receives);
  }
}

namespace {

struct DtmfFixture : MediaFixture {
  void connect(const std::string& callee_answer) {
    sip_event(b_leg, LegEventKind::answered, 200, "OK", callee_answer);
    sip_event(a_leg, LegEventKind::confirmed);
  }
  void info_from(LegId leg, std::uint64_t txn, const std::string& body) {
    LegEvent ev = make_event(leg, LegEventKind::info);
    ev.txn = txn;
    ev.content_type = "application/dtmf-relay";
    ev.body = body;
    caf::anon_send(rec->owners.at(leg), sip_atom::value, std::move(ev));
    sched.run();
  }
  void info_response(LegId leg, std::uint64_t txn, int status) {
    LegEvent ev = make_event(leg, LegEventKind::info, status, status == 200 ? "OK" : "Refused");
    ev.txn = txn;
    caf::anon_send(rec->owners.at(leg), sip_atom::value, std::move(ev));
    sched.run();
  }
  // What the worker does when a side's digit ends: the relay's callback.
  void rtp_digit(rtp::Side side, const std::string& digit, std::uint32_t ms) {
    REQUIRE(relay->on_digit);
    relay->on_digit(rtp::PickedDigit{a_leg, 0, side, digit, ms});
    sched.run();
  }
  const rtp::DtmfPickup& pickup(rtp::Side side) const {
    for (auto i = relay->pickups.rbegin(); i != relay->pickups.rend(); ++i) {
      if (i->side == side) {
        return *i;
      }
    }
    FAIL("no pick-up for that side");
    return relay->pickups.front();
  }
  const CallInfo& call() const { return rec->calls.back().first; }
};

}  // namespace

TEST_CASE_FIXTURE(DtmfFixture,
                  "callee in info mode: the caller's RFC 4733 digits reach it as INFO") {
  dtmf.callee = info_mode;
  start();
  CHECK_FALSE(contains(b_actions().at(0).invite.sdp, "telephone-event"));
  connect(answer);
  CHECK(contains(a_actions().at(0).sdp, "a=rtpmap:101 telephone-event/8000"));
  CHECK(pickup(rtp::Side::a).payload_type == 101);
  CHECK_FALSE(pickup(rtp::Side::a).forward);
  CHECK(pickup(rtp::Side::b).payload_type == -1);
  const auto a_before = a_actions().size();
  rtp_digit(rtp::Side::a, "1", 280);
  auto info = b_actions().back();
  CHECK(info.kind == SipActionKind::info);
  CHECK(info.content_type == "application/dtmf-relay");
  CHECK(info.body == "Signal=1\r\nDuration=280\r\n");
  CHECK(call().legs[0].dtmf == "1");
  // Published like an INFO digit: the registry hands it to event subscribers.
  REQUIRE_FALSE(rec->events.empty());
  CHECK(rec->events.back().role == "a");
  CHECK(rec->events.back().event.kind == LegEventKind::dtmf);
  CHECK(rec->events.back().event.digit == "1");
  CHECK(rec->events.back().event.duration == 280);
  info_response(b_leg, 0, 200);  // the answer to b2buad's own INFO goes nowhere
  CHECK(a_actions().size() == a_before);
}

TEST_CASE_FIXTURE(DtmfFixture,
                  "callee in rfc4733 mode: the caller's INFO is answered and sent as events") {
  dtmf.callee = rfc4733;
  start(offer_no_te);
  const auto to_b = b_actions().at(0).invite.sdp;
  CHECK(contains(to_b, "m=audio 30002 RTP/AVP 0 101"));
  CHECK(contains(to_b, "a=fmtp:101 0-16"));
  connect(answer_te);
  CHECK_FALSE(contains(a_actions().at(0).sdp, "telephone-event"));
  const auto b_before = b_actions().size();
  info_from(a_leg, 31, "Signal=5\r\nDuration=200\r\n");
  auto ok = a_actions().back();
  CHECK(ok.kind == SipActionKind::respond_request);
  CHECK(ok.tag == 31);
  CHECK(ok.status == 200);
  CHECK(b_actions().size() == b_before);  // no INFO to the callee
  REQUIRE(relay->digits.size() == 1);
  CHECK(relay->digits[0].towards == rtp::Side::b);
  CHECK(relay->digits[0].digit == "5");
  CHECK(relay->digits[0].duration_ms == 200);
  CHECK(relay->digits[0].payload_type == 101);
  CHECK(call().legs[0].dtmf == "5");
}

TEST_CASE_FIXTURE(DtmfFixture,
                  "auto: a callee that refuses INFO but has telephone-event gets events") {
  start();
  connect(answer_te);
  info_from(a_leg, 41, "Signal=7\r\n");
  CHECK(b_actions().back().kind == SipActionKind::info);
  CHECK(b_actions().back().tag == 41);
  CHECK(relay->digits.empty());
  info_response(b_leg, 41, 415);
  CHECK(a_actions().back().status == 200);  // not the 415: the digit went as events
  CHECK(a_actions().back().tag == 41);
  REQUIRE(relay->digits.size() == 1);
  CHECK(relay->digits[0].digit == "7");
  const auto b_before = b_actions().size();
  info_from(a_leg, 42, "Signal=8\r\n");  // remembered for the rest of the call
  CHECK(b_actions().size() == b_before);
  CHECK(a_actions().back().tag == 42);
  REQUIRE(relay->digits.size() == 2);
  // Both legs have telephone-event: RFC 4733 digits pass through and are only noted.
  CHECK(pickup(rtp::Side::a).forward);
  rtp_digit(rtp::Side::b, "9", 100);
  CHECK(b_actions().size() == b_before);
  CHECK(a_actions().back().tag == 42);
  CHECK(call().legs[1].dtmf == "9");
}

TEST_CASE_FIXTURE(DtmfFixture, "auto: a refusal from a callee without telephone-event is relayed") {
  start();
  connect(answer);
  info_from(a_leg, 51, "Signal=7\r\n");
  info_response(b_leg, 51, 415);
  CHECK(a_actions().back().status == 415);
  CHECK(relay->digits.empty());
}

TEST_CASE_FIXTURE(DtmfFixture, "bypass converts nothing whatever the dtmf modes") {
  dtmf.callee = info_mode;
  dtmf.caller = rfc4733;
  start(offer, "bypass");
  CHECK(b_actions().at(0).invite.sdp == offer);
  connect(answer);
  info_from(a_leg, 61, "Signal=3\r\n");
  CHECK(b_actions().back().kind == SipActionKind::info);
  CHECK(relay->pickups.empty());
  CHECK(relay->digits.empty());
}
