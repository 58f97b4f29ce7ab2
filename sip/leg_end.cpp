// How a leg ends (see leg_end.hpp).
#include "sip/leg_end.hpp"

namespace b2bua::sip {

ReleaseStep release_step(const LegState& s) {
  if (s.is_a && !s.final_sent) {
    return ReleaseStep::respond;
  }
  if (s.answered && !s.bye_sent) {
    return ReleaseStep::bye;
  }
  if (!s.is_a && !s.final_received) {
    return ReleaseStep::cancel;
  }
  return ReleaseStep::nothing;
}

bool prack_lapsed(const LegClocks& c, std::int64_t now_ms, std::int64_t t1_ms) {
  return c.holding && c.held_since_ms < now_ms - 64 * t1_ms;
}

SweepStep sweep_step(const LegState& s, const LegClocks& c, std::int64_t now_ms,
                     std::int64_t setup_deadline_ms, std::int64_t t1_ms) {
  if (!s.pending() || c.probe) {
    return SweepStep::none;
  }
  if (!s.is_a && c.cancelled_ms && c.cancelled_ms < now_ms - 64 * t1_ms) {
    return SweepStep::cancel_lapsed;
  }
  if (c.created_ms < now_ms - setup_deadline_ms) {
    return SweepStep::late;
  }
  return SweepStep::none;
}

}  // namespace b2bua::sip
