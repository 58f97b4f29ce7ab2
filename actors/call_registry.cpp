// The call registry actor: a map of live calls, fed by bridges, read by the REST API.
#include "actors/call_registry.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/event_based_actor.hpp>

#include "actors/protocol/atoms.hpp"

namespace b2bua {

caf::behavior call_registry_actor(caf::stateful_actor<CallRegistryState>* self) {
  return {
      [self](update_atom, CallInfo& info) {
        auto& e = self->state.calls[info.id];
        if (!e.bridge) {
          e.bridge = caf::actor_cast<caf::actor>(self->current_sender());
        }
        e.info = std::move(info);
      },
      [self](ended_atom, CallId id) { self->state.calls.erase(id); },
      [self](list_atom) {
        std::vector<CallInfo> out;
        out.reserve(self->state.calls.size());
        for (auto& [id, e] : self->state.calls) {
          out.push_back(e.info);
        }
        std::sort(out.begin(), out.end(),
                  [](const CallInfo& x, const CallInfo& y) { return x.id < y.id; });
        return out;
      },
      [self](get_atom, CallId id) {
        auto i = self->state.calls.find(id);
        return i == self->state.calls.end() ? CallInfo{} : i->second.info;
      },
      [self](drain_atom, const std::string& why) {
        std::uint64_t n = 0;
        for (auto& [id, e] : self->state.calls) {
          if (e.bridge) {
            self->send(e.bridge, hangup_atom::value, why);
            ++n;
          }
        }
        return n;
      },
      [self](hangup_atom, CallId id, const std::string& why) {
        auto i = self->state.calls.find(id);
        if (i == self->state.calls.end() || !i->second.bridge) {
          return false;
        }
        self->send(i->second.bridge, hangup_atom::value, why);
        return true;
      },
  };
}

}  // namespace b2bua
