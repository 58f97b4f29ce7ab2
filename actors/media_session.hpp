// MediaSession: the SDP side of one relayed call - what the caller offered, b2buad's ports, and the
// rewriting of each SDP that crosses the bridge. Pure logic, owned by the bridge actor.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "actors/protocol/call_types.hpp"
#include "rtp/relay_types.hpp"
#include "rtp/sdp_rewriter.hpp"

namespace b2bua {

class MediaSession {
public:
  /// `address`: what b2buad puts in c= and o= (an IPv4 or IPv6 literal). `session_id`: b2buad's
  /// own o= session id (decimal), so that the peers' ids never cross the bridge.
  MediaSession(std::string address, std::string session_id);

  /// Reads the caller's offer. False (and a one-line `error`) when it cannot be relayed.
  bool read_offer(const std::string& sdp, std::string* error);
  /// Number of m= lines, i.e. of relay streams to allocate.
  std::uint32_t stream_count() const { return static_cast<std::uint32_t>(offer_.streams.size()); }

  /// The ports the relay allocated; returns the peer updates for the caller's side.
  std::vector<rtp::PeerUpdate> set_ports(const rtp::RelayPorts& ports);
  /// The caller's offer rewritten for the callee (b2buad's B-side ports).
  std::optional<std::string> offer_for_callee(const std::string& sdp, std::string* error);
  /// An SDP from the callee (183 or 200) rewritten for the caller (A-side ports); `peers` gets
  /// the callee-side peer updates. nullopt when it cannot be parsed or has other m= lines.
  std::optional<std::string> answer_for_caller(const std::string& sdp,
                                               std::vector<rtp::PeerUpdate>* peers,
                                               std::string* error);

  /// Mid-call: an offer from side `from` (re-INVITE, UPDATE, or the offer in the 200 of an
  /// offerless re-INVITE) rewritten for the other side, with that side's ports and o= (whose
  /// version goes up only when the body changed). nullopt when it cannot be read or its m= lines
  /// are not the call's (b2buad cannot allocate ports mid-call).
  std::optional<std::string> reoffer(rtp::Side from, const std::string& sdp, std::string* error);
  /// The answer to the open re-offer, from the other side, rewritten for the offerer; `peers`
  /// gets the new addresses of both sides (the relay follows them). nullopt when unreadable.
  std::optional<std::string> reanswer(const std::string& sdp, std::vector<rtp::PeerUpdate>* peers,
                                      std::string* error);
  /// Forgets an open re-offer that failed: the previous session stays.
  void drop_reoffer() { reoffer_.reset(); }

  /// Fills media_local / media_remote of the two legs.
  void describe(LegInfo& a, LegInfo& b) const;

private:
  static std::vector<rtp::PeerUpdate> peers_of(const rtp::SdpInfo& info, rtp::Side side);
  std::vector<rtp::LocalStream> local_for(rtp::Side side, const rtp::SdpInfo& info) const;
  struct ReOffer {
    rtp::Side from;
    rtp::SdpInfo info;
  };

  std::string address_;
  rtp::SdpInfo offer_;                   ///< the caller's side (its first offer, then updates)
  std::optional<rtp::SdpInfo> answer_;   ///< the callee's side
  std::optional<ReOffer> reoffer_;       ///< the open mid-call offer
  rtp::RelayPorts ports_;
  rtp::SdpOriginState to_callee_;
  rtp::SdpOriginState to_caller_;
};

}  // namespace b2bua
