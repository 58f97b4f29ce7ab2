// Unit tests of the rule matcher added for routing: regex patterns, header matches, priorities and
// default rules, time windows (across midnight, in time zones), decisions and header policies.
#include <chrono>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "actors/route_table.hpp"

using namespace b2bua;
using std::chrono::system_clock;

namespace {

IncomingCall call_from(std::string user, std::vector<HeaderField> headers = {}) {
  IncomingCall c;
  c.from_uri = "sip:" + user + "@10.0.0.1";
  c.from_user = user;
  c.to_uri = "sip:bob@example.com";
  c.to_user = "bob";
  c.request_uri = "sip:+4930123@b2b.example;user=phone";
  c.ruri_user = "+4930123";
  c.source = "10.0.0.1:5060";
  c.headers = std::move(headers);
  return c;
}

RouteRule to(std::string name, std::string target) {
  RouteRule r;
  r.name = std::move(name);
  r.targets = {std::move(target)};
  return r;
}

// 2026-11-23 was a Monday. A UTC time point on that day.
system_clock::time_point utc(int day_offset, int hour, int minute) {
  // 2026-11-23T00:00:00Z = 1795392000
  return system_clock::time_point(std::chrono::seconds(1795392000 + day_offset * 86400 +
                                                       hour * 3600 + minute * 60));
}

}  // namespace

TEST_CASE("regex patterns search the URI without parameters; wildcards match whole texts") {
  struct Row {
    std::string pattern;
    std::string field;  // "from", "ruri", "source"
    bool expected;
  };
  const Row rows[] = {
      {"~^sip:\\+49", "ruri", true},
      {"~^sip:\\+1", "ruri", false},
      {"~user=phone", "ruri", false},  // parameters are not part of the matched text
      {"~^sip:al(ice|an)@", "from", true},
      {"~^sip:bob@", "from", false},
      {"~^10\\.0\\.0\\.[0-9]+:5060$", "source", true},
      {"~^192\\.", "source", false},
      {"sip:+49*", "ruri", true},
      {"+49*", "ruri", true},  // no scheme: the user part
      {"~(", "from", false},   // an invalid regex never matches
  };
  for (const auto& row : rows) {
    INFO(row.pattern << " on " << row.field);
    RouteRule r = to("r", "sip:h");
    if (row.field == "from") {
      r.match_from = row.pattern;
    } else if (row.field == "ruri") {
      r.match_ruri = row.pattern;
    } else {
      r.match_source = row.pattern;
    }
    CHECK(rule_matches(r, call_from("alice")) == row.expected);
  }
  CHECK(check_pattern("~(").find("bad regular expression") == 0);
  CHECK(check_pattern("~^a+$").empty());
  CHECK(check_pattern("plain*").empty());
}

TEST_CASE("header matches need the header, any of its values, names case-insensitive") {
  RouteRule r = to("r", "sip:h");
  r.match_headers = {{"X-Tenant", "acme*"}};
  CHECK(rule_matches(r, call_from("a", {{"x-tenant", "acme-eu"}})));
  CHECK(rule_matches(r, call_from("a", {{"X-Tenant", "other"}, {"X-TENANT", "acme"}})));
  CHECK_FALSE(rule_matches(r, call_from("a", {{"X-Tenant", "other"}})));
  CHECK_FALSE(rule_matches(r, call_from("a")));
  r.match_headers = {{"Priority", "~^emergency$"}};
  CHECK(rule_matches(r, call_from("a", {{"Priority", "emergency"}})));
  CHECK_FALSE(rule_matches(r, call_from("a", {{"Priority", "non-emergency"}})));
}

TEST_CASE("higher priority wins, equal priorities keep their order, default rules come last") {
  RouteRule low = to("low", "sip:low");
  RouteRule high = to("high", "sip:high");
  high.priority = 10;
  high.match_from = "alice";
  RouteRule dflt = to("fallback", "sip:fallback");
  dflt.is_default = true;
  dflt.priority = 100;  // a default stays last whatever its priority
  RouteRule also_low = to("also-low", "sip:also-low");
  const std::vector<RouteRule> rules = sort_rules({dflt, low, high, also_low});
  REQUIRE(rules.size() == 4);
  CHECK(rules[0].name == "high");
  CHECK(rules[1].name == "low");
  CHECK(rules[2].name == "also-low");
  CHECK(rules[3].name == "fallback");
  CHECK(decide(rules, call_from("alice")).route_name == "high");
  CHECK(decide(rules, call_from("carol")).route_name == "low");
  RouteRule only_bob = to("bob", "sip:bob");
  only_bob.match_from = "bob";
  CHECK(decide(sort_rules({dflt, only_bob}), call_from("carol")).route_name == "fallback");
}

TEST_CASE("time windows: days, hours, across midnight and in time zones") {
  struct Row {
    const char* what;
    TimeWindow w;
    system_clock::time_point at;
    bool expected;
  };
  const std::uint8_t weekdays = 0x1f;  // Monday to Friday
  const Row rows[] = {
      {"Mon 10:00 UTC in 09-17 weekdays", {weekdays, 9 * 60, 17 * 60, "UTC"}, utc(0, 10, 0), true},
      {"Mon 17:00 UTC is past the end", {weekdays, 9 * 60, 17 * 60, "UTC"}, utc(0, 17, 0), false},
      {"Mon 08:59 UTC is before", {weekdays, 9 * 60, 17 * 60, "UTC"}, utc(0, 8, 59), false},
      {"Sat 10:00 UTC is not a weekday", {weekdays, 9 * 60, 17 * 60, "UTC"}, utc(5, 10, 0), false},
      {"Mon 08:30 UTC is 09:30 in Berlin", {weekdays, 9 * 60, 17 * 60, "Europe/Berlin"},
       utc(0, 8, 30), true},
      {"Mon 16:30 UTC is 17:30 in Berlin", {weekdays, 9 * 60, 17 * 60, "Europe/Berlin"},
       utc(0, 16, 30), false},
      {"Mon 14:00 UTC is 09:00 in New York", {weekdays, 9 * 60, 17 * 60, "America/New_York"},
       utc(0, 14, 0), true},
      {"Fri 23:00 UTC in Fri 22:00-06:00", {1 << 4, 22 * 60, 6 * 60, "UTC"}, utc(4, 23, 0), true},
      {"Sat 03:00 UTC belongs to Friday's night", {1 << 4, 22 * 60, 6 * 60, "UTC"},
       utc(5, 3, 0), true},
      {"Sat 06:00 UTC ends Friday's night", {1 << 4, 22 * 60, 6 * 60, "UTC"}, utc(5, 6, 0), false},
      {"Fri 03:00 UTC belongs to Thursday", {1 << 4, 22 * 60, 6 * 60, "UTC"}, utc(4, 3, 0), false},
      {"Sun 23:30 UTC in a Sunday night window", {1 << 6, 23 * 60, 1 * 60, "UTC"},
       utc(6, 23, 30), true},
      {"Mon 00:30 UTC still Sunday's night", {1 << 6, 23 * 60, 1 * 60, "UTC"}, utc(7, 0, 30),
       true},
      {"an unknown zone never matches", {0x7f, 0, 24 * 60, "Mars/Base"}, utc(0, 12, 0), false},
  };
  for (const auto& row : rows) {
    INFO(row.what);
    CHECK(in_window(row.w, row.at) == row.expected);
  }
  CHECK(check_time_zone("Europe/Berlin").empty());
  CHECK_FALSE(check_time_zone("Mars/Base").empty());
}

TEST_CASE("a rule with a time window only matches inside it") {
  RouteRule office = to("office", "sip:office");
  office.when = TimeWindow{0x1f, 9 * 60, 17 * 60, "UTC"};
  RouteRule night = to("night", "sip:night");
  night.is_default = true;
  const auto rules = sort_rules({office, night});
  CHECK(decide(rules, call_from("a"), utc(0, 10, 0)).route_name == "office");
  CHECK(decide(rules, call_from("a"), utc(0, 20, 0)).route_name == "night");
}

TEST_CASE("decisions carry what each action needs") {
  RouteRule g;
  g.name = "pbx";
  g.group = "pbx";
  g.media = "bypass";
  g.headers.add = {{"X-Tenant", "acme"}};
  auto d = decision_of(g);
  CHECK(d.kind == RouteDecision::Kind::route);
  CHECK(d.group == "pbx");
  CHECK(d.media == "bypass");
  REQUIRE(d.headers.add.size() == 1);

  RouteRule q = to("q", "sip:a");
  q.targets.push_back("sip:b");
  q.action = "queue";
  q.queue_priority = 7;
  q.queue_timeout_ms = 1234;
  d = decision_of(q);
  CHECK(d.kind == RouteDecision::Kind::queue);
  CHECK(d.targets == std::vector<std::string>{"sip:a", "sip:b"});
  CHECK(d.target == "sip:a");
  CHECK(d.queue_priority == 7);
  CHECK(d.queue_timeout_ms == 1234);

  RouteRule r;
  r.name = "moved";
  r.action = "redirect";
  r.contact = "sip:bob@192.0.2.7";
  d = decision_of(r);
  CHECK(d.kind == RouteDecision::Kind::redirect);
  CHECK(d.status == 302);
  CHECK(d.contact == "sip:bob@192.0.2.7");

  RouteRule bad;
  bad.action = "route";  // no destination: a rule built by code, our fault
  d = decision_of(bad);
  CHECK(d.status == 500);
  CHECK(d.warning == "b2bua.route.bad_rule");
}

TEST_CASE("the header policy copies by name, removes, then adds") {
  const std::vector<HeaderField> caller = {
      {"X-Foo", "1"}, {"x-secret", "s"}, {"Subject", "hi"}, {"X-Bar", "2"}};
  HeaderPolicy p;
  p.copy = {"X-*", "subject"};
  p.remove = {"X-Secret"};
  p.add = {{"X-Tenant", "acme"}};
  auto out = apply_header_policy(p, caller);
  REQUIRE(out.size() == 4);
  CHECK(out[0].name == "X-Foo");
  CHECK(out[1].name == "Subject");
  CHECK(out[2].name == "X-Bar");
  CHECK(out[3].name == "X-Tenant");
  CHECK(out[3].value == "acme");
  CHECK(apply_header_policy(HeaderPolicy{}, caller).empty());  // nothing copied by default
}

TEST_CASE("a rule set replaced at run time decides new calls by the new rules") {
  auto set = make_rule_set({to("old", "sip:old")});
  auto policy = set->policy();
  std::string seen;
  policy(call_from("a"), [&seen](RouteDecision d) { seen = d.route_name; });
  CHECK(seen == "old");
  auto before = set->current();
  set->replace({to("new", "sip:new")});
  policy(call_from("a"), [&seen](RouteDecision d) { seen = d.route_name; });
  CHECK(seen == "new");
  CHECK(before->front().name == "old");  // a list handed out earlier is unchanged
}

TEST_CASE("the regex cache stays bounded however many new patterns arrive (PUT /v1/routes)") {
  for (int i = 0; i < 5000; ++i) {
    const std::string pattern = "~^sip:user" + std::to_string(i) + "@";
    REQUIRE(check_pattern(pattern).empty());
    CHECK(pattern_matches(pattern, "sip:user" + std::to_string(i) + "@example.com"));
    REQUIRE(pattern_cache_size() <= 4096);
  }
  // An old pattern that was dropped is compiled again and still matches.
  CHECK(pattern_matches("~^sip:user0@", "sip:user0@example.com"));
  CHECK_FALSE(pattern_matches("~^sip:user0@", "sip:user1@example.com"));
}
