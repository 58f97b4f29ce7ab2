// CallStats and the metrics text: failures by reason, setup percentiles and histograms, the call
// rate window, and the Prometheus rendering of them.
#include "api/records/call_stats.hpp"

#include <string>

#include <doctest/doctest.h>

#include "api/records/metrics.hpp"

namespace {

using b2bua::CallInfo;
using b2bua::api::CallStats;

CallInfo call(std::int64_t setup_ms, std::int64_t talk_ms, const std::string& reason) {
  CallInfo c;
  c.start_ms = 1000000;
  c.answer_ms = setup_ms >= 0 ? c.start_ms + setup_ms : 0;
  c.end_ms = c.start_ms + std::max<std::int64_t>(0, setup_ms) + talk_ms;
  c.end_reason = reason;
  c.final_status = setup_ms >= 0 ? 200 : 486;
  return c;
}

}  // namespace

TEST_CASE("setup time: average, nearest-rank percentiles and histogram buckets") {
  CallStats s;
  for (int ms = 1; ms <= 100; ++ms) {
    const auto c = call(ms, 2000, "caller_bye");
    s.on_answered(c);
    s.on_ended(c);
  }
  const auto snap = s.snapshot(0);
  CHECK(snap.setup.count == 100);
  CHECK(snap.setup_avg_ms == doctest::Approx(50.5));
  CHECK(snap.setup_p50_ms == 50);
  CHECK(snap.setup_p90_ms == 90);
  CHECK(snap.setup_p99_ms == 99);
  CHECK(snap.setup.buckets[0] == 50);  // <= 0.05 s
  CHECK(snap.setup.buckets[1] == 50);  // (0.05, 0.1]
  CHECK(snap.duration.count == 100);
  CHECK(snap.duration.sum == doctest::Approx(200.0));
  CHECK(snap.ended_by.at("caller") == 100);
  CHECK(snap.failed_by_reason.empty());
}

TEST_CASE("failures are counted by reason; cancellations and answered calls are not failures") {
  CallStats s;
  s.on_ended(call(-1, 0, "failed"));
  s.on_ended(call(-1, 0, "failed"));
  s.on_ended(call(-1, 0, "route_no_match"));
  s.on_ended(call(-1, 0, "cancelled"));
  s.on_ended(call(5, 10, "callee_bye"));
  const auto snap = s.snapshot(0);
  CHECK(snap.failed_by_reason.size() == 2);
  CHECK(snap.failed_by_reason.at("failed") == 2);
  CHECK(snap.failed_by_reason.at("route_no_match") == 1);
  CHECK(snap.records == 5);
  CHECK(snap.ended_by.at("caller") == 1);
  CHECK(snap.ended_by.at("callee") == 1);
}

TEST_CASE("the call rate counts the last 60 seconds only") {
  CallStats s;
  for (int i = 0; i < 30; ++i) {
    s.on_started(100);
  }
  for (int i = 0; i < 60; ++i) {
    s.on_started(130);
  }
  CHECK(s.snapshot(130).calls_per_second == doctest::Approx(1.5));
  CHECK(s.snapshot(159).calls_per_second == doctest::Approx(1.5));
  CHECK(s.snapshot(160).calls_per_second == doctest::Approx(1.0));   // second 100 left the window
  CHECK(s.snapshot(190).calls_per_second == doctest::Approx(0.0));
  s.on_started(160 + 30);  // reuses slot of second 130
  CHECK(s.snapshot(190).calls_per_second == doctest::Approx(1.0 / 60));
}

TEST_CASE("render_metrics: help, type, labels escaped, cumulative buckets, backend states") {
  b2bua::api::MetricsInput in;
  in.stats.total_calls = 5;
  in.stats.final_responses = {{200, 4}, {486, 1}};
  in.calls.failed_by_reason = {{"fa\"il\\ed\n", 1}};
  in.calls.setup = b2bua::api::Histogram({0.1, 1});
  in.calls.setup.observe(0.05);
  in.calls.setup.observe(0.5);
  in.calls.setup.observe(3);
  in.sip.requests = {{"INVITE", 5}};
  in.backends = nlohmann::json{{"backends",
                                {{{"name", "gw1"}, {"state", "open"}, {"active_calls", 2},
                                  {"total_failures", 7}}}}};
  in.resident_bytes = 123456;
  in.stats.media.digits_dropped = 3;
  const std::string text = b2bua::api::render_metrics(in);
  CHECK(text.find("# TYPE b2bua_calls_total counter\nb2bua_calls_total 5\n") != std::string::npos);
  CHECK(text.find("b2bua_call_failures_total{reason=\"fa\\\"il\\\\ed\\n\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("b2bua_call_setup_seconds_bucket{le=\"0.1\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("b2bua_call_setup_seconds_bucket{le=\"1\"} 2\n") != std::string::npos);
  CHECK(text.find("b2bua_call_setup_seconds_bucket{le=\"+Inf\"} 3\n") != std::string::npos);
  CHECK(text.find("b2bua_call_setup_seconds_count 3\n") != std::string::npos);
  CHECK(text.find("b2bua_sip_responses_total{code=\"486\"} 1\n") != std::string::npos);
  CHECK(text.find("b2bua_sip_requests_total{method=\"INVITE\"} 5\n") != std::string::npos);
  CHECK(text.find("b2bua_backend_state{backend=\"gw1\"} 2\n") != std::string::npos);
  CHECK(text.find("b2bua_backend_active_calls{backend=\"gw1\"} 2\n") != std::string::npos);
  CHECK(text.find("b2bua_process_resident_memory_bytes 123456\n") != std::string::npos);
  CHECK(text.find("b2bua_rtp_dtmf_digits_total{kind=\"dropped\"} 3\n") != std::string::npos);
  CHECK(text.find("b2bua_cdr_") == std::string::npos);  // CDRs off: no CDR metrics
  CHECK(b2bua::api::process_memory().first > 0);
  CHECK(text.find("b2bua_process_heap_bytes") == std::string::npos);  // no allocator figures
}

TEST_CASE("render_metrics: the allocator's figures when the process runs on jemalloc") {
  b2bua::api::MetricsInput in;
  in.heap = {true, 1000, 4096, 8192};
  const std::string text = b2bua::api::render_metrics(in);
  CHECK(text.find("# TYPE b2bua_process_heap_bytes gauge\n") != std::string::npos);
  CHECK(text.find("b2bua_process_heap_bytes{kind=\"allocated\"} 1000\n") != std::string::npos);
  CHECK(text.find("b2bua_process_heap_bytes{kind=\"active\"} 4096\n") != std::string::npos);
  CHECK(text.find("b2bua_process_heap_bytes{kind=\"resident\"} 8192\n") != std::string::npos);
  // The unit tests do not link jemalloc: the figures are unknown, never made up.
  CHECK_FALSE(b2bua::api::heap_figures().known);
}
