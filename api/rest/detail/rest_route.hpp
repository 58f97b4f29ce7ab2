// Routing of REST requests: method and request target in, the resource and what the path names out.
// Pure, no Beast: the Beast session (rest_server.cpp) acts on the result; unit-tested and fuzzed
// directly. Any thread.
#pragma once

#include <cstdint>
#include <string_view>

namespace b2bua::api {

/// The resources of schemas/openapi.json, plus `not_found`.
enum class RestResource : std::uint8_t {
  health,     ///< GET /health
  ready,      ///< GET /ready
  metrics,    ///< GET /metrics
  openapi,    ///< GET /v1
  stats,      ///< GET /v1/stats
  backends,   ///< GET /v1/backends
  cdrs,       ///< GET /v1/cdrs
  routes,     ///< GET, PUT /v1/routes
  calls,      ///< GET /v1/calls
  call,       ///< GET, DELETE /v1/calls/{id}
  backend,    ///< PUT /v1/backends/{uri}
  cdr,        ///< GET /v1/cdrs/{id}
  not_found,  ///< no such resource
};

/// Where one request goes. The views point into the target given to route_rest.
struct RestRoute {
  RestResource resource = RestResource::not_found;
  std::string_view path;   ///< the target up to the first '?'
  std::string_view query;  ///< after the first '?'; empty when none
  std::string_view param;  ///< {id} or {uri} as written in the path (not decoded); else empty
  /// The methods the resource takes, for the Allow header of a 405 ("" for not_found).
  const char* allow = "";
  /// `method` is one of `allow`.
  bool method_ok = false;
  /// A bearer token guards it (everything but /health and /ready).
  bool guarded = true;
};

/// Routes `method` (as sent, case-sensitive: "GET", "PUT", "DELETE") to `target` ("/v1/calls/7?x").
/// A {id} or {uri} is exactly one path segment below its collection, possibly empty (the handler
/// refuses an empty one). Never throws.
RestRoute route_rest(std::string_view method, std::string_view target) noexcept;

const char* to_string(RestResource r) noexcept;

}  // namespace b2bua::api
