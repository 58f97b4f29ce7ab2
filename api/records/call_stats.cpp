// CallStats: counters and histograms of call outcomes, under one short-held mutex.
#include "api/records/call_stats.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "api/records/cdr_store.hpp"

namespace b2bua::api {

namespace {

double percentile(std::vector<double> values, double p) {
  if (values.empty()) {
    return 0;
  }
  std::sort(values.begin(), values.end());
  // Nearest rank: the smallest value with at least p of the values at or below it.
  auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(values.size())));
  return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds(std::move(upper_bounds)), buckets(bounds.size() + 1, 0) {}

void Histogram::observe(double value) {
  const auto i = static_cast<std::size_t>(
      std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin());
  ++buckets[i];
  sum += value;
  ++count;
}

CallStats::CallStats() {
  totals_.setup = Histogram({0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60});
  totals_.duration = Histogram({1, 5, 10, 30, 60, 300, 900, 1800, 3600, 14400});
  second_of_.fill(-1);
}

std::int64_t CallStats::now_s() {
  using namespace std::chrono;
  return duration_cast<seconds>(steady_clock::now().time_since_epoch()).count();
}

void CallStats::on_started(std::int64_t now_s) {
  std::lock_guard<std::mutex> lock{mutex_};
  const auto slot = static_cast<std::size_t>(now_s % static_cast<std::int64_t>(window_s));
  if (second_of_[slot] != now_s) {
    second_of_[slot] = now_s;
    started_in_[slot] = 0;
  }
  ++started_in_[slot];
}

void CallStats::on_answered(const CallInfo& call) {
  const auto setup_ms = static_cast<double>(std::max<std::int64_t>(0, call.answer_ms - call.start_ms));
  std::lock_guard<std::mutex> lock{mutex_};
  totals_.setup.observe(setup_ms / 1000.0);
  setup_total_ms_ += static_cast<std::uint64_t>(setup_ms);
  if (recent_setup_ms_.size() < reservoir) {
    recent_setup_ms_.push_back(setup_ms);
  } else {
    recent_setup_ms_[recent_next_] = setup_ms;
  }
  recent_next_ = (recent_next_ + 1) % reservoir;
}

void CallStats::on_ended(const CallInfo& call) {
  const std::string by = hangup_by(call);
  std::lock_guard<std::mutex> lock{mutex_};
  ++totals_.records;
  ++totals_.ended_by[by];
  if (call.answer_ms > 0) {
    const auto end = call.end_ms > 0 ? call.end_ms : call.answer_ms;
    totals_.duration.observe(static_cast<double>(std::max<std::int64_t>(0, end - call.answer_ms)) /
                             1000.0);
  } else if (call.end_reason != "cancelled" && call.end_reason != "caller_bye" &&
             call.end_reason != "caller_gone") {
    ++totals_.failed_by_reason[call.end_reason.empty() ? "unknown" : call.end_reason];
  }
}

CallStatsSnapshot CallStats::snapshot(std::int64_t now_s) const {
  std::lock_guard<std::mutex> lock{mutex_};
  CallStatsSnapshot s = totals_;
  if (s.setup.count > 0) {
    s.setup_avg_ms = static_cast<double>(setup_total_ms_) / static_cast<double>(s.setup.count);
  }
  s.setup_p50_ms = percentile(recent_setup_ms_, 0.50);
  s.setup_p90_ms = percentile(recent_setup_ms_, 0.90);
  s.setup_p99_ms = percentile(recent_setup_ms_, 0.99);
  std::uint64_t started = 0;
  for (std::size_t i = 0; i < window_s; ++i) {
    // The last 60 seconds, the current (still filling) one included.
    if (second_of_[i] >= 0 && now_s - second_of_[i] < static_cast<std::int64_t>(window_s)) {
      started += started_in_[i];
    }
  }
  s.calls_per_second = static_cast<double>(started) / static_cast<double>(window_s);
  return s;
}

}  // namespace b2bua::api
