// DTMF across the bridge (issue 6): how each leg wants to receive digits (config `dtmf`), and the
// per-call rules that convert a digit between SIP INFO and RFC 4733 telephone-events. Pure logic,
// owned by the bridge; the SDP edits are MediaSession's, the packets the relay's.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "actors/dtmf_info.hpp"
#include "actors/offer_answer.hpp"
#include "rtp/relay_types.hpp"

namespace b2bua {

/// How a leg wants to receive digits.
enum class DtmfMode : std::uint8_t {
  automatic,  ///< "auto": as the leg's SDP and its answers to INFO show
  rfc4733,    ///< telephone-events in its RTP (added to the offers it gets when missing)
  info,       ///< SIP INFO application/dtmf-relay (telephone-event stripped from its offers)
};

const char* to_string(DtmfMode m);
/// "auto", "rfc4733" or "info"; nullopt for anything else.
std::optional<DtmfMode> parse_dtmf_mode(std::string_view text);

/// The config's `dtmf` section.
struct DtmfModes {
  DtmfMode caller = DtmfMode::automatic;
  DtmfMode callee = DtmfMode::automatic;

  DtmfMode of(Party p) const { return p == Party::a ? caller : callee; }
};

/// telephone-event as one leg negotiated it on the call's DTMF stream (its first audio line).
struct LegTelephoneEvent {
  int receives = -1;  ///< the payload type in the SDP the leg sent (what it receives); -1 none
  std::uint32_t receive_clock = 8000;
  int sends = -1;  ///< the payload type in the SDP b2buad sent it (what it sends); -1 none
  std::uint32_t send_clock = 8000;
};

/// The per-call DTMF rules. An INFO digit towards a leg in rfc4733 mode (or auto, when that leg
/// has telephone-event and refused an INFO with 405/415/501/489 once in this call) is answered 200
/// and sent as RFC 4733 events; an RFC 4733 digit towards a leg in info mode (or auto, when that
/// leg's SDP lacks telephone-event and the sender's has it) is sent as INFO and its packets are
/// held back. Without the media relay nothing converts.
class DtmfPolicy {
 public:
  /// Pending INFO digits remembered per leg for the auto fallback; older ones are forgotten.
  static constexpr std::size_t max_pending = 16;

  DtmfPolicy() = default;
  DtmfPolicy(DtmfModes modes, bool relay) : modes_(modes), relay_(relay) {}

  /// The media negotiation settled: what each leg has on `stream`.
  void set_media(std::uint32_t stream, LegTelephoneEvent a, LegTelephoneEvent b);
  bool has_media() const { return media_; }

  /// An INFO digit from the other leg is to be sent to `to` as RFC 4733 events.
  bool inject_towards(Party to) const;
  /// An RFC 4733 digit from the other leg is to be sent to `to` as SIP INFO (packets held back).
  bool info_towards(Party to) const;

  /// The relay pick-up of the events `from` sends (off when it has no telephone-event).
  rtp::DtmfPickup pickup(Party from) const;
  /// The relay request that sends `d` towards `to` (an INFO without a duration: 160 ms).
  rtp::DigitRequest digit_request(Party to, const DtmfDigit& d) const;

  /// A DTMF INFO went on to `to` as request `txn` (for the auto fallback).
  void forwarded(Party to, std::uint64_t txn, DtmfDigit d);
  /// `to` answered INFO `txn` with `status`. The digit to send as RFC 4733 instead when the
  /// refusal switches that leg to events (auto mode); nullopt when the response goes back as is.
  std::optional<DtmfDigit> on_info_response(Party to, std::uint64_t txn, int status);

 private:
  static int index(Party p) { return p == Party::a ? 0 : 1; }

  DtmfModes modes_;
  bool relay_ = false;
  bool media_ = false;
  std::uint32_t stream_ = 0;
  LegTelephoneEvent te_[2];
  bool refuses_info_[2] = {false, false};
  std::map<std::uint64_t, DtmfDigit> pending_[2];
};

}  // namespace b2bua
