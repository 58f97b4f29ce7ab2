// SipStack in the sofia thread, mid-call: re-INVITE, UPDATE and INFO inside a dialog (UPDATE in an
// early one too, RFC 3311), and the end of a session whose timer (RFC 4028) expired or whose
// refresh failed.
#include <cstring>
#include <string>

#include <sofia-sip/msg.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/sip_util.h>

#include "sip/sip_stack_impl.hpp"

namespace b2bua::sip {

using detail::str;

namespace {

// Before the final response to the INVITE: the leg's dialog is an early one.
bool early(const LegRec* rec) { return rec->is_a ? !rec->final_sent : !rec->final_received; }

}  // namespace

// -- mid-call: re-INVITE, UPDATE, INFO inside an established dialog -----------------------------------
// Each in-dialog request the bridge answers is kept (a reference to its message, for NUTAG_WITH)
// under a txn id until its final response; our own re-INVITE/UPDATE and INFOs report their final
// responses as LegEvents.

void SipStack::Impl::on_in_dialog_offer(nua_handle_t* nh, LegRec* rec, const sip_t* sip,
                                        const char* method) {
  if (check_target_refresh(nh, rec, sip, /*refuse=*/true)) {
    return;  // a Contact no request could be sent to
  }
  const bool has_body = sip && sip->sip_payload && sip->sip_payload->pl_len > 0;
  std::string sdp = sdp_body(sip);
  if (has_body && sdp.empty()) {
    nua_respond(nh, 415, "Unsupported Media Type", NUTAG_WITH_THIS(nua),
                SIPTAG_ACCEPT_STR("application/sdp"),
                SIPTAG_WARNING_STR(warning("b2bua.offer.unsupported_body").c_str()), TAG_END());
    return;
  }
  if (sdp.empty() && std::strcmp(method, "UPDATE") == 0) {
    // An UPDATE without an offer only refreshes the dialog (or its session timer): ours to answer.
    nua_respond(nh, SIP_200_OK, NUTAG_WITH_THIS(nua), TAG_END());
    return;
  }
  if (early(rec) && refuse_early_offer(nh, rec)) {
    return;
  }
  if (too_many_pending(nh, rec)) {
    return;
  }
  msg_t* msg = nua_current_request(nua);
  if (!msg) {
    nua_respond(nh, 500, "Server Internal Error", NUTAG_WITH_THIS(nua),
                SIPTAG_WARNING_STR(warning("b2bua.internal").c_str()), TAG_END());
    return;
  }
  const std::uint64_t txn = ++next_txn;
  LegRec::InDialog req;
  req.msg = msg_ref_create(msg);
  req.offerless_invite = sdp.empty();
  rec->requests.emplace(txn, req);
  LegEvent ev = make_event(rec->id, LegEventKind::reoffer);
  ev.method = method;
  ev.txn = txn;
  ev.sdp = std::move(sdp);
  emit(std::move(ev));
}

// A peer with max_pending_requests requests still unanswered gets 500 with Retry-After (RFC 3261
// 21.5.1). True: refused.
bool SipStack::Impl::too_many_pending(nua_handle_t* nh, const LegRec* rec) {
  if (rec->requests.size() < max_pending_requests) {
    return false;
  }
  std::string ra = std::to_string(retry_after_s());
  nua_respond(nh, 500, "Server Internal Error", NUTAG_WITH_THIS(nua),
              SIPTAG_RETRY_AFTER_STR(ra.c_str()),
              SIPTAG_WARNING_STR(warning("b2bua.request.too_many_pending").c_str()), TAG_END());
  return true;
}

// An offer in an early dialog (NUA answers an early re-INVITE itself: 500 or 491). RFC 3311 5.2
// lets it in only once the dialog's first offer/answer is complete, i.e. its answer travelled in a
// reliable 18x: before that, the caller's UPDATE gets 500 with Retry-After (we have not answered
// its INVITE's offer reliably) and the callee's 491 (it has not answered ours). True: refused.
bool SipStack::Impl::refuse_early_offer(nua_handle_t* nh, LegRec* rec) {
  if (rec->rel.early_answer_reliable) {
    return false;
  }
  if (rec->is_a) {
    std::string ra = std::to_string(retry_after_s());
    nua_respond(nh, 500, "Server Internal Error", NUTAG_WITH_THIS(nua),
                SIPTAG_RETRY_AFTER_STR(ra.c_str()),
                SIPTAG_WARNING_STR(warning("b2bua.offer.early_pending").c_str()), TAG_END());
  } else {
    nua_respond(nh, SIP_491_REQUEST_PENDING, NUTAG_WITH_THIS(nua),
                SIPTAG_WARNING_STR(warning("b2bua.offer.glare").c_str()), TAG_END());
  }
  return true;
}

// Whether the bridge's offer `a` may not go out on this early dialog (RFC 3311 5.1); if so the
// refusal is reported as its reanswer. The caller must have our early answer reliably and have
// PRACKed it: one that got it unreliably (no 100rel) never will before the 200 (488
// b2bua.offer.early_unreliable); one that has not yet gets 500 with Retry-After
// (b2bua.offer.early_pending), as does a callee whose answer has not come reliably.
bool SipStack::Impl::early_offer_blocked(LegRec* rec, const SipAction& a) {
  if (!early(rec)) {
    return false;
  }
  LegEvent ev = make_event(rec->id, LegEventKind::reanswer, 500, "Server Internal Error");
  ev.method = a.method;
  ev.warning = "b2bua.offer.early_pending";
  if (rec->is_a && (!rec->rel.caller.knows_100rel() || !rec->rel.unreliable_early_sdp.empty())) {
    ev.status = 488;
    ev.reason = "Not Acceptable Here";
    ev.warning = "b2bua.offer.early_unreliable";
  } else if (a.method == "UPDATE" && rec->rel.early_answer_reliable &&
             (!rec->is_a || rec->rel.early_answer_pracked)) {
    return false;
  }
  if (ev.status == 500) {
    ev.retry_after = retry_after_s();
  }
  emit(std::move(ev));
  return true;
}

void SipStack::Impl::on_reoffer_response(LegRec* rec, int status, const char* phrase,
                                         const sip_t* sip) {
  rec->reoffer_out = false;
  if (status >= 300) {
    rec->ack_pending = false;  // NTA ACKs a non-2xx itself
  }
  DialogResponse out = reoffer_response_event(rec->id, rec->reoffer_update,
                                              peer_response(status, phrase, sip),
                                              DialogUse{rec->answered, rec->bye_sent});
  emit(std::move(out.event));
  if (out.dialog_ended) {
    on_dialog_ended(rec, status);
  }
}

// The leg is over: the bridge learns it as a BYE with the response as its cause (it ends the
// other leg with that Reason), and the handle is released at once; NUA's own BYE, if it sends
// one, is not mistaken for a session-timer expiry.
void SipStack::Impl::on_dialog_ended(LegRec* rec, int status) {
  rec->bye_sent = true;
  LegEvent bye = make_event(rec->id, LegEventKind::bye, status, "Dialog ended");
  bye.warning = "b2bua.dialog.ended";
  emit(std::move(bye));
  release_handle(rec);
}

void SipStack::Impl::on_info(nua_handle_t* nh, LegRec* rec, const sip_t* sip) {
  if (!rec || !nh) {
    // INFO outside any call of ours (NUA lets out-of-dialog INFO through).
    if (nh) {
      nua_respond(nh, 481, "Call/Transaction Does Not Exist", NUTAG_WITH_THIS(nua),
                  SIPTAG_WARNING_STR(warning("b2bua.info.no_call").c_str()), TAG_END());
      nua_handle_destroy(nh);
    }
    return;
  }
  if (too_many_pending(nh, rec)) {
    return;
  }
  msg_t* msg = nua_current_request(nua);
  if (!msg) {
    return;
  }
  const std::uint64_t txn = ++next_txn;
  LegRec::InDialog req;
  req.msg = msg_ref_create(msg);
  rec->requests.emplace(txn, req);
  LegEvent ev = make_event(rec->id, LegEventKind::info);
  ev.txn = txn;
  if (sip && sip->sip_content_type && sip->sip_content_type->c_type) {
    ev.content_type = sip->sip_content_type->c_type;
  }
  if (sip && sip->sip_payload && sip->sip_payload->pl_data) {
    ev.body.assign(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
  }
  emit(std::move(ev));
}

void SipStack::Impl::on_ack(LegRec* rec, const sip_t* sip) {
  if (rec->answer_in_ack) {
    // The ACK to our 200 that carried an offer (re-INVITE without SDP): it brings the answer.
    rec->answer_in_ack = false;
    LegEvent ev = make_event(rec->id, LegEventKind::reanswer);
    ev.method = "ACK";
    ev.sdp = sdp_body(sip);
    emit(std::move(ev));
    return;
  }
  LegEvent ev = make_event(rec->id, LegEventKind::confirmed);
  if (sip && sip->sip_from && sip->sip_to) {  // the ACK's To carries our tag
    ev.local_tag = str(sip->sip_to->a_tag);
    ev.remote_tag = str(sip->sip_from->a_tag);
  }
  emit(std::move(ev));
}

// NUA's own session refresh failed (RFC 4028 10: the session is over). 422 and 491 NUA retries
// itself. The leg gets a BYE; the bridge ends the other leg with the same Reason.
void SipStack::Impl::on_refresh_failed(LegRec* rec, int status) {
  if (status == 422 || status == 491 || rec->bye_sent) {
    return;
  }
  rec->bye_sent = true;
  const int cause = status > 699 ? 500 : status;
  std::string reason = "SIP;cause=" + std::to_string(cause) + ";text=\"Session refresh failed\"";
  nua_bye(rec->nh, SIPTAG_REASON_STR(reason.c_str()), TAG_END());
  LegEvent ev = make_event(rec->id, LegEventKind::bye, cause, "Session refresh failed");
  ev.warning = "b2bua.session.refresh_failed";
  emit(std::move(ev));
}

void SipStack::Impl::respond_request(LegRec* rec, const SipAction& a) {
  auto it = rec->requests.find(a.tag);
  if (it == rec->requests.end() || a.status < 100 || a.status > 699) {
    return;
  }
  const bool with_sdp = !a.sdp.empty();
  const bool with_warning = !a.warning.empty() && a.status >= 300;
  std::string warn = with_warning ? warning(a.warning) : std::string();
  std::string ra = std::to_string(a.retry_after);
  const char* phrase = a.reason.empty() ? sip_status_phrase(a.status)
                                        : su_strdup(nua_handle_home(rec->nh), a.reason.c_str());
  if (!phrase) {
    phrase = "Unknown";
  }
  nua_respond(rec->nh, a.status, phrase, NUTAG_WITH(it->second.msg),
              TAG_IF(with_sdp, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
              TAG_IF(with_sdp, SIPTAG_PAYLOAD_STR(a.sdp.c_str())),
              TAG_IF(with_warning, SIPTAG_WARNING_STR(warn.c_str())),
              TAG_IF(a.retry_after > 0 && a.status >= 300, SIPTAG_RETRY_AFTER_STR(ra.c_str())),
              TAG_END());
  if (a.status >= 200) {
    if (a.status < 300 && it->second.offerless_invite && with_sdp) {
      rec->answer_in_ack = true;
    }
    msg_destroy(it->second.msg);
    rec->requests.erase(it);
  }
}

void SipStack::Impl::send_reoffer(LegRec* rec, const SipAction& a) {
  if (rec->reoffer_out) {
    // One offer at a time per dialog; the bridge never asks for two. Say so rather than hang.
    LegEvent ev = make_event(rec->id, LegEventKind::reanswer, 500, "Server Internal Error");
    ev.method = a.method;
    ev.warning = "b2bua.offer.overlap";
    emit(std::move(ev));
    return;
  }
  if (early_offer_blocked(rec, a)) {
    return;
  }
  rec->reoffer_out = true;
  rec->reoffer_update = a.method == "UPDATE";
  const bool with_sdp = !a.sdp.empty();
  if (rec->reoffer_update) {
    nua_update(rec->nh, TAG_IF(with_sdp, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
               TAG_IF(with_sdp, SIPTAG_PAYLOAD_STR(a.sdp.c_str())), TAG_END());
    return;
  }
  // Without an offer the 2xx brings one, and our ACK must carry the answer: no automatic ACK.
  rec->ack_pending = !with_sdp;
  nua_invite(rec->nh, NUTAG_AUTOACK(with_sdp ? 1 : 0),
             TAG_IF(with_sdp, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
             TAG_IF(with_sdp, SIPTAG_PAYLOAD_STR(a.sdp.c_str())), TAG_END());
}

}  // namespace b2bua::sip
