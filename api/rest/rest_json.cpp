// The JSON forms of the REST resources and the parsing of query strings, times and ids.
#include "api/rest/detail/rest_json.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdio>

namespace b2bua::api {

namespace {

using json = nlohmann::json;

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

json time_or_null(std::int64_t ms) { return ms > 0 ? json(iso8601(ms)) : json(nullptr); }
json status_or_null(int status) { return status != 0 ? json(status) : json(nullptr); }
json text_or_null(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

json leg_json(const LegInfo& leg) {
  json j = json::object();
  j["id"] = leg.id;
  j["role"] = leg.role;
  j["state"] = leg.state;
  j["call_id"] = leg.call_id;
  j["local_tag"] = text_or_null(leg.local_tag);
  j["remote_tag"] = text_or_null(leg.remote_tag);
  j["remote"] = leg.remote;
  j["last_status"] = status_or_null(leg.last_status);
  j["created_time"] = iso8601(leg.created_ms);
  j["ringing_time"] = time_or_null(leg.ringing_ms);
  j["answered_time"] = time_or_null(leg.answered_ms);
  j["ended_time"] = time_or_null(leg.ended_ms);
  if (leg.media_local.empty()) {
    j["media"] = nullptr;
  } else {
    j["media"] = json{{"local", leg.media_local},
                      {"remote", text_or_null(leg.media_remote)},
                      {"packets", leg.media_packets},
                      {"bytes", leg.media_bytes},
                      {"lost", leg.media_lost},
                      {"jitter_us", leg.media_jitter_us}};
  }
  j["on_hold"] = leg.on_hold;
  j["dtmf"] = leg.dtmf;
  return j;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return needle.empty() || haystack.find(needle) != std::string::npos;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

std::optional<std::string> unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] != '%') {
      out += s[i];
    } else if (i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

// Reads limit and offset; erases them from `q` so that what is left can be checked for unknowns.
std::optional<QueryError> read_paging(std::map<std::string, std::string>& q, Paging& page) {
  if (auto i = q.find("limit"); i != q.end()) {
    auto v = parse_uint(i->second, 1, 1000);
    if (!v) {
      return QueryError{"limit", "must be an integer 1-1000"};
    }
    page.limit = static_cast<std::uint32_t>(*v);
    q.erase(i);
  }
  if (auto i = q.find("offset"); i != q.end()) {
    auto v = parse_uint(i->second, 0, INT64_MAX);
    if (!v) {
      return QueryError{"offset", "must be an integer >= 0"};
    }
    page.offset = *v;
    q.erase(i);
  }
  return std::nullopt;
}

void take(std::map<std::string, std::string>& q, const char* key, std::string& out) {
  if (auto i = q.find(key); i != q.end()) {
    out = i->second;
    q.erase(i);
  }
}

}  // namespace

std::string iso8601(std::int64_t ms) {
  using namespace std::chrono;
  ms = std::clamp<std::int64_t>(ms, 0, 253402300799999);
  const sys_time<milliseconds> tp{milliseconds{ms}};
  const auto day = floor<days>(tp);
  const year_month_day ymd{day};
  const hh_mm_ss hms{tp - day};
  std::array<char, 64> buf{};
  std::snprintf(buf.data(), buf.size(), "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                static_cast<int>(hms.subseconds().count()));
  return buf.data();
}

std::optional<std::uint64_t> parse_uint(std::string_view text, std::uint64_t min,
                                        std::uint64_t max) {
  std::uint64_t v = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc{} || ptr != end || v < min || v > max) {
    return std::nullopt;
  }
  return v;
}

std::optional<std::int64_t> parse_time(std::string_view t) {
  if (auto ms = parse_uint(t, 0, 253402300799999)) {
    return static_cast<std::int64_t>(*ms);
  }
  // YYYY-MM-DDTHH:MM:SS[.fff]Z
  if (t.size() != 20 && t.size() != 24) {
    return std::nullopt;
  }
  auto field = [&t](std::size_t at, std::size_t len, unsigned lo, unsigned hi) {
    auto v = parse_uint(t.substr(at, len), lo, hi);
    return v ? static_cast<int>(*v) : -1;
  };
  const bool seps = t[4] == '-' && t[7] == '-' && t[10] == 'T' && t[13] == ':' && t[16] == ':' &&
                    t.back() == 'Z' && (t.size() == 20 || t[19] == '.');
  const int y = field(0, 4, 1970, 9999);
  const int mo = field(5, 2, 1, 12);
  const int d = field(8, 2, 1, 31);
  const int h = field(11, 2, 0, 23);
  const int mi = field(14, 2, 0, 59);
  const int s = field(17, 2, 0, 59);
  const int frac = t.size() == 24 ? field(20, 3, 0, 999) : 0;
  if (!seps || y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0 || frac < 0) {
    return std::nullopt;
  }
  using namespace std::chrono;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) {
    return std::nullopt;
  }
  const auto tp = sys_days{ymd} + hours{h} + minutes{mi} + seconds{s} + milliseconds{frac};
  return duration_cast<milliseconds>(tp.time_since_epoch()).count();
}

std::optional<std::map<std::string, std::string>> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (part.empty()) {
      continue;
    }
    const auto eq = part.find('=');
    auto name = unescape(part.substr(0, eq));
    auto value = unescape(eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1));
    if (!name || !value || !out.emplace(std::move(*name), std::move(*value)).second) {
      return std::nullopt;
    }
  }
  return out;
}

std::variant<CallFilter, QueryError> read_call_filter(const std::map<std::string, std::string>& in) {
  auto q = in;
  CallFilter f;
  if (auto err = read_paging(q, f.page)) {
    return *err;
  }
  take(q, "state", f.state);
  take(q, "from", f.from);
  take(q, "to", f.to);
  take(q, "backend", f.backend);
  if (!q.empty()) {
    return QueryError{q.begin()->first, "unknown parameter (state, from, to, backend, limit, offset)"};
  }
  return f;
}

std::variant<CdrQuery, QueryError> read_cdr_query(const std::map<std::string, std::string>& in) {
  auto q = in;
  Paging page;
  if (auto err = read_paging(q, page)) {
    return *err;
  }
  CdrQuery c;
  c.limit = page.limit;
  c.offset = page.offset;
  for (const char* key : {"since", "until"}) {
    if (auto i = q.find(key); i != q.end()) {
      auto t = parse_time(i->second);
      if (!t) {
        return QueryError{key, "must be an ISO 8601 UTC time (2026-11-24T01:02:03Z) or ms since "
                               "the epoch"};
      }
      (std::string_view(key) == "since" ? c.since_ms : c.until_ms) = *t;
      q.erase(i);
    }
  }
  take(q, "from", c.from);
  take(q, "to", c.to);
  if (!q.empty()) {
    return QueryError{q.begin()->first, "unknown parameter (since, until, from, to, limit, offset)"};
  }
  return c;
}

std::string call_backend(const CallInfo& call) { return call.backend; }

json filter_calls(const std::vector<CallInfo>& calls, const CallFilter& f) {
  json list = json::array();
  std::uint64_t total = 0;
  for (const auto& c : calls) {
    const bool match = (f.state.empty() || c.state == f.state) && contains(c.from, f.from) &&
                       contains(c.to, f.to) && (f.backend.empty() || call_backend(c) == f.backend);
    if (!match) {
      continue;
    }
    if (total >= f.page.offset && list.size() < f.page.limit) {
      list.push_back(to_json(c));
    }
    ++total;
  }
  const auto count = list.size();
  return json{{"calls", std::move(list)}, {"count", count}, {"total", total},
              {"limit", f.page.limit}, {"offset", f.page.offset}};
}

json to_json(const CallInfo& call) {
  json j = json::object();
  j["id"] = call.id;
  j["from"] = call.from;
  j["to"] = call.to;
  j["target"] = call.target;
  j["route"] = call.route;
  j["state"] = call.state;
  j["start_time"] = iso8601(call.start_ms);
  j["answer_time"] = time_or_null(call.answer_ms);
  j["end_time"] = time_or_null(call.end_ms);
  double duration = 0;
  if (call.answer_ms > 0) {
    const std::int64_t end = call.end_ms > 0 ? call.end_ms : now_ms();
    duration = static_cast<double>(std::max<std::int64_t>(0, end - call.answer_ms)) / 1000.0;
  }
  j["duration_s"] = duration;
  j["final_status"] = status_or_null(call.final_status);
  j["end_reason"] = text_or_null(call.end_reason);
  j["media_mode"] = call.media_mode.empty() ? std::string("bypass") : call.media_mode;
  j["backend"] = call.backend;
  j["attempts"] = call.attempts;
  json legs = json::array();
  for (const auto& leg : call.legs) {
    legs.push_back(leg_json(leg));
  }
  j["legs"] = std::move(legs);
  return j;
}

json to_json(const StatsSnapshot& stats) {
  json responses = json::object();
  for (const auto& [status, count] : stats.final_responses) {
    responses[std::to_string(status)] = count;
  }
  json failed = json::object();
  for (const auto& [reason, count] : stats.failed_by_reason) {
    failed[reason] = count;
  }
  return json{{"active_calls", stats.active_calls},
              {"total_calls", stats.total_calls},
              {"answered_calls", stats.answered_calls},
              {"failed_calls", stats.failed_calls},
              {"cancelled_calls", stats.cancelled_calls},
              {"uptime_s", stats.uptime_s},
              {"draining", stats.draining},
              {"final_responses", std::move(responses)},
              {"failed_by_reason", std::move(failed)},
              {"setup_time_ms", {{"count", stats.setup.count},
                                 {"avg", stats.setup.avg_ms},
                                 {"p50", stats.setup.p50_ms},
                                 {"p90", stats.setup.p90_ms},
                                 {"p99", stats.setup.p99_ms}}},
              {"calls_per_second", stats.calls_per_second},
              {"media", {{"packets", stats.media.packets},
                         {"bytes", stats.media.bytes},
                         {"forwarded", stats.media.forwarded},
                         {"dropped", stats.media.dropped},
                         {"relays_active", stats.media.relays_active},
                         {"ports_available", stats.media.ports_available}}}};
}

json to_json(const CdrRecord& r) {
  return json{{"id", r.id},
              {"call", r.call},
              {"a_call_id", r.a_call_id},
              {"b_call_id", text_or_null(r.b_call_id)},
              {"from", r.from},
              {"to", r.to},
              {"route", r.route},
              {"backend", r.backend},
              {"target", r.target},
              {"start_time", iso8601(r.start_ms)},
              {"answer_time", time_or_null(r.answer_ms)},
              {"end_time", iso8601(r.end_ms)},
              {"duration_s", static_cast<double>(r.duration_ms) / 1000.0},
              {"hangup_by", r.hangup_by},
              {"final_status", status_or_null(r.final_status)},
              {"disconnect_reason", r.disconnect_reason},
              {"media_mode", r.media_mode},
              {"run", r.run}};
}

json to_json(const CdrPage& page, const CdrQuery& q) {
  json list = json::array();
  for (const auto& r : page.records) {
    list.push_back(to_json(r));
  }
  const auto count = list.size();
  return json{{"cdrs", std::move(list)}, {"count", count}, {"total", page.total},
              {"limit", q.limit}, {"offset", q.offset}};
}

json error_body(const std::string& code, const std::string& message) {
  return error_body(code, message, nullptr);
}

json error_body(const std::string& code, const std::string& message, json details) {
  return json{{"error", {{"code", code}, {"message", message}, {"details", std::move(details)}}}};
}

}  // namespace b2bua::api
