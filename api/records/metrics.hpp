// Metrics: renders every b2bua metric in the Prometheus text format (version 0.0.4) from plain
// snapshots. Names follow b2bua_<part>_<what>_<unit|total>; the list is in README.md.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "api/records/call_stats.hpp"
#include "api/records/stats_snapshot.hpp"

namespace b2bua::api {

/// SIP traffic counted by the SIP thread.
struct SipTraffic {
  std::map<std::string, std::uint64_t> requests;  ///< method -> requests received
  std::map<int, std::uint64_t> responses_received;  ///< status -> responses to our requests
  std::map<std::string, std::uint64_t> auth;  ///< digest auth outcome -> requests (auth on only)
  std::uint64_t deadline_legs = 0;  ///< legs ended by timers.setup_deadline_ms
  std::uint64_t leg_records = 0;    ///< leg records (NUA handles) the SIP thread holds
};

struct CdrCounters {
  bool enabled = false;
  std::uint64_t written = 0;
  std::uint64_t dropped = 0;
  std::uint64_t errors = 0;
  std::uint64_t queued = 0;
};

/// The allocator's own figures (jemalloc's stats.allocated/active/resident), which tell a leak
/// (allocated grows) from memory the allocator keeps after a peak (resident stays up).
struct HeapFigures {
  bool known = false;  ///< false when the process does not run on jemalloc (tests, embedders)
  std::uint64_t allocated = 0;
  std::uint64_t active = 0;
  std::uint64_t resident = 0;
};

struct MetricsInput {
  StatsSnapshot stats;
  CallStatsSnapshot calls;
  SipTraffic sip;
  nlohmann::json backends;  ///< {"backends": [...]} as GET /v1/backends; null or empty = none
  std::uint64_t resident_bytes = 0;
  std::uint64_t virtual_bytes = 0;
  HeapFigures heap;
  CdrCounters cdr;
};

/// The text exposition. Any thread.
std::string render_metrics(const MetricsInput& in);

/// Resident and virtual size of this process in bytes (/proc/self/statm); zeros when unreadable.
std::pair<std::uint64_t, std::uint64_t> process_memory();

/// jemalloc's heap figures when the process is linked with it (b2buad is), else known = false.
/// Any thread.
HeapFigures heap_figures();

}  // namespace b2bua::api
