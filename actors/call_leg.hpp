// The call-leg actor: one per SIP leg. It turns the bridge's LegEvents into SIP actions on its own
// side and reports what happens on that side back to the bridge.
//
// Start: links to the transport (stops with it), (attach_atom, id, self, role == a) to it; a B leg then sends its INVITE.
// In from the transport: (sip_atom, LegEvent) - forwarded to the bridge as (leg_atom, LegEvent);
//   `terminated` makes the actor quit (nothing more can happen on the leg).
// In from the bridge: (leg_atom, LegEvent) - a request to act on this side:
//   A leg: ringing -> 18x, early_media -> 183 with SDP, answered -> 200 with SDP, failed -> final
//          error (with Warning / Retry-After), bye -> BYE (or an error response before the answer).
//   B leg: cancelled -> CANCEL (BYE once answered), bye -> BYE (CANCEL before the answer).
//   Both, mid-call: reoffer -> re-INVITE/UPDATE (once answered; before that, an UPDATE in the
//          early dialog, once a 18x went out or came in), reanswer -> the response to
//          in-dialog request `txn` (or, method ACK, the ACK with the answer), info -> INFO (status
//          0) or the response to INFO `txn`.
// No replies, no timers: the bridge owns the call's timing.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include <caf/actor.hpp>
#include <caf/behavior.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/protocol/leg_event.hpp"
#include "actors/protocol/sip_port.hpp"

namespace b2bua {

enum class LegRole : std::uint8_t { a, b };

/// What a leg knows of its own SIP side. Pure logic, testable without messaging.
struct CallLegState {
  LegId id = 0;
  LegRole role = LegRole::a;
  bool answered = false;  ///< A: we sent 2xx; B: we received 2xx
  bool final = false;     ///< a final response went out (A) or came in (B)
  bool ended = false;     ///< BYE sent or received, or terminated
  bool cancel_sent = false;  ///< B: CANCEL sent (a 2xx may still cross it and need a BYE)
  bool early = false;        ///< an early dialog exists: a 18x went out (A) or came in (B)
  int last_provisional = 0;         ///< status of the last 18x seen
  std::string last_provisional_sdp; ///< its SDP

  /// Notes an event from the SIP side. False for an event the bridge must not see: a provisional
  /// response identical to the previous one (a UAS repeats 180 every minute, RFC 3261 13.3.1.1),
  /// which would otherwise restart the bridge's no-answer timer forever.
  bool on_sip(const LegEvent& ev);
  /// The SIP action that carries out a bridge request, if any is due in the current state.
  std::optional<SipAction> on_bridge(const LegEvent& cmd);
  /// Mid-call requests (reoffer, reanswer, info), in any state but ended; nullopt for others.
  std::optional<SipAction> on_bridge_midcall(const LegEvent& cmd) const;

  static inline const char* name = "b2bua.call_leg";
};

/// Spawned by the bridge. `invite` is used by B legs only.
caf::behavior call_leg_actor(caf::stateful_actor<CallLegState>* self, LegRole role, LegId id,
                             caf::actor bridge, caf::actor transport, std::shared_ptr<SipPort> sip,
                             OutboundInvite invite);

}  // namespace b2bua
