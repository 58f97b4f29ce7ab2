// The bridge's media path (relay mode) on CAF's testing scheduler, with a recording relay control.
#include <doctest/doctest.h>

#include <set>

#include "actors/bridge.hpp"
#include "rtp/relay_actor.hpp"
#include "tests/unit/actors/actor_fixture.hpp"

using namespace b2bua;
using b2bua::test::ActorFixture;
using b2bua::test::one_attempt;

namespace {

constexpr LegId a_leg = 7;
constexpr LegId b_leg = 100;

const std::string offer =
    "v=0\r\no=alice 42 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
    "m=audio 4000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n";
const std::string answer =
    "v=0\r\no=bob 7 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\n"
    "m=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

struct FakeRelay : rtp::RelayControl {
  bool exhausted = false;
  std::vector<rtp::PeerUpdate> peers;
  std::vector<rtp::RelayId> released;
  std::uint64_t packets = 0;
  rtp::RelayErrc allocate(rtp::RelayId id, std::uint32_t n, rtp::RelayPorts& out) override {
    if (exhausted) {
      return rtp::RelayErrc::pool_exhausted;
    }
    out.relay = id;
    out.ip = "192.0.2.10";
    for (std::uint32_t i = 0; i < n; ++i) {
      out.streams.push_back(rtp::StreamPorts{30000, 30001, 30002, 30003});
    }
    return rtp::RelayErrc::ok;
  }
  rtp::RelayErrc set_peer(rtp::RelayId, const rtp::PeerUpdate& p) override {
    peers.push_back(p);
    return rtp::RelayErrc::ok;
  }
  void release(rtp::RelayId id) override { released.push_back(id); }
  void stats(rtp::RelayId id, StatsCallback cb) override {
    rtp::RelayStats s;
    s.relay = id;
    s.found = true;
    s.a.packets = packets;
    cb(s);
  }
  rtp::RelayErrc set_dtmf(rtp::RelayId, const rtp::DtmfPickup&, DigitCallback) override {
    return rtp::RelayErrc::ok;
  }
  rtp::RelayErrc send_digit(rtp::RelayId, const rtp::DigitRequest&) override {
    return rtp::RelayErrc::ok;
  }
};

struct MediaFixture : ActorFixture {
  std::shared_ptr<FakeRelay> relay = std::make_shared<FakeRelay>();
  caf::actor bridge;

  void start(std::string sdp = offer, std::string route_media = {}) {
    IncomingCall call;
    call.leg = a_leg;
    call.call_id = "caller-call-id";
    call.from_uri = "sip:alice@10.0.0.1";
    call.from_user = "alice";
    call.to_uri = "sip:bob@b2b";
    call.to_user = "bob";
    call.ruri_user = "bob";
    call.sdp = std::move(sdp);
    BridgeConfig cfg;
    cfg.media_mode = "relay";
    cfg.relay_engine = relay;
    cfg.media_address = "192.0.2.10";
    cfg.rtp_timeout_s = 5;
    auto route = RouteDecision::route_to("sip:127.0.0.1:5080", "r");
    route.media = std::move(route_media);
    bridge = sys.spawn(bridge_actor, call, route, one_attempt("sip:bob@127.0.0.1:5080"), cfg,
                       transport, registry, std::shared_ptr<SipPort>(sip));
    sched.run();
  }
  std::vector<SipAction> a_actions() const { return sip->on(a_leg); }
  std::vector<SipAction> b_actions() const { return sip->on(b_leg); }
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

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
