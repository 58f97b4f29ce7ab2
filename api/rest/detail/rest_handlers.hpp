// The synchronous REST endpoints as pure functions: backend + request text in, Answer out. The
// Beast session (rest_server.cpp) only routes, authenticates and does the I/O. API thread.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api/rest/rest_backend.hpp"

namespace b2bua::api {

/// What to send back: a status and a JSON body, or a text body with its content type.
struct Answer {
  int status = 200;
  nlohmann::json body;
  std::string text;  ///< used instead of `body` when not empty
  std::string content_type = "application/json";
};

Answer json_answer(int status, nlohmann::json body);

Answer error_answer(int status, const std::string& code, const std::string& message,
                    nlohmann::json details = nullptr);

/// GET /health: 200 {"status": "ok"}, or 503 sip_stalled once the SIP thread is stalled.
Answer get_health(const RestBackend& b);
/// GET /ready: 200 {"status": "ready"}; 503 sip_stalled, or 503 not_ready (starting, draining).
Answer get_ready(const RestBackend& b);
Answer get_stats(const RestBackend& b);
Answer get_metrics(const RestBackend& b);
Answer get_openapi();
Answer get_backends(const RestBackend& b);
/// PUT /v1/backends/{uri} with {"state": "disabled"|"enabled"}; `name` as in the path (encoded).
Answer put_backend(const RestBackend& b, std::string_view name, const std::string& body);
Answer get_routes(const RestBackend& b);
/// Body: {"routes": [...]}. 400 bad_json, bad_request (shape) or bad_routes (details: path, rule).
Answer put_routes(const RestBackend& b, const std::string& body);
Answer get_cdrs(const RestBackend& b, std::string_view query);
Answer get_cdr(const RestBackend& b, std::string_view id_text);

}  // namespace b2bua::api
