// Metrics: the Prometheus text format, written by hand (HELP, TYPE, samples; histograms as
// cumulative _bucket lines with le, then _sum and _count).
#include "api/records/metrics.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string_view>

#include <unistd.h>

// jemalloc's control call, weak: b2buad links jemalloc, unit tests and embedding programs may not.
extern "C" int mallctl(const char* name, void* oldp, std::size_t* oldlenp, void* newp,
                       std::size_t newlen) __attribute__((weak));

namespace b2bua::api {

namespace {

std::string escape_label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// The shortest of 15 or 17 significant digits that reads back as the same double ("0.1").
std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  if (std::strtod(buf, nullptr) != v) {
    std::snprintf(buf, sizeof buf, "%.17g", v);
  }
  return buf;
}

class Writer {
 public:
  void head(const char* name, const char* type, const char* help) {
    out_ << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  }
  void sample(const char* name, double value, std::string_view labels = {}) {
    out_ << name;
    if (!labels.empty()) {
      out_ << '{' << labels << '}';
    }
    out_ << ' ' << number(value) << '\n';
  }
  void single(const char* name, const char* type, const char* help, double value) {
    head(name, type, help);
    sample(name, value);
  }
  void histogram(const char* name, const char* help, const Histogram& h) {
    head(name, "histogram", help);
    const std::string base = name;
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < h.bounds.size(); ++i) {
      cumulative += h.buckets[i];
      sample((base + "_bucket").c_str(), static_cast<double>(cumulative),
             "le=\"" + number(h.bounds[i]) + "\"");
    }
    sample((base + "_bucket").c_str(), static_cast<double>(h.count), "le=\"+Inf\"");
    sample((base + "_sum").c_str(), h.sum);
    sample((base + "_count").c_str(), static_cast<double>(h.count));
  }
  std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

std::string label(const char* key, std::string_view value) {
  return std::string(key) + "=\"" + escape_label(value) + "\"";
}

void calls(Writer& w, const MetricsInput& in) {
  const auto& s = in.stats;
  w.single("b2bua_calls_active", "gauge", "Calls whose caller leg is alive.",
           static_cast<double>(s.active_calls));
  w.single("b2bua_calls_total", "counter", "Calls started (INVITEs that created a caller leg).",
           static_cast<double>(s.total_calls));
  w.single("b2bua_calls_answered_total", "counter", "Calls whose caller got a 2xx.",
           static_cast<double>(s.answered_calls));
  w.single("b2bua_calls_failed_total", "counter",
           "Calls whose caller got a final status >= 300, except after a CANCEL.",
           static_cast<double>(s.failed_calls));
  w.single("b2bua_calls_cancelled_total", "counter", "Calls the caller cancelled.",
           static_cast<double>(s.cancelled_calls));
  w.head("b2bua_call_failures_total", "counter",
         "Finished calls never answered (cancellations excluded), by disconnect reason.");
  for (const auto& [reason, n] : in.calls.failed_by_reason) {
    w.sample("b2bua_call_failures_total", static_cast<double>(n), label("reason", reason));
  }
  w.head("b2bua_call_ended_total", "counter",
         "Finished calls by who ended them: caller, callee, b2bua or operator.");
  for (const auto& [by, n] : in.calls.ended_by) {
    w.sample("b2bua_call_ended_total", static_cast<double>(n), label("by", by));
  }
  w.histogram("b2bua_call_duration_seconds", "Answered calls, from the answer to the end.",
              in.calls.duration);
  w.histogram("b2bua_call_setup_seconds", "Answered calls, from the INVITE to the 2xx sent.",
              in.calls.setup);
  w.single("b2bua_call_rate_per_second", "gauge", "Calls started per second over the last minute.",
           in.calls.calls_per_second);
}

void sip(Writer& w, const MetricsInput& in) {
  w.head("b2bua_sip_requests_total", "counter", "SIP requests received, by method.");
  for (const auto& [method, n] : in.sip.requests) {
    w.sample("b2bua_sip_requests_total", static_cast<double>(n), label("method", method));
  }
  w.head("b2bua_sip_responses_total", "counter", "Final responses sent to callers, by status.");
  for (const auto& [code, n] : in.stats.final_responses) {
    w.sample("b2bua_sip_responses_total", static_cast<double>(n),
             label("code", std::to_string(code)));
  }
  w.head("b2bua_sip_responses_received_total", "counter",
         "Responses to b2buad's own requests (B legs, backend probes), by status; local "
         "timeouts included.");
  for (const auto& [code, n] : in.sip.responses_received) {
    w.sample("b2bua_sip_responses_received_total", static_cast<double>(n),
             label("code", std::to_string(code)));
  }
  w.single("b2bua_sip_setup_deadline_total", "counter",
           "Legs ended by timers.setup_deadline_ms without a final response.",
           static_cast<double>(in.sip.deadline_legs));
  w.single("b2bua_sip_leg_records", "gauge",
           "Leg records (NUA handles) the SIP thread holds, sampled once a second.",
           static_cast<double>(in.sip.leg_records));
  if (!in.sip.auth.empty()) {
    w.head("b2bua_sip_auth_total", "counter",
           "Digest authentication of incoming requests, by outcome (ok, trusted, challenge, "
           "stale, failed, replay, malformed, rate_limited).");
    for (const auto& [result, n] : in.sip.auth) {
      w.sample("b2bua_sip_auth_total", static_cast<double>(n), label("result", result));
    }
  }
}

double state_value(const std::string& state) {
  if (state == "closed") {
    return 0;
  }
  if (state == "half_open") {
    return 1;
  }
  if (state == "open") {
    return 2;
  }
  return 3;  // disabled (or a state this version does not know)
}

void backends(Writer& w, const nlohmann::json& j) {
  const nlohmann::json* list = nullptr;
  if (j.is_object() && j.contains("backends") && j["backends"].is_array()) {
    list = &j["backends"];
  }
  w.head("b2bua_backend_state", "gauge",
         "Circuit breaker state per backend: 0 closed, 1 half_open, 2 open, 3 disabled.");
  if (!list) {
    return;
  }
  auto text = [](const nlohmann::json& b, const char* k) {
    return b.contains(k) && b[k].is_string() ? b[k].get<std::string>() : std::string{};
  };
  auto num = [](const nlohmann::json& b, const char* k) {
    return b.contains(k) && b[k].is_number() ? b[k].get<double>() : 0.0;
  };
  for (const auto& b : *list) {
    if (b.is_object()) {
      w.sample("b2bua_backend_state", state_value(text(b, "state")), label("backend", text(b, "name")));
    }
  }
  w.head("b2bua_backend_active_calls", "gauge", "Calls in progress per backend.");
  for (const auto& b : *list) {
    if (b.is_object()) {
      w.sample("b2bua_backend_active_calls", num(b, "active_calls"), label("backend", text(b, "name")));
    }
  }
  w.head("b2bua_backend_failures_total", "counter", "Failed attempts per backend.");
  for (const auto& b : *list) {
    if (b.is_object()) {
      w.sample("b2bua_backend_failures_total", num(b, "total_failures"),
               label("backend", text(b, "name")));
    }
  }
}

void media_and_process(Writer& w, const MetricsInput& in) {
  const auto& m = in.stats.media;
  w.single("b2bua_rtp_packets_total", "counter", "RTP/RTCP packets received by the relay.",
           static_cast<double>(m.packets));
  w.single("b2bua_rtp_bytes_total", "counter", "UDP payload bytes received by the relay.",
           static_cast<double>(m.bytes));
  w.single("b2bua_rtp_forwarded_packets_total", "counter", "Packets sent on to the other side.",
           static_cast<double>(m.forwarded));
  w.single("b2bua_rtp_dropped_packets_total", "counter",
           "Packets not forwarded: strangers, no peer yet, send errors.",
           static_cast<double>(m.dropped));
  w.single("b2bua_rtp_relays_active", "gauge", "Calls whose media is anchored now.",
           static_cast<double>(m.relays_active));
  w.single("b2bua_rtp_ports_available", "gauge", "RTP port pairs left in the pool.",
           static_cast<double>(m.ports_available));
  w.head("b2bua_rtp_dtmf_digits_total", "counter",
         "RFC 4733 digits: picked up from a side, sent by b2buad, dropped over the queue limit.");
  w.sample("b2bua_rtp_dtmf_digits_total", static_cast<double>(m.digits_picked), "kind=\"picked\"");
  w.sample("b2bua_rtp_dtmf_digits_total", static_cast<double>(m.digits_injected),
           "kind=\"injected\"");
  w.sample("b2bua_rtp_dtmf_digits_total", static_cast<double>(m.digits_dropped),
           "kind=\"dropped\"");
  w.single("b2bua_process_resident_memory_bytes", "gauge", "Resident memory of b2buad.",
           static_cast<double>(in.resident_bytes));
  w.single("b2bua_process_virtual_memory_bytes", "gauge", "Virtual memory of b2buad.",
           static_cast<double>(in.virtual_bytes));
  if (in.heap.known) {
    w.head("b2bua_process_heap_bytes", "gauge",
           "The allocator's figures: allocated (live objects), active (their pages), resident.");
    w.sample("b2bua_process_heap_bytes", static_cast<double>(in.heap.allocated),
             "kind=\"allocated\"");
    w.sample("b2bua_process_heap_bytes", static_cast<double>(in.heap.active), "kind=\"active\"");
    w.sample("b2bua_process_heap_bytes", static_cast<double>(in.heap.resident),
             "kind=\"resident\"");
  }
  w.single("b2bua_process_uptime_seconds", "gauge", "Seconds since b2buad started.",
           in.stats.uptime_s);
  w.single("b2bua_server_draining", "gauge", "1 while new calls are refused and calls wind down.",
           in.stats.draining ? 1 : 0);
  if (in.cdr.enabled) {
    w.single("b2bua_cdr_written_total", "counter", "Call records committed to the database.",
             static_cast<double>(in.cdr.written));
    w.single("b2bua_cdr_dropped_total", "counter",
             "Call records lost: queue full or a failed write.",
             static_cast<double>(in.cdr.dropped));
    w.single("b2bua_cdr_errors_total", "counter", "Failed database transactions.",
             static_cast<double>(in.cdr.errors));
    w.single("b2bua_cdr_queue_length", "gauge", "Call records waiting for the writer.",
             static_cast<double>(in.cdr.queued));
  }
}

}  // namespace

std::string render_metrics(const MetricsInput& in) {
  Writer w;
  calls(w, in);
  sip(w, in);
  backends(w, in.backends);
  media_and_process(w, in);
  return w.text();
}

HeapFigures heap_figures() {
  if (mallctl == nullptr) {
    return {};
  }
  std::uint64_t epoch = 1;
  std::size_t len = sizeof epoch;
  mallctl("epoch", &epoch, &len, &epoch, len);  // the stats are a snapshot taken per epoch
  HeapFigures h;
  auto read = [](const char* name, std::uint64_t& out) {
    std::size_t v = 0;
    std::size_t n = sizeof v;
    const bool ok = mallctl(name, &v, &n, nullptr, 0) == 0;
    out = v;
    return ok;
  };
  h.known = read("stats.allocated", h.allocated) && read("stats.active", h.active) &&
            read("stats.resident", h.resident);
  return h;
}

std::pair<std::uint64_t, std::uint64_t> process_memory() {
  std::ifstream f("/proc/self/statm");
  std::uint64_t size_pages = 0;
  std::uint64_t resident_pages = 0;
  if (!(f >> size_pages >> resident_pages)) {
    return {0, 0};
  }
  const auto page = static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
  return {resident_pages * page, size_pages * page};
}

}  // namespace b2bua::api
