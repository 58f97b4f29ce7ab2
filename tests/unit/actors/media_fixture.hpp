// The bridge in relay mode on CAF's testing scheduler: a RelayControl that records what the relay
// actor asks of it, and a fixture that starts one call with a configurable BridgeConfig.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "actors/bridge.hpp"
#include "rtp/relay_actor.hpp"
#include "tests/unit/actors/actor_fixture.hpp"

namespace b2bua::test {

inline constexpr LegId a_leg = 7;
inline constexpr LegId b_leg = 100;

inline const std::string offer =
    "v=0\r\no=alice 42 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
    "m=audio 4000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n";
inline const std::string answer =
    "v=0\r\no=bob 7 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\n"
    "m=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

struct FakeRelay : rtp::RelayControl {
  bool exhausted = false;
  bool refuse_peers = false;  ///< set_peer answers bad_address (a relay b2buad disagrees with)
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
    if (refuse_peers) {
      return rtp::RelayErrc::bad_address;
    }
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
  std::vector<rtp::DtmfPickup> pickups;
  DigitCallback on_digit;
  std::vector<rtp::DigitRequest> digits;
  rtp::RelayErrc set_dtmf(rtp::RelayId, const rtp::DtmfPickup& p, DigitCallback cb) override {
    pickups.push_back(p);
    on_digit = std::move(cb);
    return rtp::RelayErrc::ok;
  }
  rtp::RelayErrc send_digit(rtp::RelayId, const rtp::DigitRequest& d) override {
    digits.push_back(d);
    return rtp::RelayErrc::ok;
  }
};

struct MediaFixture : ActorFixture {
  std::shared_ptr<FakeRelay> relay = std::make_shared<FakeRelay>();
  caf::actor bridge;
  DtmfModes dtmf;  ///< the bridge's `dtmf` config
  std::shared_ptr<rtp::RelayControl> engine;  ///< the relay control used instead of `relay`

  void start(std::string sdp = offer, std::string route_media = {},
             std::string media_mode = "relay") {
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
    cfg.media_mode = std::move(media_mode);
    cfg.relay_engine = engine ? engine : std::shared_ptr<rtp::RelayControl>(relay);
    cfg.media_address = "192.0.2.10";
    cfg.rtp_timeout_s = 5;
    cfg.dtmf = dtmf;
    auto route = RouteDecision::route_to("sip:127.0.0.1:5080", "r");
    route.media = std::move(route_media);
    bridge = sys.spawn(bridge_actor, call, route, one_attempt("sip:bob@127.0.0.1:5080"), cfg,
                       transport, registry, std::shared_ptr<SipPort>(sip));
    sched.run();
  }
  std::vector<SipAction> a_actions() const { return sip->on(a_leg); }
  std::vector<SipAction> b_actions() const { return sip->on(b_leg); }
};

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace b2bua::test
