// The router actor: receives every new call from the transport, asks the routing policy where it
// goes, and spawns a bridge for it - or answers the caller at once when the call cannot be routed.
//
// In: (incoming_atom, IncomingCall) from the transport. The policy is called at once; its reply may
//   come later from any thread as (route_atom, LegId, RouteDecision). No reply within
//   `route_timeout_ms` -> 500 to the caller (`b2bua.route.timeout`).
// In: (timeout_atom, LegId) the routing deadline of one call.
// In: (drain_atom) from now on every new call is refused with 503 (`b2bua.draining`).
// Out: responses to callers through SipPort (404 no route, 482 loop to ourselves, 500 policy error,
//   configured rejects); spawns bridge actors (not linked: a bridge's failure ends only its call).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/behavior.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/bridge.hpp"
#include "actors/route_table.hpp"

namespace b2bua {

struct RouterConfig {
  std::uint32_t route_timeout_ms = 2000;
  std::uint32_t retry_after_s = 5;
  BridgeConfig bridge;
  /// b2buad's own SIP addresses as "host:port"; a target equal to one of them is a loop (482).
  std::vector<std::string> own_addresses;
};

struct RouterState {
  std::unordered_map<LegId, IncomingCall> pending;  ///< calls waiting for a routing decision
  bool draining = false;
  static inline const char* name = "b2bua.router";
};

/// True when `target` (a SIP URI) points at one of `own` ("host:port"; port 5060 when absent).
bool targets_self(const std::string& target, const std::vector<std::string>& own);

caf::behavior router_actor(caf::stateful_actor<RouterState>* self, RoutePolicy policy,
                           RouterConfig cfg, caf::actor transport, caf::actor registry,
                           std::shared_ptr<SipPort> sip);

}  // namespace b2bua
