// Response mapping (see peer_response.hpp).
#include "sip/peer_response.hpp"

#include <algorithm>
#include <strings.h>

#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_util.h>

#include "actors/protocol/refusal.hpp"

namespace b2bua::sip {

namespace {

// NUA reports its own failures (no transport, internal errors) with 7xx-9xx codes.
bool internal_code(int status) { return status > 699; }

// A challenge b2buad did not answer (no credentials for that backend, or it refused them): relayed
// as it is, it would ask the other party for credentials it cannot have.
void refused_credentials(LegEvent& ev) {
  if (ev.status == 401 || ev.status == 407) {
    apply_refusal(ev, b2bua::Refusal::target_auth_failed, {.retry_after = ev.retry_after});
  }
}

// A failure no peer sent (sofia made the status: no response in time, no transport): that status
// goes on, with our Warning.
void local_failure(LegEvent& ev, int status) {
  using R = b2bua::Refusal;
  apply_refusal(ev, status == 408 ? R::target_timeout : R::target_unreachable,
                {.status = ev.status, .reason = ev.reason});
}

// NUA's internal codes go on as b2bua.internal's status and reason (500).
constexpr SipRefusal internal_error = sip_refusal(b2bua::Refusal::internal);

}  // namespace

std::string sdp_body(const sip_t* sip) {
  if (!sip || !sip->sip_payload || !sip->sip_payload->pl_data || sip->sip_payload->pl_len == 0) {
    return {};
  }
  if (sip->sip_content_type && sip->sip_content_type->c_type &&
      strcasecmp(sip->sip_content_type->c_type, "application/sdp") != 0) {
    return {};
  }
  return std::string(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
}

std::uint32_t retry_after_of(const sip_t* sip) {
  if (!sip || !sip->sip_retry_after) {
    return 0;
  }
  return static_cast<std::uint32_t>(std::min<unsigned long>(sip->sip_retry_after->af_delta, 3600));
}

PeerResponse peer_response(int status, const char* phrase, const sip_t* sip) {
  PeerResponse r;
  r.status = status;
  r.phrase = phrase ? phrase : "";
  r.from_peer = sip != nullptr;
  if (!sip) {
    return r;
  }
  r.rseq = sip->sip_rseq != nullptr;
  r.sdp = sdp_body(sip);
  r.retry_after = retry_after_of(sip);
  if (sip->sip_from && sip->sip_to) {
    r.from_tag = sip->sip_from->a_tag ? sip->sip_from->a_tag : "";
    r.to_tag = sip->sip_to->a_tag ? sip->sip_to->a_tag : "";
  }
  return r;
}

LegEvent invite_response_event(LegId leg, const PeerResponse& r, bool heard) {
  LegEvent ev = make_event(leg, LegEventKind::trying, r.status, r.phrase);
  ev.local_tag = r.from_tag;
  ev.remote_tag = r.to_tag;
  if (r.status < 200) {
    if (r.status > 100) {
      ev.sdp = r.sdp;
      ev.kind = ev.sdp.empty() ? LegEventKind::ringing : LegEventKind::early_media;
      ev.reliable = r.rseq;
    }
    return ev;
  }
  if (r.status < 300) {
    ev.kind = LegEventKind::answered;
    ev.sdp = r.sdp;
    return ev;
  }
  ev.kind = LegEventKind::failed;
  // NTA makes a 408 itself (with a To tag, like a real one) when the target never answered at
  // all; a 408 before any provisional response is that timeout.
  const bool local = !r.from_peer || (r.status == 408 && !heard);
  if (internal_code(r.status)) {
    ev.status = internal_error.status;
    ev.reason = internal_error.reason;
  }
  if (local) {
    local_failure(ev, r.status);
  }
  refused_credentials(ev);
  ev.retry_after = r.retry_after;
  return ev;
}

DialogResponse reoffer_response_event(LegId leg, bool update, const PeerResponse& r,
                                      DialogUse use) {
  const bool internal = internal_code(r.status);
  DialogResponse out;
  LegEvent& ev = out.event;
  ev = make_event(leg, LegEventKind::reanswer, internal ? internal_error.status : r.status,
                  internal ? std::string(internal_error.reason) : r.phrase);
  ev.method = update ? "UPDATE" : "INVITE";
  ev.sdp = r.sdp;
  if (!r.from_peer && r.status >= 300 && r.status != 491) {
    local_failure(ev, r.status);
  }
  if (r.status >= 300) {
    ev.retry_after = r.retry_after;
  }
  refused_credentials(ev);
  out.dialog_ended = ends_dialog(use.answered, use.bye_sent, r.status,
                                 update ? sip_method_update : sip_method_invite);
  if (out.dialog_ended) {
    ev.warning = warning_id(b2bua::Refusal::dialog_ended);
  }
  return out;
}

DialogResponse info_response_event(LegId leg, const PeerResponse& r, DialogUse use) {
  DialogResponse out;
  LegEvent& ev = out.event;
  ev = make_event(leg, LegEventKind::info,
                  internal_code(r.status) ? internal_error.status : r.status, r.phrase);
  refused_credentials(ev);
  out.dialog_ended = ends_dialog(use.answered, use.bye_sent, r.status, sip_method_info);
  if (out.dialog_ended) {
    ev.warning = warning_id(b2bua::Refusal::dialog_ended);
  }
  return out;
}

bool ends_dialog(bool answered, bool bye_sent, int status, sip_method_t method) {
  if (!answered || bye_sent || status < 300 || status > 699 || status == 491) {
    return false;
  }
  int graceful = 0;
  return sip_response_terminates_dialog(status, method, &graceful) != 0;
}

}  // namespace b2bua::sip
