// MediaSession: the SDP side of one relayed call - what the caller offered, b2buad's ports, and the
// rewriting of each SDP that crosses the bridge (telephone-event added or stripped on the first
// audio line as the legs' DTMF modes ask). Pure logic, owned by the bridge actor.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "actors/dtmf_policy.hpp"
#include "actors/protocol/call_types.hpp"
#include "actors/protocol/refusal.hpp"
#include "rtp/relay_types.hpp"
#include "rtp/sdp_rewriter.hpp"

namespace b2bua {

class MediaSession {
public:
  /// `address`: what b2buad puts in c= and o= (an IPv4 or IPv6 literal). `session_id`: b2buad's
  /// own o= session id (decimal), so that the peers' ids never cross the bridge.
  MediaSession(std::string address, std::string session_id);

  /// Reads the caller's offer. False (and a one-line `error`; refusal() says why) when it cannot
  /// be relayed.
  bool read_offer(const std::string& sdp, std::string* error);
  /// Why the last SDP refused by read_offer, answer_for_caller, reoffer or reanswer was (all 488):
  /// sdp_unsupported_address when a live stream's c= names a host (b2buad does not resolve names
  /// on the media path), sdp_address_family when it is an address of the other IP family than
  /// b2buad's media address, sdp_unparseable for anything else (unreadable SDP, garbage
  /// addresses, other m= lines than the call's).
  Refusal refusal() const { return refusal_; }
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

  /// How each leg wants digits. An offer to a leg in rfc4733 mode gets telephone-event when it
  /// lacks it (a free dynamic payload type) and the answer back loses it again when the offerer
  /// never had it; an offer to a leg in info mode loses it and the answer back gets the
  /// offerer's again. Set before the first offer.
  void set_dtmf_modes(DtmfModes modes) { modes_ = modes; }
  /// The m= line DTMF travels on: the caller's first live RTP/AVP(F) audio line (not SRTP);
  /// nullopt when none or before the answer.
  std::optional<std::uint32_t> dtmf_stream() const;
  /// telephone-event on that line as `side` negotiated it (what it declared, what it was sent).
  LegTelephoneEvent telephone_event(rtp::Side side) const;

private:
  /// parse_sdp, then every live stream's address checked against ours (sets refusal_).
  std::optional<rtp::SdpInfo> read(const std::string& sdp, std::string* error);
  static std::vector<rtp::PeerUpdate> peers_of(const rtp::SdpInfo& info, rtp::Side side);
  std::vector<rtp::LocalStream> local_for(rtp::Side side, const rtp::SdpInfo& info) const;
  rtp::TelephoneEventEdit offer_edit(rtp::Side to, const rtp::SdpInfo& offer) const;
  rtp::TelephoneEventEdit answer_edit(const rtp::SdpInfo& offer,
                                      const rtp::TelephoneEventEdit& done) const;
  /// Notes what telephone-event `info` carries to `to` after `edit`.
  void note_sent(rtp::Side to, const rtp::SdpInfo& info, const rtp::TelephoneEventEdit& edit);
  struct Sent {
    int payload_type = -1;
    std::uint32_t clock_rate = 8000;
  };
  Sent sent_after(const rtp::SdpInfo& info, const rtp::TelephoneEventEdit& edit) const;
  struct ReOffer {
    rtp::Side from;
    rtp::SdpInfo info;
    rtp::TelephoneEventEdit edit;  ///< what the offer to the other side got
  };

  std::string address_;
  bool ipv6_ = false;  ///< address_ is IPv6: the relay's sockets and peers are
  Refusal refusal_ = Refusal::sdp_unparseable;
  rtp::SdpInfo offer_;                   ///< the caller's side (its first offer, then updates)
  std::optional<rtp::SdpInfo> answer_;   ///< the callee's side
  std::optional<ReOffer> reoffer_;       ///< the open mid-call offer
  rtp::RelayPorts ports_;
  rtp::SdpOriginState to_callee_;
  rtp::SdpOriginState to_caller_;
  DtmfModes modes_;
  rtp::TelephoneEventEdit first_edit_;  ///< what the caller's offer got on its way to the callee
  Sent sent_[2];                        ///< telephone-event in what b2buad last sent each side
};

}  // namespace b2bua
