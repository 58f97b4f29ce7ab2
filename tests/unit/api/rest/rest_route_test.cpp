// REST routing without a socket: method and target in, resource, parameter and method check out.
#include "api/rest/detail/rest_route.hpp"

#include <string>

#include <doctest/doctest.h>

namespace {

using namespace b2bua::api;
using R = RestResource;

struct Case {
  const char* method;
  const char* target;
  R resource;
  const char* param;
  const char* query;
  bool method_ok;
  bool guarded;
};

}  // namespace

TEST_CASE("route_rest maps method and target to the resource, its parameter and the method check") {
  const Case cases[] = {
      {"GET", "/health", R::health, "", "", true, false},
      {"POST", "/health", R::health, "", "", false, false},
      {"GET", "/ready", R::ready, "", "", true, false},
      {"GET", "/ready?x=1", R::ready, "", "x=1", true, false},
      {"GET", "/metrics", R::metrics, "", "", true, true},
      {"GET", "/v1", R::openapi, "", "", true, true},
      {"GET", "/v1/stats", R::stats, "", "", true, true},
      {"GET", "/v1/backends", R::backends, "", "", true, true},
      {"PUT", "/v1/backends", R::backends, "", "", false, true},
      {"GET", "/v1/cdrs?since=0&limit=5", R::cdrs, "", "since=0&limit=5", true, true},
      {"GET", "/v1/routes", R::routes, "", "", true, true},
      {"PUT", "/v1/routes", R::routes, "", "", true, true},
      {"DELETE", "/v1/routes", R::routes, "", "", false, true},
      {"GET", "/v1/calls?state=answered", R::calls, "", "state=answered", true, true},
      {"GET", "/v1/calls/17", R::call, "17", "", true, true},
      {"DELETE", "/v1/calls/17", R::call, "17", "", true, true},
      {"PUT", "/v1/calls/17", R::call, "17", "", false, true},
      {"GET", "/v1/calls/", R::call, "", "", true, true},
      {"GET", "/v1/calls/1?a=b?c", R::call, "1", "a=b?c", true, true},
      {"PUT", "/v1/backends/sip%3Ab%40h", R::backend, "sip%3Ab%40h", "", true, true},
      {"GET", "/v1/backends/x", R::backend, "x", "", false, true},
      {"GET", "/v1/cdrs/9", R::cdr, "9", "", true, true},
      // Not one segment below, not ours, or case-different: 404.
      {"GET", "/v1/calls/1/x", R::not_found, "", "", false, true},
      {"GET", "/v1/calls/1/", R::not_found, "", "", false, true},
      {"GET", "/v1/calls1", R::not_found, "", "", false, true},
      {"GET", "/V1/stats", R::not_found, "", "", false, true},
      {"GET", "/v1/", R::not_found, "", "", false, true},
      {"GET", "/health/", R::not_found, "", "", false, true},
      {"GET", "", R::not_found, "", "", false, true},
      {"GET", "?", R::not_found, "", "", false, true},
      {"GET", "*", R::not_found, "", "", false, true},
      // Methods are case-sensitive (RFC 9110 9.1).
      {"get", "/health", R::health, "", "", false, false},
      {"GE", "/v1/routes", R::routes, "", "", false, true},
      {"GET, PUT", "/v1/routes", R::routes, "", "", false, true},
      {"", "/v1/routes", R::routes, "", "", false, true},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string{c.method});
    CAPTURE(std::string{c.target});
    const RestRoute r = route_rest(c.method, c.target);
    CHECK(to_string(r.resource) == std::string{to_string(c.resource)});
    CHECK(r.param == c.param);
    CHECK(r.query == c.query);
    CHECK(r.method_ok == c.method_ok);
    CHECK(r.guarded == c.guarded);
  }
}

TEST_CASE("route_rest names the allowed methods of a resource for the Allow header") {
  CHECK(std::string{route_rest("POST", "/v1/routes").allow} == "GET, PUT");
  CHECK(std::string{route_rest("POST", "/v1/calls/3").allow} == "GET, DELETE");
  CHECK(std::string{route_rest("GET", "/v1/backends/b").allow} == "PUT");
  CHECK(std::string{route_rest("GET", "/nope").allow}.empty());
}
