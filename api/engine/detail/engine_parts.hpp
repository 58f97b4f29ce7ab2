// Engine::Parts: the running pieces of an Engine, shared by engine.cpp (start-up, shutdown) and
// engine_backend.cpp (REST backend, metrics, route replacement). Private to the api folder.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>

#include "actors/backend_group.hpp"
#include "api/records/call_stats.hpp"
#include "api/records/cdr_store.hpp"
#include "api/engine/engine.hpp"
#include "api/rest/rest_server.hpp"
#include "rtp/relay_engine.hpp"
#include "sip/sip_stack.hpp"
#include "sip/watchdog.hpp"

namespace b2bua::api {

// Answers the REST server's questions by asking the registry from a short-lived actor, so neither
// the API thread nor any actor ever blocks.
template <class Reply, class Done, class... Ts>
void ask_registry(caf::actor_system& sys, caf::actor registry, std::chrono::milliseconds timeout,
                  Done done, Ts... xs) {
  sys.spawn([=](caf::event_based_actor* self) {
    self->request(registry, timeout, xs...)
        .then([=](Reply& r) { done(std::optional<Reply>(std::move(r))); },
              [=](caf::error&) { done(std::optional<Reply>()); });
  });
}

// How long DELETE /v1/calls/{id} waits for both legs to be gone (the REST server waits a bit
// longer): a BYE answered at once takes milliseconds; a silent callee is given up on by NUA later.
inline constexpr auto hangup_wait = std::chrono::milliseconds(9000);
inline constexpr auto registry_wait = std::chrono::milliseconds(2000);

// Declared before the actor system so that they outlive it: the registry's hooks use them.
struct Engine::Parts {
  std::unique_ptr<CdrStore> cdr;  ///< null when cdr.path is ""
  CallStats call_stats;
  std::unique_ptr<caf::actor_system_config> caf_cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::shared_ptr<sip::SipStack> sip;
  caf::actor registry;
  caf::actor router;
  caf::actor transport;
  std::unique_ptr<RestServer> rest;
  std::shared_ptr<rtp::Engine> media;  ///< null when no call can be relayed (bypass everywhere)
  std::shared_ptr<BackendDirectory> backends;
  std::unique_ptr<sip::Watchdog> watchdog;  ///< null when sip.watchdog_ms is 0; stopped before sip
  std::mutex reload_mu;  ///< serializes route replacements (reload, PUT /v1/routes) and guards
                         ///< cfg_.routes, cfg_.routes_json and cfg_.groups while they change
};

}  // namespace b2bua::api
