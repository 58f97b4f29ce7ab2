// Fuzzes a REST request as b2buad's API answers it, without a socket: the routing of method and
// target, the query strings and ids, and the JSON bodies of PUT /v1/routes and PUT
// /v1/backends/{uri} (through parse_routes, as the engine validates them). Input: "METHOD TARGET"
// on the first line, the body after it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "api/config/config.hpp"
#include "api/rest/detail/rest_handlers.hpp"
#include "api/rest/detail/rest_json.hpp"
#include "api/rest/detail/rest_route.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace {

using namespace b2bua::api;
using json = nlohmann::json;

b2bua::CallInfo call(const std::string& from, const std::string& to) {
  b2bua::CallInfo c;
  c.id = 7;
  c.from = from;
  c.to = to;
  c.state = "answered";
  c.target = "sip:pbx@127.0.0.1:5080";
  c.backend = "sip:127.0.0.1:5080";
  c.start_ms = 1'700'000'000'000;
  return c;
}

/// A backend like the engine's, with the routes validated by parse_routes and one CDR per page.
RestBackend backend(json& routes) {
  RestBackend b;
  b.routes = [&routes] { return routes; };
  b.replace_routes = [&routes](const json& r) -> std::string {
    b2bua::GroupSpec pbx;
    pbx.name = "pbx";
    auto parsed = parse_routes(r, {pbx});
    if (auto* err = std::get_if<std::string>(&parsed)) {
      return *err;
    }
    routes = r;
    return {};
  };
  b.set_backend_disabled = [](const std::string& uri, bool) { return uri == "sip:127.0.0.1:5080"; };
  b.cdrs = [](const CdrQuery& q) -> std::variant<CdrPage, std::string> {
    CdrRecord r;
    r.id = 1;
    r.from = q.from;
    r.to = q.to;
    r.start_ms = q.since_ms;
    r.end_ms = q.until_ms;
    return CdrPage{{r}, 1};
  };
  b.cdr = [](std::int64_t id, std::string*) -> std::optional<CdrRecord> {
    if (id % 2 == 0) {
      return std::nullopt;
    }
    CdrRecord r;
    r.id = id;
    r.start_ms = id;
    return r;
  };
  return b;
}

/// The calls collection: the query read as GET /v1/calls reads it, then one page filtered.
void calls(std::string_view query, const std::string& body) {
  const auto q = parse_query(query);
  if (!q) {
    return;
  }
  const auto filter = read_call_filter(*q);
  if (const auto* f = std::get_if<CallFilter>(&filter)) {
    (void)filter_calls({call(body, "sip:bob@h"), call("sip:alice@h", body)}, *f);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto f = b2bua::fuzz::fields(b2bua::fuzz::as_text(data, size), 2);
  const auto sp = f[0].find(' ');
  const auto method = f[0].substr(0, sp);
  const auto target = sp == std::string_view::npos ? std::string_view{} : f[0].substr(sp + 1);
  const std::string body{f[1]};
  const RestRoute r = route_rest(method, target);
  json routes = json::array();
  const RestBackend b = backend(routes);
  Answer a;
  switch (r.resource) {
    case RestResource::routes:
      a = method == "PUT" ? put_routes(b, body) : get_routes(b);
      break;
    case RestResource::backend:
      a = put_backend(b, r.param, body);
      break;
    case RestResource::cdrs:
      a = get_cdrs(b, r.query);
      break;
    case RestResource::cdr:
      a = get_cdr(b, r.param);
      break;
    case RestResource::calls:
      calls(r.query, body);
      break;
    case RestResource::call:
      (void)parse_uint(r.param, 1, UINT64_MAX);
      break;
    default:
      (void)parse_time(r.query);
      break;
  }
  // The server sends every body this way (invalid UTF-8 replaced, never thrown).
  (void)a.body.dump(-1, ' ', false, json::error_handler_t::replace);
  return 0;
}
