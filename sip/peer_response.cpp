// Response mapping (see peer_response.hpp).
#include "sip/peer_response.hpp"

#include <algorithm>
#include <strings.h>

#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_util.h>

namespace b2bua::sip {

namespace {

// NUA reports its own failures (no transport, internal errors) with 7xx-9xx codes.
bool internal_code(int status) { return status > 699; }

// A challenge b2buad did not answer (no credentials for that backend, or it refused them): relayed
// as it is, it would ask the other party for credentials it cannot have.
void refused_credentials(LegEvent& ev) {
  if (ev.status == 401 || ev.status == 407) {
    ev.status = 403;
    ev.reason = "Forbidden";
    ev.warning = "b2bua.target.auth_failed";
  }
}

const char* local_failure(int status) {
  return status == 408 ? "b2bua.target.timeout" : "b2bua.target.unreachable";
}

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
    ev.status = 500;
    ev.reason = "Server Internal Error";
  }
  if (local) {
    ev.warning = local_failure(r.status);
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
  ev = make_event(leg, LegEventKind::reanswer, internal ? 500 : r.status,
                  internal ? "Server Internal Error" : r.phrase);
  ev.method = update ? "UPDATE" : "INVITE";
  ev.sdp = r.sdp;
  if (!r.from_peer && r.status >= 300 && r.status != 491) {
    ev.warning = local_failure(r.status);
  }
  if (r.status >= 300) {
    ev.retry_after = r.retry_after;
  }
  refused_credentials(ev);
  out.dialog_ended = ends_dialog(use.answered, use.bye_sent, r.status,
                                 update ? sip_method_update : sip_method_invite);
  if (out.dialog_ended) {
    ev.warning = "b2bua.dialog.ended";
  }
  return out;
}

DialogResponse info_response_event(LegId leg, const PeerResponse& r, DialogUse use) {
  DialogResponse out;
  LegEvent& ev = out.event;
  ev = make_event(leg, LegEventKind::info, internal_code(r.status) ? 500 : r.status, r.phrase);
  refused_credentials(ev);
  out.dialog_ended = ends_dialog(use.answered, use.bye_sent, r.status, sip_method_info);
  if (out.dialog_ended) {
    ev.warning = "b2bua.dialog.ended";
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
