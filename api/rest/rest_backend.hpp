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

namespace b2bua::api {

/// Counters of the whole server, read without blocking.
struct StatsSnapshot {
  std::uint64_t active_calls = 0;     ///< A legs alive in the SIP layer
  std::uint64_t total_calls = 0;      ///< INVITEs that started a call (A legs created)
  std::uint64_t answered_calls = 0;   ///< calls whose caller got a 2xx
  std::uint64_t failed_calls = 0;     ///< calls whose caller got a final >= 300, except after CANCEL
  std::uint64_t cancelled_calls = 0;  ///< calls the caller cancelled before the answer
  double uptime_s = 0;
  bool draining = false;
  std::map<int, std::uint64_t> final_responses;  ///< final status sent to callers -> count
  struct Media {
    std::uint64_t packets = 0;          ///< RTP/RTCP packets received by the relay
    std::uint64_t bytes = 0;
    std::uint64_t forwarded = 0;
    std::uint64_t dropped = 0;
    std::uint64_t relays_active = 0;    ///< calls whose media is anchored now
    std::uint64_t ports_available = 0;  ///< RTP port pairs left in the pool
    std::uint64_t digits_picked = 0;    ///< RFC 4733 digits seen to their end
    std::uint64_t digits_injected = 0;  ///< digits sent as RFC 4733 events (INFO converted)
    std::uint64_t digits_dropped = 0;   ///< digits over a relay's queue limit
  } media;
  // Outcomes of finished calls (api/records/call_stats.hpp).
  std::map<std::string, std::uint64_t> failed_by_reason;  ///< end reason -> unanswered calls
  struct Setup {
    std::uint64_t count = 0;  ///< answered calls measured
    double avg_ms = 0;        ///< INVITE received to 2xx sent, over all of them
    double p50_ms = 0;        ///< percentiles over the last 1024 answered calls
    double p90_ms = 0;
    double p99_ms = 0;
  } setup;
  double calls_per_second = 0;  ///< calls started in the last 60 s, per second
};

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
