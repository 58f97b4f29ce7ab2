// Unit tests of the route table: wildcards, URI stripping, rule matching, decisions, targets.
#include "actors/route_table.hpp"

#include <optional>
#include <string>
#include <vector>

#include <doctest/doctest.h>

using namespace b2bua;

namespace {

IncomingCall make_call() {
  IncomingCall call;
  call.from_uri = "sip:alice@10.0.0.1";
  call.from_user = "alice";
  call.to_uri = "sip:bob@example.com";
  call.to_user = "bob";
  call.request_uri = "sip:bob@192.0.2.10:5070;transport=udp";
  call.ruri_user = "bob";
  call.source = "10.0.0.1:5060";
  return call;
}

RouteRule route_rule(std::string name, std::string target) {
  RouteRule rule;
  rule.name = std::move(name);
  rule.action = "route";
  rule.targets = {std::move(target)};
  return rule;
}

RouteRule reject_rule(std::string name, int status, std::string reason) {
  RouteRule rule;
  rule.name = std::move(name);
  rule.action = "reject";
  rule.reject_status = status;
  rule.reject_reason = std::move(reason);
  return rule;
}

}  // namespace

TEST_CASE("wildcard patterns match exactly the texts they describe") {
  struct Row {
    std::string pattern;
    std::string text;
    bool expected;
  };
  const Row rows[] = {
      {"", "", true},
      {"", "a", false},
      {"*", "", true},
      {"*", "anything at all", true},
      {"**", "", true},
      {"alice", "alice", true},
      {"alice", "alic", false},
      {"alice", "alicee", false},
      {"alice", "Alice", false},  // case-sensitive
      {"ali*", "alice", true},
      {"ali*", "ali", true},
      {"ali*", "al", false},
      {"*ice", "alice", true},
      {"*ice", "ice", true},
      {"*ice", "alicex", false},
      {"a*e", "alice", true},
      {"a*e", "ae", true},
      {"a*e", "alic", false},
      {"*li*", "alice", true},
      {"*li*", "li", true},
      {"*li*", "alce", false},
      {"a*b*c", "aXbYc", true},
      {"a*b*c", "abc", true},
      {"a*b*c", "acb", false},
      {"a*b*c", "abcbcbc", true},
      {"a*b*c", "abcbcb", false},
      {"*a*a*a", "aaa", true},
      {"*a*a*a", "aa", false},
      {"666*", "6661234", true},
      {"666*", "1666", false},
      {"sip:*@example.com", "sip:bob@example.com", true},
      {"sip:*@example.com", "sip:bob@example.org", false},
      {"10.0.0.*:*", "10.0.0.1:5060", true},
      {"10.0.0.*:*", "10.0.1.1:5060", false},
  };
  for (const auto& row : rows) {
    INFO("pattern: " << row.pattern << " text: " << row.text);
    CHECK(wildcard_match(row.pattern, row.text) == row.expected);
  }
}

TEST_CASE("pathological wildcard patterns on long text finish and answer correctly") {
  const std::string long_a(20000, 'a');
  const std::string long_b(20000, 'b');
  CHECK(wildcard_match("****a", long_a));
  CHECK_FALSE(wildcard_match("****a", long_b));
  CHECK_FALSE(wildcard_match("*a*a*a*a*a*a*a*a*b", long_a));
  CHECK(wildcard_match("*a*a*a*a*a*a*a*a*a", long_a));
  CHECK(wildcard_match(std::string(5000, '*'), long_b));
  CHECK_FALSE(wildcard_match(std::string(5000, '*') + "a", long_b));
}

TEST_CASE("strip_uri_params keeps scheme, user, host and port only") {
  struct Row {
    std::string input;
    std::string expected;
  };
  const Row rows[] = {
      {"sip:alice@example.com:5070;transport=udp?X=1", "sip:alice@example.com:5070"},
      {"sip:alice@example.com", "sip:alice@example.com"},
      {"sip:example.com;lr", "sip:example.com"},
      {"sips:bob@[2001:db8::1]:5061;transport=tls", "sips:bob@[2001:db8::1]:5061"},
      {"tel:+4930123;phone-context=example.com", "tel:+4930123"},
      {"sip:+4930123;npdi@gw.example.com;user=phone", "sip:+4930123;npdi@gw.example.com"},
      {"<sip:alice@h;transport=tcp>", "sip:alice@h"},
      {"\"Alice\" <sip:alice@h>;tag=1", "sip:alice@h"},
      {"\"A <weird> name\" <sip:alice@h:5060>;tag=1", "sip:alice@h:5060"},
      {"Alice <sip:alice@h>", "sip:alice@h"},
      {"  sip:alice@h  ", "sip:alice@h"},
      {"<sip:alice@h", "sip:alice@h"},
      {"", ""},
      {"<>", ""},
      {";;;", ""},
      {"\"unterminated <sip:x@h>", "\"unterminated <sip:x@h>"},
  };
  for (const auto& row : rows) {
    INFO("input: " << row.input);
    CHECK(strip_uri_params(row.input) == row.expected);
  }
}

TEST_CASE("rule patterns with a scheme match the URI and others match the user part") {
  struct Row {
    std::string field;  // which match_* the pattern goes into
    std::string pattern;
    bool expected;
  };
  // make_call(): from sip:alice@10.0.0.1, to sip:bob@example.com,
  // ruri sip:bob@192.0.2.10:5070;transport=udp, source 10.0.0.1:5060.
  const Row rows[] = {
      {"from", "alice", true},
      {"from", "al*", true},
      {"from", "bob", false},
      {"from", "sip:alice@10.0.0.1", true},
      {"from", "sip:*@10.0.0.*", true},
      {"from", "sip:alice@10.0.0.2", false},
      {"from", "sip:alice", false},   // URI patterns see the whole URI, not the user
      {"from", "*@10.0.0.1", false},  // no scheme: user part only
      {"to", "bob", true},
      {"to", "b*", true},
      {"to", "alice", false},
      {"to", "sip:bob@example.com", true},
      {"to", "sips:bob@example.com", false},
      {"to", "SIP:*@example.com", false},  // a URI pattern, but matching is case-sensitive
      {"ruri", "bob", true},
      {"ruri", "sip:bob@192.0.2.10:5070", true},
      {"ruri", "sip:bob@192.0.2.10:5070;transport=udp", false},  // parameters are stripped
      {"ruri", "sip:*:5070", true},
      {"ruri", "tel:*", false},
      {"source", "10.0.0.1:5060", true},
      {"source", "10.0.0.*", true},
      {"source", "10.0.0.1", false},
      {"source", "192.168.*", false},
      {"from", "", true},
      {"to", "", true},
      {"ruri", "", true},
      {"source", "", true},
  };
  const auto call = make_call();
  for (const auto& row : rows) {
    INFO("field: " << row.field << " pattern: " << row.pattern);
    RouteRule rule = route_rule("r", "sip:127.0.0.1:5080");
    std::string field = row.field;
    if (field == "from") {
      rule.match_from = row.pattern;
    } else if (field == "to") {
      rule.match_to = row.pattern;
    } else if (field == "ruri") {
      rule.match_ruri = row.pattern;
    } else {
      rule.match_source = row.pattern;
    }
    CHECK(rule_matches(rule, call) == row.expected);
  }
}

TEST_CASE("a rule matches only when every pattern it has matches") {
  const auto call = make_call();
  RouteRule rule = route_rule("r", "sip:127.0.0.1:5080");
  rule.match_from = "alice";
  rule.match_to = "bob";
  rule.match_source = "10.0.0.*";
  CHECK(rule_matches(rule, call));
  rule.match_ruri = "carol";
  CHECK_FALSE(rule_matches(rule, call));
}

TEST_CASE("auth_user patterns match the authenticated user, and only an authenticated one") {
  auto call = make_call();
  RouteRule rule = route_rule("r", "sip:127.0.0.1:5080");
  rule.match_auth_user = "alice";
  CHECK_FALSE(rule_matches(rule, call));  // not authenticated (auth off or a trusted source)
  call.auth_user = "alice";
  CHECK(rule_matches(rule, call));
  call.auth_user = "alicia";
  CHECK_FALSE(rule_matches(rule, call));
  rule.match_auth_user = "ali*";
  CHECK(rule_matches(rule, call));
  rule.match_auth_user = "~.";
  CHECK(rule_matches(rule, call));
  call.auth_user.clear();
  CHECK_FALSE(rule_matches(rule, call));
  rule.match_auth_user.clear();
  CHECK(rule_matches(rule, call));
}

TEST_CASE("tel URI patterns match tel request URIs without parameters") {
  IncomingCall call;
  call.request_uri = "tel:+4930123456;phone-context=example.com";
  call.ruri_user = "+4930123456";
  RouteRule rule = route_rule("tel", "sip:gw.example.com");
  rule.match_ruri = "tel:+4930*";
  CHECK(rule_matches(rule, call));
  rule.match_ruri = "tel:+4940*";
  CHECK_FALSE(rule_matches(rule, call));
}

TEST_CASE("with no rules every call goes to its own Request-URI") {
  const auto call = make_call();
  const auto d = decide({}, call);
  CHECK(d.kind == RouteDecision::Kind::route);
  CHECK(d.target == call.request_uri);
  CHECK(d.route_name == "pass-through");
}

TEST_CASE("decide lets the first matching rule win") {
  struct Row {
    std::string to_user;
    RouteDecision::Kind kind;
    std::string target;
    std::string route_name;
    int status;
    std::string reason;
    std::string warning;
  };
  std::vector<RouteRule> rules;
  rules.push_back(reject_rule("deny", 403, "Forbidden"));
  rules.back().match_to = "666*";
  rules.push_back(route_rule("eu", "sip:10.1.1.1:5060"));
  rules.back().match_to = "49*";
  rules.push_back(route_rule("eu-shadowed", "sip:10.9.9.9:5060"));
  rules.back().match_to = "49*";
  rules.push_back(reject_rule("busy", 486, "Busy Here"));
  rules.back().match_to = "busy";
  rules.push_back(route_rule("bob", "sip:carol@10.2.2.2"));
  rules.back().match_to = "sip:bob@*";

  using K = RouteDecision::Kind;
  const Row rows[] = {
      {"6661", K::reject, "", "deny", 403, "Forbidden", "b2bua.route.rejected"},
      {"4930", K::route, "sip:10.1.1.1:5060", "eu", 0, "", ""},
      {"busy", K::reject, "", "busy", 486, "Busy Here", "b2bua.route.rejected"},
      {"bob", K::route, "sip:carol@10.2.2.2", "bob", 0, "", ""},
      {"nobody", K::reject, "", "", 404, "Not Found", "b2bua.route.no_match"},
  };
  for (const auto& row : rows) {
    INFO("to: " << row.to_user);
    auto call = make_call();
    call.to_user = row.to_user;
    call.to_uri = std::string{"sip:"} + row.to_user + "@example.com";
    const auto d = decide(rules, call);
    CHECK(d.kind == row.kind);
    CHECK(d.target == row.target);
    CHECK(d.route_name == row.route_name);
    CHECK(d.status == row.status);
    CHECK(d.reason == row.reason);
    CHECK(d.warning == row.warning);
  }
}

TEST_CASE("a route rule built without targets is answered with 500, not a crash") {
  RouteRule rule;
  rule.name = "broken";
  rule.action = "route";
  const auto d = decide({rule}, make_call());
  CHECK(d.kind == RouteDecision::Kind::reject);
  CHECK(d.status == 500);
  CHECK(d.warning == "b2bua.route.bad_rule");
}

TEST_CASE("the table policy replies at once with the table's decision") {
  std::vector<RouteRule> rules{route_rule("all", "sip:127.0.0.1:5080")};
  rules.front().match_from = "alice";
  const auto policy = make_table_policy(rules);
  std::optional<RouteDecision> got;
  int calls = 0;
  policy(make_call(), [&](RouteDecision d) {
    got = std::move(d);
    ++calls;
  });
  REQUIRE(got.has_value());
  CHECK(calls == 1);
  CHECK(got->kind == RouteDecision::Kind::route);
  CHECK(got->target == "sip:127.0.0.1:5080");
  CHECK(got->route_name == "all");

  auto other = make_call();
  other.from_user = "mallory";
  got.reset();
  policy(other, [&](RouteDecision d) { got = std::move(d); });
  REQUIRE(got.has_value());
  CHECK(got->status == 404);
  CHECK_NOTHROW(policy(other, RouteReply{}));
}

TEST_CASE("apply_target keeps the called user unless the target names one") {
  struct Row {
    std::string target;
    std::string user;
    std::string expected;
  };
  const Row rows[] = {
      {"sip:127.0.0.1:5080", "bob", "sip:bob@127.0.0.1:5080"},
      {"sip:127.0.0.1:5080;transport=udp", "bob", "sip:bob@127.0.0.1:5080;transport=udp"},
      {"sips:gw.example.com", "bob", "sips:bob@gw.example.com"},
      {"sip:[2001:db8::1]:5060", "bob", "sip:bob@[2001:db8::1]:5060"},
      {"sip:alice@h", "bob", "sip:alice@h"},
      {"sips:alice@h:5061", "bob", "sips:alice@h:5061"},
      {"sip:127.0.0.1:5080", "", "sip:127.0.0.1:5080"},
      {"sip:h", "+49 30@x", "sip:+49%2030%40x@h"},
      {"sip:h", "%41lice", "sip:%41lice@h"},
      {"tel:+4930123", "bob", "tel:+4930123"},
      {"sip:", "bob", "sip:"},
      {"", "bob", ""},
      {"garbage", "bob", "garbage"},
  };
  for (const auto& row : rows) {
    INFO("target: " << row.target << " user: " << row.user);
    CHECK(apply_target(row.target, row.user) == row.expected);
  }
}

TEST_CASE("garbage input never throws from any route table function") {
  const std::string inputs[] = {
      "",
      "<",
      ">",
      "\"",
      "\"\\",
      "@",
      "@@@",
      ";",
      "?",
      "sip:",
      "sips:@",
      "<sip:@>;;",
      std::string(1, '\0'),
      std::string("\xff\xfe\x80", 3),
      std::string(10000, '<'),
  };
  for (const auto& in : inputs) {
    CAPTURE(in);
    CHECK_NOTHROW(strip_uri_params(in));
    CHECK_NOTHROW(apply_target(in, in));
    CHECK_NOTHROW(wildcard_match(in, in));
    IncomingCall call;
    call.from_uri = call.to_uri = call.request_uri = call.source = in;
    call.from_user = call.to_user = call.ruri_user = in;
    RouteRule rule = route_rule(in, in);
    rule.match_from = rule.match_to = rule.match_ruri = "sip:*";
    CHECK_NOTHROW(decide({rule}, call));
  }
  // A pattern matches itself when it has no '*' (wildcard_match compares exactly).
  CHECK(wildcard_match("@@@", "@@@"));
}

TEST_CASE("with_user sets or replaces the user part of a SIP URI") {
  CHECK(b2bua::with_user("sip:carol@10.0.0.2:5080", "bob") == "sip:bob@10.0.0.2:5080");
  CHECK(b2bua::with_user("sip:10.0.0.2:5080;transport=udp", "bob") ==
        "sip:bob@10.0.0.2:5080;transport=udp");
  CHECK(b2bua::with_user("sips:carol@h", "bob") == "sips:bob@h");
  CHECK(b2bua::with_user("sip:carol@h", "") == "sip:carol@h");
  CHECK(b2bua::with_user("tel:+123", "bob") == "tel:+123");
}
