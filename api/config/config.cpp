// Config: parses and validates the b2buad configuration (JSON with comments) into a Config.
// Every error is one line naming the JSON path and the rule; nothing here throws to the caller.
#include "api/config/config.hpp"
#include "api/config/detail/config_read.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

namespace b2bua::api {

namespace detail {

constexpr std::size_t max_config_bytes = 16 * 1024 * 1024;
constexpr std::size_t max_key_in_message = 64;
constexpr std::size_t max_message = 512;

// ---- text helpers -------------------------------------------------------------------------------

bool is_control(char c) {
  auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7F;
}

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), is_control);
}

bool is_alnum(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

// The length of a leading "sip:" or "sips:" in any case, else 0.
std::size_t sip_scheme_length(std::string_view uri) {
  std::string head{uri.substr(0, 5)};
  std::transform(head.begin(), head.end(), head.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return head.rfind("sip:", 0) == 0 ? 4 : head == "sips:" ? 5 : 0;
}

// One line, bounded: control characters become '?', and a long text is cut at a UTF-8 boundary.
std::string one_line(std::string_view s, std::size_t limit) {
  std::string out;
  if (s.size() > limit) {
    std::size_t cut = limit;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) {
      --cut;
    }
    s = s.substr(0, cut);
  }
  for (char c : s) {
    out += is_control(c) ? '?' : c;
  }
  return out;
}

std::string key_path(const std::string& path, const std::string& key) {
  std::string k = one_line(key, max_key_in_message);
  if (k.size() < key.size()) {
    k += "...";
  }
  return path.empty() ? k : path + "." + k;
}

std::string index_path(const std::string& path, std::size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

Error fail(const std::string& path, std::string_view rule) {
  return path + ": " + std::string{rule};
}

// ---- host and port ------------------------------------------------------------------------------

// Digits only (no sign, no spaces), 0-65535.
bool valid_port(std::string_view s, std::uint16_t& out) {
  std::uint16_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || s.front() == '-' || ec != std::errc{} || end != s.data() + s.size()) {
    return false;
  }
  out = value;
  return true;
}

bool valid_name_host(std::string_view h) {
  return !h.empty() && std::all_of(h.begin(), h.end(), [](char c) {
    return is_alnum(c) || c == '.' || c == '-' || c == '_';
  });
}

// An IPv6 literal without brackets: hex digits, at least two ':', dots for an embedded IPv4
// address, and an optional "%zone".
bool valid_v6_host(std::string_view h) {
  auto percent = h.find('%');
  auto addr = h.substr(0, percent);
  if (std::count(addr.begin(), addr.end(), ':') < 2) {
    return false;
  }
  for (char c : addr) {
    if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') {
      return false;
    }
  }
  return percent == std::string_view::npos || valid_name_host(h.substr(percent + 1));
}

/// Splits "host[:port]" or "[v6][:port]". The host comes back without brackets.
bool parse_host_port(std::string_view text, bool port_required, std::string& host,
                     std::optional<std::uint16_t>& port) {
  std::string_view h;
  std::string_view rest;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) {
      return false;
    }
    h = text.substr(1, close - 1);
    rest = text.substr(close + 1);
    if (!valid_v6_host(h)) {
      return false;
    }
  } else {
    auto colon = text.find(':');
    h = text.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view{} : text.substr(colon);
    if (!valid_name_host(h)) {
      return false;
    }
  }
  port.reset();
  if (rest.empty()) {
    if (port_required) {
      return false;
    }
  } else {
    std::uint16_t p = 0;
    if (rest.front() != ':' || !valid_port(rest.substr(1), p)) {
      return false;
    }
    port = p;
  }
  host = std::string{h};
  return true;
}

/// "sip:" or "sips:", an optional user, a host, an optional port 1-65535, optional parameters.
bool valid_sip_target(std::string_view uri) {
  std::size_t scheme = sip_scheme_length(uri);
  if (scheme == 0) {
    return false;
  }
  for (char c : uri) {
    if (is_control(c) || c == ' ' || c == '<' || c == '>' || c == '"') {
      return false;
    }
  }
  auto rest = uri.substr(scheme);
  auto at = rest.find('@');
  if (at != std::string_view::npos) {
    if (at == 0) {
      return false;
    }
    rest = rest.substr(at + 1);
  }
  auto hostport = rest.substr(0, rest.find_first_of(";?"));
  std::string host;
  std::optional<std::uint16_t> port;
  return parse_host_port(hostport, false, host, port) && (!port || *port != 0);
}

// ---- value readers ------------------------------------------------------------------------------

IntRule range(std::int64_t lo, std::int64_t hi) {
  auto rule = "must be an integer " + std::to_string(lo) + "-" + std::to_string(hi);
  return IntRule{lo, hi, rule, rule};
}

Error read_int(const json& v, const std::string& path, const IntRule& rule, std::uint32_t& out) {
  if (!v.is_number_integer()) {
    // A float is never accepted; a huge one gets the message about the upper bound.
    bool huge = v.is_number_float() && v.get<double>() > static_cast<double>(rule.hi);
    return fail(path, huge ? rule.too_high : rule.too_low);
  }
  std::int64_t n = 0;
  if (v.is_number_unsigned()) {
    auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(rule.hi)) {
      return fail(path, rule.too_high);
    }
    n = static_cast<std::int64_t>(u);
  } else {
    n = v.get<std::int64_t>();
  }
  if (n < rule.lo) {
    return fail(path, rule.too_low);
  }
  if (n > rule.hi) {
    return fail(path, rule.too_high);
  }
  out = static_cast<std::uint32_t>(n);
  return {};
}

Error read_bool(const json& v, const std::string& path, bool& out) {
  if (!v.is_boolean()) {
    return fail(path, "must be a boolean");
  }
  out = v.get<bool>();
  return {};
}

Error read_string(const json& v, const std::string& path, std::string& out) {
  if (!v.is_string()) {
    return fail(path, "must be a string");
  }
  out = v.get<std::string>();
  return {};
}

Error read_clean_string(const json& v, const std::string& path, bool allow_empty,
                        std::string& out) {
  const char* rule = allow_empty ? "must be a string without control characters"
                                 : "must be a non-empty string without control characters";
  if (!v.is_string()) {
    return fail(path, rule);
  }
  const auto& s = v.get_ref<const std::string&>();
  if ((!allow_empty && s.empty()) || has_control(s)) {
    return fail(path, rule);
  }
  out = s;
  return {};
}

// The host:port form is validate()'s to check (config_validate.cpp).
Error read_listen(const json& v, const std::string& path, std::string& out) {
  if (!v.is_string()) {
    return fail(path, listen_rule);
  }
  out = v.get<std::string>();
  return {};
}

Error read_advertise(const json& v, const std::string& path, std::string& out) {
  const char* rule = "must be a host name or IP address, or empty for auto";
  if (!v.is_string()) {
    return fail(path, rule);
  }
  std::string_view s = v.get_ref<const std::string&>();
  bool bracketed = s.size() > 2 && s.front() == '[' && s.back() == ']';
  bool ok = s.empty() || valid_name_host(s) || valid_v6_host(s) ||
            (bracketed && valid_v6_host(s.substr(1, s.size() - 2)));
  if (!ok) {
    return fail(path, rule);
  }
  out = s;
  return {};
}

Error read_log_level(const json& v, const std::string& path, std::string& out) {
  static constexpr std::string_view levels[] = {"trace", "debug", "info", "warn", "error", "off"};
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    for (auto level : levels) {
      if (s == level) {
        out = s;
        return {};
      }
    }
  }
  return fail(path, "must be one of trace, debug, info, warn, error, off");
}

// ---- objects ------------------------------------------------------------------------------------

const char* standard_reason(int status) {
  // clang-format off
  static constexpr std::pair<int, const char*> phrases[] = {
      {300, "Multiple Choices"}, {301, "Moved Permanently"}, {302, "Moved Temporarily"},
      {305, "Use Proxy"}, {380, "Alternative Service"}, {400, "Bad Request"},
      {401, "Unauthorized"}, {402, "Payment Required"}, {403, "Forbidden"}, {404, "Not Found"},
      {405, "Method Not Allowed"}, {406, "Not Acceptable"}, {407, "Proxy Authentication Required"},
      {408, "Request Timeout"}, {410, "Gone"}, {413, "Request Entity Too Large"},
      {414, "Request-URI Too Long"}, {415, "Unsupported Media Type"},
      {416, "Unsupported URI Scheme"}, {420, "Bad Extension"}, {421, "Extension Required"},
      {423, "Interval Too Brief"}, {480, "Temporarily Unavailable"},
      {481, "Call/Transaction Does Not Exist"}, {482, "Loop Detected"}, {483, "Too Many Hops"},
      {484, "Address Incomplete"}, {485, "Ambiguous"}, {486, "Busy Here"},
      {487, "Request Terminated"}, {488, "Not Acceptable Here"}, {491, "Request Pending"},
      {493, "Undecipherable"}, {500, "Server Internal Error"}, {501, "Not Implemented"},
      {502, "Bad Gateway"}, {503, "Service Unavailable"}, {504, "Server Time-out"},
      {505, "Version Not Supported"}, {513, "Message Too Large"}, {600, "Busy Everywhere"},
      {603, "Decline"}, {604, "Does Not Exist Anywhere"}, {606, "Not Acceptable"}};
  // clang-format on
  for (const auto& [code, phrase] : phrases) {
    if (code == status) {
      return phrase;
    }
  }
  return "Rejected";
}

// A bearer token travels in an HTTP header: printable ASCII without spaces, or "" for none.
Error read_token(const json& v, const std::string& path, std::string& out) {
  const char* rule = "must be a string of printable ASCII without spaces (\"\" = no token)";
  if (!v.is_string()) {
    return fail(path, rule);
  }
  const auto& s = v.get_ref<const std::string&>();
  if (s.size() > 1024 || !std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7F; })) {
    return fail(path, rule);
  }
  out = s;
  return {};
}

Error read_sip(const json& v, const std::string& path, Config& c) {
  return for_each_key(v, path, [&c](const std::string& key, const json& x, const std::string& p) {
    if (key == "listen") {
      return read_listen(x, p, c.sip_listen);
    }
    if (key == "advertise") {
      return read_advertise(x, p, c.sip_advertise);
    }
    if (key == "user_agent") {
      return read_clean_string(x, p, true, c.user_agent);
    }
    if (key == "tcp_idle_ms") {
      return read_int(x, p, range(1000, 86400000), c.tcp_idle_ms);
    }
    if (key == "watchdog_ms") {
      // 0 turns it off; below 100 ms a busy but healthy loop could be taken for a stalled one.
      const IntRule rule{0, 600000, "must be 0 (off) or an integer 100-600000",
                         "must be 0 (off) or an integer 100-600000"};
      auto err = read_int(x, p, rule, c.sip_watchdog_ms);
      return err.empty() && c.sip_watchdog_ms > 0 && c.sip_watchdog_ms < 100 ? fail(p, rule.too_low)
                                                                               : err;
    }
    return fail(p, "unknown key");
  });
}

Error read_api(const json& v, const std::string& path, Config& c) {
  return for_each_key(v, path, [&c](const std::string& key, const json& x, const std::string& p) {
    if (key == "listen") {
      return read_listen(x, p, c.api_listen);
    }
    if (key == "enabled") {
      return read_bool(x, p, c.api_enabled);
    }
    if (key == "token") {
      return read_token(x, p, c.api_token);
    }
    return fail(p, "unknown key");
  });
}

Error read_cdr(const json& v, const std::string& path, CdrConfig& c) {
  return for_each_key(v, path, [&c](const std::string& key, const json& x, const std::string& p) {
    if (key == "path") {
      return read_clean_string(x, p, true, c.path);
    }
    if (key == "flush_ms") {
      return read_int(x, p, range(10, 500), c.flush_ms);
    }
    if (key == "max_queue") {
      return read_int(x, p, range(1, 10000000), c.max_queue);
    }
    return fail(p, "unknown key");
  });
}

Error read_limits(const json& v, const std::string& path, Config& c) {
  // The message for max_calls below 1 is part of the documented contract; its cap is a sanity
  // bound.
  const IntRule calls{1, 1000000, "must be an integer >= 1", "must be an integer <= 1000000"};
  return for_each_key(v, path, [&](const std::string& key, const json& x, const std::string& p) {
    if (key == "max_calls") {
      return read_int(x, p, calls, c.max_calls);
    }
    if (key == "retry_after_s") {
      return read_int(x, p, range(0, 3600), c.retry_after_s);
    }
    return fail(p, "unknown key");
  });
}

Error read_timers(const json& v, const std::string& path, Config& c) {
  return for_each_key(v, path, [&c](const std::string& key, const json& x, const std::string& p) {
    if (key == "no_answer_ms") {
      return read_int(x, p, range(100, 86400000), c.no_answer_ms);
    }
    if (key == "sip_t1_ms") {
      return read_int(x, p, range(10, 10000), c.sip_t1_ms);
    }
    if (key == "route_timeout_ms") {
      return read_int(x, p, range(10, 60000), c.route_timeout_ms);
    }
    if (key == "drain_ms") {
      return read_int(x, p, range(0, 600000), c.drain_ms);
    }
    if (key == "session_expires_s") {
      return read_int(x, p, range(0, 86400), c.session_expires_s);
    }
    if (key == "min_se_s") {
      return read_int(x, p, range(2, 86400), c.min_se_s);  // RFC 4028 says >= 90; tests use less
    }
    if (key == "setup_deadline_ms") {
      return read_int(x, p, range(1000, 90000000), c.setup_deadline_ms);
    }
    if (key == "failover_timeout_ms") {
      return read_int(x, p, range(50, 60000), c.failover_timeout_ms);
    }
    return fail(p, "unknown key");
  });
}

Error read_choice(const json& v, const std::string& path, std::initializer_list<const char*> allowed,
                  std::string& out) {
  if (v.is_string()) {
    for (const char* a : allowed) {
      if (v.get_ref<const std::string&>() == a) {
        out = a;
        return {};
      }
    }
  }
  std::string rule = "must be one of";
  for (const char* a : allowed) {
    rule += std::string(rule.back() == 'f' ? " \"" : ", \"") + a + "\"";
  }
  return fail(path, rule);
}

bool numeric_ip(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

Error read_port_range(const json& v, const std::string& path, MediaConfig& m) {
  const char* rule = "must be \"first-last\": ports 1024-65535, first even, at least 4 ports";
  if (!v.is_string()) {
    return fail(path, rule);
  }
  const auto& s = v.get_ref<const std::string&>();
  auto dash = s.find('-');
  std::uint16_t lo = 0;
  std::uint16_t hi = 0;
  if (dash == std::string::npos || !valid_port(std::string_view(s).substr(0, dash), lo) ||
      !valid_port(std::string_view(s).substr(dash + 1), hi) || lo < 1024 || lo % 2 != 0 ||
      hi < lo + 3) {
    return fail(path, rule);
  }
  m.port_min = lo;
  m.port_max = hi;
  return {};
}

Error read_media(const json& v, const std::string& path, MediaConfig& m) {
  return for_each_key(v, path, [&m](const std::string& key, const json& x, const std::string& p) {
    if (key == "mode") {
      return read_choice(x, p, {"relay", "bypass"}, m.mode);
    }
    if (key == "latch") {
      return read_choice(x, p, {"latch", "sdp"}, m.latch);
    }
    if (key == "listen_ip") {
      if (!x.is_string() || !numeric_ip(x.get<std::string>())) {
        return fail(p, "must be a numeric IPv4 or IPv6 address");
      }
      m.listen_ip = x.get<std::string>();
      return Error{};
    }
    if (key == "advertise") {
      return read_advertise(x, p, m.advertise);
    }
    if (key == "ports") {
      return read_port_range(x, p, m);
    }
    if (key == "workers") {
      return read_int(x, p, range(1, 64), m.workers);
    }
    if (key == "timeout_s") {
      return read_int(x, p, range(0, 86400), m.timeout_s);
    }
    if (key == "rt_priority") {
      return read_int(x, p, range(0, 99), m.rt_priority);
    }
    if (key == "cpus") {
      if (!x.is_array() || x.size() > 64) {
        return fail(p, "must be an array of at most 64 CPU numbers");
      }
      m.cpus.clear();
      for (std::size_t i = 0; i < x.size(); ++i) {
        std::uint32_t cpu = 0;
        if (auto err = read_int(x[i], index_path(p, i), range(0, 1023), cpu); !err.empty()) {
          return err;
        }
        m.cpus.push_back(static_cast<int>(cpu));
      }
      return Error{};
    }
    return fail(p, "unknown key");
  });
}

Error read_dtmf(const json& v, const std::string& path, DtmfModes& d) {
  return for_each_key(v, path, [&d](const std::string& key, const json& x, const std::string& p) {
    if (key != "caller" && key != "callee") {
      return fail(p, "unknown key");
    }
    std::string mode;
    if (auto err = read_choice(x, p, {"auto", "rfc4733", "info"}, mode); !err.empty()) {
      return err;
    }
    (key == "caller" ? d.caller : d.callee) = parse_dtmf_mode(mode).value_or(DtmfMode::automatic);
    return Error{};
  });
}

Error read_config(const json& root, Config& c) {
  if (!root.is_object()) {
    return "config: the top level must be an object";
  }
  return for_each_key(root, "", [&c](const std::string& key, const json& x, const std::string& p) {
    if (key == "sip") {
      return read_sip(x, p, c);
    }
    if (key == "api") {
      return read_api(x, p, c);
    }
    if (key == "limits") {
      return read_limits(x, p, c);
    }
    if (key == "timers") {
      return read_timers(x, p, c);
    }
    if (key == "routes") {
      // Validated first: a valid rule list is a few levels deep, while a hostile one may nest
      // arrays thousands deep, which dump() would walk recursively.
      if (auto err = read_routes(x, p, c.routes); !err.empty()) {
        return err;
      }
      c.routes_json = x.dump(-1, ' ', false, json::error_handler_t::replace);
      return Error{};
    }
    if (key == "groups") {
      return read_groups(x, p, c.groups);
    }
    if (key == "breaker") {
      return read_breaker(x, p, c.breaker);
    }
    if (key == "cdr") {
      return read_cdr(x, p, c.cdr);
    }
    if (key == "media") {
      return read_media(x, p, c.media);
    }
    if (key == "dtmf") {
      return read_dtmf(x, p, c.dtmf);
    }
    if (key == "auth") {
      return read_auth(x, p, c.auth);
    }
    if (key == "log") {
      return for_each_key(x, p, [&c](const std::string& k, const json& y, const std::string& q) {
        return k == "level" ? read_log_level(y, q, c.log_level) : fail(q, "unknown key");
      });
    }
    if (key == "actors") {
      return for_each_key(x, p, [&c](const std::string& k, const json& y, const std::string& q) {
        return k == "workers" ? read_int(y, q, range(0, 256), c.workers) : fail(q, "unknown key");
      });
    }
    return fail(p, "unknown key");
  });
}

// ---- parse errors -------------------------------------------------------------------------------

std::string position(const std::string& text, std::size_t byte) {
  // nlohmann reports the 1-based index of the last character read; count lines as it does.
  std::size_t end = byte < text.size() ? byte : text.size();
  std::size_t line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < end; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(byte - line_start);
}

// nlohmann's what() is "[json.exception.parse_error.101] parse error at line 1, column 2: <what>".
std::string_view description(std::string_view what) {
  auto column = what.find("column ");
  auto colon = what.find(": ", column == std::string_view::npos ? 0 : column);
  if (colon != std::string_view::npos) {
    return what.substr(colon + 2);
  }
  auto bracket = what.find("] ");
  return bracket == std::string_view::npos ? what : what.substr(bracket + 2);
}

std::string parse_error_line(const std::string& text, const json::parse_error& e) {
  return "config: parse error at " + position(text, e.byte) + ": " +
         std::string{description(e.what())};
}

// out_of_range.406 "number overflow parsing '1e400'" carries no offset: the position reported is
// that of the number's first occurrence in the text.
std::string overflow_line(const std::string& text, const json::exception& e) {
  std::string_view what = description(e.what());
  auto open = what.find('\'');
  auto close = open == std::string_view::npos ? open : what.find('\'', open + 1);
  if (close != std::string_view::npos && close > open + 1) {
    auto at = text.find(what.substr(open + 1, close - open - 1));
    if (at != std::string::npos) {
      return "config: parse error at " + position(text, at + 1) + ": " + std::string{what};
    }
  }
  return "config: parse error: " + std::string{what};
}

}  // namespace detail

using namespace detail;

const char* default_config_text() {
  return R"json(// b2buad default configuration: pass-through (each call goes to its Request-URI).
// Every key is optional; schemas/config.schema.json lists all keys, ranges and defaults.
{
  "sip": { "listen": "0.0.0.0:5060", "advertise": "", "user_agent": "b2bua", "watchdog_ms": 5000,
           "tcp_idle_ms": 120000 },
  "api": { "listen": "127.0.0.1:8080", "enabled": true },
  "limits": { "max_calls": 10000, "retry_after_s": 5 },
  "timers": { "no_answer_ms": 60000, "sip_t1_ms": 500, "route_timeout_ms": 2000,
              "drain_ms": 5000, "session_expires_s": 1800, "min_se_s": 90,
              "setup_deadline_ms": 300000 },
  "routes": [],
  "log": { "level": "info" },
  "media": { "mode": "relay", "listen_ip": "0.0.0.0", "ports": "20000-29999", "workers": 1,
             "latch": "latch", "timeout_s": 60 },
  "dtmf": { "caller": "auto", "callee": "auto" },
  "actors": { "workers": 0 },
  "cdr": { "path": "b2bua-cdr.sqlite", "flush_ms": 200, "max_queue": 100000 }
}
)json";
}

std::variant<Config, std::string> parse_config(const std::string& text) {
  std::string error;
  try {
    json root;
    try {
      root = json::parse(text, nullptr, /*allow_exceptions=*/true, /*ignore_comments=*/true);
    } catch (const json::parse_error& e) {
      return one_line(parse_error_line(text, e), max_message);
    } catch (const json::out_of_range& e) {
      return one_line(overflow_line(text, e), max_message);
    }
    Config config;
    error = read_config(root, config);
    if (error.empty()) {
      error = validate(config);
    }
    if (error.empty()) {
      return config;
    }
  } catch (const std::exception& e) {
    error = std::string{"config: internal error: "} + e.what();
  } catch (...) {
    error = "config: internal error";
  }
  return one_line(error, max_message);
}

std::variant<Config, std::string> load_config_file(const std::string& path) {
  auto cannot_read = [&path](const char* why) {
    return one_line("config: cannot read " + path + ": " + why, max_message);
  };
  std::string text;
  try {
    errno = 0;
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f{std::fopen(path.c_str(), "rb"), &std::fclose};
    if (!f) {
      return cannot_read(std::strerror(errno));
    }
    char buf[65536];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) {
      if (text.size() + n > max_config_bytes) {
        return cannot_read("larger than 16 MiB");
      }
      text.append(buf, n);
    }
    if (std::ferror(f.get())) {
      return cannot_read(std::strerror(errno != 0 ? errno : EIO));
    }
  } catch (const std::exception& e) {
    return cannot_read(e.what());
  }
  return parse_config(text);
}

std::variant<std::vector<RouteRule>, std::string> parse_routes(
    const nlohmann::json& routes, const std::vector<GroupSpec>& groups) {
  std::string error;
  try {
    std::vector<RouteRule> rules;
    error = read_routes(routes, "routes", rules);
    if (error.empty()) {
      error = check_group_refs(rules, groups);
    }
    if (error.empty()) {
      return rules;
    }
  } catch (const std::exception& e) {
    error = std::string{"routes: internal error: "} + e.what();
  }
  return one_line(error, max_message);
}

std::optional<std::pair<std::string, std::uint16_t>> split_host_port(const std::string& text) {
  std::string host;
  std::optional<std::uint16_t> port;
  if (!parse_host_port(text, true, host, port) || !port) {
    return std::nullopt;
  }
  return std::make_pair(std::move(host), *port);
}

}  // namespace b2bua::api
