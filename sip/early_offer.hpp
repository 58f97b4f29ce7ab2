// Early offers (RFC 3311): whether an offer may cross a leg's early dialog, in either direction.
// Pure rules on the leg's 100rel state (reliable_provisional.hpp); sip_midcall.cpp answers or
// reports what they decide. NUA answers an early re-INVITE itself (500 or 491) and, with its media
// off, checks nothing of an early UPDATE: these rules are b2buad's.
#pragma once

#include <optional>
#include <string_view>

#include "sip/refusal.hpp"
#include "sip/reliable_provisional.hpp"

namespace b2bua::sip {

/// What the rules read of a leg before the final response to its INVITE.
struct EarlyDialog {
  bool is_a = false;                ///< the caller's leg (else the callee's)
  bool caller_knows_100rel = false;  ///< A: the INVITE had 100rel in Require or Supported
  bool unreliable_answer = false;   ///< A: our early answer went in an unreliable 18x
  bool answer_reliable = false;     ///< A: our answer went reliably; B: the callee's came so
  bool answer_pracked = false;      ///< A: the caller PRACKed our reliable answer
};

/// The early-dialog view of a leg's 100rel state.
EarlyDialog early_dialog(const ReliableLeg& rel, bool is_a);

/// A peer's offer (UPDATE) in the early dialog. RFC 3311 5.2 lets it in once the dialog's first
/// offer/answer is complete, i.e. its answer travelled in a reliable 18x. Before that the caller
/// gets 500 with Retry-After (b2bua.offer.early_pending: we have not answered its INVITE's offer
/// reliably yet) and the callee 491 (b2bua.offer.glare: our INVITE's offer is still open).
std::optional<Refusal> incoming_early_offer(const EarlyDialog& d);

/// The bridge's offer (`method` UPDATE or INVITE) towards a leg still in its early dialog (RFC
/// 3311 5.1): only an UPDATE, only once the answer went reliably (and, to the caller, was
/// PRACKed). A caller whose early answer was unreliable (or that never knew 100rel) can have none
/// before the 200: 488 b2bua.offer.early_unreliable; else 500 with Retry-After,
/// b2bua.offer.early_pending. The refusal goes back to the bridge as the reanswer.
std::optional<Refusal> outgoing_early_offer(const EarlyDialog& d, std::string_view method);

}  // namespace b2bua::sip
