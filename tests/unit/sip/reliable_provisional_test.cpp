// 100rel planning: the model of sofia-sip's nua_invite_server_is_100rel, branch by branch, and
// the plan b2buad builds on it (Require: 100rel, unPRACKed 18x, a held 2xx, the early answer).
#include "sip/reliable_provisional.hpp"

#include <string>
#include <vector>

#include <doctest/doctest.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_parser.h>

using namespace b2bua::sip;

namespace {

// Caller options by name: "-" no headers, "sup" Supported: 100rel, "req" Require: 100rel,
// "timer" Supported: timer only, "req+prec" Supported: 100rel and Require: precondition,
// "req-timer" Require: timer only.
CallerOptions caller(const std::string& kind) {
  CallerOptions c;
  if (kind == "sup" || kind == "req+prec") {
    c.supported_present = c.supported_100rel = true;
  }
  if (kind == "req") {
    c.require_present = c.require_100rel = true;
  }
  if (kind == "timer") {
    c.supported_present = true;
  }
  if (kind == "req+prec") {
    c.require_present = c.require_precondition = true;
  }
  if (kind == "req-timer") {
    c.require_present = true;
  }
  return c;
}

struct RuleRow {
  const char* branch;
  int status;
  const char* caller;
  bool our_require;
  NuaReliability nua;
  bool offer_received;
  bool answer_sent;
  bool reliable;
};

constexpr NuaReliability defaults = b2bua_nua_reliability;
constexpr NuaReliability no_100rel{"timer", false, false};
constexpr NuaReliability early{"timer, 100rel", true, false};
constexpr NuaReliability early_only183{"timer, 100rel", true, true};
constexpr NuaReliability only183{"timer, 100rel", false, true};

const std::string sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                        "m=audio 4000 RTP/AVP 0\r\n";

ReliableLeg leg_of(const std::string& kind, bool offer = true) {
  ReliableLeg leg;
  leg.caller = caller(kind);
  leg.offer_received = offer;
  return leg;
}

}  // namespace

TEST_CASE("nua_sends_reliably follows every branch of sofia's nua_invite_server_is_100rel") {
  const std::vector<RuleRow> rows = {
      {"a 2xx is final, never a reliable provisional", 200, "req", true, defaults, true, false,
       false},
      {"a 3xx-6xx neither", 486, "req", true, defaults, true, false, false},
      {"100 Trying never", 100, "req", true, defaults, true, false, false},
      {"our Require: 100rel, even to a caller without headers", 180, "-", true, defaults, false,
       false, true},
      {"our Require: 100rel wins over our own Supported", 180, "sup", true, no_100rel, false,
       false, true},
      {"no Require, no Supported in the INVITE", 183, "-", false, defaults, true, false, false},
      {"no Require, no Supported, even with early media", 180, "-", false, early, true, false,
       false},
      {"our Supported lacks 100rel", 183, "req", false, no_100rel, true, false, false},
      {"the caller requires 100rel: any 18x", 180, "req", false, defaults, true, false, true},
      {"the caller requires 100rel: 101", 101, "req", false, defaults, false, false, true},
      {"the caller requires 100rel: 199", 199, "req", false, defaults, false, false, true},
      {"Supported without 100rel", 183, "timer", false, defaults, true, false, false},
      {"Require without 100rel, no Supported", 183, "req-timer", false, defaults, true, false,
       false},
      {"Supported: 100rel and a 183", 183, "sup", false, defaults, true, false, true},
      {"Supported: 100rel and a 180", 180, "sup", false, defaults, true, false, false},
      {"Supported: 100rel and a 180 with early media", 180, "sup", false, early, true, false,
       true},
      {"early media with only183_100rel: not for a 180", 180, "sup", false, early_only183, true,
       false, false},
      {"precondition without only183_100rel", 180, "req+prec", false, defaults, false, false,
       true},
      {"precondition with only183_100rel, offer not yet answered", 180, "req+prec", false,
       only183, true, false, true},
      {"precondition with only183_100rel, offer answered", 180, "req+prec", false, only183, true,
       true, false},
      {"precondition with only183_100rel, no offer", 180, "req+prec", false, only183, false,
       false, false},
      {"precondition with early media and only183_100rel, offer pending", 181, "req+prec", false,
       early_only183, true, false, true},
      {"Supported: 100rel, 180, nothing else: unreliable", 180, "sup", false, only183, true,
       false, false},
  };
  for (const auto& row : rows) {
    CAPTURE(row.branch);
    ProvisionalFacts f;
    f.status = row.status;
    f.caller = caller(row.caller);
    f.response_requires_100rel = row.our_require;
    f.offer_received = row.offer_received;
    f.answer_sent = row.answer_sent;
    CHECK(nua_sends_reliably(row.nua, f) == row.reliable);
  }
}

TEST_CASE("with b2buad's NUA parameters a 18x is reliable exactly when the caller requires "
          "100rel, or supports it and the 18x is a 183 or carries our Require") {
  const std::vector<std::string> kinds = {"-", "sup", "req", "timer", "req-timer"};
  for (const auto& kind : kinds) {
    for (int status = 101; status < 200; ++status) {
      for (bool callee_reliable : {false, true}) {
        for (bool offer : {false, true}) {
          CAPTURE(kind);
          CAPTURE(status);
          CAPTURE(callee_reliable);
          ReliableLeg leg = leg_of(kind, offer);
          const CallerOptions c = leg.caller;
          const ResponsePlan plan =
              plan_response(leg, b2bua_nua_reliability, status, callee_reliable, sdp);
          const bool knows = c.require_100rel || c.supported_100rel;
          CHECK(plan.add_require_100rel == (callee_reliable && knows && !c.require_100rel));
          CHECK(plan.reliable == (c.require_100rel || plan.add_require_100rel ||
                                  (c.supported_100rel && status == 183)));
          // NTA can send a reliable 18x only to a caller that knows 100rel.
          CHECK((!plan.reliable || knows));
          CHECK(leg.unpracked == (plan.reliable ? 1 : 0));
          CHECK_FALSE(plan.hold);
        }
      }
    }
  }
}

TEST_CASE("has_option reads an option-tag list as sofia does") {
  CHECK(has_option("timer, 100rel", "100rel"));
  CHECK(has_option("timer,100REL", "100rel"));
  CHECK(has_option("  100rel  ", "100rel"));
  CHECK_FALSE(has_option("timer", "100rel"));
  CHECK_FALSE(has_option("", "100rel"));
  CHECK_FALSE(has_option("100relx, timer", "100rel"));
  CHECK(has_option(b2bua_nua_reliability.supported, "100rel"));
  CHECK(has_option(b2bua_nua_reliability.supported, "timer"));
  CHECK_FALSE(has_option(b2bua_nua_reliability.supported, "precondition"));
}

TEST_CASE("caller_options reads Require and Supported from a parsed INVITE") {
  struct Row {
    std::string headers;
    CallerOptions want;
  };
  auto opts = [](bool rp, bool sp, bool r100, bool s100, bool prec) {
    CallerOptions o;
    o.require_present = rp;
    o.supported_present = sp;
    o.require_100rel = r100;
    o.supported_100rel = s100;
    o.require_precondition = prec;
    return o;
  };
  const std::vector<Row> rows = {
      {"", opts(false, false, false, false, false)},
      {"Supported: 100rel\r\n", opts(false, true, false, true, false)},
      {"Supported: timer, 100REL\r\n", opts(false, true, false, true, false)},
      {"Supported: timer\r\n", opts(false, true, false, false, false)},
      {"Require: 100rel\r\n", opts(true, false, true, false, false)},
      {"Require: timer\r\nSupported: 100rel\r\n", opts(true, true, false, true, false)},
      {"Require: precondition, 100rel\r\n", opts(true, false, true, false, true)},
      {"k: 100rel\r\n", opts(false, true, false, true, false)},  // compact Supported
  };
  for (const auto& row : rows) {
    const std::string text =
        "INVITE sip:b@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n"
        "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\nCall-ID: x@127.0.0.1\r\n"
        "CSeq: 1 INVITE\r\nContact: <sip:a@127.0.0.1:5070>\r\n" +
        row.headers + "Content-Length: 0\r\n\r\n";
    CAPTURE(text);
    msg_t* msg = msg_make(sip_default_mclass(), 0, text.data(), static_cast<isize_t>(text.size()));
    REQUIRE(msg != nullptr);
    const CallerOptions got = caller_options(sip_object(msg));
    CHECK(got.require_present == row.want.require_present);
    CHECK(got.supported_present == row.want.supported_present);
    CHECK(got.require_100rel == row.want.require_100rel);
    CHECK(got.supported_100rel == row.want.supported_100rel);
    CHECK(got.require_precondition == row.want.require_precondition);
    msg_destroy(msg);
  }
  CHECK_FALSE(caller_options(nullptr).knows_100rel());
}

TEST_CASE("a 2xx waits for the PRACK of every reliable 18x, then goes") {
  ReliableLeg leg = leg_of("sup");
  CHECK(plan_response(leg, b2bua_nua_reliability, 183, false, sdp).reliable);
  CHECK(plan_response(leg, b2bua_nua_reliability, 180, true, "").reliable);
  CHECK(leg.unpracked == 2);
  CHECK(leg.early_answer_reliable);
  CHECK(leg.unreliable_early_sdp.empty());

  ResponsePlan held = plan_response(leg, b2bua_nua_reliability, 200, false, "");
  CHECK(held.hold);
  CHECK(leg.unpracked == 2);  // a held plan changes nothing
  CHECK_FALSE(on_prack(leg));
  CHECK(leg.early_answer_pracked);
  CHECK(plan_response(leg, b2bua_nua_reliability, 200, false, "").hold);
  CHECK(on_prack(leg));
  CHECK(on_prack(leg));  // a stray report never goes below zero
  CHECK(leg.unpracked == 0);

  ResponsePlan sent = plan_response(leg, b2bua_nua_reliability, 200, false, "");
  CHECK_FALSE(sent.hold);
  CHECK_FALSE(sent.reliable);
  CHECK(sent.sdp.empty());  // the caller has the early answer reliably: not repeated
}

TEST_CASE("only a 2xx is held: a failure goes at once, and unreliable 18x are not counted") {
  ReliableLeg leg = leg_of("req");
  CHECK(plan_response(leg, b2bua_nua_reliability, 180, false, "").reliable);
  CHECK_FALSE(plan_response(leg, b2bua_nua_reliability, 486, false, "").hold);

  ReliableLeg plain = leg_of("-");
  CHECK_FALSE(plan_response(plain, b2bua_nua_reliability, 183, true, sdp).reliable);
  CHECK(plain.unpracked == 0);
  CHECK_FALSE(plan_response(plain, b2bua_nua_reliability, 200, false, sdp).hold);
}

TEST_CASE("an early answer sent unreliably is repeated in the 2xx") {
  struct Row {
    const char* caller;
    int status;
    bool callee_reliable;
    bool repeated;
  };
  const std::vector<Row> rows = {
      {"-", 183, true, true},      // no 100rel: the 183 was unreliable
      {"sup", 180, false, true},   // a plain 180 with SDP to a 100rel caller
      {"sup", 183, false, false},  // a 183 is reliable to it
      {"sup", 180, true, false},   // our Require: 100rel
      {"req", 180, false, false},
  };
  for (const auto& row : rows) {
    CAPTURE(row.caller);
    CAPTURE(row.status);
    ReliableLeg leg = leg_of(row.caller);
    const ResponsePlan early = plan_response(leg, b2bua_nua_reliability, row.status,
                                             row.callee_reliable, sdp);
    CHECK(early.sdp == sdp);
    CHECK(leg.early_answer_reliable == !row.repeated);
    CHECK(leg.answer_sent);
    while (leg.unpracked > 0) {
      on_prack(leg);
    }
    const ResponsePlan ok = plan_response(leg, b2bua_nua_reliability, 200, false, "");
    CHECK(ok.sdp == (row.repeated ? sdp : std::string()));
    const ResponsePlan ok_sdp = plan_response(leg, b2bua_nua_reliability, 200, false, "x");
    CHECK(ok_sdp.sdp == "x");  // a 2xx with its own SDP keeps it
  }
}
