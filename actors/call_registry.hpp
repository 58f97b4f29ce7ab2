// The call registry actor: the live call table behind the REST API and shutdown.
//
// In: (update_atom, CallInfo) from bridges - stores the snapshot and remembers the sending bridge.
// In: (ended_atom, CallId) from bridges - forgets the call.
// In: (list_atom) -> std::vector<CallInfo>, every live call ordered by id.
// In: (get_atom, CallId) -> CallInfo; a CallInfo with id 0 when there is no such call.
// In: (drain_atom, std::string why) -> sends (hangup_atom, why) to every live bridge; replies with
//   the number of calls told.
// In: (hangup_atom, CallId, std::string why) -> bool: whether the call existed and was told.
#pragma once

#include <unordered_map>

#include <caf/actor.hpp>
#include <caf/behavior.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/protocol/call_types.hpp"

namespace b2bua {

struct CallRegistryState {
  struct Entry {
    CallInfo info;
    caf::actor bridge;
  };
  std::unordered_map<CallId, Entry> calls;
  static inline const char* name = "b2bua.registry";
};

caf::behavior call_registry_actor(caf::stateful_actor<CallRegistryState>* self);

}  // namespace b2bua
