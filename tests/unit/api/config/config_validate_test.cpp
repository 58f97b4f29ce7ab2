// Unit tests of validate(Config): the rules on a whole config, the same for a file and for a
// config built in code (SimpleB2bua, an embedding program's Engine).
#include "api/config/config.hpp"

#include <functional>
#include <string>
#include <variant>

#include <doctest/doctest.h>

using namespace b2bua;
using namespace b2bua::api;

namespace {

RouteRule route_to_group(std::string group) {
  RouteRule r;
  r.name = "r0";
  r.group = std::move(group);
  return r;
}

}  // namespace

TEST_CASE("validate accepts the defaults and names the key and rule of each broken one") {
  struct Case {
    const char* what;
    std::function<void(Config&)> change;
    std::string error;
  };
  const Case cases[] = {
      {"defaults", [](Config&) {}, ""},
      {"sip.listen without a port", [](Config& c) { c.sip_listen = "0.0.0.0"; },
       "sip.listen: must be host:port with a port 0-65535"},
      {"sip.listen port out of range", [](Config& c) { c.sip_listen = "127.0.0.1:65536"; },
       "sip.listen: must be host:port with a port 0-65535"},
      {"api.listen malformed", [](Config& c) { c.api_listen = "localhost"; },
       "api.listen: must be host:port with a port 0-65535"},
      {"api.listen malformed with the API off",
       [](Config& c) {
         c.api_enabled = false;
         c.api_listen = ":8080";
       },
       "api.listen: must be host:port with a port 0-65535"},
      {"auth on without a realm", [](Config& c) { c.auth.enabled = true; },
       "auth.realm: is required when auth is enabled"},
      {"auth on with a realm",
       [](Config& c) {
         c.auth.enabled = true;
         c.auth.realm = "example.com";
       },
       ""},
      {"auth off without a realm", [](Config& c) { c.auth.enabled = false; }, ""},
      {"a route naming no group", [](Config& c) { c.routes = {route_to_group("pbx")}; },
       "routes[0].group: names no group in \"groups\""},
      {"a route naming a group",
       [](Config& c) {
         c.routes = {route_to_group("pbx")};
         GroupSpec g;
         g.name = "pbx";
         c.groups = {g};
       },
       ""},
      {"setup deadline equal to no answer + route timeout",
       [](Config& c) {
         c.no_answer_ms = 60000;
         c.route_timeout_ms = 2000;
         c.setup_deadline_ms = 62000;
       },
       "timers.setup_deadline_ms: must be larger than timers.no_answer_ms + "
       "timers.route_timeout_ms (62000)"},
      {"setup deadline one more",
       [](Config& c) {
         c.no_answer_ms = 60000;
         c.route_timeout_ms = 2000;
         c.setup_deadline_ms = 62001;
       },
       ""},
  };
  for (const auto& k : cases) {
    CAPTURE(k.what);
    Config c;
    k.change(c);
    CHECK(validate(c) == k.error);
  }
}

TEST_CASE("parse_config reports validate's line for a file that breaks the same rule") {
  struct Case {
    const char* text;
    std::function<void(Config&)> change;
  };
  const Case cases[] = {
      {R"({"auth": {}})", [](Config& c) { c.auth.enabled = true; }},
      {R"({"sip": {"listen": "127.0.0.1"}})", [](Config& c) { c.sip_listen = "127.0.0.1"; }},
      {R"({"timers": {"setup_deadline_ms": 1000}})",
       [](Config& c) { c.setup_deadline_ms = 1000; }},
  };
  for (const auto& k : cases) {
    CAPTURE(k.text);
    Config c;
    k.change(c);
    const std::string expected = validate(c);
    REQUIRE(!expected.empty());
    auto parsed = parse_config(k.text);
    REQUIRE(std::holds_alternative<std::string>(parsed));
    CHECK(std::get<std::string>(parsed) == expected);
  }
}
