// The bridge's media path (relay mode) on CAF's testing scheduler, with a recording relay control.
#include <doctest/doctest.h>

#include "tests/unit/actors/media_fixture.hpp"

using namespace b2bua;
using namespace b2bua::test;


TEST_CASE_FIXTURE(MediaFixture, "in relay mode the callee is offered b2buad's address and B-side port") {
  start();
  auto b = b_actions();
  REQUIRE(b.size() == 1);
  const auto& sdp = b[0].invite.sdp;
  CHECK(contains(sdp, "c=IN IP4 192.0.2.10"));
  CHECK(contains(sdp, "m=audio 30002 RTP/AVP 0 101"));
  CHECK(contains(sdp, "a=rtpmap:101 telephone-event/8000"));
  CHECK_FALSE(contains(sdp, "10.0.0.1"));
  CHECK_FALSE(contains(sdp, "o=alice"));
  REQUIRE(relay->peers.size() == 1);
  CHECK(relay->peers[0].side == rtp::Side::a);
  CHECK(relay->peers[0].addr == "10.0.0.1");
  CHECK(relay->peers[0].port == 4000);
  CHECK(rec->calls.back().first.media_mode == "relay");
}

TEST_CASE_FIXTURE(MediaFixture, "the callee's answer reaches the caller with b2buad's A-side port") {
  start();
  sip_event(b_leg, LegEventKind::answered, 200, "OK", answer);
  auto a = a_actions();
  REQUIRE(a.size() == 1);
  CHECK(a[0].status == 200);
  CHECK(contains(a[0].sdp, "c=IN IP4 192.0.2.10"));
  CHECK(contains(a[0].sdp, "m=audio 30000 RTP/AVP 0"));
  CHECK_FALSE(contains(a[0].sdp, "10.0.0.2"));
  REQUIRE(relay->peers.size() == 2);
  CHECK(relay->peers[1].side == rtp::Side::b);
  CHECK(relay->peers[1].addr == "10.0.0.2");
  CHECK(relay->peers[1].port == 6000);
  const auto& legs = rec->calls.back().first.legs;
  CHECK(legs[0].media_local == "192.0.2.10:30000");
  CHECK(legs[0].media_remote == "10.0.0.1:4000");
  CHECK(legs[1].media_remote == "10.0.0.2:6000");
}

TEST_CASE_FIXTURE(MediaFixture, "an empty port pool refuses the call with 503 before the callee hears of it") {
  relay->exhausted = true;
  start();
  CHECK(b_actions().empty());
  auto a = a_actions();
  REQUIRE(a.size() == 1);
  CHECK(a[0].status == 503);
  CHECK(a[0].warning == "b2bua.media.ports_exhausted");
  CHECK(a[0].retry_after == 5);
  sip_event(a_leg, LegEventKind::terminated);
  CHECK(rec->ended.size() == 1);
}

TEST_CASE_FIXTURE(MediaFixture, "an offer b2buad cannot parse gets 488 with its Warning id") {
  start("this is not SDP");
  CHECK(b_actions().empty());
  auto a = a_actions();
  REQUIRE(a.size() == 1);
  CHECK(a[0].status == 488);
  CHECK(a[0].warning == "b2bua.sdp.unparseable");
}

TEST_CASE_FIXTURE(MediaFixture, "a route in bypass mode passes the SDP untouched") {
  start(offer, "bypass");
  auto b = b_actions();
  REQUIRE(b.size() == 1);
  CHECK(b[0].invite.sdp == offer);
  CHECK(relay->peers.empty());
  sip_event(b_leg, LegEventKind::answered, 200, "OK", answer);
  CHECK(a_actions().at(0).sdp == answer);
}

TEST_CASE_FIXTURE(MediaFixture, "no RTP after the answer ends the call with BYE both ways and a reason") {
  start();
  sip_event(b_leg, LegEventKind::answered, 200, "OK", answer);
  sip_event(a_leg, LegEventKind::confirmed);
  for (int i = 0; i < 7; ++i) {  // the relay checks its counters once a second
    sched.advance_time(std::chrono::seconds(1));
    sched.run();
  }
  auto a = a_actions();
  auto b = b_actions();
  REQUIRE(a.size() == 2);
  CHECK(a[1].kind == SipActionKind::bye);
  CHECK(a[1].why == "RTP timeout");
  REQUIRE(b.size() == 2);
  CHECK(b[1].kind == SipActionKind::bye);
  CHECK(b[1].why == "RTP timeout");
  CHECK(rec->calls.back().first.end_reason == "rtp_timeout");
  sip_event(a_leg, LegEventKind::terminated);
  sip_event(b_leg, LegEventKind::terminated);
  CHECK(rec->ended.size() == 1);
  sched.run();
  CHECK(relay->released == std::vector<rtp::RelayId>{a_leg});  // ports back when the call ends
}

TEST_CASE_FIXTURE(MediaFixture, "packets keep an answered call alive and show in the call table") {
  start();
  sip_event(b_leg, LegEventKind::answered, 200, "OK", answer);
  for (int i = 0; i < 8; ++i) {
    relay->packets += 50;
    sched.advance_time(std::chrono::seconds(1));
    sched.run();
  }
  CHECK(a_actions().size() == 1);  // only the 200: no BYE
  CHECK(rec->calls.back().first.legs[0].media_packets == 400);
}

namespace {

std::uint64_t origin_version(const std::string& sdp) {
  auto o = sdp.find("o=b2bua ");
  REQUIRE(o != std::string::npos);
  std::size_t id_end = sdp.find(' ', o + 8);
  return std::stoull(sdp.substr(id_end + 1));
}

void send_midcall(ActorFixture& f, LegId leg, LegEventKind kind, std::uint64_t txn, int status,
                  std::string sdp) {
  LegEvent ev = make_event(leg, kind, status, status ? "OK" : "");
  ev.txn = txn;
  ev.method = "INVITE";
  ev.sdp = std::move(sdp);
  caf::anon_send(f.rec->owners.at(leg), sip_atom::value, std::move(ev));
  f.sched.run();
}

}  // namespace

TEST_CASE_FIXTURE(MediaFixture, "a re-offer moves the relay's peers and bumps o= only when the SDP changed") {
  start();
  sip_event(b_leg, LegEventKind::answered, 200, "OK", answer);
  sip_event(a_leg, LegEventKind::confirmed);
  const std::uint64_t v_b0 = origin_version(b_actions().at(0).invite.sdp);
  const std::uint64_t v_a0 = origin_version(a_actions().at(0).sdp);
  relay->peers.clear();

  // The caller moves its media to a new address and port and holds (RFC 2543 style).
  std::string moved = offer;
  moved.replace(moved.find("c=IN IP4 10.0.0.1"), 17, "c=IN IP4 10.0.0.9");
  moved.replace(moved.find("m=audio 4000"), 12, "m=audio 4100");
  moved += "a=sendonly\r\n";
  send_midcall(*this, a_leg, LegEventKind::reoffer, 1, 0, moved);
  auto to_b = b_actions().back();
  REQUIRE(to_b.kind == SipActionKind::reoffer);
  CHECK(contains(to_b.sdp, "c=IN IP4 192.0.2.10"));
  CHECK(contains(to_b.sdp, "m=audio 30002 "));  // the same B-side port as before
  CHECK(contains(to_b.sdp, "a=sendonly"));
  CHECK_FALSE(contains(to_b.sdp, "10.0.0.9"));
  CHECK(origin_version(to_b.sdp) == v_b0 + 1);

  std::string held_answer = answer + "a=recvonly\r\n";
  send_midcall(*this, b_leg, LegEventKind::reanswer, 0, 200, held_answer);
  auto to_a = a_actions().back();
  REQUIRE(to_a.kind == SipActionKind::respond_request);
  CHECK(to_a.tag == 1);
  CHECK(contains(to_a.sdp, "a=recvonly"));
  CHECK(contains(to_a.sdp, "m=audio 30000 "));
  CHECK(origin_version(to_a.sdp) == v_a0 + 1);
  REQUIRE(relay->peers.size() == 2);
  CHECK(relay->peers[0].side == rtp::Side::a);
  CHECK(relay->peers[0].addr == "10.0.0.9");
  CHECK(relay->peers[0].port == 4100);
  CHECK(relay->peers[1].side == rtp::Side::b);
  CHECK(rec->calls.back().first.state == "on_hold");
  CHECK(rec->calls.back().first.legs[0].media_remote == "10.0.0.9:4100");

  // The same offer again (a session refresh): nothing changed, so no version goes up.
  send_midcall(*this, a_leg, LegEventKind::reoffer, 2, 0, moved);
  CHECK(origin_version(b_actions().back().sdp) == v_b0 + 1);
  send_midcall(*this, b_leg, LegEventKind::reanswer, 0, 200, held_answer);
  CHECK(origin_version(a_actions().back().sdp) == v_a0 + 1);
}

TEST_CASE_FIXTURE(MediaFixture, "a re-offer with another number of m= lines gets 488 and the call stays") {
  start();
  sip_event(b_leg, LegEventKind::answered, 200, "OK", answer);
  sip_event(a_leg, LegEventKind::confirmed);
  const auto b_before = b_actions().size();
  send_midcall(*this, a_leg, LegEventKind::reoffer, 3, 0,
               offer + "m=video 5000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n");
  CHECK(b_actions().size() == b_before);
  auto a = a_actions().back();
  CHECK(a.kind == SipActionKind::respond_request);
  CHECK(a.status == 488);
  CHECK(a.warning == "b2bua.sdp.unparseable");
  send_midcall(*this, a_leg, LegEventKind::reoffer, 4, 0, offer);  // a good one still goes through
  CHECK(b_actions().back().kind == SipActionKind::reoffer);
}
