// The call registry actor: the live call table behind the REST API and shutdown, and the place
// where every finished call is reported once (CDRs, statistics).
//
// In: (update_atom, CallInfo) from bridges - stores the snapshot and remembers the sending bridge.
//   The first snapshot of a call runs hooks.started; the first with an answer runs hooks.answered.
// In: (ended_atom, CallInfo) from bridges (the final snapshot) and from the router (a call it
//   refused, see refused_call_info) - forgets the call, runs hooks.ended, and answers every
//   drop_atom request waiting for it.
// In: (list_atom) -> std::vector<CallInfo>, every live call ordered by id.
// In: (get_atom, CallId) -> CallInfo; a CallInfo with id 0 when there is no such call.
// In: (drain_atom, std::string why) -> sends (hangup_atom, why) to every live bridge; replies with
//   the number of calls told.
// In: (hangup_atom, CallId, std::string why) -> bool: whether the call existed and was told.
// In: (drop_atom, CallId, std::string why) -> CallInfo: tells the bridge (hangup_atom, why, 480)
//   and answers with the call's final snapshot once it has ended (id 0 at once when there is no
//   such call). The requester sets the timeout; the registry keeps no timer.
// In: (event_atom, CallEvent) from bridges: a dtmf, hold or resume of a live call. Runs hooks.event
//   and sends (event_atom, CallEvent) to every subscriber, in arrival order.
// In: (subscribe_atom, caf::actor) -> bool: the actor gets every CallEvent from now on (monitored:
//   dropped when it exits; subscribing twice is one subscription). At most 64 subscribers (false).
// In: (unsub_atom, caf::actor): stops sending to it.
// Hooks run inside this actor: they must be quick and must not block (a short lock at most).
#pragma once

#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/behavior.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/protocol/call_types.hpp"
#include "actors/protocol/leg_event.hpp"

namespace b2bua {

/// Observers of call lifecycles (CDR writer, statistics). Each may be empty.
struct RegistryHooks {
  std::function<void(const CallInfo&)> started;
  std::function<void(const CallInfo&)> answered;
  std::function<void(const CallInfo&)> ended;
  std::function<void(const CallEvent&)> event;
};

struct CallRegistryState {
  struct Entry {
    CallInfo info;
    caf::actor bridge;
  };
  std::unordered_map<CallId, Entry> calls;
  std::unordered_map<CallId, std::vector<caf::response_promise>> waiting;  ///< drop_atom requests
  std::vector<caf::actor> subscribers;  ///< of CallEvents
  static inline const char* name = "b2bua.registry";
};

/// The record of a call the router answered itself, before any bridge: the A leg only, ended now.
/// `warning` is the Warning id sent (e.g. "b2bua.route.no_match"); the end reason is derived from
/// it ("route_no_match").
CallInfo refused_call_info(const IncomingCall& call, int status, const std::string& warning,
                           const std::string& route = {});

caf::behavior call_registry_actor(caf::stateful_actor<CallRegistryState>* self,
                                  RegistryHooks hooks);

}  // namespace b2bua
