// The router actor: receives every new call from the transport, asks the routing policy where it
// goes, and spawns a bridge for it - or answers the caller at once when the call cannot be routed.
//
// In: (incoming_atom, IncomingCall) from the transport. The policy is called at once; a reply it
//   gives before returning (the config rules always do) is acted on at once (SyncAnswer), one
//   given later, from any thread, comes as (route_atom, LegId, RouteDecision). No reply within
//   `route_timeout_ms` -> 500 to the caller (`b2bua.route.timeout`).
// In: (timeout_atom, LegId) the routing deadline of one call (armed only while it waits for a reply).
// In: (drain_atom) from now on every new call is refused with 503 (`b2bua.draining`).
// In: (sip_atom, LegEvent) from the transport for a caller leg no bridge owns yet: a CANCEL (or
//   the leg's end) while the call waits for its decision or in the queue drops it there.
// In: (queued_atom, LegId) the queue timeout of one call -> 503 `b2bua.queue.timeout`;
//   (queued_atom) a periodic look at the queue while it is not empty (backends recover by time).
// Decisions: reject -> the status; redirect -> 3xx with Contact; route -> the group's backends in
//   load-balancing order (or the target list) become the bridge's attempts, minus targets that are
//   b2buad itself (482 when nothing else is left); queue -> like route when a backend has room,
//   else 182 Queued and the call waits, highest priority first, until a bridge ends and a
//   backend has room (max_calls, breaker not open), or its queue timeout (503).
// Out: responses to callers through SipPort; spawns bridge actors (not linked: a bridge's failure
//   ends only its call) and monitors them to serve the queue.
// Out: (ended_atom, CallInfo) to the registry for every call it answers itself with a final status
//   or redirects (refused_call_info), and for a caller who leaves while waiting, so that those
//   calls get their CDR too.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/behavior.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/backend_group.hpp"
#include "actors/bridge.hpp"
#include "actors/route_table.hpp"

namespace b2bua {

struct RouterConfig {
  std::uint32_t route_timeout_ms = 2000;
  std::uint32_t retry_after_s = 5;
  BridgeConfig bridge;
  /// b2buad's own SIP addresses as "host:port"; a target equal to one of them is a loop (482).
  std::vector<std::string> own_addresses;
  std::size_t queue_max = 1000;  ///< queued calls beyond this get 503 `b2bua.queue.full`
};

/// A call waiting in the queue for a backend with room.
struct QueuedCall {
  IncomingCall call;
  RouteDecision decision;
  std::vector<Attempt> attempts;
  std::uint64_t seq = 0;  ///< arrival order within one priority
};

struct RouterState {
  std::unordered_map<LegId, IncomingCall> pending;  ///< calls waiting for a routing decision
  std::vector<QueuedCall> queue;
  std::uint64_t queue_seq = 0;
  bool queue_ticking = false;
  bool draining = false;
  static inline const char* name = "b2bua.router";
};

/// The routing answer of one call while its policy runs: `take` (from the policy's reply, any
/// thread) keeps it if the policy has not returned yet; `close` (the router, once the policy
/// returned) gives it back, or nothing, after which `take` refuses and the reply is sent instead.
class SyncAnswer {
public:
  bool take(RouteDecision& d);
  std::optional<RouteDecision> close();

private:
  std::atomic<int> phase_{0};  ///< 0 open, 1 being stored, 2 stored, 3 closed
  RouteDecision decision_;
};

/// True when `target` (a SIP URI) points at one of `own` ("host:port"; port 5060 when absent).
bool targets_self(const std::string& target, const std::vector<std::string>& own);

/// True when at least one attempt's backend could take a call now (no breaker or not open or
/// disabled, and below its max_calls).
bool has_room(const std::vector<Attempt>& attempts);

/// Takes a call slot of the first attempt's backend that has room and moves that attempt to the
/// front, marked reserved (so that calls leaving the queue cannot overbook). False: none has room.
bool reserve_room(std::vector<Attempt>& attempts);

/// `backends` may be null (no groups, no breakers).
caf::behavior router_actor(caf::stateful_actor<RouterState>* self, RoutePolicy policy,
                           RouterConfig cfg, caf::actor transport, caf::actor registry,
                           std::shared_ptr<SipPort> sip,
                           std::shared_ptr<BackendDirectory> backends);

}  // namespace b2bua
