// The JSON forms of the REST resources (calls, stats, call records, errors) and the parsing of
// query strings and ids. Pure functions, no Beast: unit-tested directly. Any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/protocol/call_types.hpp"
#include "api/records/cdr_store.hpp"
#include "api/rest/rest_backend.hpp"

namespace b2bua::api {

/// The REST form of a call (schemas/call.schema.json).
nlohmann::json to_json(const CallInfo& call);

/// The REST form of the counters (schemas/stats.schema.json).
nlohmann::json to_json(const StatsSnapshot& stats);

/// The REST form of a call record (schemas/cdr.schema.json).
nlohmann::json to_json(const CdrRecord& cdr);

/// The shared error body {"error": {"code", "message", "details"}} (schemas/error.schema.json).
/// Two overloads rather than a default argument, kept for source compatibility.
nlohmann::json error_body(const std::string& code, const std::string& message);
nlohmann::json error_body(const std::string& code, const std::string& message,
                          nlohmann::json details);

/// "2026-11-24T01:02:03.456Z"; clamped to years 1970..9999.
std::string iso8601(std::int64_t ms);

/// Parses a time given as ISO 8601 UTC ("2026-11-24T01:02:03Z", optional .fff) or as integer
/// milliseconds since the epoch. nullopt when malformed.
std::optional<std::int64_t> parse_time(std::string_view text);

/// A decimal integer in [min, max], nothing else.
std::optional<std::uint64_t> parse_uint(std::string_view text, std::uint64_t min,
                                        std::uint64_t max);

/// A query string ("a=1&b=x%20y", '+' is a space) as a map. nullopt when a name repeats or an
/// escape is malformed.
std::optional<std::map<std::string, std::string>> parse_query(std::string_view query);

/// Paging shared by /v1/calls and /v1/cdrs: limit 1-1000 (default 100), offset >= 0.
struct Paging {
  std::uint32_t limit = 100;
  std::uint64_t offset = 0;
};

/// The filters of GET /v1/calls.
struct CallFilter {
  std::string state;    ///< exact
  std::string from;     ///< contained in the From URI
  std::string to;       ///< contained in the To URI
  std::string backend;  ///< exact, see call_backend
  Paging page;
};

/// A bad query: the parameter and the rule, e.g. {"limit", "must be an integer 1-1000"}.
struct QueryError {
  std::string parameter;
  std::string rule;
};

/// Reads the parameters of GET /v1/calls; unknown parameters are errors.
std::variant<CallFilter, QueryError> read_call_filter(const std::map<std::string, std::string>& q);

/// Reads the parameters of GET /v1/cdrs (since, until, from, to, limit, offset).
std::variant<CdrQuery, QueryError> read_cdr_query(const std::map<std::string, std::string>& q);

/// The backend a call went to (CallInfo::backend, as named in /v1/backends); "" before routing.
std::string call_backend(const CallInfo& call);

/// {"calls": [...], "count", "total", "limit", "offset"}: the page of the calls that match.
nlohmann::json filter_calls(const std::vector<CallInfo>& calls, const CallFilter& filter);

/// {"cdrs": [...], "count", "total", "limit", "offset"}.
nlohmann::json to_json(const CdrPage& page, const CdrQuery& query);

}  // namespace b2bua::api
