// Engine: what the REST API and the metrics read - the REST backend over the actors, the counters,
// the CDR store, and the run-time replacement of the routing rules.
#include <string>
#include <utility>
#include <vector>

#include <caf/send.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "actors/protocol/atoms.hpp"
#include "api/engine/engine.hpp"
#include "api/engine/detail/engine_parts.hpp"
#include "api/engine/detail/engine_settings.hpp"
#include "api/records/metrics.hpp"

namespace b2bua::api {

namespace {

// Adapts a registry answer (a CallInfo with id 0 for "no such call") to the REST callback.
auto call_or_missing(std::function<void(std::optional<CallInfo>, bool)> done) {
  return [done = std::move(done)](std::optional<CallInfo> r) {
    if (!r) {
      done(std::nullopt, true);
    } else if (r->id == 0) {
      done(std::nullopt, false);
    } else {
      done(std::move(r), false);
    }
  };
}

nlohmann::json backends_json(const std::vector<std::shared_ptr<const BackendStatus>>& all) {
  auto list = nlohmann::json::array();
  for (const auto& b : all) {
    const auto latency = b->last_probe_latency_us.load();
    const auto probe_status = b->last_probe_status.load();
    list.push_back({
        {"name", b->uri},
        {"uri", b->uri},
        {"group", b->group},
        {"state", to_string(b->current())},
        {"active_calls", b->active_calls.load()},
        {"max_calls", b->max_calls.load()},
        {"consecutive_failures", b->consecutive_failures.load()},
        {"total_failures", b->failures_total.load()},
        {"total_successes", b->successes_total.load()},
        {"state_changes", b->state_changes.load()},
        {"probes_sent", b->probes_total.load()},
        {"last_probe_latency_ms",
         latency < 0 ? nlohmann::json(nullptr) : nlohmann::json(latency / 1000.0)},
        {"last_probe_status", probe_status == 0 ? nlohmann::json(nullptr)
                                                : nlohmann::json(probe_status)},
    });
  }
  return {{"backends", std::move(list)}};
}

SipTraffic sip_traffic(const sip::SipCounters& c) {
  SipTraffic t;
  for (std::size_t i = 0; i < c.requests.size(); ++i) {
    if (auto n = c.requests[i].load()) {
      t.requests[sip::sip_method_names[i]] = n;
    }
  }
  for (std::size_t code = 100; code < c.responses_received.size(); ++code) {
    if (auto n = c.responses_received[code].load()) {
      t.responses_received[static_cast<int>(code)] = n;
    }
  }
  for (std::size_t i = 0; i < c.auth.size(); ++i) {
    if (auto n = c.auth[i].load()) {
      t.auth[sip::auth_result_names[i]] = n;
    }
  }
  t.deadline_legs = c.deadline_legs.load();
  t.leg_records = c.leg_records.load();
  return t;
}

}  // namespace

std::string Engine::open_cdr_store() {
  auto settings = cdr_settings(cfg_);
  if (!settings) {
    return {};
  }
  auto store = std::make_unique<CdrStore>(*settings);
  if (std::string err = store->open(); !err.empty()) {
    return err;
  }
  parts_->cdr = std::move(store);
  return {};
}

RestBackend Engine::make_backend() {
  RestBackend b;
  auto& p = *parts_;
  caf::actor_system* sys = p.sys.get();
  caf::actor registry = p.registry;
  b.stats = [this] { return stats(); };
  b.ready = [this] { return running_ && !parts_->sip->draining(); };
  sip::Watchdog* watchdog = p.watchdog.get();  // stopped after the REST server
  b.sip_stalled = [watchdog] { return watchdog && watchdog->stalled(); };
  b.list_calls = [sys, registry](auto done) {
    ask_registry<std::vector<CallInfo>>(*sys, registry, registry_wait, std::move(done),
                                        list_atom::value);
  };
  b.get_call = [sys, registry](CallId id, auto done) {
    ask_registry<CallInfo>(*sys, registry, registry_wait, call_or_missing(std::move(done)),
                           get_atom::value, id);
  };
  b.hangup_call = [sys, registry](CallId id, auto done) {
    ask_registry<CallInfo>(*sys, registry, hangup_wait, call_or_missing(std::move(done)),
                           drop_atom::value, id, std::string("operator hangup"));
  };
  b.metrics = [this] { return metrics(); };
  b.backends = [this] { return backends_json(backends()); };
  b.set_backend_disabled = [this](const std::string& uri, bool disabled) {
    return parts_ && parts_->backends && parts_->backends->set_disabled(uri, disabled);
  };
  if (CdrStore* cdr = p.cdr.get()) {
    b.cdrs = [cdr](const CdrQuery& q) { return cdr->query(q); };
    b.cdr = [cdr](std::int64_t id, std::string* error) { return cdr->get(id, error); };
  }
  if (rules_) {
    b.routes = [this] { return routes(); };
    b.replace_routes = [this](const nlohmann::json& j) { return replace_routes(j); };
  }
  return b;
}

std::string Engine::replace_routes(const nlohmann::json& routes) {
  if (!rules_) {
    return "routes: the embedding program's policy decides the routes";
  }
  if (!parts_) {
    return "routes: not running";
  }
  std::lock_guard<std::mutex> lock(parts_->reload_mu);
  auto parsed = parse_routes(routes, cfg_.groups);
  if (auto* err = std::get_if<std::string>(&parsed)) {
    return *err;
  }
  auto& rules = std::get<std::vector<RouteRule>>(parsed);
  rules_->replace(rules);
  cfg_.routes = std::move(rules);
  cfg_.routes_json = routes.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  spdlog::info("b2bua.routes.replaced: {} rule(s){}; calls in progress are untouched",
               cfg_.routes.size(), cfg_.routes.empty() ? " (pass-through)" : "");
  return {};
}

nlohmann::json Engine::routes() const {
  if (!rules_ || !parts_) {
    return nullptr;
  }
  std::lock_guard<std::mutex> lock(parts_->reload_mu);
  return nlohmann::json::parse(cfg_.routes_json, nullptr, false);
}

StatsSnapshot Engine::stats() const {
  StatsSnapshot s;
  if (!parts_ || !parts_->sip) {
    return s;
  }
  const auto& c = parts_->sip->counters();
  s.active_calls = c.active_calls.load();
  s.total_calls = c.total_calls.load();
  s.answered_calls = c.answered_calls.load();
  s.failed_calls = c.failed_calls.load();
  s.cancelled_calls = c.cancelled_calls.load();
  s.draining = parts_->sip->draining();
  s.uptime_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  if (parts_->media) {
    auto t = parts_->media->totals();
    s.media.packets = t.packets;
    s.media.bytes = t.bytes;
    s.media.forwarded = t.forwarded;
    s.media.dropped = t.dropped;
    s.media.relays_active = t.relays;
    s.media.digits_picked = t.digits_picked;
    s.media.digits_injected = t.digits_injected;
    s.media.digits_dropped = t.digits_dropped;
    s.media.ports_available = parts_->media->ports_available();
  }
  for (std::size_t code = 100; code < c.final_responses.size(); ++code) {
    if (auto n = c.final_responses[code].load()) {
      s.final_responses[static_cast<int>(code)] = n;
    }
  }
  const auto calls = parts_->call_stats.snapshot(CallStats::now_s());
  s.failed_by_reason = calls.failed_by_reason;
  s.setup.count = calls.setup.count;
  s.setup.avg_ms = calls.setup_avg_ms;
  s.setup.p50_ms = calls.setup_p50_ms;
  s.setup.p90_ms = calls.setup_p90_ms;
  s.setup.p99_ms = calls.setup_p99_ms;
  s.calls_per_second = calls.calls_per_second;
  return s;
}

std::string Engine::metrics() const {
  MetricsInput in;
  in.stats = stats();
  if (parts_ && parts_->sip) {
    in.calls = parts_->call_stats.snapshot(CallStats::now_s());
    in.sip = sip_traffic(parts_->sip->counters());
    if (const CdrStore* cdr = parts_->cdr.get()) {
      in.cdr = {true, cdr->written(), cdr->dropped(), cdr->errors(), cdr->queued()};
    }
  }
  in.backends = backends_json(backends());
  std::tie(in.resident_bytes, in.virtual_bytes) = process_memory();
  in.heap = heap_figures();
  return render_metrics(in);
}

}  // namespace b2bua::api
