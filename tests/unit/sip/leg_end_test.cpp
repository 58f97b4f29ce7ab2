// How a leg ends: the release step for each state of a leg, and the setup-deadline sweep's
// verdict for each clock.
#include "sip/leg_end.hpp"

#include <vector>

#include <doctest/doctest.h>

using namespace b2bua::sip;

namespace {

LegState state(bool is_a, bool final_sent, bool final_received, bool answered, bool bye_sent) {
  LegState s;
  s.is_a = is_a;
  s.final_sent = final_sent;
  s.final_received = final_received;
  s.answered = answered;
  s.bye_sent = bye_sent;
  return s;
}

const LegState a_ringing = state(true, false, false, false, false);
const LegState a_failed = state(true, true, false, false, false);
const LegState a_up = state(true, true, false, true, false);
const LegState a_byed = state(true, true, false, true, true);
const LegState b_ringing = state(false, false, false, false, false);
const LegState b_failed = state(false, false, true, false, false);
const LegState b_up = state(false, false, true, true, false);
const LegState b_byed = state(false, false, true, true, true);

}  // namespace

TEST_CASE("a released leg gets a final response, a BYE once, or a CANCEL") {
  struct Row {
    const char* what;
    LegState s;
    ReleaseStep step;
  };
  const std::vector<Row> rows = {
      {"caller without a final response", a_ringing, ReleaseStep::respond},
      {"caller refused already", a_failed, ReleaseStep::nothing},
      {"caller answered", a_up, ReleaseStep::bye},
      {"caller answered, BYE sent", a_byed, ReleaseStep::nothing},
      {"callee ringing", b_ringing, ReleaseStep::cancel},
      {"callee failed", b_failed, ReleaseStep::nothing},
      {"callee answered", b_up, ReleaseStep::bye},
      {"callee answered, BYE sent", b_byed, ReleaseStep::nothing},
  };
  for (const auto& row : rows) {
    CAPTURE(row.what);
    CHECK(release_step(row.s) == row.step);
  }
}

TEST_CASE("the setup-deadline sweep: a CANCEL unanswered after 64*T1, a leg without a final "
          "response after the setup deadline") {
  const std::int64_t now = 100000;
  const std::int64_t deadline = 30000;
  const std::int64_t t1 = 500;  // 64*T1 = 32 s
  auto clocks = [](std::int64_t created, std::int64_t cancelled, bool holding, std::int64_t held,
                   bool probe = false) {
    LegClocks c;
    c.created_ms = created;
    c.cancelled_ms = cancelled;
    c.holding = holding;
    c.held_since_ms = held;
    c.probe = probe;
    return c;
  };
  struct Row {
    const char* what;
    LegState s;
    LegClocks c;
    SweepStep step;
  };
  const std::vector<Row> rows = {
      {"a young caller", a_ringing, clocks(now - 1000, 0, false, 0), SweepStep::none},
      {"a caller just inside the deadline", a_ringing, clocks(now - deadline, 0, false, 0),
       SweepStep::none},
      {"a caller past the deadline", a_ringing, clocks(now - deadline - 1, 0, false, 0),
       SweepStep::late},
      {"an old caller with its final response", a_up, clocks(0, 0, false, 0), SweepStep::none},
      {"a held 2xx is not the deadline's business", a_ringing,
       clocks(now - 1000, 0, true, now - 40000), SweepStep::none},
      {"a callee past the deadline", b_ringing, clocks(now - deadline - 1, 0, false, 0),
       SweepStep::late},
      {"a callee cancelled recently", b_ringing, clocks(now - 1000, now - 1000, false, 0),
       SweepStep::none},
      {"a callee cancelled 64*T1 ago without answer", b_ringing,
       clocks(now - 40000, now - 32001, false, 0), SweepStep::cancel_lapsed},
      {"a callee cancelled recently but past the deadline", b_ringing,
       clocks(now - deadline - 1, now - 1000, false, 0), SweepStep::late},
      {"a callee that answered", b_up, clocks(0, now - 40000, false, 0), SweepStep::none},
      {"an old probe", b_ringing, clocks(0, 0, false, 0, true), SweepStep::none},
  };
  for (const auto& row : rows) {
    CAPTURE(row.what);
    CHECK(sweep_step(row.s, row.c, now, deadline, t1) == row.step);
  }
}

TEST_CASE("a 2xx held for PRACKs lapses after 64*T1") {
  struct Row {
    bool holding;
    std::int64_t held_since;
    bool lapsed;
  };
  const std::int64_t now = 100000;
  const std::vector<Row> rows = {{false, 0, false},
                                 {true, now - 1000, false},
                                 {true, now - 32000, false},
                                 {true, now - 32001, true},
                                 {true, 0, true}};
  for (const auto& row : rows) {
    CAPTURE(row.held_since);
    LegClocks c;
    c.holding = row.holding;
    c.held_since_ms = row.held_since;
    CHECK(prack_lapsed(c, now, 500) == row.lapsed);
  }
}
