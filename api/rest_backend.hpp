// RestBackend: what the REST server needs from the engine, as plain callbacks (no CAF, no sofia).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "actors/protocol/call_types.hpp"

namespace b2bua::api {

/// Counters of the whole server, read without locks.
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
  } media;
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
  /// False while starting or draining.
  std::function<bool()> ready;
  /// The backends and their breakers (`schemas/backends.schema.json`). Thread-safe, never blocks.
  std::function<nlohmann::json()> backends;
};

}  // namespace b2bua::api
