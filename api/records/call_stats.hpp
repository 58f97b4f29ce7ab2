// CallStats: call outcome statistics fed by the call registry (started, answered, ended) and read
// by /v1/stats and /metrics: failures by reason, setup time and duration histograms, setup time
// percentiles, and the call rate over the last minute.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "actors/protocol/call_types.hpp"

namespace b2bua::api {

/// A Prometheus-style histogram: cumulative counts per upper bound, plus sum and count.
struct Histogram {
  std::vector<double> bounds;          ///< upper bounds in seconds, ascending (+Inf implied)
  std::vector<std::uint64_t> buckets;  ///< non-cumulative count per bound; one more for +Inf
  double sum = 0;
  std::uint64_t count = 0;

  explicit Histogram(std::vector<double> upper_bounds = {});
  void observe(double value);
};

/// What /v1/stats and /metrics show of the calls' outcomes.
struct CallStatsSnapshot {
  std::map<std::string, std::uint64_t> failed_by_reason;  ///< unanswered, not cancelled calls
  std::map<std::string, std::uint64_t> ended_by;          ///< hangup_by -> calls
  std::uint64_t records = 0;                               ///< finished calls seen
  Histogram setup{};                                       ///< INVITE to answer, seconds
  Histogram duration{};                                    ///< answer to end, seconds
  double setup_avg_ms = 0;                                 ///< over every answered call
  double setup_p50_ms = 0;                                 ///< over the last 1024 answers
  double setup_p90_ms = 0;
  double setup_p99_ms = 0;
  double calls_per_second = 0;                             ///< calls started in the last 60 s / 60
};

class CallStats {
 public:
  CallStats();

  /// A call began (first snapshot of a bridge, or a call the router refused). `now_s` is the
  /// steady clock in whole seconds. Any thread.
  void on_started(std::int64_t now_s);
  /// The caller got the answer. Any thread.
  void on_answered(const CallInfo& call);
  /// The call is over (the same call may have been answered). Any thread.
  void on_ended(const CallInfo& call);

  CallStatsSnapshot snapshot(std::int64_t now_s) const;

  /// Steady clock in whole seconds, as the functions above expect.
  static std::int64_t now_s();

 private:
  static constexpr std::size_t window_s = 60;
  static constexpr std::size_t reservoir = 1024;

  mutable std::mutex mutex_;
  CallStatsSnapshot totals_;
  std::uint64_t setup_total_ms_ = 0;
  std::vector<double> recent_setup_ms_;  // ring of the last `reservoir` setup times
  std::size_t recent_next_ = 0;
  std::array<std::int64_t, window_s> second_of_{};  // which second each slot counts
  std::array<std::uint64_t, window_s> started_in_{};
};

}  // namespace b2bua::api
