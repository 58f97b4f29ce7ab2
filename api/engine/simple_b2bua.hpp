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
#include "actors/protocol/leg_event.hpp"
#include "actors/route_table.hpp"
#include "api/config/config.hpp"
#include "api/engine/route_builder.hpp"

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
  /// Rules written in C++ (see RouteBuilder); `build()` installs them, replacing on_route*.
  RouteBuilder routes() { return RouteBuilder(this); }
  /// Installs a rule list (what RouteBuilder::build does). Before start().
  SimpleB2bua& use_rules(std::vector<RouteRule> rules);
  /// Every B leg's INVITE carries this header (after the route's own header policy).
  SimpleB2bua& add_header(std::string name, std::string value);
  /// Calls routed to `primary` go to `backup` when `primary` fails (408, 5xx, no answer within
  /// timers.failover_timeout_ms); both get a circuit breaker. Before start().
  SimpleB2bua& add_failover(std::string primary, std::string backup);
  /// Callers must authenticate with digest (RFC 7616, 401 challenge, MD5) in `realm` before their
  /// INVITE is routed; add the users with add_user. The config's `auth` section has the rest
  /// (trusted networks, rate limiting, 407). Before start().
  SimpleB2bua& require_auth(std::string realm);
  /// A user allowed to call when require_auth is on. Before start().
  SimpleB2bua& add_user(std::string user, std::string password);
  /// Every DTMF digit of every call, from SIP INFO or (relay mode) RFC 4733: the call, whose peer
  /// pressed it ("a" the caller, "b" the callee), the digit (0-9, *, #, A-D) and its duration in
  /// ms (0 when unknown). Runs inside an actor of the B2BUA: it must return quickly and must not
  /// block. Before start().
  using DtmfFn = std::function<void(CallId call, const std::string& role, const std::string& digit,
                                    std::uint32_t duration_ms)>;
  SimpleB2bua& on_dtmf(DtmfFn fn);
  /// Every published leg event (LegEventKind dtmf, hold, resume), same rules as on_dtmf.
  SimpleB2bua& on_event(std::function<void(const CallEvent&)> fn);
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
  RoutePolicy wrapped_policy() const;

  api::Config cfg_;
  RoutePolicy policy_;
  std::vector<HeaderField> headers_;
  DtmfFn on_dtmf_;
  std::function<void(const CallEvent&)> on_event_;
  std::vector<std::pair<std::string, std::string>> failovers_;  ///< primary -> backup
  std::unique_ptr<api::Engine> engine_;
};

}  // namespace b2bua
