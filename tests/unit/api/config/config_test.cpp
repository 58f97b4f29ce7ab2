// Unit tests of the config: defaults, the documented example, every validation rule, hostile text.
#include "api/config/config.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <variant>

#include <unistd.h>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using namespace b2bua;
using namespace b2bua::api;

namespace {

// The example from the documentation (the config contract).
constexpr const char* full_example = R"json({
  "sip":    { "listen": "10.0.0.5:5070", "advertise": "sbc.example.com", "user_agent": "edge/1.0" },
  "api":    { "listen": "0.0.0.0:9090", "enabled": false },
  "limits": { "max_calls": 250, "retry_after_s": 30 },
  "timers": { "no_answer_ms": 45000, "sip_t1_ms": 250, "route_timeout_ms": 1500, "drain_ms": 9000,
              "session_expires_s": 600, "min_se_s": 120 },
  "routes": [ { "name": "all", "match": { "from": "*", "to": "*", "ruri": "*", "source": "*" },
                "action": "route", "targets": ["sip:127.0.0.1:5080"] },
              { "name": "deny", "match": {"to": "666*"}, "action": "reject", "status": 403, "reason": "Forbidden" } ],
  "log":    { "level": "debug" },
  "actors": { "workers": 4 }
})json";

Config parse_ok(const std::string& text) {
  auto result = parse_config(text);
  if (auto* err = std::get_if<std::string>(&result)) {
    FAIL_CHECK("unexpected config error: " << *err);
    return Config{};
  }
  return std::get<Config>(result);
}

std::string parse_error(const std::string& text) {
  std::variant<Config, std::string> result;
  CHECK_NOTHROW(result = parse_config(text));
  auto* err = std::get_if<std::string>(&result);
  if (err == nullptr) {
    FAIL_CHECK("config was accepted but should not be");
    return {};
  }
  CHECK(err->find('\n') == std::string::npos);
  CHECK(err->find('\r') == std::string::npos);
  CHECK_FALSE(err->empty());
  return *err;
}

// A fresh directory per test, removed at the end.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "b2bua-config-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) {
      path = pattern;
    }
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace

TEST_CASE("the default config text parses to the documented defaults") {
  const auto c = parse_ok(default_config_text());
  const Config d;
  CHECK(c.sip_listen == "0.0.0.0:5060");
  CHECK(c.sip_advertise.empty());
  CHECK(c.user_agent == d.user_agent);
  CHECK(c.sip_watchdog_ms == 5000);
  CHECK(d.sip_watchdog_ms == 5000);
  CHECK(c.api_listen == "127.0.0.1:8080");
  CHECK(c.api_enabled);
  CHECK(c.max_calls == 10000);
  CHECK(c.retry_after_s == d.retry_after_s);
  CHECK(c.no_answer_ms == 60000);
  CHECK(c.sip_t1_ms == d.sip_t1_ms);
  CHECK(c.route_timeout_ms == d.route_timeout_ms);
  CHECK(c.drain_ms == d.drain_ms);
  CHECK(c.session_expires_s == 1800);
  CHECK(c.min_se_s == 90);
  CHECK(c.routes.empty());
  CHECK(c.log_level == "info");
  CHECK(c.workers == 0);
  CHECK(std::string{default_config_text()}.find("//") != std::string::npos);
}

TEST_CASE("an empty object gives the same config as the default text") {
  const auto c = parse_ok("{}");
  const auto d = parse_ok(default_config_text());
  CHECK(c.sip_listen == d.sip_listen);
  CHECK(c.api_listen == d.api_listen);
  CHECK(c.max_calls == d.max_calls);
  CHECK(c.no_answer_ms == d.no_answer_ms);
  CHECK(c.log_level == d.log_level);
  CHECK(c.routes.size() == d.routes.size());
}

TEST_CASE("the documented full example parses with every value in place") {
  const auto c = parse_ok(full_example);
  CHECK(c.sip_listen == "10.0.0.5:5070");
  CHECK(c.sip_advertise == "sbc.example.com");
  CHECK(c.user_agent == "edge/1.0");
  CHECK(c.api_listen == "0.0.0.0:9090");
  CHECK_FALSE(c.api_enabled);
  CHECK(c.max_calls == 250);
  CHECK(c.retry_after_s == 30);
  CHECK(c.no_answer_ms == 45000);
  CHECK(c.sip_t1_ms == 250);
  CHECK(c.route_timeout_ms == 1500);
  CHECK(c.drain_ms == 9000);
  CHECK(c.session_expires_s == 600);
  CHECK(c.min_se_s == 120);
  CHECK(c.log_level == "debug");
  CHECK(c.workers == 4);
  REQUIRE(c.routes.size() == 2);
  const auto& all = c.routes[0];
  CHECK(all.name == "all");
  CHECK(all.match_from == "*");
  CHECK(all.match_to == "*");
  CHECK(all.match_ruri == "*");
  CHECK(all.match_source == "*");
  CHECK(all.action == "route");
  REQUIRE(all.targets.size() == 1);
  CHECK(all.targets[0] == "sip:127.0.0.1:5080");
  const auto& deny = c.routes[1];
  CHECK(deny.name == "deny");
  CHECK(deny.match_to == "666*");
  CHECK(deny.match_from.empty());
  CHECK(deny.action == "reject");
  CHECK(deny.targets.empty());
  CHECK(deny.reject_status == 403);
  CHECK(deny.reject_reason == "Forbidden");
}

TEST_CASE("comments are accepted anywhere whitespace is") {
  const auto c = parse_ok(R"json(
    // line comment before the object
    { /* block */ "limits": { // trailing comment
        "max_calls": /* inline */ 7 }
    }
    // after)json");
  CHECK(c.max_calls == 7);
}

TEST_CASE("routes get default names, actions and reject reasons") {
  const auto c = parse_ok(R"json({"routes": [
    {"targets": ["sips:gw.example.com"]},
    {"action": "reject"},
    {"action": "reject", "status": 486},
    {"action": "reject", "status": 499},
    {"action": "reject", "status": 603, "reason": "Not Today"},
    {"targets": ["sip:alice@[2001:db8::1]:5062;transport=tcp", "SIP:b@h"]}
  ]})json");
  REQUIRE(c.routes.size() == 6);
  CHECK(c.routes[0].name == "route0");
  CHECK(c.routes[0].action == "route");
  CHECK(c.routes[0].match_from.empty());
  CHECK(c.routes[1].name == "route1");
  CHECK(c.routes[1].reject_status == 403);
  CHECK(c.routes[1].reject_reason == "Forbidden");
  CHECK(c.routes[2].reject_reason == "Busy Here");
  CHECK(c.routes[3].reject_reason == "Rejected");
  CHECK(c.routes[4].reject_status == 603);
  CHECK(c.routes[4].reject_reason == "Not Today");
  CHECK(c.routes[5].targets.size() == 2);
}

TEST_CASE("sip.watchdog_ms takes 0 (off) and 100-600000") {
  CHECK(parse_ok(R"({"sip":{"watchdog_ms":0}})").sip_watchdog_ms == 0);
  CHECK(parse_ok(R"({"sip":{"watchdog_ms":100}})").sip_watchdog_ms == 100);
  CHECK(parse_ok(R"({"sip":{"watchdog_ms":600000}})").sip_watchdog_ms == 600000);
}

TEST_CASE("sip.advertise accepts host names and IP literals") {
  const std::string hosts[] = {
      "", "sbc.example.com", "192.0.2.1", "2001:db8::1", "[2001:db8::1]", "fe80::1%eth0"};
  for (const auto& host : hosts) {
    INFO("advertise: " << host);
    CHECK(parse_ok(R"({"sip":{"advertise":")" + host + R"("}})").sip_advertise == host);
  }
}

TEST_CASE("every validation rule gives its exact one-line message") {
  struct Row {
    std::string text;
    std::string message;
  };
  const Row rows[] = {
      // limits
      {R"({"limits":{"max_calls":0}})", "limits.max_calls: must be an integer >= 1"},
      {R"({"limits":{"max_calls":-5}})", "limits.max_calls: must be an integer >= 1"},
      {R"({"limits":{"max_calls":"10"}})", "limits.max_calls: must be an integer >= 1"},
      {R"({"limits":{"max_calls":10.5}})", "limits.max_calls: must be an integer >= 1"},
      {R"({"limits":{"max_calls":1000001}})", "limits.max_calls: must be an integer <= 1000000"},
      {R"({"limits":{"retry_after_s":3601}})", "limits.retry_after_s: must be an integer 0-3600"},
      {R"({"limits":{"retry_after_s":-1}})", "limits.retry_after_s: must be an integer 0-3600"},
      // timers
      {R"({"timers":{"sip_t1_ms":9}})", "timers.sip_t1_ms: must be an integer 10-10000"},
      {R"({"timers":{"sip_t1_ms":10001}})", "timers.sip_t1_ms: must be an integer 10-10000"},
      {R"({"timers":{"sip_t1_ms":500.0}})", "timers.sip_t1_ms: must be an integer 10-10000"},
      {R"({"timers":{"no_answer_ms":99}})", "timers.no_answer_ms: must be an integer 100-86400000"},
      {R"({"timers":{"no_answer_ms":86400001}})",
       "timers.no_answer_ms: must be an integer 100-86400000"},
      {R"({"timers":{"route_timeout_ms":9}})",
       "timers.route_timeout_ms: must be an integer 10-60000"},
      {R"({"timers":{"route_timeout_ms":60001}})",
       "timers.route_timeout_ms: must be an integer 10-60000"},
      {R"({"timers":{"drain_ms":600001}})", "timers.drain_ms: must be an integer 0-600000"},
      {R"({"timers":{"drain_ms":true}})", "timers.drain_ms: must be an integer 0-600000"},
      {R"({"timers":{"session_expires_s":86401}})",
       "timers.session_expires_s: must be an integer 0-86400"},
      {R"({"timers":{"min_se_s":1}})", "timers.min_se_s: must be an integer 2-86400"},
      // actors, log
      {R"({"actors":{"workers":257}})", "actors.workers: must be an integer 0-256"},
      {R"({"actors":{"workers":-1}})", "actors.workers: must be an integer 0-256"},
      {R"({"log":{"level":"verbose"}})",
       "log.level: must be one of trace, debug, info, warn, error, off"},
      {R"({"log":{"level":"INFO"}})",
       "log.level: must be one of trace, debug, info, warn, error, off"},
      {R"({"log":{"level":3}})", "log.level: must be one of trace, debug, info, warn, error, off"},
      // sip, api
      {R"({"sip":{"listen":"0.0.0.0"}})", "sip.listen: must be host:port with a port 0-65535"},
      {R"({"sip":{"listen":"0.0.0.0:65536"}})",
       "sip.listen: must be host:port with a port 0-65535"},
      {R"({"sip":{"listen":":5060"}})", "sip.listen: must be host:port with a port 0-65535"},
      {R"({"sip":{"listen":"host:50a0"}})", "sip.listen: must be host:port with a port 0-65535"},
      {R"({"sip":{"listen":5060}})", "sip.listen: must be host:port with a port 0-65535"},
      {R"({"api":{"listen":"127.0.0.1"}})", "api.listen: must be host:port with a port 0-65535"},
      {R"({"api":{"enabled":"yes"}})", "api.enabled: must be a boolean"},
      {R"({"api":{"enabled":1}})", "api.enabled: must be a boolean"},
      {R"({"sip":{"advertise":"a b"}})",
       "sip.advertise: must be a host name or IP address, or empty for auto"},
      {R"({"sip":{"advertise":"h:5060"}})",
       "sip.advertise: must be a host name or IP address, or empty for auto"},
      {R"({"sip":{"user_agent":"a\r\nX-Injected: 1"}})",
       "sip.user_agent: must be a string without control characters"},
      {R"({"sip":{"watchdog_ms":99}})", "sip.watchdog_ms: must be 0 (off) or an integer 100-600000"},
      {R"({"sip":{"watchdog_ms":1}})", "sip.watchdog_ms: must be 0 (off) or an integer 100-600000"},
      {R"({"sip":{"watchdog_ms":-1}})", "sip.watchdog_ms: must be 0 (off) or an integer 100-600000"},
      {R"({"sip":{"watchdog_ms":600001}})",
       "sip.watchdog_ms: must be 0 (off) or an integer 100-600000"},
      {R"({"sip":{"watchdog_ms":2.5}})", "sip.watchdog_ms: must be 0 (off) or an integer 100-600000"},
      {R"({"sip":{"watchdog_ms":"5000"}})",
       "sip.watchdog_ms: must be 0 (off) or an integer 100-600000"},
      // unknown keys and wrong section types
      {R"({"sip":{"lisen":"0.0.0.0:5060"}})", "sip.lisen: unknown key"},
      {R"({"foo":1})", "foo: unknown key"},
      {R"({"timers":{"t1_ms":500}})", "timers.t1_ms: unknown key"},
      {R"({"routes":[{"targets":["sip:h"],"colour":"red"}]})", "routes[0].colour: unknown key"},
      {R"({"routes":[{"targets":["sip:h"],"match":{"form":"*"}}]})",
       "routes[0].match.form: unknown key"},
      {R"({"sip":[]})", "sip: must be an object"},
      {R"({"limits":null})", "limits: must be an object"},
      {R"({"routes":{}})", "routes: must be an array"},
      {R"({"routes":[1]})", "routes[0]: must be an object"},
      {R"({"routes":[{"targets":["sip:h"]},{"match":"*","targets":["sip:h"]}]})",
       "routes[1].match: must be an object"},
      {R"({"routes":[{"match":{"to":5},"targets":["sip:h"]}]})",
       "routes[0].match.to: must be a string"},
      // routes
      {R"({"routes":[{"targets":["sip:a"]},{"targets":["http://x"]}]})",
       "routes[1].targets[0]: must be a sip: or sips: URI with a host"},
      {R"({"routes":[{"targets":["sip:a","sip:"]}]})",
       "routes[0].targets[1]: must be a sip: or sips: URI with a host"},
      {R"({"routes":[{"targets":["sip:bob@"]}]})",
       "routes[0].targets[0]: must be a sip: or sips: URI with a host"},
      {R"({"routes":[{"targets":["sip:h:0"]}]})",
       "routes[0].targets[0]: must be a sip: or sips: URI with a host"},
      {R"({"routes":[{"targets":["sip:h:99999"]}]})",
       "routes[0].targets[0]: must be a sip: or sips: URI with a host"},
      {R"({"routes":[{"targets":["sip:a b@h"]}]})",
       "routes[0].targets[0]: must be a sip: or sips: URI with a host"},
      {R"({"routes":[{"targets":[5]}]})",
       "routes[0].targets[0]: must be a sip: or sips: URI with a host"},
      {R"({"routes":[{"targets":"sip:h"}]})",
       "routes[0].targets: must be a non-empty array of sip: or sips: URIs"},
      {R"({"routes":[{"targets":[]}]})",
       "routes[0].targets: must be a non-empty array of sip: or sips: URIs"},
      {R"({"routes":[{"action":"route"}]})",
       "routes[0].targets: must be a non-empty array of sip: or sips: URIs"},
      {R"({"routes":[{"action":"forward","targets":["sip:h"]}]})",
       R"(routes[0].action: must be one of "route", "reject", "redirect", "queue")"},
      {R"({"routes":[{"action":null}]})",
       R"(routes[0].action: must be one of "route", "reject", "redirect", "queue")"},
      {R"({"routes":[{"action":"reject","status":200}]})",
       "routes[0].status: must be a SIP status 300-699"},
      {R"({"routes":[{"action":"reject","status":700}]})",
       "routes[0].status: must be a SIP status 300-699"},
      {R"({"routes":[{"action":"reject","status":"403"}]})",
       "routes[0].status: must be a SIP status 300-699"},
      {R"({"routes":[{"action":"reject","status":403.5}]})",
       "routes[0].status: must be a SIP status 300-699"},
      {R"({"routes":[{"action":"reject","reason":""}]})",
       "routes[0].reason: must be a non-empty string without control characters"},
      {R"({"routes":[{"action":"reject","reason":"Bad\r\nX: y"}]})",
       "routes[0].reason: must be a non-empty string without control characters"},
      {R"({"routes":[{"name":"","targets":["sip:h"]}]})",
       "routes[0].name: must be a non-empty string without control characters"},
      {R"({"routes":[{"action":"reject","targets":["sip:h"]}]})",
       R"(routes[0].targets: only allowed with action "route" or "queue")"},
      {R"({"routes":[{"status":486,"targets":["sip:h"]}]})",
       R"(routes[0].status: only allowed with action "reject" or "redirect")"},
      // routing rules (issue 4)
      {R"({"routes":[{"match":{"from":"~a(b"},"targets":["sip:h"]}]})",
       R"(routes[0].match.from: bad regular expression: Unmatched ( or \()"},
      {R"({"routes":[{"match":{"headers":{"X Bad":"*"}},"targets":["sip:h"]}]})",
       "routes[0].match.headers.X Bad: must be a header name (letters, digits, -.!%_+`'~)"},
      {R"({"routes":[{"time":{"start":"25:00"},"targets":["sip:h"]}]})",
       R"(routes[0].time.start: must be a time "HH:MM" (00:00-23:59, or 24:00 as an end))"},
      {R"({"routes":[{"time":{"days":["mon","xyz"]},"targets":["sip:h"]}]})",
       R"(routes[0].time.days[1]: must be a non-empty array of "mon" ... "sun")"},
      {R"({"routes":[{"time":{"tz":"Mars/Olympus"},"targets":["sip:h"]}]})",
       R"(routes[0].time.tz: must be an IANA time zone known to this machine (e.g. "Europe/Berlin"))"},
      {R"({"routes":[{"time":{"start":"09:00","end":"09:00"},"targets":["sip:h"]}]})",
       "routes[0].time.end: must differ from start"},
      {R"({"routes":[{"group":"pbx","targets":["sip:h"]}]})",
       "routes[0].group: cannot be combined with targets: give one of them"},
      {R"({"routes":[{"group":"pbx"}]})", R"(routes[0].group: names no group in "groups")"},
      {R"({"routes":[{"action":"redirect"}]})",
       "routes[0].contact: must be a sip: or sips: URI with a host"},
      {R"({"routes":[{"action":"redirect","contact":"sip:h","status":404}]})",
       "routes[0].status: must be a SIP status 300-399"},
      {R"({"routes":[{"action":"reject","contact":"sip:h"}]})",
       R"(routes[0].contact: only allowed with action "redirect")"},
      {R"({"routes":[{"action":"route","targets":["sip:h"],"queue":{"priority":1}}]})",
       R"(routes[0].queue: only allowed with action "queue")"},
      {R"({"routes":[{"targets":["sip:h"],"headers":{"add":{"X-A":"a\u0001"}}}]})",
       "routes[0].headers.add.X-A: must be a non-empty string without control characters"},
      {R"({"groups":{"pbx":{"targets":[]}}})",
       R"(groups.pbx.targets: must be a non-empty array of URIs or {"uri", "weight", "max_calls"})"},
      {R"({"groups":{"pbx":{"targets":["sip:a","sip:a"]}}})",
       "groups.pbx.targets[1]: names a target already in this group"},
      {R"({"groups":{"pbx":{"targets":[{"uri":"sip:a","weight":0}]}}})",
       "groups.pbx.targets[0].weight: must be an integer 1-1000"},
      {R"({"groups":{"pbx":{"strategy":"random","targets":["sip:a"]}}})",
       R"(groups.pbx.strategy: must be one of "round_robin", "weighted", "least_calls", "hash", "failover")"},
      {R"({"groups":{"pbx":{"targets":["sip:a"],"probe":{"alive":["7xx"]}}}})",
       R"(groups.pbx.probe.alive[0]: must be a non-empty array of SIP statuses (200) or classes ("2xx"))"},
      {R"({"breaker":{"cooldown_ms":5000,"max_cooldown_ms":1000}})",
       "breaker.max_cooldown_ms: must be >= cooldown_ms"},
      {R"({"timers":{"failover_timeout_ms":10}})",
       "timers.failover_timeout_ms: must be an integer 50-60000"},
      // the top level
      {"[]", "config: the top level must be an object"},
      {"\"text\"", "config: the top level must be an object"},
      {"42", "config: the top level must be an object"},
      {"null", "config: the top level must be an object"},
  };
  for (const auto& row : rows) {
    INFO("config: " << row.text);
    CHECK(parse_error(row.text) == row.message);
  }
}

TEST_CASE("a parse error names line and column of the offending text") {
  CHECK(parse_error("{\n  \"a\": 1,\n  \"b\": x\n}") ==
        "config: parse error at line 3, column 8: syntax error while parsing value - invalid "
        "literal; last read: '\"b\": x'");
  CHECK(parse_error("// comment\n{\"limits\": {\"max_calls\": 1e400}}") ==
        "config: parse error at line 2, column 26: number overflow parsing '1e400'");
}

TEST_CASE("hostile text gives one-line errors and never an exception") {
  struct Row {
    std::string text;
    std::string prefix;
  };
  const Row rows[] = {
      {"", "config: parse error at line 1, column 1: "},
      {"   \n\n  ", "config: parse error at line 3, column "},
      {"garbage", "config: parse error at line 1, column "},
      {"{", "config: parse error at line 1, column 2: "},
      {"{\"sip\": {\"listen\": \"a\nb\"}}", "config: parse error at line "},
      {std::string("{\"a\":\"\xff\xfe\"}"), "config: parse error at line 1, column "},
      {std::string("\0\0\0", 3), "config: parse error at line 1, column "},
      {"/* never closed", "config: parse error at line 1, column "},
      {"{\"a\":1,}", "config: parse error at line 1, column "},
      {"{} {}", "config: parse error at line 1, column "},
      {std::string(100000, '[') + std::string(100000, ']'),
       "config: the top level must be an object"},
      {std::string(100000, '['), "config: parse error at line 1, column "},
      {"{\"routes\":" + std::string(50000, '[') + std::string(50000, ']') + "}",
       "routes[0]: must be an object"},
      {"{\"x\":" + std::string(50000, '[') + std::string(50000, ']') + "}", "x: unknown key"},
      {R"({"limits":{"max_calls":99999999999999999999999}})",
       "limits.max_calls: must be an integer <= 1000000"},
      {R"({"limits":{"max_calls":18446744073709551615}})",
       "limits.max_calls: must be an integer <= 1000000"},
      {R"({"limits":{"max_calls":-9223372036854775808}})",
       "limits.max_calls: must be an integer >= 1"},
      {R"({"actors":{"workers":1e300}})", "actors.workers: must be an integer 0-256"},
      {R"({"actors":{"workers":-1e300}})", "actors.workers: must be an integer 0-256"},
      {R"({"actors":{"workers":-0.5}})", "actors.workers: must be an integer 0-256"},
      {"{\"" + std::string(5000, 'k') + "\":1}", "kkkkkkkk"},
      {"{\"a\\nb\":1}", "a?b: unknown key"},
  };
  for (const auto& row : rows) {
    CAPTURE(row.text.substr(0, 80));
    auto err = parse_error(row.text);
    CHECK(err.rfind(row.prefix, 0) == 0);
    CHECK(err.size() <= 512);
  }
}

TEST_CASE("split_host_port accepts host:port forms and rejects the rest") {
  struct Row {
    std::string text;
    bool ok;
    std::string host;
    std::uint16_t port;
  };
  const Row rows[] = {
      {"127.0.0.1:5060", true, "127.0.0.1", 5060},
      {"0.0.0.0:0", true, "0.0.0.0", 0},
      {"[::1]:5060", true, "::1", 5060},
      {"[2001:db8::5]:65535", true, "2001:db8::5", 65535},
      {"localhost:80", true, "localhost", 80},
      {"sbc-1.example.com:5061", true, "sbc-1.example.com", 5061},
      {"127.0.0.1", false, "", 0},
      {"127.0.0.1:", false, "", 0},
      {":5060", false, "", 0},
      {"[]:5060", false, "", 0},
      {"[::1]", false, "", 0},
      {"[::1:5060", false, "", 0},
      {"::1:5060", false, "", 0},
      {"host:65536", false, "", 0},
      {"host:99999999999", false, "", 0},
      {"host:-1", false, "", 0},
      {"host:+80", false, "", 0},
      {"host:80x", false, "", 0},
      {"host: 80", false, "", 0},
      {"ho st:80", false, "", 0},
      {"host:80:90", false, "", 0},
      {"", false, "", 0},
  };
  for (const auto& row : rows) {
    INFO("text: " << row.text);
    auto hp = split_host_port(row.text);
    REQUIRE(hp.has_value() == row.ok);
    if (hp) {
      CHECK(hp->first == row.host);
      CHECK(hp->second == row.port);
    }
  }
}

TEST_CASE("load_config_file reads a file and names an unreadable one") {
  TempDir dir;
  REQUIRE_FALSE(dir.path.empty());
  const auto good = dir.path / "good.json";
  {
    std::ofstream out(good);
    out << "// test\n{\"limits\": {\"max_calls\": 42}}\n";
  }
  auto loaded = load_config_file(good.string());
  REQUIRE(std::holds_alternative<Config>(loaded));
  CHECK(std::get<Config>(loaded).max_calls == 42);

  const auto bad = dir.path / "bad.json";
  {
    std::ofstream out(bad);
    out << "{\"sip\": {\"lisen\": \"x\"}}";
  }
  auto rejected = load_config_file(bad.string());
  REQUIRE(std::holds_alternative<std::string>(rejected));
  CHECK(std::get<std::string>(rejected) == "sip.lisen: unknown key");

  const auto missing = (dir.path / "missing.json").string();
  auto absent = load_config_file(missing);
  REQUIRE(std::holds_alternative<std::string>(absent));
  CHECK(std::get<std::string>(absent) ==
        "config: cannot read " + missing + ": No such file or directory");

  auto directory = load_config_file(dir.path.string());
  REQUIRE(std::holds_alternative<std::string>(directory));
  CHECK(std::get<std::string>(directory) ==
        "config: cannot read " + dir.path.string() + ": Is a directory");
}

TEST_CASE("the media keys parse, and each bad value names its key") {
  using b2bua::api::Config;
  auto ok = b2bua::api::parse_config(R"({"media": {"mode": "bypass", "listen_ip": "127.0.0.1",
      "advertise": "192.0.2.1", "ports": "30000-30099", "workers": 2, "cpus": [0, 1],
      "latch": "sdp", "timeout_s": 0, "rt_priority": 20},
      "routes": [{"match": {"to": "*"}, "targets": ["sip:127.0.0.1:5080"], "media": "relay"}]})");
  REQUIRE(std::holds_alternative<Config>(ok));
  const auto& c = std::get<Config>(ok);
  CHECK(c.media.mode == "bypass");
  CHECK(c.media.listen_ip == "127.0.0.1");
  CHECK(c.media.advertise == "192.0.2.1");
  CHECK(c.media.port_min == 30000);
  CHECK(c.media.port_max == 30099);
  CHECK(c.media.workers == 2);
  CHECK(c.media.cpus == std::vector<int>{0, 1});
  CHECK(c.media.latch == "sdp");
  CHECK(c.media.timeout_s == 0);
  CHECK(c.media.rt_priority == 20);
  CHECK(c.routes.at(0).media == "relay");

  const std::pair<const char*, const char*> bad[] = {
      {R"({"media": {"mode": "anchor"}})", "media.mode: must be one of \"relay\", \"bypass\""},
      {R"({"media": {"listen_ip": "localhost"}})", "media.listen_ip: must be a numeric IPv4 or IPv6 address"},
      {R"({"media": {"ports": "20001-29999"}})", "media.ports: must be \"first-last\": ports 1024-65535, first even, at least 4 ports"},
      {R"({"media": {"ports": "20000-20002"}})", "media.ports: must be \"first-last\": ports 1024-65535, first even, at least 4 ports"},
      {R"({"media": {"ports": 20000}})", "media.ports: must be \"first-last\": ports 1024-65535, first even, at least 4 ports"},
      {R"({"media": {"workers": 0}})", "media.workers: must be an integer 1-64"},
      {R"({"media": {"cpus": [0, -1]}})", "media.cpus[1]: must be an integer 0-1023"},
      {R"({"media": {"rt_priority": 100}})", "media.rt_priority: must be an integer 0-99"},
      {R"({"media": {"latch": "yes"}})", "media.latch: must be one of \"latch\", \"sdp\""},
      {R"({"media": {"timeout": 5}})", "media.timeout: unknown key"},
      {R"({"routes": [{"targets": ["sip:h"], "media": "x"}]})", "routes[0].media: must be one of \"relay\", \"bypass\""},
  };
  for (const auto& [text, message] : bad) {
    auto r = b2bua::api::parse_config(text);
    REQUIRE_MESSAGE(std::holds_alternative<std::string>(r), text);
    CHECK(std::get<std::string>(r) == message);
  }
}

TEST_CASE("the dtmf keys parse, default to auto, and each bad value names its key") {
  const auto d = parse_ok(default_config_text());
  CHECK(d.dtmf.caller == b2bua::DtmfMode::automatic);
  CHECK(d.dtmf.callee == b2bua::DtmfMode::automatic);
  CHECK(parse_ok("{}").dtmf.callee == b2bua::DtmfMode::automatic);
  const auto c = parse_ok(R"({"dtmf": {"caller": "rfc4733", "callee": "info"}})");
  CHECK(c.dtmf.caller == b2bua::DtmfMode::rfc4733);
  CHECK(c.dtmf.callee == b2bua::DtmfMode::info);
  CHECK(parse_ok(R"({"dtmf": {"callee": "rfc4733"}})").dtmf.caller == b2bua::DtmfMode::automatic);

  const std::pair<const char*, const char*> bad[] = {
      {R"({"dtmf": {"callee": "inband"}})",
       "dtmf.callee: must be one of \"auto\", \"rfc4733\", \"info\""},
      {R"({"dtmf": {"caller": 1}})",
       "dtmf.caller: must be one of \"auto\", \"rfc4733\", \"info\""},
      {R"({"dtmf": {"callee": "INFO"}})",
       "dtmf.callee: must be one of \"auto\", \"rfc4733\", \"info\""},
      {R"({"dtmf": {"both": "info"}})", "dtmf.both: unknown key"},
      {R"({"dtmf": "info"})", "dtmf: must be an object"},
  };
  for (const auto& [text, message] : bad) {
    auto r = b2bua::api::parse_config(text);
    REQUIRE_MESSAGE(std::holds_alternative<std::string>(r), text);
    CHECK(std::get<std::string>(r) == message);
  }
}

TEST_CASE("api.token and the cdr keys parse; each bad value names its key") {
  Config c = parse_ok(R"({"api": {"token": "abc-123_!~"},
                          "cdr": {"path": "/var/lib/b2bua/cdr.sqlite", "flush_ms": 50,
                                  "max_queue": 10}})");
  CHECK(c.api_token == "abc-123_!~");
  CHECK(c.cdr.path == "/var/lib/b2bua/cdr.sqlite");
  CHECK(c.cdr.flush_ms == 50);
  CHECK(c.cdr.max_queue == 10);
  Config d = parse_ok("{}");
  CHECK(d.api_token.empty());
  CHECK(d.cdr.path == "b2bua-cdr.sqlite");
  CHECK(d.cdr.flush_ms == 200);
  CHECK(parse_ok(R"({"cdr": {"path": ""}})").cdr.path.empty());
  CHECK(parse_error(R"({"api": {"token": "has space"}})").rfind("api.token: must be", 0) == 0);
  CHECK(parse_error(R"({"api": {"token": 5}})").rfind("api.token: must be", 0) == 0);
  CHECK(parse_error(R"({"cdr": {"flush_ms": 501}})") == "cdr.flush_ms: must be an integer 10-500");
  CHECK(parse_error(R"({"cdr": {"max_queue": 0}})").rfind("cdr.max_queue: ", 0) == 0);
  CHECK(parse_error(R"({"cdr": {"path": "a\nb"}})").rfind("cdr.path: ", 0) == 0);
  CHECK(parse_error(R"({"cdr": {"dir": "x"}})") == "cdr.dir: unknown key");
}

TEST_CASE("the routes array is kept as written, and parse_routes names the rule and field") {
  Config c = parse_ok(R"({"routes": [{"name": "a", "match": {"to": "*"},
                                      "targets": ["sip:h:5080"]}]})");
  CHECK(nlohmann::json::parse(c.routes_json) ==
        nlohmann::json::parse(R"([{"name": "a", "match": {"to": "*"}, "targets": ["sip:h:5080"]}])"));
  CHECK(parse_ok("{}").routes_json == "[]");
  auto ok = parse_routes(nlohmann::json::parse(R"([{"action": "reject", "status": 486}])"));
  REQUIRE(std::holds_alternative<std::vector<RouteRule>>(ok));
  CHECK(std::get<std::vector<RouteRule>>(ok).at(0).reject_reason == "Busy Here");
  auto bad = parse_routes(nlohmann::json::parse(
      R"([{"targets": ["sip:h"]}, {"targets": ["sip:h"]}, {"match": {"from": 1}}])"));
  REQUIRE(std::holds_alternative<std::string>(bad));
  CHECK(std::get<std::string>(bad) == "routes[2].match.from: must be a string");
  bad = parse_routes(nlohmann::json::object());
  CHECK(std::get<std::string>(bad) == "routes: must be an array");
}

TEST_CASE("parse_routes checks that a route's group exists among the running groups") {
  const auto routes = nlohmann::json::parse(R"([{"name": "g", "group": "pbx"}])");
  auto bad = parse_routes(routes);
  REQUIRE(std::holds_alternative<std::string>(bad));
  CHECK(std::get<std::string>(bad).rfind("routes[0].group: ", 0) == 0);
  GroupSpec pbx;
  pbx.name = "pbx";
  pbx.targets.push_back({"sip:10.0.0.1:5060"});
  auto ok = parse_routes(routes, {pbx});
  REQUIRE(std::holds_alternative<std::vector<RouteRule>>(ok));
  CHECK(std::get<std::vector<RouteRule>>(ok).at(0).name == "g");
}
