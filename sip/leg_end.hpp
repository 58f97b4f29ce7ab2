// How a leg ends when b2buad ends it: the step a release takes (respond, BYE or CANCEL), and what
// the once-a-second setup-deadline sweep does with a leg. Pure rules on a leg's state and clocks;
// sip_stack.cpp and sip_deadline.cpp do the NUA calls.
#pragma once

#include <cstdint>

namespace b2bua::sip {

/// What a leg has been through, as far as ending it goes.
struct LegState {
  bool is_a = false;
  bool final_sent = false;      ///< A: a final response went out
  bool final_received = false;  ///< B: a final response came
  bool answered = false;        ///< the dialog is established (A: 2xx sent; B: 2xx received)
  bool bye_sent = false;        ///< b2buad asked NUA for a BYE already

  /// Before the final response to the INVITE.
  bool pending() const { return is_a ? !final_sent : !final_received; }
};

enum class ReleaseStep {
  nothing,  ///< already over, or on its way out
  respond,  ///< A without a final response: answer the INVITE with a failure
  bye,      ///< an established dialog not yet ended by us
  cancel,   ///< B without a final response: CANCEL the INVITE
};

/// The release of a leg by the bridge (or on a fault): the caller without a final response gets
/// one, an established dialog a BYE (once), a callee still ringing a CANCEL.
ReleaseStep release_step(const LegState& s);

/// A leg's clocks (steady milliseconds; 0: not set).
struct LegClocks {
  bool probe = false;              ///< an OPTIONS probe (no deadline of its own)
  std::int64_t created_ms = 0;     ///< the leg began
  std::int64_t cancelled_ms = 0;   ///< B: our CANCEL went out
  bool holding = false;            ///< A: a 2xx waits for PRACKs (reliable_provisional.hpp)
  std::int64_t held_since_ms = 0;  ///< ... since then
};

/// A 2xx held for PRACKs (`c.holding`) for more than 64*T1 at `now_ms`: the caller gets 504
/// b2bua.call.no_prack instead (RFC 3262 3; never handed to NUA unPRACKed).
bool prack_lapsed(const LegClocks& c, std::int64_t now_ms, std::int64_t t1_ms);

enum class SweepStep {
  none,
  cancel_lapsed,  ///< B: no final response 64*T1 after our CANCEL: taken as cancelled (RFC 3261
                  ///< 9.1; a 200 to the CANCEL and no 487 would otherwise keep the call forever)
  late,           ///< no final response `setup_deadline_ms` after the leg began: A gets 500
                  ///< b2bua.call.setup_deadline, B a CANCEL
};

/// The setup-deadline sweep's verdict on a leg without a final response at `now_ms` (probes
/// excepted); independent of prack_lapsed, which the sweep applies first.
SweepStep sweep_step(const LegState& s, const LegClocks& c, std::int64_t now_ms,
                     std::int64_t setup_deadline_ms, std::int64_t t1_ms);

}  // namespace b2bua::sip
