// The router actor: policy in, bridge (or an immediate answer) out.
#include "actors/router.hpp"

#include <chrono>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "actors/protocol/atoms.hpp"

namespace b2bua {

namespace {

using Self = caf::stateful_actor<RouterState>;

void answer(SipPort& sip, LegId leg, int status, std::string reason, std::string warning,
            std::uint32_t retry_after = 0) {
  SipAction a;
  a.leg = leg;
  a.kind = SipActionKind::respond;
  a.status = status;
  a.reason = std::move(reason);
  a.warning = std::move(warning);
  a.retry_after = retry_after;
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

caf::behavior router_actor(Self* self, RoutePolicy policy, RouterConfig cfg, caf::actor transport,
                           caf::actor registry, std::shared_ptr<SipPort> sip) {
  return {
      [=](incoming_atom, IncomingCall& call) {
        LegId leg = call.leg;
        if (self->state.draining) {
          answer(*sip, leg, 503, "Service Unavailable", "b2bua.draining", cfg.retry_after_s);
          return;
        }
        auto [it, inserted] = self->state.pending.emplace(leg, std::move(call));
        if (!inserted) {
          return;
        }
        caf::actor me{self};
        RouteReply reply = [me, leg](RouteDecision d) {
          caf::anon_send(me, route_atom::value, leg, std::move(d));
        };
        self->delayed_send(self, std::chrono::milliseconds(cfg.route_timeout_ms),
                           timeout_atom::value, leg);
        try {
          policy(it->second, std::move(reply));
        } catch (const std::exception& e) {
          spdlog::error("call={} routing policy failed: {}", leg, e.what());
          self->state.pending.erase(leg);
          answer(*sip, leg, 500, "Server Internal Error", "b2bua.route.error");
        }
      },
      [=](route_atom, LegId leg, RouteDecision& d) {
        auto i = self->state.pending.find(leg);
        if (i == self->state.pending.end()) {
          return;  // decided too late: the caller already got 500
        }
        IncomingCall call = std::move(i->second);
        self->state.pending.erase(i);
        if (self->state.draining) {
          answer(*sip, leg, 503, "Service Unavailable", "b2bua.draining", cfg.retry_after_s);
          return;
        }
        if (d.kind == RouteDecision::Kind::reject) {
          spdlog::debug("call={} rejected: {} {}", leg, d.status, d.warning);
          answer(*sip, leg, d.status, d.reason, d.warning);
          return;
        }
        std::string target = apply_target(d.target, call.ruri_user);
        if (targets_self(target, cfg.own_addresses)) {
          spdlog::warn("call={} route target {} is b2buad itself: refused as a loop", leg, target);
          answer(*sip, leg, 482, "Loop Detected", "b2bua.sip.loop");
          return;
        }
        self->spawn(bridge_actor, std::move(call), std::move(d), std::move(target), cfg.bridge,
                    transport, registry, sip);
      },
      [=](timeout_atom, LegId leg) {
        if (self->state.pending.erase(leg) > 0) {
          spdlog::warn("call={} no routing decision within {} ms", leg, cfg.route_timeout_ms);
          answer(*sip, leg, 500, "Server Internal Error", "b2bua.route.timeout");
        }
      },
      [=](drain_atom) {
        self->state.draining = true;
        for (auto& [leg, call] : self->state.pending) {
          answer(*sip, leg, 503, "Service Unavailable", "b2bua.draining", cfg.retry_after_s);
        }
        self->state.pending.clear();
      },
  };
}

}  // namespace b2bua
