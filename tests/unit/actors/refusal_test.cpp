// The refusal table: its mapping to SIP responses, its CAF error category, and README's list of
// Warning ids (section "Errors b2buad generates"), which must be exactly the table's.
#include "actors/protocol/refusal.hpp"

#include <fstream>
#include <regex>
#include <set>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <doctest/doctest.h>

#include "actors/protocol/leg_event.hpp"
#include "actors/protocol/sip_port.hpp"

namespace b2bua {

namespace {

struct MappingRow {
  Refusal refusal;
  RefusalContext context;
  int status;
  const char* reason;
  const char* warning;
  std::uint32_t retry_after;
};

// The README section listing every Warning id b2buad sends: from its bullet to the next bullet.
std::string readme_errors_section() {
  std::ifstream in(std::string(B2BUA_SOURCE_DIR) + "/README.md");
  REQUIRE(in.good());
  std::string line;
  std::string section;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.rfind("- **Errors b2buad generates**", 0) == 0) {
      inside = true;
    } else if (inside && line.rfind("- **", 0) == 0) {
      break;
    }
    if (inside) {
      section += line + "\n";
    }
  }
  return section;
}

std::set<std::string> ids_in(const std::string& text) {
  std::set<std::string> out;
  const std::regex id("`(b2bua\\.[a-z_]+(\\.[a-z_]+)*)`");
  for (auto i = std::sregex_iterator(text.begin(), text.end(), id); i != std::sregex_iterator();
       ++i) {
    out.insert((*i)[1].str());
  }
  return out;
}

std::string joined(const std::set<std::string>& s) {
  std::string out;
  for (const auto& x : s) {
    out += (out.empty() ? "" : ", ") + x;
  }
  return out;
}

}  // namespace

TEST_CASE("a refusal maps to its status, reason, Warning id and Retry-After") {
  const MappingRow rows[] = {
      {Refusal::route_no_match, {}, 404, "Not Found", "b2bua.route.no_match", 0},
      {Refusal::route_no_match, {.retry_after = 7, .status = 486, .reason = "Busy Here"}, 404, "Not Found", "b2bua.route.no_match", 0},
      {Refusal::draining, {.retry_after = 5}, 503, "Service Unavailable", "b2bua.draining", 5},
      {Refusal::draining, {.retry_after = 0}, 503, "Service Unavailable", "b2bua.draining", 0},
      {Refusal::limits_max_calls, {.retry_after = 9}, 503, "Service Unavailable", "b2bua.limits.max_calls", 9},
      {Refusal::media_ports_exhausted, {.retry_after = 5}, 503, "Service Unavailable",
       "b2bua.media.ports_exhausted", 5},
      {Refusal::media_error, {.retry_after = 5}, 500, "Server Internal Error", "b2bua.media.error", 0},
      {Refusal::sip_loop, {.retry_after = 5, .status = 404, .reason = "Not Found"}, 482, "Loop Detected", "b2bua.sip.loop", 0},
      {Refusal::route_rejected, {}, 403, "Forbidden", "b2bua.route.rejected", 0},
      {Refusal::route_rejected, {.retry_after = 0, .status = 486, .reason = "Busy Here"}, 486, "Busy Here", "b2bua.route.rejected", 0},
      {Refusal::route_rejected, {.retry_after = 0, .status = 200, .reason = "OK"}, 403, "Forbidden", "b2bua.route.rejected", 0},
      {Refusal::backend_all_failed, {.retry_after = 5}, 503, "Service Unavailable", "b2bua.backend.all_failed",
       5},
      {Refusal::backend_all_failed, {.retry_after = 120, .status = 502, .reason = "Bad Gateway"}, 502, "Bad Gateway",
       "b2bua.backend.all_failed", 120},
      {Refusal::target_unreachable, {.retry_after = 0, .status = 500, .reason = "Server Internal Error"}, 500,
       "Server Internal Error", "b2bua.target.unreachable", 0},
      {Refusal::offer_pending, {.retry_after = 3}, 500, "Server Internal Error", "b2bua.offer.pending", 3},
      {Refusal::offer_glare, {.retry_after = 3}, 491, "Request Pending", "b2bua.offer.glare", 0},
      {Refusal::auth_proxy_challenge, {}, 407, "Proxy Authentication Required",
       "b2bua.auth.challenge", 0},
      {Refusal::call_hangup_operator, {}, 480, "Temporarily Unavailable", "b2bua.call.hangup", 0},
      {Refusal::info_no_dialog, {}, 481, "Call/Transaction Does Not Exist", "b2bua.info.no_call",
       0},
  };
  for (const auto& row : rows) {
    CAPTURE(row.warning);
    const SipRefusal r = sip_refusal(row.refusal, row.context);
    CHECK(r.status == row.status);
    CHECK(r.reason == row.reason);
    CHECK(std::string(r.warning) == row.warning);
    CHECK(r.retry_after == row.retry_after);
  }
}

TEST_CASE("every row is a standard error status with a reason and a stable dotted id") {
  const std::regex id("b2bua\\.[a-z_]+(\\.[a-z_]+)*");
  for (const auto& row : refusal_table) {
    CAPTURE(row.warning);
    CHECK(row.status >= 400);
    CHECK(row.status < 700);
    CHECK(std::string(row.reason).size() > 0);
    CHECK(std::regex_match(row.warning, id));
    CHECK(&row_of(row.refusal) == &row);
  }
}

TEST_CASE("a SipAction and a LegEvent take a refusal's fields") {
  SipAction a;
  apply_refusal(a, Refusal::queue_timeout, {.retry_after = 30});
  CHECK(a.status == 503);
  CHECK(a.reason == "Service Unavailable");
  CHECK(a.warning == "b2bua.queue.timeout");
  CHECK(a.retry_after == 30);
  LegEvent ev;
  ev.retry_after = 4;
  apply_refusal(ev, Refusal::target_timeout);
  CHECK(ev.status == 408);
  CHECK(ev.reason == "Request Timeout");
  CHECK(ev.warning == "b2bua.target.timeout");
  CHECK(ev.retry_after == 0);
}

TEST_CASE("a refusal travels as a caf::error of its own category") {
  caf::error e = Refusal::queue_full;
  CHECK(e.category() == refusal_category);
  REQUIRE(refusal_of(e).has_value());
  CHECK(*refusal_of(e) == Refusal::queue_full);
  CHECK_FALSE(refusal_of(caf::error{}).has_value());
  CHECK_FALSE(refusal_of(caf::make_error(caf::sec::request_timeout)).has_value());
  caf::actor_system_config cfg;
  cfg.add_error_category(refusal_category, render_refusal);
  caf::actor_system sys{cfg};
  CHECK(sys.render(e).find("b2bua.queue.full") != std::string::npos);
}

TEST_CASE("README lists exactly the table's Warning ids") {
  const std::set<std::string> readme = ids_in(readme_errors_section());
  std::set<std::string> table;
  for (const auto& row : refusal_table) {
    table.insert(row.warning);
  }
  std::set<std::string> only_readme;
  std::set<std::string> only_table;
  for (const auto& x : readme) {
    if (!table.count(x)) {
      only_readme.insert(x);
    }
  }
  for (const auto& x : table) {
    if (!readme.count(x)) {
      only_table.insert(x);
    }
  }
  CHECK_MESSAGE(readme.size() > 10, "README's section was not found or lists almost nothing");
  CHECK_MESSAGE(only_readme.empty(), "in README but not in the table: " << joined(only_readme));
  CHECK_MESSAGE(only_table.empty(), "in the table but not in README: " << joined(only_table));
}

TEST_CASE("the Warning-id reader finds ids and only ids") {
  CHECK(ids_in("`b2bua.a.b` and `b2bua.draining` (503), b2bua.c.d, `limits.max_calls`") ==
        std::set<std::string>{"b2bua.a.b", "b2bua.draining"});
}

}  // namespace b2bua
