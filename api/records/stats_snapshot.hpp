// StatsSnapshot: the server's counters at one moment, as Engine::stats() reads them; GET
// /v1/stats (api/rest) and the metrics text (metrics.hpp) both render it.
#pragma once

#include <cstdint>
#include <map>
#include <string>

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

}  // namespace b2bua::api
