// The REST API of b2buad: a small HTTP/1.1 server (Boost.Beast, one "b2b-api" thread) that answers
// health, readiness, stats and call-table requests from a RestBackend. Beast stays in the .cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "actors/protocol/call_types.hpp"
#include "api/rest_backend.hpp"

namespace b2bua::api {

/// Serves GET /health, /ready, /v1/stats, /v1/calls and /v1/calls/{id} as JSON.
///
/// One io_context runs on one thread named "b2b-api". Backend callbacks that answer later (on any
/// thread) are posted back onto that thread; a backend silent for 3 s gets a 503. Requests are
/// limited to 8 KiB of headers and 64 KiB of body (413 beyond), idle connections to 30 s.
/// Every method of this class is called from the owning thread (usually main), never concurrently.
class RestServer {
 public:
  /// Keeps the backend; `token` is reserved for authentication and unused for now.
  explicit RestServer(RestBackend backend, std::string token = {});
  /// Stops the server if it is running.
  ~RestServer();

  RestServer(const RestServer&) = delete;
  RestServer& operator=(const RestServer&) = delete;

  /// Binds host:port (port 0 picks a free one) and starts the "b2b-api" thread.
  /// Returns "" on success, else one line naming the address, e.g.
  /// "api.listen 127.0.0.1:8080: Address already in use". Fails while already running.
  std::string start(const std::string& host, std::uint16_t port);

  /// The bound port (useful after start with port 0); 0 when not running.
  std::uint16_t port() const;

  /// Closes the listener and every connection and joins the thread. Idempotent. Backend callbacks
  /// that arrive afterwards are dropped.
  void stop();

 private:
  struct Impl;
  RestBackend backend_;
  std::string token_;
  std::unique_ptr<Impl> impl_;
};

/// The REST form of a call (see schemas/call.schema.json). Any thread.
nlohmann::json to_json(const CallInfo& call);

/// The REST form of the counters (see schemas/stats.schema.json). Any thread.
nlohmann::json to_json(const StatsSnapshot& stats);

/// The shared error body {"error": {"code", "message", "details"}} (schemas/error.schema.json).
/// Two overloads instead of `details = nullptr`: a default argument of an incomplete type (only
/// json_fwd.hpp is included here) does not compile. Any thread.
nlohmann::json error_body(const std::string& code, const std::string& message);
nlohmann::json error_body(const std::string& code, const std::string& message,
                          nlohmann::json details);

}  // namespace b2bua::api
