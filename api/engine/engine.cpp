// Engine: start-up and shutdown order of the whole server, and the REST backend over the actors.
#include "api/engine/engine.hpp"

#include <algorithm>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <arpa/inet.h>

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
#include "actors/router.hpp"
#include "api/records/call_stats.hpp"
#include "api/records/cdr_store.hpp"
#include "api/records/metrics.hpp"
#include "api/engine/detail/engine_parts.hpp"
#include "api/rest/rest_server.hpp"
#include "sip/inbound_auth.hpp"
#include "sip/sip_stack.hpp"
#include "rtp/relay_engine.hpp"
#include "sip/transport.hpp"

namespace b2bua::api {

namespace {

bool numeric_ip(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// The address b2buad puts into SDP: media.advertise, else sip.advertise, else the SIP listen
// host, else 127.0.0.1 (when listening on every interface).
std::string media_address(const Config& cfg, const std::string& sip_host) {
  if (!cfg.media.advertise.empty()) {
    return cfg.media.advertise;
  }
  if (!cfg.sip_advertise.empty()) {
    return cfg.sip_advertise;
  }
  if (sip_host != "0.0.0.0" && sip_host != "::" && sip_host != "*") {
    return sip_host;
  }
  return "127.0.0.1";
}

bool relays_any_call(const Config& cfg) {
  if (cfg.media.mode == "relay") {
    return true;
  }
  for (const auto& r : cfg.routes) {
    if (r.media == "relay") {
      return true;
    }
  }
  return false;
}

// The outbound credentials of every group target that has some.
std::vector<sip::BackendCredential> backend_credentials(const std::vector<GroupSpec>& groups) {
  std::vector<sip::BackendCredential> out;
  for (const auto& g : groups) {
    for (const auto& t : g.targets) {
      if (!t.auth.user.empty()) {
        out.push_back({t.uri, t.auth.user, t.auth.password, t.auth.realm});
      }
    }
  }
  return out;
}

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

std::string Engine::start() {
  if (std::string err = validate(cfg_); !err.empty()) {
    return err;
  }
  auto sip_addr = split_host_port(cfg_.sip_listen);
  auto api_addr = split_host_port(cfg_.api_listen);
  parts_ = std::make_unique<Parts>();
  auto& p = *parts_;
  if (std::string err = open_cdr_store(); !err.empty()) {
    return err;
  }
  p.caf_cfg = std::make_unique<caf::actor_system_config>();
  // The sofia thread needs a core of its own; the actors get the rest. The sharing policy sleeps
  // on a condition variable when idle, where work stealing polls: measured 3x less CPU per call.
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t workers = cfg_.workers ? cfg_.workers : std::max(1u, cores - 1);
  p.caf_cfg->set("scheduler.max-threads", workers);
  p.caf_cfg->set("scheduler.policy", caf::atom("sharing"));
  p.caf_cfg->set("logger.verbosity", caf::atom("quiet"));
  p.caf_cfg->set("logger.console", caf::atom("none"));
  p.sys = std::make_unique<caf::actor_system>(*p.caf_cfg);

  sip::SipStackConfig sc;
  sc.listen_host = sip_addr->first;
  sc.listen_port = sip_addr->second;
  sc.advertise = cfg_.sip_advertise;
  sc.user_agent = cfg_.user_agent;
  sc.max_calls = cfg_.max_calls;
  sc.retry_after_s = cfg_.retry_after_s;
  sc.t1_ms = cfg_.sip_t1_ms;
  if (cfg_.auth.enabled) {
    sc.auth = std::make_shared<sip::InboundAuth>(cfg_.auth);
  }
  sc.backend_credentials = backend_credentials(cfg_.groups);
  sc.session_expires_s = cfg_.session_expires_s;
  sc.min_se_s = cfg_.min_se_s;
  sc.setup_deadline_ms = cfg_.setup_deadline_ms;
  sc.tcp_idle_ms = cfg_.tcp_idle_ms;
  p.sip = std::make_shared<sip::SipStack>(sc);

  RouterConfig rc;
  rc.route_timeout_ms = cfg_.route_timeout_ms;
  rc.retry_after_s = cfg_.retry_after_s;
  rc.bridge.no_answer_ms = cfg_.no_answer_ms;
  const std::string port = std::to_string(sip_addr->second);
  const std::string& host = sip_addr->first;
  if (host == "0.0.0.0" || host == "::" || host == "*") {
    for (const char* h : {"127.0.0.1", "localhost", "[::1]"}) {
      rc.own_addresses.push_back(std::string(h) + ":" + port);
    }
  } else {
    rc.own_addresses.push_back((host.find(':') != std::string::npos ? "[" + host + "]" : host) +
                               ":" + port);
  }
  if (!cfg_.sip_advertise.empty()) {
    rc.own_addresses.push_back(cfg_.sip_advertise + ":" + port);
  }

  rc.bridge.retry_after_s = cfg_.retry_after_s;
  rc.bridge.failover_timeout_ms = cfg_.failover_timeout_ms;
  rc.bridge.media_mode = cfg_.media.mode;
  rc.bridge.rtp_timeout_s = cfg_.media.timeout_s;
  rc.bridge.dtmf = cfg_.dtmf;
  rc.bridge.media_address = media_address(cfg_, host);
  if (relays_any_call(cfg_)) {
    if (!numeric_ip(rc.bridge.media_address)) {
      return "media.advertise: must be a numeric IP address (SDP carries " +
             rc.bridge.media_address + ")";
    }
    rtp::EngineConfig ec;
    ec.listen_ip = cfg_.media.listen_ip;
    ec.port_min = cfg_.media.port_min;
    ec.port_max = cfg_.media.port_max;
    ec.workers = cfg_.media.workers;
    ec.cpus = cfg_.media.cpus;
    ec.rt_priority = static_cast<int>(cfg_.media.rt_priority);
    ec.latch = cfg_.media.latch == "sdp" ? rtp::LatchMode::sdp : rtp::LatchMode::latch;
    p.media = std::make_shared<rtp::Engine>(ec);
    if (std::string err = p.media->start(); !err.empty()) {
      return err;
    }
    rc.bridge.relay_engine = p.media;
  }

  std::shared_ptr<SipPort> port_if = p.sip;
  p.backends = std::make_shared<BackendDirectory>(*p.sys, port_if, cfg_.breaker);
  p.backends->set_groups(cfg_.groups);
  RegistryHooks hooks;
  CallStats* call_stats = &p.call_stats;
  CdrStore* cdr = p.cdr.get();
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
  p.registry = p.sys->spawn(call_registry_actor, std::move(hooks));
  p.transport = p.sys->spawn(sip::transport_actor, port_if);
  p.router =
      p.sys->spawn(router_actor, policy_, rc, p.transport, p.registry, port_if, p.backends);
  caf::anon_send(p.transport, route_atom::value, p.router);

  if (std::string err = p.sip->start(p.transport); !err.empty()) {
    shutdown_actors();
    return err;
  }
  start_watchdog();
  if (cfg_.api_enabled) {
    const std::string& api_host = api_addr->first;
    if (cfg_.api_token.empty() && api_host != "127.0.0.1" && api_host != "::1" &&
        api_host != "localhost") {
      spdlog::warn("b2bua.api.no_token: the API listens on {} without api.token", cfg_.api_listen);
    }
    p.rest = std::make_unique<RestServer>(make_backend(), cfg_.api_token);
    if (std::string err = p.rest->start(api_addr->first, api_addr->second); !err.empty()) {
      p.watchdog.reset();
      p.sip->stop();
      shutdown_actors();
      return err;
    }
  }
  started_ = std::chrono::steady_clock::now();
  running_ = true;
  spdlog::info("b2bua: SIP on {}, API on {}, max_calls {}, {} route(s){}", cfg_.sip_listen,
               cfg_.api_enabled ? cfg_.api_listen : std::string("(off)"), cfg_.max_calls,
               cfg_.routes.size(), cfg_.routes.empty() ? " (pass-through)" : "");
  if (cfg_.auth.enabled) {
    spdlog::info("b2bua: digest auth on, realm {}, {} user(s), {} trusted network(s), {} challenge",
                 cfg_.auth.realm, cfg_.auth.users.size(), cfg_.auth.trusted.size(),
                 cfg_.auth.challenge == "proxy" ? "407" : "401");
  }
  return {};
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
