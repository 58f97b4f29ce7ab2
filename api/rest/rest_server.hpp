// The REST API of b2buad: a small HTTP/1.1 server (Boost.Beast, one "b2b-api" thread) that answers
// health, readiness, metrics, stats, calls, call records, backends and routes from a RestBackend.
// Beast stays in the .cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "actors/protocol/call_types.hpp"
#include "api/rest/rest_backend.hpp"
#include "api/rest/detail/rest_json.hpp"

namespace b2bua::api {

/// Serves the endpoints of schemas/openapi.json: GET /health, /ready, /metrics, /v1, /v1/stats,
/// /v1/calls, /v1/backends, /v1/routes, /v1/cdrs, /v1/cdrs/{id}; GET and DELETE /v1/calls/{id};
/// PUT /v1/routes.
///
/// One io_context runs on one thread named "b2b-api". Backend callbacks that answer later (on any
/// thread) are posted back onto that thread; a backend silent for 3 s gets a 503 (DELETE waits
/// 10 s, then 504). Requests are limited to 8 KiB of headers and 64 KiB of body (413 beyond),
/// idle connections to 30 s. With a token, every path but /health and /ready needs
/// "Authorization: Bearer <token>" (401 otherwise).
/// Every method of this class is called from the owning thread (usually main), never concurrently.
class RestServer {
 public:
  /// Keeps the backend; a non-empty `token` is required as a bearer token (see above).
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

/// The OpenAPI document of this API (schemas/openapi.json, compiled in). Any thread.
const char* openapi_text();

}  // namespace b2bua::api
