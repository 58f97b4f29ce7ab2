// 100rel planning (see reliable_provisional.hpp).
//
// The model follows sofia-sip 1.12.11 (nua_session.c, unchanged there since 2009):
// nua_invite_server_respond treats a 2xx as final, else asks nua_invite_server_is_100rel, whose
// steps are, in order: a 2xx or 100 -> no; our response has Require: 100rel -> yes; the INVITE has
// neither Require nor Supported -> no; our Supported lacks 100rel -> no; the INVITE requires 100rel
// -> yes; it does not support 100rel -> no; a 183 -> yes; early_media without only183_100rel ->
// yes; the INVITE requires precondition -> yes without only183_100rel, else yes while its offer
// is unanswered; otherwise no.
// Two facts of the rest of the stack bound what b2buad can meet: NUA answers 420 itself to an
// INVITE whose Require lists a tag outside our Supported (nta_check_required, before the
// application sees it), so with b2buad's list an INVITE requiring precondition never reaches us;
// and NTA can send a reliable 18x only to a caller that supports or requires 100rel (irq_rseq is
// 0 otherwise: nta_reliable_mreply drops the response), so b2buad adds Require: 100rel only then.
#include "sip/reliable_provisional.hpp"

#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_alloc.h>

namespace b2bua::sip {

bool has_option(std::string_view csv, std::string_view tag) {
  // Parsed as NUA parses SIPTAG_SUPPORTED_STR, compared as NUA compares (sip_has_feature).
  su_home_t home[1] = {SU_HOME_INIT(home)};
  const std::string text(csv);
  const std::string wanted(tag);
  const sip_supported_t* list = sip_supported_make(home, text.c_str());
  const bool found = list && sip_has_feature(list, wanted.c_str()) != 0;
  su_home_deinit(home);
  return found;
}

CallerOptions caller_options(const sip_t* sip) {
  CallerOptions o;
  if (!sip) {
    return o;
  }
  o.require_present = sip->sip_require != nullptr;
  o.supported_present = sip->sip_supported != nullptr;
  o.require_100rel = sip_has_feature(sip->sip_require, "100rel") != 0;
  o.supported_100rel = sip_has_feature(sip->sip_supported, "100rel") != 0;
  o.require_precondition = sip_has_feature(sip->sip_require, "precondition") != 0;
  return o;
}

bool nua_sends_reliably(const NuaReliability& nua, const ProvisionalFacts& f) {
  if (f.status >= 200 || f.status == 100) {
    return false;
  }
  if (f.response_requires_100rel) {
    return true;
  }
  if (!f.caller.require_present && !f.caller.supported_present) {
    return false;
  }
  if (!has_option(nua.supported, "100rel")) {
    return false;
  }
  if (f.caller.require_100rel) {
    return true;
  }
  if (!f.caller.supported_100rel) {
    return false;
  }
  if (f.status == 183) {
    return true;
  }
  if (nua.early_media && !nua.only183_100rel) {
    return true;
  }
  if (f.caller.require_precondition) {
    if (!nua.only183_100rel) {
      return true;
    }
    if (f.offer_received && !f.answer_sent) {
      return true;
    }
  }
  return false;
}

ResponsePlan plan_response(ReliableLeg& leg, const NuaReliability& nua, int status,
                           bool callee_reliable, std::string sdp) {
  ResponsePlan plan;
  const bool provisional = status > 100 && status < 200;
  const bool success = status >= 200 && status < 300;
  if (success && leg.unpracked > 0) {
    plan.hold = true;
    plan.sdp = std::move(sdp);
    return plan;
  }
  // A callee's reliable 18x goes on reliably to a caller that knows 100rel (one that requires it
  // gets every 18x reliably anyway); to others it is an ordinary 18x.
  plan.add_require_100rel =
      provisional && callee_reliable && leg.caller.knows_100rel() && !leg.caller.require_100rel;
  ProvisionalFacts facts;
  facts.status = status;
  facts.caller = leg.caller;
  facts.response_requires_100rel = plan.add_require_100rel;
  facts.offer_received = leg.offer_received;
  facts.answer_sent = leg.answer_sent;
  plan.reliable = provisional && nua_sends_reliably(nua, facts);
  if (provisional && !sdp.empty()) {
    leg.unreliable_early_sdp = plan.reliable ? std::string() : sdp;
    leg.early_answer_reliable = leg.early_answer_reliable || plan.reliable;
  } else if (success && sdp.empty()) {
    sdp = leg.unreliable_early_sdp;  // never lose the early answer the caller cannot rely on
  }
  if (status < 300 && !sdp.empty() && leg.offer_received) {
    leg.answer_sent = true;  // as NUA's sr_answer_sent
  }
  if (plan.reliable) {
    ++leg.unpracked;
  }
  plan.sdp = std::move(sdp);
  return plan;
}

bool on_prack(ReliableLeg& leg) {
  leg.early_answer_pracked = leg.early_answer_reliable;
  leg.unpracked = leg.unpracked > 0 ? leg.unpracked - 1 : 0;
  return leg.unpracked == 0;
}

}  // namespace b2bua::sip
