// Routing of REST requests: a table of exact paths and of collections with one parameter below.
#include "api/rest/detail/rest_route.hpp"

#include <array>

namespace b2bua::api {
namespace {

struct Entry {
  std::string_view path;  ///< exact, or the prefix of a one-segment parameter when `below`
  bool below;
  RestResource resource;
  const char* allow;
};

constexpr std::array<Entry, 12> table = {{
    {"/health", false, RestResource::health, "GET"},
    {"/ready", false, RestResource::ready, "GET"},
    {"/metrics", false, RestResource::metrics, "GET"},
    {"/v1", false, RestResource::openapi, "GET"},
    {"/v1/stats", false, RestResource::stats, "GET"},
    {"/v1/backends", false, RestResource::backends, "GET"},
    {"/v1/cdrs", false, RestResource::cdrs, "GET"},
    {"/v1/routes", false, RestResource::routes, "GET, PUT"},
    {"/v1/calls", false, RestResource::calls, "GET"},
    {"/v1/calls/", true, RestResource::call, "GET, DELETE"},
    {"/v1/backends/", true, RestResource::backend, "PUT"},
    {"/v1/cdrs/", true, RestResource::cdr, "GET"},
}};

/// "/v1/calls/17" below "/v1/calls/" -> "17"; false when not exactly one segment below (an empty
/// one counts: "/v1/calls/" names the call "", which its handler refuses as a bad id).
bool one_below(std::string_view path, std::string_view prefix, std::string_view& param) {
  if (path.substr(0, prefix.size()) != prefix ||
      path.find('/', prefix.size()) != std::string_view::npos) {
    return false;
  }
  param = path.substr(prefix.size());
  return true;
}

/// `method` is one of the comma-separated names in `allow`.
bool allowed(std::string_view method, std::string_view allow) {
  while (!allow.empty()) {
    const auto comma = allow.find(',');
    if (allow.substr(0, comma) == method) {
      return true;
    }
    if (comma == std::string_view::npos) {
      break;
    }
    allow.remove_prefix(comma + 1);
    while (!allow.empty() && allow.front() == ' ') {
      allow.remove_prefix(1);
    }
  }
  return false;
}

}  // namespace

RestRoute route_rest(std::string_view method, std::string_view target) noexcept {
  RestRoute r;
  const auto mark = target.find('?');
  r.path = target.substr(0, mark);
  r.query = mark == std::string_view::npos ? std::string_view{} : target.substr(mark + 1);
  r.guarded = r.path != "/health" && r.path != "/ready";
  for (const auto& e : table) {
    std::string_view param;
    if (e.below ? one_below(r.path, e.path, param) : r.path == e.path) {
      r.resource = e.resource;
      r.param = param;
      r.allow = e.allow;
      r.method_ok = allowed(method, e.allow);
      break;
    }
  }
  return r;
}

const char* to_string(RestResource r) noexcept {
  for (const auto& e : table) {
    if (e.resource == r) {
      return e.path.data();
    }
  }
  return "not_found";
}

}  // namespace b2bua::api
