// 100rel planning (RFC 3262) for responses to a caller's INVITE: a pure model of when sofia-sip's
// NUA sends a provisional response reliably, and the bookkeeping b2buad builds on it (reliable 18x
// not yet PRACKed, a 2xx held until they are, the early answer a caller cannot rely on). No NUA
// calls: sip_stack.cpp feeds it the caller's headers and our NUA parameters, and sends what it plans.
#pragma once

#include <string>
#include <string_view>

#include <sofia-sip/sip.h>

namespace b2bua::sip {

/// NUA's parameters that decide reliability. `nua_create` (sip_stack.cpp) is given exactly these
/// values, so the model and the stack cannot drift apart.
struct NuaReliability {
  std::string_view supported;  ///< SIPTAG_SUPPORTED_STR: our option tags (NUA's default list)
  bool early_media = false;    ///< NUTAG_EARLY_MEDIA
  bool only183_100rel = false;  ///< NUTAG_ONLY183_100REL
};

/// b2buad's values (sofia's defaults, written out): NUA sends a 18x reliably only when the caller
/// requires 100rel, or supports it and the 18x is a 183 or carries our Require: 100rel.
inline constexpr NuaReliability b2bua_nua_reliability{"timer, 100rel", false, false};

/// True when the comma-separated option-tag list `csv` holds `tag`, compared without regard to
/// case as sofia's sip_has_feature does (su_casematch).
bool has_option(std::string_view csv, std::string_view tag);

/// What NUA reads from the caller's INVITE (sr_request: Require and Supported).
struct CallerOptions {
  bool require_present = false;
  bool supported_present = false;
  bool require_100rel = false;
  bool supported_100rel = false;
  bool require_precondition = false;  ///< unreachable for b2buad: NUA answers it 420 (see .cpp)

  bool knows_100rel() const { return require_100rel || supported_100rel; }
};

/// The caller's options from its parsed INVITE (sip_has_feature on Require and Supported).
CallerOptions caller_options(const sip_t* sip);

/// Inputs of nua_invite_server_is_100rel (nua_session.c) for one response.
struct ProvisionalFacts {
  int status = 0;
  CallerOptions caller;
  bool response_requires_100rel = false;  ///< the response carries our Require: 100rel
  bool offer_received = false;            ///< sr_offer_recv: the INVITE carried an SDP offer
  bool answer_sent = false;               ///< sr_answer_sent: an earlier 18x carried the answer
};

/// Whether NUA sends this response reliably (RSeq, retransmitted until PRACKed): the rule of
/// nua_invite_server_is_100rel, branch for branch. nua_invite_server_respond asks it only for
/// non-2xx responses; 2xx are "reliable" there in another sense (a final response) and false here.
bool nua_sends_reliably(const NuaReliability& nua, const ProvisionalFacts& facts);

/// An A leg's 100rel state; lives in the SIP thread's LegRec.
struct ReliableLeg {
  CallerOptions caller;
  bool offer_received = false;
  bool answer_sent = false;
  int unpracked = 0;                   ///< reliable 18x sent whose PRACK has not come yet
  std::string unreliable_early_sdp;    ///< SDP sent in an unreliable 18x (repeated in the 2xx)
  bool early_answer_reliable = false;  ///< a reliable 18x with SDP went out
  bool early_answer_pracked = false;   ///< ... and the caller PRACKed it
};

/// How to send one response to the caller's INVITE.
struct ResponsePlan {
  bool hold = false;  ///< a 2xx that must wait for the PRACKs of our reliable 18x: do not send yet
  bool add_require_100rel = false;  ///< add `Require: 100rel` (the callee's 18x was reliable)
  bool reliable = false;            ///< NUA will send it reliably and report its PRACK
  std::string sdp;                  ///< the body to send ("" none)
};

/// Plans the response `status` (100-699) carrying `sdp`; `callee_reliable`: it relays a callee's
/// reliable 18x. Updates `leg` as if the response were sent, unless the plan holds it (a 2xx while
/// `unpracked` > 0: RFC 3262 3, and NUA would otherwise keep it as a saved signal in
/// nua_stack_respond, whose clean-up crashed b2buad under the SIP fuzzer).
ResponsePlan plan_response(ReliableLeg& leg, const NuaReliability& nua, int status,
                           bool callee_reliable, std::string sdp);

/// A PRACK from the caller reached us (nua_i_prack: NUA reports only the PRACKs it matched to one
/// of our reliable 18x). True when no reliable 18x is left unPRACKed.
bool on_prack(ReliableLeg& leg);

}  // namespace b2bua::sip
