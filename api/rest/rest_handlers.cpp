// The synchronous REST endpoints: stats, metrics, the OpenAPI document, backends, routes, CDRs.
#include "api/rest/detail/rest_handlers.hpp"

#include "api/rest/detail/rest_json.hpp"
#include "api/rest/rest_server.hpp"

namespace b2bua::api {

namespace {

using json = nlohmann::json;

Answer unavailable(const std::string& what) {
  return error_answer(503, "backend_unavailable", what);
}

// The watchdog's verdict (sip/watchdog.hpp): the SIP thread cannot take or answer calls; b2buad
// exits shortly after for its service manager to restart it.
Answer sip_stalled() {
  return error_answer(503, "sip_stalled",
                      "the SIP thread is stalled: its event loop has not turned within "
                      "sip.watchdog_ms; no calls are admitted");
}

Answer bad_query(const QueryError& e) {
  return error_answer(400, "bad_query", "query parameter " + e.parameter + ": " + e.rule,
                      json{{"parameter", e.parameter}, {"rule", e.rule}});
}

}  // namespace

Answer error_answer(int status, const std::string& code, const std::string& message,
                    nlohmann::json details) {
  return json_answer(status, error_body(code, message, std::move(details)));
}

Answer json_answer(int status, nlohmann::json body) {
  Answer a;
  a.status = status;
  a.body = std::move(body);
  return a;
}

Answer get_health(const RestBackend& b) {
  if (b.sip_stalled && b.sip_stalled()) {
    return sip_stalled();
  }
  return json_answer(200, json{{"status", "ok"}});
}

Answer get_ready(const RestBackend& b) {
  if (b.sip_stalled && b.sip_stalled()) {
    return sip_stalled();
  }
  if (b.ready && b.ready()) {
    return json_answer(200, json{{"status", "ready"}});
  }
  return error_answer(503, "not_ready", "starting or draining");
}

Answer get_stats(const RestBackend& b) {
  if (!b.stats) {
    return unavailable("no stats source");
  }
  return json_answer(200, to_json(b.stats()));
}

Answer get_metrics(const RestBackend& b) {
  if (!b.metrics) {
    return unavailable("no metrics source");
  }
  Answer a;
  a.text = b.metrics();
  a.content_type = "text/plain; version=0.0.4; charset=utf-8";
  return a;
}

Answer get_openapi() {
  json doc = json::parse(openapi_text(), nullptr, false);
  if (doc.is_discarded()) {
    return error_answer(500, "internal", "the compiled-in OpenAPI document does not parse");
  }
  return json_answer(200, std::move(doc));
}

Answer get_backends(const RestBackend& b) {
  json j = b.backends ? b.backends() : json{{"backends", json::array()}};
  if (!j.is_object() || !j.contains("backends")) {
    j = json{{"backends", json::array()}};
  }
  return json_answer(200, std::move(j));
}

Answer put_backend(const RestBackend& b, std::string_view name, const std::string& body) {
  // The path segment is percent-decoded like a query value.
  auto decoded = parse_query("uri=" + std::string(name));
  if (!decoded || decoded->count("uri") == 0 || decoded->at("uri").empty()) {
    return error_answer(400, "bad_request", "the backend URI in the path is malformed");
  }
  const std::string uri = decoded->at("uri");
  const json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) {
    return error_answer(400, "bad_json", "the body is not valid JSON");
  }
  const bool shape = j.is_object() && j.size() == 1 && j.contains("state") && j["state"].is_string();
  const std::string state = shape ? j["state"].get<std::string>() : std::string();
  if (state != "disabled" && state != "enabled") {
    return error_answer(400, "bad_request", R"(the body must be {"state": "disabled"} or {"state": "enabled"})");
  }
  if (!b.set_backend_disabled) {
    return unavailable("no backends");
  }
  if (!b.set_backend_disabled(uri, state == "disabled")) {
    return error_answer(404, "not_found", "no such backend: " + uri);
  }
  return json_answer(202, json{{"uri", uri}, {"state", state}});
}

Answer get_routes(const RestBackend& b) {
  if (!b.routes) {
    return unavailable("routing is decided by the embedding program, not by rules");
  }
  return json_answer(200, json{{"routes", b.routes()}});
}

Answer put_routes(const RestBackend& b, const std::string& body) {
  if (!b.replace_routes || !b.routes) {
    return unavailable("routing is decided by the embedding program, not by rules");
  }
  const json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) {
    return error_answer(400, "bad_json", "the body is not valid JSON");
  }
  if (!j.is_object() || !j.contains("routes") || j.size() != 1) {
    return error_answer(400, "bad_request", "the body must be {\"routes\": [...]}");
  }
  const std::string err = b.replace_routes(j["routes"]);
  if (!err.empty()) {
    const auto colon = err.find(": ");
    json details = colon == std::string::npos
                       ? json{{"path", "routes"}, {"rule", err}}
                       : json{{"path", err.substr(0, colon)}, {"rule", err.substr(colon + 2)}};
    return error_answer(400, "bad_routes", err, std::move(details));
  }
  return json_answer(200, json{{"routes", b.routes()}});
}

Answer get_cdrs(const RestBackend& b, std::string_view query) {
  auto params = parse_query(query);
  if (!params) {
    return error_answer(400, "bad_query", "malformed query string (bad escape or repeated name)");
  }
  auto q = read_cdr_query(*params);
  if (auto* e = std::get_if<QueryError>(&q)) {
    return bad_query(*e);
  }
  if (!b.cdrs) {
    return unavailable("call records are off (cdr.path is empty)");
  }
  const auto& cq = std::get<CdrQuery>(q);
  auto page = b.cdrs(cq);
  if (auto* err = std::get_if<std::string>(&page)) {
    return error_answer(500, "cdr_store", "call record store: " + *err);
  }
  return json_answer(200, to_json(std::get<CdrPage>(page), cq));
}

Answer get_cdr(const RestBackend& b, std::string_view id_text) {
  const auto id = parse_uint(id_text, 1, INT64_MAX);
  if (!id) {
    return error_answer(400, "bad_id",
                        "record id must be a positive decimal integer below 2^63: " +
                            std::string{id_text});
  }
  if (!b.cdr) {
    return unavailable("call records are off (cdr.path is empty)");
  }
  std::string error;
  auto r = b.cdr(static_cast<std::int64_t>(*id), &error);
  if (r) {
    return json_answer(200, to_json(*r));
  }
  if (!error.empty()) {
    return error_answer(500, "cdr_store", "call record store: " + error);
  }
  return error_answer(404, "cdr_not_found", "no such call record: " + std::to_string(*id));
}

}  // namespace b2bua::api
