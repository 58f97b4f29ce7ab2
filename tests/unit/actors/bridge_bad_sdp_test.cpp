// Damaged or unanchorable SDP never strands a call (issue 17): every offer or answer b2buad cannot
// relay ends in a final response with a Warning id, and the relay's ports go back to the pool. A
// fault inside the bridge itself ends the call with 500 b2bua.internal.
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "tests/unit/actors/media_fixture.hpp"
#include "tests/unit/rtp/engine_fixture.hpp"

using namespace b2bua;
using namespace b2bua::test;

namespace {

// The fixture's offer with its session c= replaced and, if given, a media-level c= added.
std::string offer_with(const std::string& session_c, const std::string& media_c = {}) {
  std::string sdp = offer;
  sdp.replace(sdp.find("c=IN IP4 10.0.0.1"), 17, session_c);
  if (!media_c.empty()) {
    const auto m = sdp.find("a=rtpmap:0");
    sdp.insert(m, media_c + "\r\n");
  }
  return sdp;
}

// The bridge with a real relay Engine on loopback, so that the port pool can be counted.
struct EngineBridge : MediaFixture {
  rtp::test::EngineFixture relay_engine{4};

  EngineBridge() { engine = relay_engine.engine; }

  // The engine returns ports from its worker thread: wait for them, bounded.
  bool pool_full() {
    const auto& e = *relay_engine.engine;
    for (int i = 0; i < 2000 && e.ports_available() != e.ports_capacity(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return e.ports_available() == e.ports_capacity() && e.relay_count() == 0;
  }
};

struct BadOffer {
  const char* name;
  std::string sdp;
  int status;
  const char* warning;
};

const BadOffer bad_offers[] = {
    {"a host name", offer_with("c=IN IP4 example.com"), 488, "b2bua.sdp.unsupported_address"},
    {"an IPv6 media c= in an IPv4 offer", offer_with("c=IN IP4 10.0.0.1", "c=IN IP6 ::1"), 488,
     "b2bua.sdp.address_family"},
    {"an IPv6 offer to an IPv4 relay", offer_with("c=IN IP6 2001:db8::1"), 488,
     "b2bua.sdp.address_family"},
    {"an IPv6 literal called IP4", offer_with("c=IN IP4 ::1"), 488, "b2bua.sdp.unparseable"},
    {"an IPv4 literal called IP6", offer_with("c=IN IP6 10.0.0.1"), 488, "b2bua.sdp.unparseable"},
    {"an address out of range", offer_with("c=IN IP4 300.0.0.1"), 488, "b2bua.sdp.unparseable"},
    {"garbage", offer_with("c=IN IP4 #$%garbage!!"), 488, "b2bua.sdp.unparseable"},
    {"an unknown address type", offer_with("c=IN XYZ 10.0.0.1"), 488, "b2bua.sdp.unparseable"},
};

}  // namespace

TEST_CASE_FIXTURE(EngineBridge, "an offer whose address cannot be relayed gets 488 and frees the ports") {
  for (const auto& bad : bad_offers) {
    CAPTURE(bad.name);
    sip->actions.clear();
    rec->ended.clear();
    start(bad.sdp);
    CHECK(b_actions().empty());
    auto a = a_actions();
    REQUIRE(a.size() == 1);
    CHECK(a[0].kind == SipActionKind::respond);
    CHECK(a[0].status == bad.status);
    CHECK(a[0].warning == bad.warning);
    sip_event(a_leg, LegEventKind::terminated);
    CHECK(rec->ended.size() == 1);
    CHECK(rec->calls.back().first.end_reason == "failed");
    CHECK(pool_full());
  }
}

TEST_CASE_FIXTURE(EngineBridge, "a callee answer with a host name ends the call: 488 to the caller, BYE to the callee") {
  start();
  std::string named = answer;
  named.replace(named.find("c=IN IP4 10.0.0.2"), 17, "c=IN IP4 callee.example.com");
  sip_event(b_leg, LegEventKind::answered, 200, "OK", named);
  auto a = a_actions();
  REQUIRE(a.size() == 1);
  CHECK(a[0].status == 488);
  CHECK(a[0].warning == "b2bua.sdp.unsupported_address");
  REQUIRE(b_actions().size() == 2);
  CHECK(b_actions()[1].kind == SipActionKind::bye);
  sip_event(a_leg, LegEventKind::terminated);
  sip_event(b_leg, LegEventKind::terminated);
  CHECK(rec->ended.size() == 1);
  CHECK(pool_full());
}

TEST_CASE_FIXTURE(EngineBridge, "a re-offer with garbage c= gets 488 with its Warning and the call goes on") {
  start();
  sip_event(b_leg, LegEventKind::answered, 200, "OK", answer);
  sip_event(a_leg, LegEventKind::confirmed);
  LegEvent ev = make_event(a_leg, LegEventKind::reoffer);
  ev.txn = 3;
  ev.method = "INVITE";
  ev.sdp = offer_with("c=IN IP6 ::1");
  caf::anon_send(rec->owners.at(a_leg), sip_atom::value, ev);
  sched.run();
  auto last = a_actions().back();
  CHECK(last.kind == SipActionKind::respond_request);
  CHECK(last.status == 488);
  CHECK(last.warning == "b2bua.sdp.address_family");
  CHECK(b_actions().back().kind == SipActionKind::invite);  // nothing went to the callee
  ev.sdp = offer;
  ev.txn = 4;
  caf::anon_send(rec->owners.at(a_leg), sip_atom::value, ev);
  sched.run();
  CHECK(b_actions().back().kind == SipActionKind::reoffer);  // the call is still up
  CHECK(rec->calls.back().first.state == "answered");
}

TEST_CASE_FIXTURE(MediaFixture, "a relay that refuses a peer ends the call with 500 b2bua.internal") {
  relay->refuse_peers = true;
  start();
  auto a = a_actions();
  REQUIRE(a.size() == 1);
  CHECK(a[0].status == 500);
  CHECK(a[0].warning == "b2bua.internal");
  for (const auto& b : b_actions()) {
    CHECK(b.kind != SipActionKind::reoffer);  // at most the INVITE and its CANCEL
  }
  sip_event(a_leg, LegEventKind::terminated);
  if (!b_actions().empty()) {
    sip_event(b_leg, LegEventKind::terminated);
  }
  CHECK(rec->ended.size() == 1);
  CHECK(rec->calls.back().first.end_reason == "internal_error");
  sched.run();
  CHECK(relay->released == std::vector<rtp::RelayId>{a_leg});
}

TEST_CASE_FIXTURE(MediaFixture, "an exception in the bridge's relay path answers 500 and releases the relay") {
  sip->throw_on_call_id = true;  // thrown where the B leg's INVITE is made, after the allocation
  start();
  CHECK(b_actions().empty());
  auto a = a_actions();
  REQUIRE(a.size() == 1);
  CHECK(a[0].status == 500);
  CHECK(a[0].reason == "Server Internal Error");
  CHECK(a[0].warning == "b2bua.internal");
  sip_event(a_leg, LegEventKind::terminated);
  CHECK(rec->ended.size() == 1);
  sched.run();
  CHECK(relay->released == std::vector<rtp::RelayId>{a_leg});
}

TEST_CASE_FIXTURE(MediaFixture, "an exception while a bypass call starts answers 500") {
  sip->throw_on_call_id = true;
  start(offer, {}, "bypass");
  auto a = a_actions();
  REQUIRE(a.size() == 1);
  CHECK(a[0].status == 500);
  CHECK(a[0].warning == "b2bua.internal");
  sip_event(a_leg, LegEventKind::terminated);
  CHECK(rec->ended.size() == 1);
}

TEST_CASE_FIXTURE(MediaFixture, "an exception on a callee event answers 500 and releases the relay") {
  // Two attempts: the first backend's 503 makes the bridge start the second B leg, which throws.
  IncomingCall call;
  call.leg = a_leg;
  call.call_id = "caller-call-id";
  call.from_uri = "sip:alice@10.0.0.1";
  call.to_uri = "sip:bob@b2b";
  call.to_user = "bob";
  call.sdp = offer;
  BridgeConfig cfg;
  cfg.media_mode = "relay";
  cfg.relay_engine = relay;
  cfg.media_address = "192.0.2.10";
  auto attempts = one_attempt("sip:bob@127.0.0.1:5080");
  attempts.push_back(one_attempt("sip:bob@127.0.0.1:5090").front());
  bridge = sys.spawn(bridge_actor, call, RouteDecision::route_to("sip:127.0.0.1:5080", "r"),
                     attempts, cfg, transport, registry, std::shared_ptr<SipPort>(sip));
  sched.run();
  REQUIRE(b_actions().size() == 1);
  sip->throw_on_call_id = true;
  sip_event(b_leg, LegEventKind::failed, 503, "Service Unavailable");
  auto a = a_actions();
  REQUIRE(a.size() == 1);
  CHECK(a[0].status == 500);
  CHECK(a[0].warning == "b2bua.internal");
  sip_event(b_leg, LegEventKind::terminated);
  sip_event(a_leg, LegEventKind::terminated);
  CHECK(rec->ended.size() == 1);
  sched.run();
  CHECK(relay->released == std::vector<rtp::RelayId>{a_leg});
}
