// The bridge's DTMF part (issue 6): digits converted between SIP INFO and RFC 4733 as DtmfPolicy
// decides, the relay's pick-up kept in step with the SDP. Called from the bridge's handlers.
#pragma once

#include <cstdint>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/bridge.hpp"
#include "actors/dtmf_info.hpp"
#include "actors/offer_answer.hpp"
#include "actors/protocol/leg_event.hpp"
#include "rtp/relay_types.hpp"

namespace b2bua::bridge_dtmf {

using Self = caf::stateful_actor<BridgeState>;

/// An offer/answer completed in relay mode: tells the policy and the relay what each leg has.
void on_media(Self* self);
/// A DTMF INFO (request `txn`) from `from`'s peer. True when it was answered 200 here and sent on
/// as RFC 4733 events; false when it is to be relayed as INFO (remembered for the fallback).
bool on_info_digit(Self* self, Party from, std::uint64_t txn, const DtmfDigit& d);
/// A final response to an INFO b2buad sent to `from`'s peer. True when handled here (a response
/// to b2buad's own INFO, or a refusal that switches that leg to RFC 4733 events).
bool on_info_response(Self* self, Party from, const LegEvent& ev);
/// A digit the relay picked up from one side's RFC 4733 events.
void on_rtp_digit(Self* self, const rtp::PickedDigit& d);

}  // namespace b2bua::bridge_dtmf
