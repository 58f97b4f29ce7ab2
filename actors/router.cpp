// The router actor: policy in, bridge (or an immediate answer) out.
#include "actors/router.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "actors/call_registry.hpp"
#include "actors/protocol/atoms.hpp"
#include "actors/protocol/refusal.hpp"

namespace b2bua {

namespace {

using Self = caf::stateful_actor<RouterState>;

void answer(SipPort& sip, LegId leg, int status, std::string reason, std::string warning) {
  SipAction a;
  a.leg = leg;
  a.kind = SipActionKind::respond;
  a.status = status;
  a.reason = std::move(reason);
  a.warning = std::move(warning);
  sip.execute(std::move(a));
}

// "host:port" of a SIP URI, port 5060 when absent; "" when it has no host.
std::string host_port(const std::string& uri) {
  std::string s = strip_uri_params(uri);
  auto colon = s.find(':');
  if (colon == std::string::npos) {
    return {};
  }
  s = s.substr(colon + 1);
  if (auto at = s.rfind('@'); at != std::string::npos) {
    s = s.substr(at + 1);
  }
  if (s.empty()) {
    return {};
  }
  if (s.front() == '[') {
    return s.find("]:") == std::string::npos ? s + ":5060" : s;
  }
  return s.find(':') == std::string::npos ? s + ":5060" : s;
}

// A call the router answers itself still gets its record (CDR, statistics) via the registry.
void refused(Self* self, const caf::actor& registry, const IncomingCall& call, int status,
             const std::string& warning, const std::string& route = {}) {
  if (registry) {
    self->send(registry, ended_atom::value, refused_call_info(call, status, warning, route));
  }
}

// Refuses a call the router holds: the caller's response and the call's record, from the table
// (Retry-After, where the refusal has one, is limits.retry_after_s).
void refuse(Self* self, const RouterConfig& cfg, SipPort& sip, const caf::actor& registry,
            const IncomingCall& call, Refusal r, const std::string& route = {}) {
  SipAction a;
  a.leg = call.leg;
  a.kind = SipActionKind::respond;
  apply_refusal(a, r, {.retry_after = cfg.retry_after_s});
  refused(self, registry, call, a.status, a.warning, route);
  sip.execute(std::move(a));
}

}  // namespace

bool targets_self(const std::string& target, const std::vector<std::string>& own) {
  std::string hp = host_port(target);
  if (hp.empty()) {
    return false;
  }
  for (const auto& o : own) {
    if (hp == o) {
      return true;
    }
  }
  return false;
}

bool has_room(const std::vector<Attempt>& attempts) {
  for (const auto& at : attempts) {
    const auto& st = at.backend.status;
    if (!st) {
      return true;
    }
    const auto mode = st->current();
    if (mode == BreakerMode::open || mode == BreakerMode::disabled) {
      continue;
    }
    const std::uint32_t limit = st->max_calls.load();
    if (limit == 0 || st->active_calls.load() < limit) {
      return true;
    }
  }
  return false;
}

bool reserve_room(std::vector<Attempt>& attempts) {
  for (std::size_t i = 0; i < attempts.size(); ++i) {
    const auto& st = attempts[i].backend.status;
    if (st) {
      const auto mode = st->current();
      if (mode == BreakerMode::open || mode == BreakerMode::disabled || !st->try_acquire()) {
        continue;
      }
    }
    std::rotate(attempts.begin(), attempts.begin() + static_cast<std::ptrdiff_t>(i),
                attempts.begin() + static_cast<std::ptrdiff_t>(i) + 1);
    attempts.front().reserved = st != nullptr;
    return true;
  }
  return false;
}

namespace {

// The backends a routed call may go to, in order; sets `looped` when a target was b2buad itself.
std::vector<Attempt> resolve(const RouteDecision& d, const IncomingCall& call,
                             const RouterConfig& cfg, BackendDirectory* backends, bool& looped,
                             bool& unknown_group) {
  std::vector<BackendRef> refs;
  if (!d.group.empty()) {
    auto g = backends ? backends->group(d.group) : nullptr;
    if (!g) {
      unknown_group = true;
      return {};
    }
    refs = pick_order(*g, call);
  } else {
    std::vector<std::string> uris = d.targets.empty() ? std::vector<std::string>{d.target}
                                                      : d.targets;
    // Pass-through goes wherever each caller says: no breaker per Request-URI.
    const bool track = backends && d.route_name != "pass-through";
    for (auto& uri : uris) {
      if (track) {
        refs.push_back(backends->literal(uri));
      } else {
        BackendRef r;
        r.uri = std::move(uri);
        refs.push_back(std::move(r));
      }
    }
  }
  std::vector<Attempt> out;
  for (auto& ref : refs) {
    std::string target = apply_target(ref.uri, call.ruri_user);
    if (targets_self(target, cfg.own_addresses)) {
      looped = true;
      continue;
    }
    out.push_back(Attempt{std::move(target), std::move(ref)});
  }
  return out;
}

void start_bridge(Self* self, const RouterConfig& cfg, IncomingCall call, RouteDecision d,
                  std::vector<Attempt> attempts, const caf::actor& transport,
                  const caf::actor& registry, const std::shared_ptr<SipPort>& sip) {
  auto bridge = self->spawn(bridge_actor, std::move(call), std::move(d), std::move(attempts),
                            cfg.bridge, transport, registry, sip);
  self->monitor(bridge);
}

// Serves queued calls while a backend has room: highest priority first, then arrival order.
void serve_queue(Self* self, const RouterConfig& cfg, const caf::actor& transport,
                 const caf::actor& registry, const std::shared_ptr<SipPort>& sip) {
  auto& q = self->state.queue;
  for (;;) {
    auto best = q.end();
    for (auto i = q.begin(); i != q.end(); ++i) {
      if (!has_room(i->attempts)) {
        continue;
      }
      if (best == q.end() || i->decision.queue_priority > best->decision.queue_priority ||
          (i->decision.queue_priority == best->decision.queue_priority && i->seq < best->seq)) {
        best = i;
      }
    }
    if (best == q.end() || !reserve_room(best->attempts)) {
      return;
    }
    QueuedCall qc = std::move(*best);
    q.erase(best);
    spdlog::debug("call={} leaves the queue", qc.call.leg);
    start_bridge(self, cfg, std::move(qc.call), std::move(qc.decision), std::move(qc.attempts),
                 transport, registry, sip);
  }
}

void enqueue(Self* self, const RouterConfig& cfg, SipPort& sip, IncomingCall call, RouteDecision d,
             std::vector<Attempt> attempts, const caf::actor& registry) {
  auto& st = self->state;
  const LegId leg = call.leg;
  if (st.queue.size() >= cfg.queue_max) {
    refuse(self, cfg, sip, registry, call, Refusal::queue_full, d.route_name);
    return;
  }
  spdlog::info("call={} queued (priority {}, {} waiting)", leg, d.queue_priority, st.queue.size());
  answer(sip, leg, 182, "Queued", "");
  self->delayed_send(self, std::chrono::milliseconds(d.queue_timeout_ms), queued_atom::value, leg);
  st.queue.push_back(QueuedCall{std::move(call), std::move(d), std::move(attempts), ++st.queue_seq});
  if (!st.queue_ticking) {
    st.queue_ticking = true;
    self->delayed_send(self, std::chrono::milliseconds(500), queued_atom::value);
  }
}

// The call of a caller who left while waiting for a decision or in the queue, now dropped.
std::optional<IncomingCall> drop_waiting(Self* self, LegId leg) {
  auto& st = self->state;
  std::optional<IncomingCall> found;
  if (auto p = st.pending.find(leg); p != st.pending.end()) {
    found = std::move(p->second);
    st.pending.erase(p);
  }
  for (auto i = st.queue.begin(); i != st.queue.end(); ++i) {
    if (i->call.leg == leg) {
      found = std::move(i->call);
      st.queue.erase(i);
      break;
    }
  }
  return found;
}

void on_decision(Self* self, const RouterConfig& cfg, IncomingCall call, RouteDecision d,
                 const caf::actor& transport, const caf::actor& registry,
                 const std::shared_ptr<SipPort>& sip, BackendDirectory* backends) {
  const LegId leg = call.leg;
  using Kind = RouteDecision::Kind;
  if (d.kind == Kind::reject) {
    spdlog::debug("call={} rejected: {} {}", leg, d.status, d.warning);
    answer(*sip, leg, d.status, d.reason, d.warning);
    refused(self, registry, call, d.status, d.warning, d.route_name);
    return;
  }
  if (d.kind == Kind::redirect) {
    SipAction a;
    a.leg = leg;
    a.kind = SipActionKind::redirect;
    a.status = d.status >= 300 && d.status < 400 ? d.status : 302;
    a.reason = d.reason.empty() ? "Moved Temporarily" : d.reason;
    a.contact = d.contact;
    refused(self, registry, call, a.status, "b2bua.route.redirected", d.route_name);
    sip->execute(std::move(a));
    return;
  }
  bool looped = false;
  bool unknown_group = false;
  auto attempts = resolve(d, call, cfg, backends, looped, unknown_group);
  if (unknown_group) {
    spdlog::error("call={} route {} names unknown backend group {}", leg, d.route_name, d.group);
    refuse(self, cfg, *sip, registry, call, Refusal::route_unknown_group, d.route_name);
    return;
  }
  if (attempts.empty()) {
    if (looped) {
      spdlog::warn("call={} route target is b2buad itself: refused as a loop", leg);
      refuse(self, cfg, *sip, registry, call, Refusal::sip_loop, d.route_name);
    } else {
      refuse(self, cfg, *sip, registry, call, Refusal::backend_all_down, d.route_name);
    }
    return;
  }
  if (d.kind == Kind::queue && (!self->state.queue.empty() || !reserve_room(attempts))) {
    enqueue(self, cfg, *sip, std::move(call), std::move(d), std::move(attempts), registry);
    serve_queue(self, cfg, transport, registry, sip);  // room may be there for an earlier call
    return;
  }
  start_bridge(self, cfg, std::move(call), std::move(d), std::move(attempts), transport, registry,
               sip);
}

// The decision for a call waiting in `pending`; none there: decided too late (the caller already
// got 500) or the caller left.
void decided(Self* self, const RouterConfig& cfg, LegId leg, RouteDecision d,
             const caf::actor& transport, const caf::actor& registry,
             const std::shared_ptr<SipPort>& sip, BackendDirectory* backends) {
  auto i = self->state.pending.find(leg);
  if (i == self->state.pending.end()) {
    return;
  }
  IncomingCall call = std::move(i->second);
  self->state.pending.erase(i);
  if (self->state.draining) {
    refuse(self, cfg, *sip, registry, call, Refusal::draining);
    return;
  }
  on_decision(self, cfg, std::move(call), std::move(d), transport, registry, sip, backends);
}

}  // namespace

std::optional<RouteDecision> SyncAnswer::close() {
  int open = 0;
  if (phase_.compare_exchange_strong(open, 3)) {
    return std::nullopt;  // no answer yet: it will come as a message
  }
  while (phase_.load() != 2) {
    std::this_thread::yield();  // another thread is storing its answer right now
  }
  return std::move(decision_);
}

bool SyncAnswer::take(RouteDecision& d) {
  int open = 0;
  if (!phase_.compare_exchange_strong(open, 1)) {
    return false;  // the policy has returned (or answered twice): send it
  }
  decision_ = std::move(d);
  phase_.store(2);
  return true;
}

caf::behavior router_actor(Self* self, RoutePolicy policy, RouterConfig cfg, caf::actor transport,
                           caf::actor registry, std::shared_ptr<SipPort> sip,
                           std::shared_ptr<BackendDirectory> backends) {
  self->set_down_handler([=](const caf::down_msg&) {
    serve_queue(self, cfg, transport, registry, sip);  // a bridge ended: a backend may have room
  });
  return {
      [=](incoming_atom, IncomingCall& call) {
        LegId leg = call.leg;
        if (self->state.draining) {
          refuse(self, cfg, *sip, registry, call, Refusal::draining);
          return;
        }
        auto [it, inserted] = self->state.pending.emplace(leg, std::move(call));
        if (!inserted) {
          return;
        }
        // An answer given while the policy runs (the config rules always answer so) is taken
        // at once: no trip through this mailbox and no deadline. A later one, from any thread,
        // comes as (route_atom, leg, decision), guarded by route_timeout_ms.
        auto slot = std::make_shared<SyncAnswer>();
        caf::actor me{self};
        RouteReply reply = [me, leg, slot](RouteDecision d) {
          if (!slot->take(d)) {
            caf::anon_send(me, route_atom::value, leg, std::move(d));
          }
        };
        try {
          policy(it->second, std::move(reply));
        } catch (const std::exception& e) {
          spdlog::error("call={} routing policy failed: {}", leg, e.what());
          IncomingCall failed = std::move(it->second);
          self->state.pending.erase(leg);
          refuse(self, cfg, *sip, registry, failed, Refusal::route_error);
          return;
        }
        if (auto d = slot->close()) {
          decided(self, cfg, leg, std::move(*d), transport, registry, sip, backends.get());
          return;
        }
        self->delayed_send(self, std::chrono::milliseconds(cfg.route_timeout_ms),
                           timeout_atom::value, leg);
      },
      [=](route_atom, LegId leg, RouteDecision& d) {
        decided(self, cfg, leg, std::move(d), transport, registry, sip, backends.get());
      },
      [=](timeout_atom, LegId leg) {
        auto i = self->state.pending.find(leg);
        if (i != self->state.pending.end()) {
          spdlog::warn("call={} no routing decision within {} ms", leg, cfg.route_timeout_ms);
          refuse(self, cfg, *sip, registry, i->second, Refusal::route_timeout);
          self->state.pending.erase(i);
        }
      },
      [=](queued_atom, LegId leg) {
        auto& q = self->state.queue;
        for (auto i = q.begin(); i != q.end(); ++i) {
          if (i->call.leg == leg) {
            spdlog::info("call={} waited its queue timeout: 503", leg);
            refuse(self, cfg, *sip, registry, i->call, Refusal::queue_timeout,
                   i->decision.route_name);
            q.erase(i);
            return;
          }
        }
      },
      [=](queued_atom) {
        serve_queue(self, cfg, transport, registry, sip);
        self->state.queue_ticking = !self->state.queue.empty();
        if (self->state.queue_ticking) {
          self->delayed_send(self, std::chrono::milliseconds(500), queued_atom::value);
        }
      },
      [=](sip_atom, const LegEvent& ev) {
        if (auto call = drop_waiting(self, ev.leg)) {
          spdlog::debug("call={} caller left while waiting ({})", ev.leg, to_string(ev.kind));
          const bool cancelled = ev.kind == LegEventKind::cancelled || ev.kind == LegEventKind::bye;
          refused(self, registry, *call, cancelled ? 487 : 0,
                  cancelled ? "cancelled" : "caller_gone");
        }
      },
      [=](drain_atom) {
        auto& st = self->state;
        st.draining = true;
        for (auto& [leg, call] : st.pending) {
          refuse(self, cfg, *sip, registry, call, Refusal::draining);
        }
        st.pending.clear();
        for (auto& qc : st.queue) {
          refuse(self, cfg, *sip, registry, qc.call, Refusal::draining, qc.decision.route_name);
        }
        st.queue.clear();
      },
  };
}

}  // namespace b2bua
