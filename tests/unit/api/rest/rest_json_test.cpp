// The pure parts of the REST API: times, query strings, filters and paging, the CDR JSON form.
#include "api/rest/detail/rest_json.hpp"

#include <variant>

#include <doctest/doctest.h>

namespace {

using b2bua::CallInfo;
using namespace b2bua::api;
using json = nlohmann::json;

std::map<std::string, std::string> q(std::string_view text) {
  auto m = parse_query(text);
  REQUIRE(m);
  return *m;
}

CallInfo call(b2bua::CallId id, const std::string& state, const std::string& to,
              const std::string& target) {
  CallInfo c;
  c.id = id;
  c.from = "sip:alice@h";
  c.to = to;
  c.state = state;
  c.target = target;
  c.backend = target.substr(0, 4) + target.substr(target.find('@') == std::string::npos
                                                     ? 4
                                                     : target.find('@') + 1);
  c.start_ms = 1000;
  return c;
}

}  // namespace

TEST_CASE("parse_time reads ISO 8601 UTC and epoch milliseconds, nothing else") {
  CHECK(parse_time("0") == 0);
  CHECK(parse_time("1795482123456") == 1795482123456);
  CHECK(parse_time("2026-11-24T01:02:03.456Z") == 1795482123456);
  CHECK(parse_time("2026-11-24T01:02:03Z") == 1795482123000);
  CHECK(parse_time("1970-01-01T00:00:00Z") == 0);
  for (const char* bad : {"", "-1", "12a", "2026-11-24 01:02:03Z", "2026-11-24T01:02:03",
                          "2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-24T24:00:00Z",
                          "2026-11-24T01:02:03.4Z", "yesterday"}) {
    CAPTURE(bad);
    CHECK(!parse_time(bad));
  }
  CHECK(iso8601(*parse_time("2026-11-24T01:02:03.456Z")) == "2026-11-24T01:02:03.456Z");
}

TEST_CASE("parse_query decodes escapes and plus, refuses repeats and bad escapes") {
  CHECK(q("") == std::map<std::string, std::string>{});
  CHECK(q("a=1&b=x%20y+z&&c") ==
        std::map<std::string, std::string>{{"a", "1"}, {"b", "x y z"}, {"c", ""}});
  CHECK(q("from=sip%3Aalice%40h")["from"] == "sip:alice@h");
  CHECK(!parse_query("a=1&a=2"));
  CHECK(!parse_query("a=%zz"));
  CHECK(!parse_query("a=%4"));
}

TEST_CASE("call filters: known parameters, limits, and the parameter named in errors") {
  auto f = read_call_filter(q("state=ringing&to=bob&limit=5&offset=2&backend=h:5"));
  REQUIRE(std::holds_alternative<CallFilter>(f));
  CHECK(std::get<CallFilter>(f).page.limit == 5);
  CHECK(std::get<CallFilter>(f).page.offset == 2);
  CHECK(std::get<CallFilter>(f).backend == "h:5");
  for (auto [text, param] : {std::pair{"limit=0", "limit"}, {"limit=1001", "limit"},
                             {"offset=-1", "offset"}, {"offset=x", "offset"},
                             {"colour=red", "colour"}}) {
    auto e = read_call_filter(q(text));
    REQUIRE(std::holds_alternative<QueryError>(e));
    CHECK(std::get<QueryError>(e).parameter == param);
  }
  auto c = read_cdr_query(q("since=2026-11-24T00:00:00Z&until=1795482123456&from=a&limit=7"));
  REQUIRE(std::holds_alternative<CdrQuery>(c));
  CHECK(std::get<CdrQuery>(c).since_ms == 1795478400000);
  CHECK(std::get<CdrQuery>(c).until_ms == 1795482123456);
  CHECK(std::get<CdrQuery>(c).limit == 7);
  auto bad = read_cdr_query(q("until=noon"));
  REQUIRE(std::holds_alternative<QueryError>(bad));
  CHECK(std::get<QueryError>(bad).parameter == "until");
  CHECK(std::holds_alternative<QueryError>(read_cdr_query(q("state=x"))));
}

TEST_CASE("filter_calls matches every filter and pages after filtering") {
  std::vector<CallInfo> calls;
  for (int i = 1; i <= 10; ++i) {
    calls.push_back(call(i, i % 2 ? "ringing" : "answered", i <= 5 ? "sip:bob@h" : "sip:carol@h",
                         i <= 3 ? "sip:bob@10.0.0.1:5080" : "sip:10.0.0.2"));
  }
  CallFilter f;
  f.state = "ringing";
  json j = filter_calls(calls, f);
  CHECK(j["total"] == 5);
  CHECK(j["count"] == 5);
  f.to = "carol";
  j = filter_calls(calls, f);
  CHECK(j["total"] == 2);  // 7, 9
  CHECK(j["calls"][0]["id"] == 7);
  f = {};
  f.backend = "sip:10.0.0.1:5080";
  CHECK(filter_calls(calls, f)["total"] == 3);
  f = {};
  f.page.limit = 4;
  f.page.offset = 8;
  j = filter_calls(calls, f);
  CHECK(j["total"] == 10);
  CHECK(j["count"] == 2);
  CHECK(j["calls"][0]["id"] == 9);
  CHECK(j["limit"] == 4);
  CHECK(j["offset"] == 8);
}

TEST_CASE("the CDR JSON form: nulls for what did not happen, seconds with ms precision") {
  CdrRecord r;
  r.id = 4;
  r.call = 9;
  r.a_call_id = "a";
  r.start_ms = 1795482123456;
  r.end_ms = r.start_ms + 1500;
  r.final_status = 404;
  r.hangup_by = "b2bua";
  r.disconnect_reason = "route_no_match";
  r.media_mode = "bypass";
  json j = to_json(r);
  CHECK(j.size() == 18);
  CHECK(j["run"] == 0);
  CHECK(j["b_call_id"].is_null());
  CHECK(j["answer_time"].is_null());
  CHECK(j["end_time"] == "2026-11-24T01:02:04.956Z");
  CHECK(j["duration_s"] == 0.0);
  CHECK(j["final_status"] == 404);
  r.answer_ms = r.start_ms + 500;
  r.duration_ms = 1000;
  r.final_status = 0;
  j = to_json(r);
  CHECK(j["duration_s"] == 1.0);
  CHECK(j["final_status"].is_null());
}
