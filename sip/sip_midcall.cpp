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
bool early(const LegRec* rec) { return leg_state(*rec).pending(); }

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
  const bool update = std::strcmp(method, "UPDATE") == 0;
  const std::optional<Refusal> early_refusal =
      early(rec) ? incoming_early_offer(early_dialog(rec->rel, rec->is_a)) : std::nullopt;
  const OfferIntake intake = rec->dialog.intake_offer(has_body, !sdp.empty(), update, early_refusal);
  if (intake.step == OfferStep::refuse) {
    refuse_request(nh, *intake.refusal);
    return;
  }
  if (intake.step == OfferStep::answer_200) {
    // An UPDATE without an offer only refreshes the dialog (or its session timer): ours to answer.
    nua_respond(nh, SIP_200_OK, NUTAG_WITH_THIS(nua), TAG_END());
    return;
  }
  msg_t* msg = nua_current_request(nua);
  if (!msg) {
    refuse_request(nh, table_refusal(b2bua::Refusal::internal));
    return;
  }
  const std::uint64_t txn = ++next_txn;
  rec->dialog.add(txn, msg_ref_create(msg), /*offerless_invite=*/sdp.empty());
  LegEvent ev = make_event(rec->id, LegEventKind::reoffer);
  ev.method = method;
  ev.txn = txn;
  ev.sdp = std::move(sdp);
  emit(std::move(ev));
}

// A refusal of the peer's request NUA is handing us now (Retry-After 1-10 s when it has one).
void SipStack::Impl::refuse_request(nua_handle_t* nh, const Refusal& r) {
  std::string ra = r.retry_after ? std::to_string(retry_after_s()) : std::string();
  nua_respond(nh, r.status, r.phrase, NUTAG_WITH_THIS(nua),
              TAG_IF(r.accept_sdp, SIPTAG_ACCEPT_STR("application/sdp")),
              TAG_IF(r.retry_after, SIPTAG_RETRY_AFTER_STR(ra.c_str())),
              SIPTAG_WARNING_STR(warning(std::string(r.warning)).c_str()), TAG_END());
}

// A refusal of the bridge's offer, reported as its reanswer (Retry-After 1-10 s when it has one).
void SipStack::Impl::refuse_offer(LegRec* rec, const std::string& method, const Refusal& r) {
  LegEvent ev = make_event(rec->id, LegEventKind::reanswer, r.status, r.phrase);
  ev.method = method;
  ev.warning = r.warning;
  ev.retry_after = r.retry_after ? retry_after_s() : 0;
  emit(std::move(ev));
}

void SipStack::Impl::on_reoffer_response(LegRec* rec, int status, const char* phrase,
                                         const sip_t* sip) {
  const bool update = rec->dialog.offer_out(/*update=*/true);
  rec->dialog.offer_answered(status);
  DialogResponse out = reoffer_response_event(rec->id, update,
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
  bye.warning = warning_id(b2bua::Refusal::dialog_ended);  // the leg's end cause
  emit(std::move(bye));
  release_handle(rec);
}

void SipStack::Impl::on_info(nua_handle_t* nh, LegRec* rec, const sip_t* sip) {
  if (!rec || !nh) {
    // INFO outside any call of ours (NUA lets out-of-dialog INFO through).
    if (nh) {
      refuse_request(nh, table_refusal(b2bua::Refusal::info_no_dialog));
      nua_handle_destroy(nh);
    }
    return;
  }
  if (auto full = rec->dialog.intake_info()) {
    refuse_request(nh, *full);
    return;
  }
  msg_t* msg = nua_current_request(nua);
  if (!msg) {
    return;
  }
  const std::uint64_t txn = ++next_txn;
  rec->dialog.add(txn, msg_ref_create(msg), /*offerless_invite=*/false);
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
  if (rec->dialog.take_answer_in_ack()) {
    // The ACK to our 200 that carried an offer (re-INVITE without SDP): it brings the answer.
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
  ev.warning = "b2bua.session.refresh_failed";  // a call's end cause, not a refusal
  emit(std::move(ev));
}

void SipStack::Impl::respond_request(LegRec* rec, const SipAction& a) {
  msg_t* request = rec->dialog.request(a.tag);
  if (!request || a.status < 100 || a.status > 699) {
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
  nua_respond(rec->nh, a.status, phrase, NUTAG_WITH(request),
              TAG_IF(with_sdp, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
              TAG_IF(with_sdp, SIPTAG_PAYLOAD_STR(a.sdp.c_str())),
              TAG_IF(with_warning, SIPTAG_WARNING_STR(warn.c_str())),
              TAG_IF(a.retry_after > 0 && a.status >= 300, SIPTAG_RETRY_AFTER_STR(ra.c_str())),
              TAG_END());
  if (msg_t* done = rec->dialog.answered(a.tag, a.status, with_sdp)) {
    msg_destroy(done);  // a final response: the request is closed
  }
}

void SipStack::Impl::send_reoffer(LegRec* rec, const SipAction& a) {
  const bool with_sdp = !a.sdp.empty();
  const std::optional<Refusal> early_refusal =
      early(rec) ? outgoing_early_offer(early_dialog(rec->rel, rec->is_a), a.method) : std::nullopt;
  if (auto refusal = rec->dialog.start_offer(a.method, with_sdp, early_refusal, rec->bye_sent)) {
    refuse_offer(rec, a.method, *refusal);  // the bridge hears it rather than hang
    return;
  }
  if (a.method == "UPDATE") {
    nua_update(rec->nh, TAG_IF(with_sdp, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
               TAG_IF(with_sdp, SIPTAG_PAYLOAD_STR(a.sdp.c_str())), TAG_END());
    return;
  }
  // Without an offer the 2xx brings one, and our ACK must carry the answer: no automatic ACK.
  nua_invite(rec->nh, NUTAG_AUTOACK(with_sdp ? 1 : 0),
             TAG_IF(with_sdp, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
             TAG_IF(with_sdp, SIPTAG_PAYLOAD_STR(a.sdp.c_str())), TAG_END());
}

}  // namespace b2bua::sip
