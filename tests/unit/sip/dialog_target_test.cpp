// The rules for a dialog's remote target and route set, on headers parsed by sofia-sip.
#include "sip/dialog_target.hpp"

#include <string>
#include <vector>

#include <doctest/doctest.h>

#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_alloc.h>

using namespace b2bua::sip;

namespace {

struct Home {
  su_home_t home[1] = {SU_HOME_INIT(home)};
  ~Home() { su_home_deinit(home); }
};

struct Row {
  const char* contact;       // nullptr: no Contact header
  const char* record_route;  // nullptr: none
  bool uac;
  UriProblem problem;
  const char* warning;
  bool needs_lookup;
};

}  // namespace

TEST_CASE("a dialog's target and route set are checked before NUA may use them") {
  const std::vector<Row> rows = {
      {"<sip:alice@127.0.0.1:5070>", nullptr, false, UriProblem::none, "", false},
      {"<sips:alice@[::1]:5071>", nullptr, false, UriProblem::none, "", false},
      {"<sip:alice@pc.example.com>", nullptr, false, UriProblem::none, "", true},
      {"<sip:alice@10.0.0.1;maddr=host.example.com>", nullptr, false, UriProblem::none, "", true},
      {"<sip:alice@h.example.com;maddr=10.0.0.1>", nullptr, false, UriProblem::none, "", false},
      {"*", nullptr, false, UriProblem::not_sip, "b2bua.sip.bad_contact", false},
      {"<tel:+15551234>", nullptr, false, UriProblem::not_sip, "b2bua.sip.bad_contact", false},
      {"<urn:service:sos>", nullptr, false, UriProblem::not_sip, "b2bua.sip.bad_contact", false},
      {"<http://example.com/>", nullptr, false, UriProblem::not_sip, "b2bua.sip.bad_contact",
       false},
      {"<sip:alice@a.example.com>, <sip:bob@b.example.com>", nullptr, false, UriProblem::not_sip,
       "b2bua.sip.bad_contact", false},
      {"<sip:alice@host:99999>", nullptr, false, UriProblem::bad_port, "b2bua.sip.bad_contact",
       false},
      {"<sip:alice@ho$t>", nullptr, false, UriProblem::bad_host, "b2bua.sip.bad_contact", false},
      {"<sip:alice@10.0.0.1;maddr=a$b>", nullptr, false, UriProblem::bad_host,
       "b2bua.sip.bad_contact", false},
      {nullptr, nullptr, false, UriProblem::missing, "b2bua.sip.bad_contact", false},
      {"<sip:alice@10.0.0.1?Route=%3Csip:10.9.9.9%3E>", nullptr, false, UriProblem::headers,
       "b2bua.sip.bad_contact", false},
      // Route sets: the first hop is the first entry for a UAS, the last for a UAC.
      {"<sip:alice@pc.example.com>", "<sip:10.0.0.9;lr>", false, UriProblem::none, "", false},
      {"<sip:alice@10.0.0.1>", "<sip:proxy.example.com;lr>, <sip:10.0.0.9;lr>", false,
       UriProblem::none, "", true},
      {"<sip:alice@10.0.0.1>", "<sip:proxy.example.com;lr>, <sip:10.0.0.9;lr>", true,
       UriProblem::none, "", false},
      {"<sip:alice@10.0.0.1>", "<tel:+1555>", false, UriProblem::not_sip,
       "b2bua.sip.bad_record_route", false},
      {"<sip:alice@10.0.0.1>", "<sip:10.0.0.9;lr>, <mailto:x@y>", true, UriProblem::not_sip,
       "b2bua.sip.bad_record_route", false},
  };
  for (const auto& row : rows) {
    Home h;
    CAPTURE(row.contact ? row.contact : "(none)");
    CAPTURE(row.record_route ? row.record_route : "(none)");
    const sip_contact_t* m = row.contact ? sip_contact_make(h.home, row.contact) : nullptr;
    const sip_record_route_t* rr =
        row.record_route ? sip_record_route_make(h.home, row.record_route) : nullptr;
    if (row.contact) {
      REQUIRE(m != nullptr);
    }
    if (row.record_route) {
      REQUIRE(rr != nullptr);
    }
    TargetCheck c = check_dialog_target(m, rr, row.uac, /*contact_required=*/true);
    CHECK(c.problem == row.problem);
    CHECK(std::string(c.warning()) == row.warning);
    CHECK(c.needs_lookup == row.needs_lookup);
  }
}

TEST_CASE("an unusable target is refused with 400: Missing Contact without one, else Bad Contact") {
  Home h;
  const TargetCheck none = check_dialog_target(nullptr, nullptr, false, /*contact_required=*/true);
  REQUIRE(none.refusal.has_value());
  CHECK(sip_refusal(*none.refusal).status == 400);
  CHECK(sip_refusal(*none.refusal).reason == "Missing Contact");
  CHECK(none.warning() == "b2bua.sip.bad_contact");
  const TargetCheck star =
      check_dialog_target(sip_contact_make(h.home, "*"), nullptr, false, /*contact_required=*/true);
  REQUIRE(star.refusal.has_value());
  CHECK(sip_refusal(*star.refusal).reason == "Bad Contact");
  CHECK(star.warning() == "b2bua.sip.bad_contact");
  const TargetCheck rr = check_dialog_target(sip_contact_make(h.home, "<sip:a@10.0.0.1>"),
                                             sip_record_route_make(h.home, "<tel:+1555>"), false,
                                             /*contact_required=*/true);
  REQUIRE(rr.refusal.has_value());
  CHECK(sip_refusal(*rr.refusal).reason == "Bad Contact");
  CHECK(rr.warning() == "b2bua.sip.bad_record_route");
  CHECK_FALSE(check_dialog_target(sip_contact_make(h.home, "<sip:a@10.0.0.1>"), nullptr, false,
                                  /*contact_required=*/true)
                  .refusal.has_value());
}

TEST_CASE("a missing Contact is fine where none is required") {
  CHECK(check_dialog_target(nullptr, nullptr, false, /*contact_required=*/false).ok());
}

TEST_CASE("IP literals need no lookup, names do") {
  CHECK(is_ip_literal("127.0.0.1"));
  CHECK(is_ip_literal("::1"));
  CHECK(is_ip_literal("[2001:db8::1]"));
  CHECK_FALSE(is_ip_literal("example.com"));
  CHECK_FALSE(is_ip_literal("127.0.0.256"));
  CHECK_FALSE(is_ip_literal(""));
}

TEST_CASE("source and next-hop URIs name a transport address only") {
  CHECK(source_uri("127.0.0.1", 5070, false) == "sip:127.0.0.1:5070;transport=udp");
  CHECK(source_uri("::1", 5070, true) == "sip:[::1]:5070;transport=tcp");
  Home h;
  CHECK(next_hop_uri(url_make(h.home, "sip:bob:pw@10.0.0.5:5080;transport=tcp;user=phone")) ==
        "sip:10.0.0.5:5080;transport=tcp");
  CHECK(next_hop_uri(url_make(h.home, "sips:pbx.example.com")) == "sips:pbx.example.com");
  CHECK(next_hop_uri(url_make(h.home, "sip:a@h;maddr=10.1.1.1")) == "sip:h;maddr=10.1.1.1");
  CHECK(next_hop_uri(nullptr).empty());
}
