// The bridge actor: one per call. It owns the call's two legs, relays LegEvents between them and
// decides how the call ends.
//
// Start: spawns and monitors the A-leg actor (the caller's leg, already in SIP) and the B-leg actor
//   (which sends the INVITE to the first attempt's target); publishes the call to the registry.
// Attempts (failover): before each B leg the bridge asks the backend's breaker (admit_atom,
//   `admission_timeout_ms`; no answer counts as yes) and takes one of its `max_calls` slots; a
//   refused or full backend is skipped. A B leg that fails with 408 or 5xx, or, while another
//   attempt is left, gives no response at all within `failover_timeout_ms` (then abandoned; the
//   last attempt waits for the transaction timeout), is followed by the next attempt while the
//   caller hears nothing but 100 Trying. Each attempt's result goes to its breaker
//   (outcome_atom). No attempt left: with a single B leg tried, its failure as it is (e.g. 408
//   `b2bua.target.timeout`); after several, the last error a backend itself sent with Warning
//   `b2bua.backend.all_failed` (503 when none sent one); none tried (breakers open, backends at
//   max_calls): 503 `b2bua.backend.all_down` with Retry-After.
// In: (leg_atom, LegEvent) from its legs:
//   B ringing/early_media/answered/failed -> the same to A (18x, 183, 200, the callee's error);
//   A cancelled -> B cancelled (CANCEL); either side's bye -> bye to the other (BYE);
//   a 200 from B after the caller gave up (CANCEL crossing 200, no-answer timeout) -> BYE to B;
//   a leg terminated while the other is still up -> the other is ended too.
// Timer: no message for `no_answer_ms` (a receive timeout, so counted from the last provisional
//   response, or from the failover timer's message when that came later: at most
//   failover_timeout_ms late) before the answer -> CANCEL to B and 480 to A. Once the caller has
//   its final response the bridge's behaviour drops the timer (nothing re-arms it per message).
// Media (relay mode): spawns a relay actor, requests its ports before the B leg starts (503
//   `b2bua.media.ports_exhausted` when the pool is empty; 488 `b2bua.sdp.unparseable` for an
//   offer it cannot read), rewrites every SDP that crosses, tells the relay each peer's address
//   and the answer. (counters_atom, RelayStats) refreshes the call table; (rtp_timeout_atom, id)
//   ends the call with BYE both ways, Reason "RTP timeout".
// In: (hangup_atom, std::string why) from the registry (shutdown): BYE both answered
//   legs, or CANCEL B and 503 to A before the answer. End reason "hangup".
// In: (hangup_atom, std::string why, int status) from the registry (operator, DELETE /v1/calls):
//   the same, with `status` (480) to a caller still waiting. End reason "operator_hangup".
// Out: (update_atom, CallInfo) and, once, (ended_atom, CallInfo) - the final snapshot - to the
//   registry.
// Mid-call (bridge_midcall.cpp): (leg_atom, LegEvent reoffer) from either leg -> the same offer
//   to the other leg, or 491 (Warning b2bua.offer.glare) while another offer is open
//   (OfferAnswer); its reanswer -> the answer (or error) to the offerer; a 491 from the far
//   side -> (retry_atom, generation) after RFC 3261 14.1's delay, then the offer again. Before
//   the answer only an UPDATE, and only once the callee answered in a reliable 18x (else 500 with
//   Retry-After, b2bua.offer.early_pending); the SIP layer checks each early dialog. After such
//   an early answer, SDP in the callee's later 18x or 200 is not relayed (no new answer without
//   an offer). An offer that holds or resumes the call marks its leg on_hold and the call
//   `on_hold` (published).
//   (leg_atom, LegEvent info) -> INFO to the other leg, its response back; DTMF digits are noted
//   in the leg's `dtmf`. Relay mode rewrites every SDP (MediaSession) and moves the relay's peers.
// DTMF (relay mode, bridge_dtmf.cpp): after each answer the relay gets each side's RFC 4733
//   pick-up (dtmf_atom, DtmfPickup); (digit_atom, PickedDigit) from the relay is a `dtmf` event of
//   the sending leg and, towards a leg that takes INFO, an INFO (its response is dropped); an INFO
//   digit towards a leg that takes RFC 4733 is answered 200 and sent as (digit_atom,
//   DigitRequest) to the relay, also after that leg refused a relayed INFO (auto mode).
// DOWN of a leg actor counts as that leg ending (the transport releases its SIP side).
// Quits when both legs have terminated.
#pragma once

#include <cstdint>
#include <memory>

#include <caf/actor.hpp>
#include <caf/behavior.hpp>
#include <caf/stateful_actor.hpp>

#include <optional>

#include "actors/backend_group.hpp"
#include "actors/dtmf_policy.hpp"
#include "actors/media_session.hpp"
#include "actors/offer_answer.hpp"
#include "actors/protocol/call_types.hpp"
#include "actors/protocol/leg_event.hpp"
#include "actors/protocol/sip_port.hpp"
#include "rtp/relay_control.hpp"

namespace b2bua {

struct BridgeConfig {
  std::uint32_t no_answer_ms = 60000;
  std::uint32_t retry_after_s = 5;
  /// "relay" anchors the media through `relay_engine`; "bypass" passes SDP untouched. A route's
  /// own media mode overrides it.
  std::string media_mode = "bypass";
  std::shared_ptr<rtp::RelayControl> relay_engine;
  std::string media_address = "127.0.0.1";  ///< c= and o= address in the SDP b2buad sends
  std::uint32_t rtp_timeout_s = 60;         ///< 0 = off
  std::uint32_t failover_timeout_ms = 2000;  ///< no response at all from a target: try the next
  std::uint32_t admission_timeout_ms = 50;   ///< a breaker slower than this counts as closed
  DtmfModes dtmf;  ///< how each leg wants digits (converted in relay mode only)
};

/// One place a call may go: the final Request-URI and the backend (with its breaker) behind it.
struct Attempt {
  std::string target;
  BackendRef backend;
  bool reserved = false;  ///< the router already took this backend's call slot (queue)
};

struct BridgeState {
  BridgeConfig cfg;
  CallInfo info;
  caf::actor a;
  caf::actor b;
  LegId a_id = 0;
  LegId b_id = 0;
  caf::actor registry;
  bool a_final = false;    ///< the caller got a final response (or cancelled)
  bool no_answer_armed = true;  ///< the no-answer timer is in the behaviour (until a_final)
  bool answered = false;   ///< the callee answered and the caller got the 200
  bool ending = false;     ///< BYE/CANCEL is under way
  bool a_done = false;     ///< the A leg terminated
  bool b_done = false;     ///< the B leg terminated (or was never started)
  // Media relay (relay mode only)
  std::optional<MediaSession> media;
  caf::actor relay;
  std::string route_media;     ///< the route's media mode ("" = config default)
  OutboundInvite pending;      ///< the B legs' INVITE (each attempt sends a copy)
  // Failover
  std::vector<Attempt> attempts;
  std::size_t next_attempt = 0;
  std::shared_ptr<BackendStatus> slot;  ///< the current attempt's backend (holds a call slot)
  std::shared_ptr<BackendStatus> reserved;  ///< a slot the router took for the first attempt
  caf::actor breaker;                   ///< the current attempt's breaker (may be null)
  bool heard = false;                   ///< the current B leg got any response
  bool outcome_sent = false;            ///< the current attempt's result went to its breaker
  bool tried = false;                   ///< at least one B leg was started
  std::optional<LegEvent> last_error;   ///< the last failure of an attempt (local ones too)
  std::optional<LegEvent> last_real_error;  ///< the last final error a backend itself sent
  caf::actor transport;
  std::shared_ptr<SipPort> sip;
  // Mid-call (bridge_midcall.cpp)
  OfferAnswer oa;                      ///< the one offer open across the bridge, 491 on glare
  bool a_confirmed = false;            ///< the caller's ACK arrived: the first offer/answer is done
  bool b_early_answer = false;         ///< the callee answered the offer in a reliable 18x
  std::optional<bool> offer_holds;     ///< the open offer holds (true) or resumes (false) the call
  DtmfPolicy dtmf;                     ///< INFO <-> RFC 4733 conversion (bridge_dtmf.cpp)

  static inline const char* name = "b2bua.bridge";
};

/// `call` is the routed call; `attempts` where its B leg may go, in order (at least one).
/// `registry` may be null.
caf::behavior bridge_actor(caf::stateful_actor<BridgeState>* self, IncomingCall call,
                           RouteDecision route, std::vector<Attempt> attempts, BridgeConfig cfg,
                           caf::actor transport, caf::actor registry,
                           std::shared_ptr<SipPort> sip);

}  // namespace b2bua
