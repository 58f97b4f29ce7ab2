// SimpleB2bua: the embeddable facade. A working B2BUA in a few lines:
//
//   b2bua::SimpleB2bua b2b("my-b2bua", 5060);
//   b2b.on_route([](const std::string& from, const std::string& to) { return "sip:10.0.0.2:5060"; });
//   b2b.run();
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actors/protocol/call_types.hpp"
#include "actors/route_table.hpp"
#include "api/config.hpp"

namespace b2bua {

namespace api {
class Engine;
}

class SimpleB2bua {
public:
  /// Synchronous routing: the caller's From and To URIs in, the target URI out ("" = 404). Runs
  /// on a CAF worker: it must return quickly. A target without a user part keeps the called user.
  using RouteFn = std::function<std::string(const std::string& from, const std::string& to)>;
  /// Asynchronous routing: call `reply` (from any thread, exactly once) when the decision is made,
  /// within `timers.route_timeout_ms`. The callback itself must not block.
  using AsyncRouteFn = std::function<void(const IncomingCall& call, RouteReply reply)>;

  /// Listens for SIP on 0.0.0.0:`port`. `name` is the User-Agent and the log prefix.
  SimpleB2bua(std::string name, std::uint16_t port);
  /// Listens for SIP on `address` ("host:port").
  SimpleB2bua(std::string name, std::string address);
  ~SimpleB2bua();
  SimpleB2bua(const SimpleB2bua&) = delete;
  SimpleB2bua& operator=(const SimpleB2bua&) = delete;

  SimpleB2bua& on_route(RouteFn fn);
  SimpleB2bua& on_route_async(AsyncRouteFn fn);
  /// Serves the REST API on `address` ("host:port"); off unless called.
  SimpleB2bua& api(std::string address);
  /// The full configuration, for anything the shortcuts above do not cover. Before start().
  api::Config& config() { return cfg_; }

  /// Starts serving and returns. Throws std::runtime_error with one line when it cannot (port in use).
  void start();
  /// Starts (unless started) and serves until SIGINT or SIGTERM, then stops gracefully.
  /// Call from the main thread.
  void run();
  /// Refuses new calls, hangs up live ones (at most timers.drain_ms) and stops. Idempotent.
  void stop();

  /// Calls whose caller leg is alive. Any thread.
  std::size_t call_count() const;
  /// The live calls. Blocks the calling thread for at most 2 s; not from an actor.
  std::vector<CallInfo> list_calls();
  /// The SIP port actually bound (after start()).
  std::uint16_t sip_port() const;

private:
  std::string name_;
  api::Config cfg_;
  RoutePolicy policy_;
  std::unique_ptr<api::Engine> engine_;
};

}  // namespace b2bua
