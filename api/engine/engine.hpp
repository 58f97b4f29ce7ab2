// Engine: composes one running B2BUA - the actor system, the sofia thread, the transport, router and
// registry actors, and the REST server. b2buad and SimpleB2bua are both thin shells around it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "actors/breaker.hpp"
#include "actors/protocol/leg_event.hpp"
#include "actors/protocol/call_types.hpp"
#include "actors/route_table.hpp"
#include "api/config/config.hpp"
#include "api/rest/rest_backend.hpp"

namespace caf {
class actor;
class actor_system;
}  // namespace caf

namespace b2bua {
struct RegistryHooks;
struct RouterConfig;
}  // namespace b2bua

namespace b2bua::api {

class Engine {
public:
  /// `policy` decides routes; without one the config's `routes` (or pass-through) decide.
  explicit Engine(Config cfg, RoutePolicy policy = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Starts everything. Returns "" on success, else one line naming what failed (a port in use).
  /// Call once, from the owner's thread.
  std::string start();

  /// Graceful stop: refuse new calls (503), hang up active calls and wait for them to end (at most
  /// `timers.drain_ms`), then stop the API, SIP and the actors. Idempotent; owner's thread only.
  void stop();

  bool running() const { return running_; }

  /// Before start(): `fn` gets every published leg event of every call (dtmf digits from INFO or
  /// RFC 4733, hold, resume). It runs inside the call registry actor: quick, never blocking.
  void on_event(std::function<void(const CallEvent&)> fn) { on_event_ = std::move(fn); }

  /// Before start(): `fn` runs once when the watchdog (sip.watchdog_ms) declares the SIP thread
  /// stalled, in the watchdog thread, before the stall and the thread's backtrace are logged;
  /// keep it short and do not block on the log. By then new calls are refused and /health and
  /// /ready answer 503 sip_stalled; b2buad exits from here (status 70).
  void on_sip_stall(std::function<void()> fn) { on_sip_stall_ = std::move(fn); }

  /// True once the watchdog declared the SIP thread stalled (it stays true). Any thread.
  bool sip_stalled() const;

  /// While running: `who` gets (event_atom, CallEvent) for every leg event from now on, until it
  /// exits or sends (unsub_atom, itself) to registry(). False when not running or `who` is null.
  bool subscribe(const caf::actor& who);

  /// While running: the actor system, for embedding CAF programs that spawn their own actors
  /// (e.g. an event subscriber), and the call registry actor (see actors/call_registry.hpp).
  caf::actor_system& system();
  caf::actor registry() const;

  /// Calls whose caller leg is alive. Any thread, never blocks.
  std::size_t call_count() const;

  /// A snapshot of the live calls. Blocks the calling thread (at most `timeout`); never call it
  /// from an actor. Empty on timeout.
  std::vector<CallInfo> list_calls(std::chrono::milliseconds timeout = std::chrono::seconds(2));

  StatsSnapshot stats() const;

  /// Applies a new config's `routes` and `groups` without touching calls in progress (SIGHUP).
  /// Other keys need a restart: they are compared and named in the log. Returns "" or why the
  /// new config was not applied (the old rules stay). Any thread.
  std::string reload(const Config& next);

  /// The backends and their breakers, for the REST API. Any thread, never blocks.
  std::vector<std::shared_ptr<const BackendStatus>> backends() const;

  /// Every metric in the Prometheus text format. Any thread, never blocks.
  std::string metrics() const;

  /// Validates a new `routes` array with the config's rules (groups must exist) and swaps it in
  /// atomically; calls in progress keep their route. "" on success, else one line naming the rule
  /// and the field. Any thread (PUT /v1/routes). Refused when an embedding program's policy does
  /// the routing.
  std::string replace_routes(const nlohmann::json& routes);

  /// The `routes` array in force (null when an embedding program's policy does the routing).
  nlohmann::json routes() const;

  std::uint16_t sip_port() const;
  std::uint16_t api_port() const;
  const Config& config() const { return cfg_; }

private:
  // start(): each part from its settings (detail/engine_settings.hpp), in start-up order.
  std::string open_cdr_store();  // engine_backend.cpp
  void start_actor_system();
  std::string start_media(RouterConfig& rc);
  void spawn_actors(RouterConfig rc);
  RegistryHooks registry_hooks();
  void start_watchdog();  // engine_watchdog.cpp
  std::string start_api();
  void log_started() const;
  RestBackend make_backend();
  void shutdown_actors();
  void stalled();

  struct Parts;
  Config cfg_;
  RoutePolicy policy_;
  std::function<void(const CallEvent&)> on_event_;
  std::function<void()> on_sip_stall_;
  std::shared_ptr<RuleSet> rules_;  ///< the config's rules when no policy was given
  std::unique_ptr<Parts> parts_;
  bool running_ = false;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace b2bua::api
