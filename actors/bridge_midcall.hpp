// The bridge's mid-call part: offers and answers across the bridge (re-INVITE, UPDATE, re-INVITE
// without SDP), hold and resume, INFO (DTMF). Called from the bridge actor's handlers; the state
// is the bridge's, the offer/answer rules are OfferAnswer's.
#pragma once

#include <cstdint>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/bridge.hpp"
#include "actors/offer_answer.hpp"
#include "actors/protocol/leg_event.hpp"

namespace b2bua::midcall {

using Self = caf::stateful_actor<BridgeState>;

/// A re-INVITE or UPDATE arrived from `from`'s peer.
void on_reoffer(Self* self, Party from, const LegEvent& ev);
/// The final response to the offer b2buad sent to `from`, or `from`'s ACK carrying an answer.
void on_reanswer(Self* self, Party from, const LegEvent& ev);
/// An INFO from `from`'s peer (status 0), or the final response to the INFO b2buad sent it.
void on_info(Self* self, Party from, const LegEvent& ev);
/// The 491 retry timer fired.
void on_retry(Self* self, std::uint64_t generation);
/// A published leg event of `p` (hold, resume, dtmf): the call table and the log.
void note(Self* self, Party p, const LegEvent& ev);

}  // namespace b2bua::midcall
