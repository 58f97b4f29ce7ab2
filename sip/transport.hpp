// The SIP transport actor: the one door between the sofia thread and the call actors.
//
// In, once at start-up: (route_atom, actor router) - where new calls go.
// In, from the sofia thread (anon_send):
//   (incoming_atom, IncomingCall)  a new INVITE: remembered, then handed to the router.
//   (leg_atom, LegEvent)           something happened on a leg: forwarded to the leg's actor as
//                                  (sip_atom, LegEvent); buffered (bounded) until that actor attaches.
// In, from leg actors:
//   (attach_atom, LegId, actor, bool existing)  the actor owns the leg from now on. `existing` is
//                                  true for A legs: if that leg is already gone, the actor is sent
//                                  `terminated` at once.
// Out: (incoming_atom, IncomingCall) to the router; (sip_atom, LegEvent) to leg actors, and to the
//   router for a caller that cancels or leaves before any actor owns its leg.
// When it stops (an anonymous exit at shutdown, or any other way), every attached actor still up
// gets an exit (user_shutdown), so bridges end and nothing waits forever. Monitors every attached
// actor: when one dies while its leg is alive, the leg is released in SIP (BYE, CANCEL or 500) so
// nothing is left half open. (Legs do not link to it: a link per leg would make every leg's exit
// scan the transport's list of links.)
#pragma once

#include <memory>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/behavior.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/protocol/leg_event.hpp"
#include "actors/protocol/sip_port.hpp"

namespace b2bua::sip {

struct TransportState {
  struct Entry {
    caf::actor owner;
    std::vector<LegEvent> pending;
    bool released = false;  // the owner died and SIP was told to release the leg
  };
  std::unordered_map<LegId, Entry> legs;
  std::unordered_map<caf::actor_addr, std::vector<LegId>> owned;  // actor -> its legs
  caf::actor router;
  static inline const char* name = "b2bua.transport";

  TransportState() = default;
  TransportState(const TransportState&) = delete;
  TransportState& operator=(const TransportState&) = delete;
  /// Runs when the transport exits: tells every attached actor to exit too.
  ~TransportState();
};


/// The transport actor's behaviour. New calls are refused (503) until it is told its router.
caf::behavior transport_actor(caf::stateful_actor<TransportState>* self,
                              std::shared_ptr<SipPort> sip);

}  // namespace b2bua::sip
