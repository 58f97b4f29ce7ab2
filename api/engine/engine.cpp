// Engine: start-up and shutdown order of the whole server, and the REST backend over the actors.
#include "api/engine/engine.hpp"

#include <algorithm>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "actors/backend_group.hpp"
#include "actors/call_registry.hpp"
#include "actors/protocol/atoms.hpp"
#include "actors/protocol/refusal.hpp"
#include "actors/router.hpp"
#include "api/records/call_stats.hpp"
#include "api/records/cdr_store.hpp"
#include "api/records/metrics.hpp"
#include "api/engine/detail/engine_parts.hpp"
#include "api/engine/detail/engine_settings.hpp"
#include "api/rest/rest_server.hpp"
#include "sip/inbound_auth.hpp"
#include "sip/sip_stack.hpp"
#include "rtp/relay_engine.hpp"
#include "sip/transport.hpp"

namespace b2bua::api {

namespace {

bool same_auth(const sip::AuthSettings& a, const sip::AuthSettings& b) {
  auto users = [](const sip::AuthSettings& s) {
    std::vector<std::string> out;
    for (const auto& [name, secret] : s.users) {
      out.push_back(name + ":" + secret.password + ":" + secret.ha1_md5 + ":" + secret.ha1_sha256);
    }
    return out;
  };
  return a.enabled == b.enabled && a.realm == b.realm && a.challenge == b.challenge &&
         a.trusted == b.trusted && a.algorithms == b.algorithms && a.methods == b.methods &&
         a.nonce_ttl_s == b.nonce_ttl_s && a.max_failures == b.max_failures &&
         a.failure_window_s == b.failure_window_s && a.block_s == b.block_s &&
         users(a) == users(b);
}

}  // namespace

Engine::Engine(Config cfg, RoutePolicy policy) : cfg_(std::move(cfg)), policy_(std::move(policy)) {
  if (!policy_) {
    rules_ = make_rule_set(cfg_.routes);
    policy_ = rules_->policy();
  }
}

Engine::~Engine() { stop(); }

// Each part's settings come from engine_settings.cpp (pure); here they are wired in start-up order.
std::string Engine::start() {
  if (std::string err = validate(cfg_); !err.empty()) {
    return err;
  }
  parts_ = std::make_unique<Parts>();
  auto& p = *parts_;
  if (std::string err = open_cdr_store(); !err.empty()) {
    return err;
  }
  start_actor_system();
  p.sip = std::make_shared<sip::SipStack>(sip_settings(cfg_));
  RouterConfig rc = router_settings(cfg_);
  if (std::string err = start_media(rc); !err.empty()) {
    return err;
  }
  spawn_actors(std::move(rc));
  if (std::string err = p.sip->start(p.transport); !err.empty()) {
    shutdown_actors();
    return err;
  }
  start_watchdog();
  if (std::string err = start_api(); !err.empty()) {
    p.watchdog.reset();
    p.sip->stop();
    shutdown_actors();
    return err;
  }
  started_ = std::chrono::steady_clock::now();
  running_ = true;
  log_started();
  return {};
}

void Engine::start_actor_system() {
  auto& p = *parts_;
  p.caf_cfg = std::make_unique<caf::actor_system_config>();
  // The sofia thread needs a core of its own; the actors get the rest. The sharing policy sleeps
  // on a condition variable when idle, where work stealing polls: measured 3x less CPU per call.
  p.caf_cfg->set("scheduler.max-threads", caf_workers(cfg_, std::thread::hardware_concurrency()));
  p.caf_cfg->set("scheduler.policy", caf::atom("sharing"));
  p.caf_cfg->set("logger.verbosity", caf::atom("quiet"));
  p.caf_cfg->set("logger.console", caf::atom("none"));
  p.caf_cfg->add_error_category(refusal_category, render_refusal);  // b2bua::Refusal in caf::error
  p.sys = std::make_unique<caf::actor_system>(*p.caf_cfg);
}

// The relay engine, when some call may be relayed; the bridges get it through `rc`.
std::string Engine::start_media(RouterConfig& rc) {
  auto settings = media_settings(cfg_);
  if (!settings) {
    return {};
  }
  if (std::string err = check_media_address(cfg_); !err.empty()) {
    return err;
  }
  auto& p = *parts_;
  p.media = std::make_shared<rtp::Engine>(*settings);
  if (std::string err = p.media->start(); !err.empty()) {
    return err;
  }
  rc.bridge.relay_engine = p.media;
  return {};
}

// The backends' breakers, the registry (with the hooks that feed call statistics and records),
// the transport and the router.
void Engine::spawn_actors(RouterConfig rc) {
  auto& p = *parts_;
  std::shared_ptr<SipPort> port_if = p.sip;
  p.backends = std::make_shared<BackendDirectory>(*p.sys, port_if, cfg_.breaker);
  p.backends->set_groups(cfg_.groups);
  p.registry = p.sys->spawn(call_registry_actor, registry_hooks());
  p.transport = p.sys->spawn(sip::transport_actor, port_if);
  p.router = p.sys->spawn(router_actor, policy_, std::move(rc), p.transport, p.registry, port_if,
                          p.backends);
  caf::anon_send(p.transport, route_atom::value, p.router);
}

RegistryHooks Engine::registry_hooks() {
  RegistryHooks hooks;
  CallStats* call_stats = &parts_->call_stats;
  CdrStore* cdr = parts_->cdr.get();
  // The CDR journal gets each call at its first snapshot and again at its answer (then it knows
  // the B leg, backend and answer time); a call the router refused comes ended and skips it.
  hooks.started = [call_stats, cdr](const CallInfo& c) {
    call_stats->on_started(CallStats::now_s());
    if (cdr && c.end_ms == 0) {
      cdr->live(make_cdr(c));
    }
  };
  hooks.answered = [call_stats, cdr](const CallInfo& c) {
    call_stats->on_answered(c);
    if (cdr) {
      cdr->live(make_cdr(c));
    }
  };
  hooks.ended = [call_stats, cdr](const CallInfo& c) {
    call_stats->on_ended(c);
    if (cdr) {
      cdr->push(make_cdr(c));
    }
  };
  hooks.event = on_event_;
  return hooks;
}

std::string Engine::start_api() {
  auto settings = api_settings(cfg_);
  if (!settings) {
    return {};
  }
  if (settings->open_without_token) {
    spdlog::warn("b2bua.api.no_token: the API listens on {} without api.token", cfg_.api_listen);
  }
  auto& p = *parts_;
  p.rest = std::make_unique<RestServer>(make_backend(), settings->token);
  return p.rest->start(settings->host, settings->port);
}

void Engine::log_started() const {
  spdlog::info("b2bua: SIP on {}, API on {}, max_calls {}, {} route(s){}", cfg_.sip_listen,
               cfg_.api_enabled ? cfg_.api_listen : std::string("(off)"), cfg_.max_calls,
               cfg_.routes.size(), cfg_.routes.empty() ? " (pass-through)" : "");
  if (cfg_.auth.enabled) {
    spdlog::info("b2bua: digest auth on, realm {}, {} user(s), {} trusted network(s), {} challenge",
                 cfg_.auth.realm, cfg_.auth.users.size(), cfg_.auth.trusted.size(),
                 cfg_.auth.challenge == "proxy" ? "407" : "401");
  }
}

void Engine::shutdown_actors() {
  auto& p = *parts_;
  if (p.backends) {
    p.backends->stop();
  }
  for (auto* a : {&p.router, &p.transport, &p.registry}) {
    if (*a) {
      caf::anon_send_exit(*a, caf::exit_reason::user_shutdown);
      *a = nullptr;
    }
  }
}

void Engine::stop() {
  if (!parts_) {
    return;
  }
  auto& p = *parts_;
  if (running_) {
    running_ = false;
    // 1. Refuse new calls; 2. hang up the live ones and give them drain_ms to end.
    p.sip->set_draining(true);
    caf::anon_send(p.router, drain_atom::value);
    caf::anon_send(p.registry, drain_atom::value, std::string("b2buad shutting down"));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(cfg_.drain_ms);
    while (call_count() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (call_count() > 0) {
      spdlog::warn("b2bua: {} call(s) still up after {} ms of draining", call_count(),
                   cfg_.drain_ms);
    }
  }
  // 3. API; then SIP: nua_shutdown ends whatever is left and its `terminated` events still reach
  // the transport, so the calls' actors finish; then the actors (legs linked to the transport
  // stop with it, whatever state they are in); then the actor system, which waits for them all.
  if (p.rest) {
    p.rest->stop();
    p.rest.reset();
  }
  if (p.watchdog) {
    p.watchdog->stop();  // the loop ends below: that is no stall
    p.watchdog.reset();
  }
  if (p.sip) {
    p.sip->stop();
  }
  if (p.router) {
    shutdown_actors();
  }
  p.sys.reset();  // waits for every actor to finish
  if (p.media) {
    p.media->stop();  // after the actors: their relays are released by now
  }
  parts_.reset();
}

bool Engine::subscribe(const caf::actor& who) {
  if (!parts_ || !running_ || !who) {
    return false;
  }
  caf::anon_send(parts_->registry, subscribe_atom::value, who);
  return true;
}

caf::actor_system& Engine::system() {
  if (!parts_ || !parts_->sys) {
    throw std::logic_error("b2bua::api::Engine::system(): the engine has not been started");
  }
  return *parts_->sys;
}

caf::actor Engine::registry() const {
  return parts_ ? parts_->registry : caf::actor{};
}

std::size_t Engine::call_count() const {
  return parts_ && parts_->sip ? parts_->sip->counters().active_calls.load() : 0;
}

std::vector<CallInfo> Engine::list_calls(std::chrono::milliseconds timeout) {
  std::vector<CallInfo> out;
  if (!parts_ || !running_) {
    return out;
  }
  caf::scoped_actor self{*parts_->sys};
  self->request(parts_->registry, timeout, list_atom::value)
      .receive([&](std::vector<CallInfo>& calls) { out = std::move(calls); },
               [&](caf::error&) {});
  return out;
}

std::string Engine::reload(const Config& next) {
  if (!parts_ || !running_) {
    return "not running";
  }
  std::lock_guard<std::mutex> lock(parts_->reload_mu);
  if (!rules_ && !next.routes.empty()) {
    return "routes are decided by the embedding application: config routes not applied";
  }
  parts_->backends->set_groups(next.groups, /*keep_removed=*/true);
  if (rules_) {
    rules_->replace(next.routes);
  }
  parts_->backends->set_groups(next.groups);
  parts_->sip->set_backend_credentials(backend_credentials(next.groups));
  std::vector<std::string> ignored;
  auto differs = [&ignored](bool d, const char* key) {
    if (d) {
      ignored.push_back(key);
    }
  };
  differs(next.sip_listen != cfg_.sip_listen, "sip.listen");
  differs(next.api_listen != cfg_.api_listen, "api.listen");
  differs(next.max_calls != cfg_.max_calls, "limits.max_calls");
  differs(next.media.mode != cfg_.media.mode, "media.mode");
  differs(next.dtmf.caller != cfg_.dtmf.caller || next.dtmf.callee != cfg_.dtmf.callee, "dtmf");
  differs(next.failover_timeout_ms != cfg_.failover_timeout_ms, "timers.failover_timeout_ms");
  differs(next.breaker.failure_threshold != cfg_.breaker.failure_threshold ||
              next.breaker.cooldown_ms != cfg_.breaker.cooldown_ms,
          "breaker");
  for (const auto& key : ignored) {
    spdlog::warn("reload: {} changed but needs a restart; the running value stays", key);
  }
  cfg_.routes = next.routes;
  cfg_.routes_json = next.routes_json;
  cfg_.groups = next.groups;
  auto challenges_options = [](const sip::AuthSettings& a) {
    return a.enabled && std::find(a.methods.begin(), a.methods.end(), "OPTIONS") != a.methods.end();
  };
  differs(challenges_options(next.auth) != challenges_options(cfg_.auth),
          "auth.methods (OPTIONS)");
  if (!same_auth(next.auth, cfg_.auth)) {
    parts_->sip->set_auth(next.auth.enabled ? std::make_shared<sip::InboundAuth>(next.auth)
                                            : nullptr);
    cfg_.auth = next.auth;
    spdlog::info("reload: auth {}, {} user(s); callers holding older nonces are challenged again",
                 next.auth.enabled ? "applied" : "turned off", next.auth.users.size());
  }
  spdlog::info("reload: {} route(s), {} group(s) applied; calls in progress are untouched",
               next.routes.size(), next.groups.size());
  return {};
}

std::vector<std::shared_ptr<const BackendStatus>> Engine::backends() const {
  if (!parts_ || !parts_->backends) {
    return {};
  }
  return parts_->backends->all();
}

std::uint16_t Engine::sip_port() const { return parts_ && parts_->sip ? parts_->sip->port() : 0; }

std::uint16_t Engine::api_port() const { return parts_ && parts_->rest ? parts_->rest->port() : 0; }

}  // namespace b2bua::api
