// The call registry actor: a map of live calls, fed by bridges, read by the REST API.
#include "actors/call_registry.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/event_based_actor.hpp>

#include "actors/protocol/atoms.hpp"

namespace b2bua {

namespace {

using Self = caf::stateful_actor<CallRegistryState>;

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// "b2bua.route.no_match" -> "route_no_match"; "" -> "refused".
std::string reason_of(const std::string& warning) {
  std::string r = warning.rfind("b2bua.", 0) == 0 ? warning.substr(6) : warning;
  std::replace(r.begin(), r.end(), '.', '_');
  return r.empty() ? std::string{"refused"} : r;
}

void on_update(Self* self, const RegistryHooks& hooks, CallInfo& info) {
  auto [it, inserted] = self->state.calls.try_emplace(info.id);
  auto& e = it->second;
  if (!e.bridge) {
    e.bridge = caf::actor_cast<caf::actor>(self->current_sender());
  }
  const bool answered_now = info.answer_ms > 0 && e.info.answer_ms == 0;
  e.info = std::move(info);
  if (inserted && hooks.started) {
    hooks.started(e.info);
  }
  if (answered_now && hooks.answered) {
    hooks.answered(e.info);
  }
}

void on_ended(Self* self, const RegistryHooks& hooks, const CallInfo& info) {
  auto& st = self->state;
  if (st.calls.erase(info.id) == 0 && hooks.started) {
    hooks.started(info);  // refused by the router: it never had a live entry
  }
  if (hooks.ended) {
    hooks.ended(info);
  }
  if (auto w = st.waiting.find(info.id); w != st.waiting.end()) {
    for (auto& rp : w->second) {
      rp.deliver(info);
    }
    st.waiting.erase(w);
  }
}

}  // namespace

CallInfo refused_call_info(const IncomingCall& call, int status, const std::string& warning,
                           const std::string& route) {
  CallInfo info;
  info.id = call.leg;
  info.from = call.from_uri;
  info.to = call.to_uri;
  info.route = route;
  info.state = "ended";
  info.start_ms = call.received_ms;
  info.end_ms = now_ms();
  info.final_status = status;
  info.end_reason = reason_of(warning);
  info.media_mode = "bypass";
  LegInfo a;
  a.id = call.leg;
  a.role = "a";
  a.state = "ended";
  a.call_id = call.call_id;
  a.remote = call.source;
  a.last_status = status;
  a.created_ms = call.received_ms;
  a.ended_ms = info.end_ms;
  info.legs.push_back(std::move(a));
  return info;
}

constexpr std::size_t max_subscribers = 64;

caf::behavior call_registry_actor(Self* self, RegistryHooks hooks) {
  self->set_down_handler([self](const caf::down_msg& dm) {
    auto& subs = self->state.subscribers;
    subs.erase(std::remove_if(subs.begin(), subs.end(),
                              [&](const caf::actor& a) { return a.address() == dm.source; }),
               subs.end());
  });
  return {
      [self, hooks](event_atom, const CallEvent& ev) {
        if (hooks.event) {
          hooks.event(ev);
        }
        for (auto& sub : self->state.subscribers) {
          self->send(sub, event_atom::value, ev);
        }
      },
      [self](subscribe_atom, const caf::actor& who) {
        auto& subs = self->state.subscribers;
        if (!who || std::find(subs.begin(), subs.end(), who) != subs.end()) {
          return static_cast<bool>(who);
        }
        if (subs.size() >= max_subscribers) {
          return false;
        }
        self->monitor(who);
        subs.push_back(who);
        return true;
      },
      [self](unsub_atom, const caf::actor& who) {
        auto& subs = self->state.subscribers;
        auto i = std::find(subs.begin(), subs.end(), who);
        if (i != subs.end()) {
          self->demonitor(who);
          subs.erase(i);
        }
      },
      [self, hooks](update_atom, CallInfo& info) { on_update(self, hooks, info); },
      [self, hooks](ended_atom, const CallInfo& info) { on_ended(self, hooks, info); },
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
      [self](drop_atom, CallId id, const std::string& why) {
        auto rp = self->make_response_promise();
        auto i = self->state.calls.find(id);
        if (i == self->state.calls.end() || !i->second.bridge) {
          rp.deliver(CallInfo{});
          return rp;
        }
        self->send(i->second.bridge, hangup_atom::value, why, 480);
        self->state.waiting[id].push_back(rp);
        return rp;
      },
  };
}

}  // namespace b2bua
