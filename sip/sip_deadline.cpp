// SipStack in the sofia thread: the setup deadline that no call outlives. Whatever goes wrong
// between the legs (a bridge waiting for an answer that never comes, an actor that lost a message),
// a caller gets a final response and its call slot back, and a callee a CANCEL, once
// `setup_deadline_ms` has passed since the leg began.
#include <chrono>

#include <spdlog/spdlog.h>

#include <sofia-sip/nua.h>
#include <sofia-sip/su_wait.h>

#include "sip/sip_stack_impl.hpp"

namespace b2bua::sip {

std::int64_t steady_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

void SipStack::Impl::start_sweep() {
  sweep = su_timer_create(su_root_task(root), 1000);
  if (!sweep) {
    spdlog::error("sip: cannot create the setup deadline timer");
    return;
  }
  su_timer_set_for_ever(
      sweep,
      [](su_root_magic_t*, su_timer_t*, su_timer_arg_t* arg) {
        try {
          reinterpret_cast<SipStack::Impl*>(arg)->sweep_deadlines();
        } catch (...) {
          spdlog::error("sip: exception in the setup deadline sweep");
        }
      },
      reinterpret_cast<su_timer_arg_t*>(this));
}

void SipStack::Impl::sweep_deadlines() {
  if (!nua || shut_down) {
    return;
  }
  owner->counters_.leg_records.store(legs.size(), std::memory_order_relaxed);
  const std::int64_t now = steady_ms();
  // One walk over the legs finds all three kinds (the table holds thousands of legs under load:
  // the walk showed in profiles).
  std::vector<LegRec*> held;
  std::vector<LegRec*> cancelled;
  std::vector<LegRec*> late;
  for (auto& [id, rec] : legs) {
    LegClocks clocks;
    clocks.probe = static_cast<bool>(rec->probe_to);
    clocks.created_ms = rec->created_ms;
    clocks.cancelled_ms = rec->cancelled_ms;
    clocks.holding = rec->held_final.has_value();
    clocks.held_since_ms = rec->held_since_ms;
    if (prack_lapsed(clocks, now, owner->cfg_.t1_ms)) {
      held.push_back(rec.get());
    }
    switch (sweep_step(leg_state(*rec), clocks, now, owner->cfg_.setup_deadline_ms,
                       owner->cfg_.t1_ms)) {
      case SweepStep::cancel_lapsed: cancelled.push_back(rec.get()); break;
      case SweepStep::late: late.push_back(rec.get()); break;
      case SweepStep::none: break;
    }
  }
  // A held 2xx is never handed to NUA unPRACKed: NUA would keep it as a saved signal, the path
  // that crashed b2buad under the fuzzer (sip/leg_end.hpp has the rules).
  for (LegRec* rec : held) {
    rec->held_final.reset();
    spdlog::info("sip: leg={} no PRACK for our reliable 18x within 64*T1: 504", rec->id);
    SipAction a;
    a.leg = rec->id;
    // The caller's leg ends; the bridge BYEs the answered callee.
    respond(rec, apply_refusal(a, b2bua::Refusal::call_no_prack));
  }
  for (LegRec* rec : cancelled) {
    spdlog::info("sip: leg={} no final response 64*T1 after CANCEL: taken as cancelled", rec->id);
    release_handle(rec);  // `terminated`: the bridge ends the call
  }
  for (LegRec* rec : late) {
    spdlog::warn("sip: leg={} {} no final response after {} ms (timers.setup_deadline_ms)",
                 rec->id, rec->is_a ? "caller has" : "callee gave", owner->cfg_.setup_deadline_ms);
    owner->counters_.deadline_legs.fetch_add(1, std::memory_order_relaxed);
    if (rec->is_a) {
      SipAction a;
      a.leg = rec->id;
      // NUA ends the handle after it; `terminated` reaches the leg actor.
      respond(rec, apply_refusal(a, b2bua::Refusal::call_setup_deadline));
    } else {
      nua_cancel(rec->nh, TAG_END());
      release_handle(rec);  // `terminated` now: the bridge fails the caller or tries the next
    }
  }
}

}  // namespace b2bua::sip
