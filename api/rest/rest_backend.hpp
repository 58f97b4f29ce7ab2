// RestBackend: what the REST server needs from the engine, as plain callbacks (no CAF, no sofia).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "actors/protocol/call_types.hpp"
#include "api/records/cdr_store.hpp"
#include "api/records/stats_snapshot.hpp"

namespace b2bua::api {

struct RestBackend {
  /// Thread-safe, never blocks.
  std::function<StatsSnapshot()> stats;
  /// Asks for the live calls. `done` runs later on any thread; nullopt means the engine did not
  /// answer in time.
  std::function<void(std::function<void(std::optional<std::vector<CallInfo>>)> done)> list_calls;
  /// Asks for one call. `done(nullopt, true)` = timeout; `done(nullopt, false)` = no such call.
  std::function<void(CallId, std::function<void(std::optional<CallInfo>, bool timed_out)> done)>
      get_call;
  /// Hangs a call up and answers once both legs are gone, with the call's final snapshot.
  /// `done(nullopt, true)` = not gone in time; `done(nullopt, false)` = no such call.
  std::function<void(CallId, std::function<void(std::optional<CallInfo>, bool timed_out)> done)>
      hangup_call;
  /// False while starting or draining.
  std::function<bool()> ready;
  /// True once the watchdog declared the SIP thread stalled (/health and /ready answer 503).
  /// Unset: never. Thread-safe, never blocks.
  std::function<bool()> sip_stalled;
  /// One page of call records, or an error text. Runs on the API thread (a short SQLite read).
  /// Unset when CDRs are off.
  std::function<std::variant<CdrPage, std::string>(const CdrQuery&)> cdrs;
  /// One call record by id; nullopt with `error` empty when there is none. API thread.
  std::function<std::optional<CdrRecord>(std::int64_t id, std::string* error)> cdr;
  /// The Prometheus text exposition of every metric. Never blocks.
  std::function<std::string()> metrics;
  /// {"backends": [...]} (schemas/backends.schema.json). Unset: {"backends": []}. Never blocks.
  std::function<nlohmann::json()> backends;
  /// Disables (true) or enables a backend's breaker by URI. False: no such backend. Never blocks.
  std::function<bool(const std::string& uri, bool disabled)> set_backend_disabled;
  /// The `routes` array in force. Unset when routing is not rule-based (an embedded policy).
  std::function<nlohmann::json()> routes;
  /// Validates and swaps in a new `routes` array: "" on success, else one line naming the rule
  /// and the field ("routes[2].match.from: must be a string"). Never blocks.
  std::function<std::string(const nlohmann::json&)> replace_routes;
};

}  // namespace b2bua::api
