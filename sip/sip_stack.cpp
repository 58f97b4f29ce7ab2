// The b2b-sofia thread: NUA events in, LegEvents out; SipActions in, NUA calls out.
#include "sip/sip_stack.hpp"

#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <deque>
#include <future>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include <pthread.h>

#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/su_tag_io.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/tport_tag.h>
#include <sofia-sip/url.h>

#include "actors/protocol/atoms.hpp"
#include "actors/protocol/leg_event.hpp"
#include "sip/inbound_auth.hpp"
#include "sip/message_class.hpp"
#include "sip/sip_stack_impl.hpp"

namespace b2bua::sip {

using detail::str;

namespace {

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}


// sofia-sip writes its own diagnostics to stderr; route them into our log at debug level so that
// b2buad's stderr stays one line per event (and one line on a failed start).
void sofia_logger(void*, const char* fmt, va_list ap) {
  char buf[512];
  int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
  if (n <= 0) {
    return;
  }
  std::string line(buf, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buf - 1));
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
    line.pop_back();
  }
  spdlog::debug("sofia: {}", line);
}

std::string url_text(su_home_t* home, const url_t* url) {
  if (!url) {
    return {};
  }
  char* s = url_as_string(home, url);
  std::string out = str(s);
  su_free(home, s);
  return out;
}


// Headers the B2BUA builds itself on each leg (or that belong to one hop): never copied.
bool own_header(std::string_view name) {
  static constexpr std::string_view skip[] = {
      "via", "from", "to", "call-id", "cseq", "contact", "route", "record-route", "max-forwards",
      "content-length", "content-type", "content-encoding", "authorization",
      "proxy-authorization", "supported", "require", "proxy-require", "allow", "session-expires",
      "min-se", "rseq", "rack", "expires", "user-agent", "server"};
  std::string lower(name);
  for (auto& c : lower) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return std::find(std::begin(skip), std::end(skip), lower) != std::end(skip);
}

// The caller's other headers, in order (for routing rules and the routes' header policy).
std::vector<HeaderField> other_headers(const sip_t* sip) {
  std::vector<HeaderField> out;
  if (!sip->sip_request) {
    return out;
  }
  char buf[1024];
  for (auto* h = reinterpret_cast<const msg_header_t*>(sip->sip_request)->sh_succ;
       h && out.size() < 64; h = h->sh_succ) {
    const msg_hclass_t* hc = h->sh_class;
    if (!hc) {
      continue;
    }
    HeaderField f;
    if (hc == sip_unknown_class) {
      const auto* u = reinterpret_cast<const sip_unknown_t*>(h);
      f.name = str(u->un_name);
      f.value = str(u->un_value);
    } else {
      if (!hc->hc_name || !*hc->hc_name) {
        continue;  // the request line, the separator, the body
      }
      f.name = hc->hc_name;
      issize_t n = msg_header_field_e(buf, sizeof buf, h, 0);
      if (n < 0 || static_cast<std::size_t>(n) >= sizeof buf) {
        continue;
      }
      f.value.assign(buf, static_cast<std::size_t>(n));
    }
    if (!f.name.empty() && !own_header(f.name)) {
      out.push_back(std::move(f));
    }
  }
  return out;
}

// "Name: value\r\n..." for SIPTAG_HEADER_STR; fields with line breaks are dropped.
std::string header_block(const std::vector<HeaderField>& headers) {
  std::string out;
  for (const auto& h : headers) {
    if (h.name.empty() || h.name.find_first_of(":\r\n") != std::string::npos ||
        h.value.find_first_of("\r\n") != std::string::npos) {
      continue;
    }
    if (!out.empty()) {
      out += "\r\n";
    }
    out += h.name + ": " + h.value;
  }
  return out;
}

}  // namespace


namespace {

void nua_callback(nua_event_t event, int status, char const* phrase, nua_t*, nua_magic_t* magic,
                  nua_handle_t* nh, nua_hmagic_t* hmagic, sip_t const* sip, tagi_t tags[]) {
  auto* impl = reinterpret_cast<SipStack::Impl*>(magic);
  try {
    impl->on_event(event, status, phrase, nh, reinterpret_cast<LegRec*>(hmagic), sip, tags);
  } catch (const std::exception& e) {
    // Nothing may unwind through sofia's C frames.
    spdlog::error("sip: exception in event {}: {}", nua_event_name(event), e.what());
  } catch (...) {
    spdlog::error("sip: unknown exception in event {}", nua_event_name(event));
  }
}

}  // namespace

namespace {

// Index into sip_method_names of a request event, -1 for other events.
int request_index(nua_event_t event) {
  switch (event) {
    case nua_i_invite: return 0;
    case nua_i_ack: return 1;
    case nua_i_bye: return 2;
    case nua_i_cancel: return 3;
    case nua_i_options: return 4;
    case nua_i_info: return 5;
    case nua_i_message: return 6;
    case nua_i_notify: return 7;
    case nua_i_subscribe: return 8;
    case nua_i_refer: return 9;
    case nua_i_publish: return 10;
    case nua_i_register: return 11;
    case nua_i_update: return 12;
    case nua_i_prack: return 13;
    default: return -1;
  }
}

void count_traffic(SipCounters& c, nua_event_t event, int status) {
  if (int i = request_index(event); i >= 0) {
    c.requests[static_cast<std::size_t>(i)].fetch_add(1, std::memory_order_relaxed);
  } else if ((event == nua_r_invite || event == nua_r_bye || event == nua_r_cancel ||
              event == nua_r_options) &&
             status >= 100 && status < 700) {
    c.responses_received[static_cast<std::size_t>(status)].fetch_add(1,
                                                                     std::memory_order_relaxed);
  }
}

}  // namespace

void SipStack::Impl::on_event(nua_event_t event, int status, const char* phrase, nua_handle_t* nh,
                              LegRec* rec, const sip_t* sip, tagi_t tags[]) {
  count_traffic(owner->counters_, event, status);
  if (rec && (event == nua_r_invite || event == nua_r_update || event == nua_r_info)) {
    rec->auth.settle(status);  // a final answer other than a challenge: the next may be answered
  }
  if (rec && sip && sip->sip_contact &&
      (event == nua_i_refer || event == nua_i_notify || event == nua_i_subscribe ||
       event == nua_i_message || event == nua_i_info || event == nua_i_publish ||
       event == nua_i_method)) {
    // NUA took this request's Contact as the dialog's target already (re-INVITE and UPDATE are
    // checked, and refused, in on_in_dialog_offer).
    check_target_refresh(nh, rec, sip, /*refuse=*/false);
  }
  switch (event) {
    case nua_i_invite:
      on_invite(nh, rec, sip);
      return;
    case nua_r_invite:
      if (rec) {
        on_invite_response(rec, status, phrase, sip);
      }
      return;
    case nua_i_cancel:
      if (rec && rec->is_a && !rec->final_sent) {
        rec->cancelled = true;
        count_final(rec, 487);  // NUA answers the INVITE with 487 by itself
        emit(make_event(rec->id, LegEventKind::cancelled, 487, "Request Terminated"));
      }
      return;
    case nua_i_ack:
      if (rec) {
        on_ack(rec, sip);
      }
      return;
    case nua_i_update:
      if (rec) {
        on_in_dialog_offer(nh, rec, sip, "UPDATE");
      } else if (nh) {
        nua_handle_destroy(nh);  // NUA answered it 481 itself: no dialog
      }
      return;
    case nua_r_update:
      if (rec && authenticate(rec, status, sip)) {
        return;  // NUA sends the UPDATE again with credentials
      }
      if (rec && rec->dialog.offer_out(/*update=*/true) && status >= 200) {
        on_reoffer_response(rec, status, phrase, sip);
      } else if (rec && status >= 300) {
        on_refresh_failed(rec, status);  // NUA's own session refresh (NUTAG_UPDATE_REFRESH)
      }
      return;
    case nua_r_bye:
      if (rec && !rec->bye_sent && status >= 200) {
        // A BYE we did not ask for: NUA's session timer (RFC 4028 10), the peer never refreshed.
        rec->bye_sent = true;
        LegEvent ev = make_event(rec->id, LegEventKind::bye, 408, "Session timeout");
        ev.warning = "b2bua.session.expired";  // a call's end cause, not a refusal
        emit(std::move(ev));
      }
      return;
    case nua_i_info:
      on_info(nh, rec, sip);
      return;
    case nua_r_info:
      if (rec && authenticate(rec, status, sip)) {
        return;  // NUA sends the INFO again with credentials; it stays first among its INFOs
      }
      if (auto tag = rec && status >= 200 ? rec->dialog.info_answered() : std::nullopt) {
        DialogResponse out = info_response_event(rec->id, peer_response(status, phrase, sip),
                                                 DialogUse{rec->answered, rec->bye_sent});
        out.event.txn = *tag;
        emit(std::move(out.event));
        if (out.dialog_ended) {
          on_dialog_ended(rec, status);
        }
      }
      return;
    case nua_i_bye:
      if (rec) {
        if (rec->is_a && !rec->final_sent) {
          // BYE on an early dialog: NUA answers the INVITE with 487, as for a CANCEL.
          rec->cancelled = true;
          count_final(rec, 487);
        }
        emit(make_event(rec->id, LegEventKind::bye));
      }
      return;
    case nua_i_state:
      on_state(nh, rec, tags);
      return;
    case nua_i_prack:
      if (rec && rec->is_a) {
        if (on_prack(rec->rel) && rec->held_final) {
          SipAction held = std::move(*rec->held_final);
          rec->held_final.reset();
          respond(rec, held);
        }
      }
      return;
    case nua_r_options:
      if (rec && rec->probe_to && status >= 200) {
        caf::anon_send(rec->probe_to, probe_atom::value, rec->probe_tag, status);
        legs.erase(rec->id);
        nua_handle_bind(nh, nullptr);
        nua_handle_destroy(nh);
      }
      return;
    case nua_r_shutdown:
      if (status >= 200) {
        shut_down = true;  // nua_destroy must not run inside its own callback: run() does it
        su_root_break(root);
      }
      return;
    case nua_i_method:
      on_unknown_method(nh, rec, sip);
      return;
    case nua_i_options:
      if (options_by_app) {
        on_options(nh, rec, sip);
        return;
      }
      [[fallthrough]];
    case nua_i_message:
    case nua_i_notify:
    case nua_i_subscribe:
    case nua_i_refer:
    case nua_i_publish:
    case nua_i_register:
      // NUA answered these by itself. A handle NUA made for an out-of-dialog request is ours to free.
      if (!rec && nh) {
        nua_handle_destroy(nh);
      }
      return;
    default:
      (void)status;
      (void)phrase;
      return;
  }
}

void SipStack::Impl::on_invite(nua_handle_t* nh, LegRec* rec, const sip_t* sip) {
  if (rec) {
    on_in_dialog_offer(nh, rec, sip, "INVITE");  // a re-INVITE: the bridge carries it across
    return;
  }
  const Admission admission = admit_invite(sip, owner->draining_, our_call_ids);
  if (admission.refusal) {
    reject_early(nh, *admission.refusal);
    return;
  }
  auto& c = owner->counters_;
  std::string auth_user;
  if (InboundAuth* auth = owner->cfg_.auth.get(); auth && auth->applies("INVITE")) {
    AuthOutcome out = auth->check(nua_current_request(nua), sip, now_ms() / 1000);
    c.auth[out.result].fetch_add(1, std::memory_order_relaxed);
    if (out.status != 0) {
      reject_auth(nh, out);
      return;
    }
    auth_user = std::move(out.user);
  }
  if (auto full = admit_capacity(c.active_calls.load(std::memory_order_relaxed),
                                 owner->cfg_.max_calls)) {
    reject_early(nh, *full);
    return;
  }

  auto leg = std::make_unique<LegRec>();
  leg->id = owner->new_leg_id();
  leg->nh = nh;
  leg->created_ms = steady_ms();
  leg->is_a = true;
  leg->rel.caller = caller_options(sip);
  nua_handle_bind(nh, reinterpret_cast<nua_hmagic_t*>(leg.get()));
  if (admission.target.needs_lookup) {
    send_to_source(leg.get());  // no DNS on the SIP thread for a caller's host name
  }
  c.active_calls.fetch_add(1, std::memory_order_relaxed);
  c.total_calls.fetch_add(1, std::memory_order_relaxed);

  IncomingCall call;
  call.leg = leg->id;
  call.call_id = str(sip->sip_call_id->i_id);
  call.from_tag = str(sip->sip_from->a_tag);
  call.from_uri = url_text(home, sip->sip_from->a_url);
  call.from_display = str(sip->sip_from->a_display);
  call.from_user = str(sip->sip_from->a_url->url_user);
  call.to_uri = url_text(home, sip->sip_to->a_url);
  call.to_display = str(sip->sip_to->a_display);
  call.to_user = str(sip->sip_to->a_url->url_user);
  call.request_uri = url_text(home, sip->sip_request->rq_url);
  call.ruri_user = str(sip->sip_request->rq_url->url_user);
  call.max_forwards = admission.max_forwards;
  call.sdp = sdp_body(sip);
  leg->rel.offer_received = !call.sdp.empty();
  call.received_ms = now_ms();
  call.headers = other_headers(sip);
  call.auth_user = std::move(auth_user);
  if (sip->sip_via) {
    const sip_via_t* v = sip->sip_via;
    std::string host = v->v_received ? v->v_received : str(v->v_host);
    std::string port = v->v_rport && *v->v_rport ? v->v_rport : (v->v_port ? v->v_port : "5060");
    call.source = host + ":" + port;
  }
  legs.emplace(leg->id, std::move(leg));
  caf::anon_send(transport, incoming_atom::value, std::move(call));
}

void SipStack::Impl::on_invite_response(LegRec* rec, int status, const char* phrase,
                                        const sip_t* sip) {
  if (authenticate(rec, status, sip)) {
    return;  // NUA sends the INVITE (or re-INVITE) again with credentials
  }
  if (rec->dialog.offer_out(/*update=*/false)) {
    if (status >= 200) {
      on_reoffer_response(rec, status, phrase, sip);
    }
    return;
  }
  if (rec->answered && (rec->is_a || rec->final_received)) {
    if (status >= 300) {
      on_refresh_failed(rec, status);  // a session refresh re-INVITE NUA sent by itself
    }
    return;
  }
  if (rec->is_a || rec->final_received) {
    return;
  }
  if (status < 100) {
    return;
  }
  if (status >= 200 && status < 300) {
    const TargetCheck target = check_dialog_target(sip ? sip->sip_contact : nullptr,
                                                   sip ? sip->sip_record_route : nullptr,
                                                   /*uac=*/true, /*contact_required=*/true);
    if (!target.ok()) {
      on_bad_answer_target(rec, target);
      return;
    }
  }
  LegEvent ev = invite_response_event(rec->id, peer_response(status, phrase, sip), rec->heard);
  if (status < 200) {
    rec->heard = true;
    if (ev.reliable && !ev.sdp.empty()) {
      rec->rel.early_answer_reliable = true;  // the early dialog may carry UPDATEs (RFC 3311)
    }
  } else {
    rec->final_received = true;
    if (status < 300) {
      rec->answered = true;
    }
  }
  emit(std::move(ev));
}

// OPTIONS when auth.methods has it: out of dialog it is authenticated like an INVITE, then
// answered 200 (NUA adds Allow, Accept and Supported as it does by itself).
void SipStack::Impl::on_options(nua_handle_t* nh, LegRec* rec, const sip_t* sip) {
  InboundAuth* auth = owner->cfg_.auth.get();
  AuthOutcome out;
  if (!rec && sip && auth && auth->applies("OPTIONS")) {
    out = auth->check(nua_current_request(nua), sip, now_ms() / 1000);
    owner->counters_.auth[out.result].fetch_add(1, std::memory_order_relaxed);
  }
  if (out.status != 0) {
    reject_auth(nh, out, /*invite=*/false);
  } else {
    nua_respond(nh, SIP_200_OK, NUTAG_WITH_THIS(nua), TAG_END());
  }
  if (!rec && nh) {
    nua_handle_destroy(nh);  // a handle NUA made for this request alone
  }
}

// Answers a backend's challenge (to the INVITE or a mid-call request) with the credentials
// configured for its host and port, once per request (ChallengeBudget). False: not a challenge,
// no credentials, or a second challenge in a row; the response goes its usual way.
bool SipStack::Impl::authenticate(LegRec* rec, int status, const sip_t* sip) {
  if ((status != 401 && status != 407) || !sip || rec->is_a) {
    return false;
  }
  const msg_auth_t* ch = sip->sip_www_authenticate ? sip->sip_www_authenticate
                                                   : sip->sip_proxy_authenticate;
  const BackendCredential* found = ch ? find_credential(credentials, rec->target) : nullptr;
  auto auth = found ? auth_string(*found, ch->au_scheme, msg_params_find(ch->au_params, "realm="))
                    : std::nullopt;
  if (!auth || !rec->auth.take()) {
    return false;
  }
  spdlog::debug("sip: leg={} answering {}'s challenge as {}", rec->id, rec->target, found->user);
  nua_authenticate(rec->nh, NUTAG_AUTH(auth->c_str()), TAG_END());
  return true;
}

void SipStack::Impl::on_state(nua_handle_t* nh, LegRec* rec, tagi_t tags[]) {
  int state = nua_callstate_init;
  tl_gets(tags, NUTAG_CALLSTATE_REF(state), TAG_END());
  if (state != nua_callstate_terminated) {
    return;
  }
  if (rec) {
    release_handle(rec);
  } else if (nh) {
    nua_handle_destroy(nh);  // an INVITE we rejected before it became a call
  }
}

void SipStack::Impl::execute(const SipAction& a) {
  if (!nua || shut_down) {
    return;
  }
  if (a.kind == SipActionKind::invite) {
    send_invite(a);
    return;
  }
  if (a.kind == SipActionKind::options) {
    send_options(a);
    return;
  }
  LegRec* rec = find(a.leg);
  if (!rec) {
    return;  // the leg is gone already; the actor learns it from `terminated`
  }
  const int cause = a.status >= 300 && a.status < 700 ? a.status : 200;
  std::string reason_hdr = a.why.empty() ? std::string()
                                         : "SIP;cause=" + std::to_string(cause) + ";text=\"" +
                                               a.why + "\"";
  switch (a.kind) {
    case SipActionKind::respond:
      respond(rec, a);
      return;
    case SipActionKind::bye:
      rec->bye_sent = true;
      nua_bye(rec->nh, TAG_IF(!reason_hdr.empty(), SIPTAG_REASON_STR(reason_hdr.c_str())),
              TAG_END());
      return;
    case SipActionKind::cancel:
      if (!rec->is_a && !rec->final_received) {
        rec->cancelled_ms = rec->cancelled_ms ? rec->cancelled_ms : steady_ms();
        nua_cancel(rec->nh, TAG_IF(!reason_hdr.empty(), SIPTAG_REASON_STR(reason_hdr.c_str())),
                   TAG_END());
      }
      return;
    case SipActionKind::release:
      switch (release_step(leg_state(*rec))) {
        case ReleaseStep::respond: {
          // Without an error status or a Warning of its own, b2bua.internal's.
          const SipRefusal internal = sip_refusal(b2bua::Refusal::internal);
          SipAction r = a;
          if (a.status < 300) {
            r.status = internal.status;
            r.reason = internal.reason;
          }
          if (a.warning.empty()) {
            r.warning = internal.warning;
          }
          respond(rec, r);
          return;
        }
        case ReleaseStep::bye:
          rec->bye_sent = true;
          nua_bye(rec->nh, TAG_END());
          return;
        case ReleaseStep::cancel:
          rec->cancelled_ms = rec->cancelled_ms ? rec->cancelled_ms : steady_ms();
          nua_cancel(rec->nh, TAG_END());
          return;
        case ReleaseStep::nothing:
          return;
      }
      return;
    case SipActionKind::abandon:
      if (!rec->is_a) {
        if (!rec->final_received) {
          nua_cancel(rec->nh, TAG_END());
        }
        release_handle(rec);  // the bridge moved on: `terminated` now, whatever NUA does later
      }
      return;
    case SipActionKind::redirect:
      if (rec->is_a && !rec->final_sent && a.status >= 300 && a.status < 400) {
        const char* phrase = su_strdup(nua_handle_home(rec->nh), a.reason.c_str());
        count_final(rec, a.status);
        nua_respond(rec->nh, a.status, phrase, SIPTAG_CONTACT_STR(a.contact.c_str()), TAG_END());
      }
      return;
    case SipActionKind::reoffer:
      send_reoffer(rec, a);
      return;
    case SipActionKind::respond_request:
      respond_request(rec, a);
      return;
    case SipActionKind::info:
      rec->dialog.info_sent(a.tag);
      nua_info(rec->nh, TAG_IF(!a.content_type.empty(), SIPTAG_CONTENT_TYPE_STR(a.content_type.c_str())),
               TAG_IF(!a.body.empty(), SIPTAG_PAYLOAD_STR(a.body.c_str())), TAG_END());
      return;
    case SipActionKind::ack:
      if (rec->dialog.take_ack()) {
        const bool with_sdp = !a.sdp.empty();
        nua_ack(rec->nh, TAG_IF(with_sdp, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
                TAG_IF(with_sdp, SIPTAG_PAYLOAD_STR(a.sdp.c_str())), TAG_END());
      }
      return;
    case SipActionKind::invite:
    case SipActionKind::options:
      return;
  }
}

void SipStack::Impl::send_options(const SipAction& a) {
  auto reply = [&a](int status) {
    caf::anon_send(a.reply_to, probe_atom::value, a.tag, status);
  };
  url_t* uri = url_make(home, a.invite.request_uri.c_str());
  if (!uri || (uri->url_type != url_sip && uri->url_type != url_sips) || !uri->url_host) {
    su_free(home, uri);
    reply(0);
    return;
  }
  auto rec = std::make_unique<LegRec>();
  rec->id = owner->new_leg_id();
  rec->probe_to = a.reply_to;
  rec->probe_tag = a.tag;
  std::string from = "<sip:b2bua@" + from_host + ">";
  nua_handle_t* nh = nua_handle(nua, reinterpret_cast<nua_hmagic_t*>(rec.get()),
                                NUTAG_URL(uri), SIPTAG_FROM_STR(from.c_str()), TAG_END());
  su_free(home, uri);
  if (!nh) {
    reply(0);
    return;
  }
  rec->nh = nh;
  nua_options(nh, TAG_END());
  legs.emplace(rec->id, std::move(rec));
}

void SipStack::Impl::respond(LegRec* rec, const SipAction& a) {
  if (!rec->is_a || rec->final_sent || a.status < 100 || a.status > 699) {
    return;
  }
  // RFC 3262: a callee's reliable 18x goes on reliably to a caller that supports 100rel; a 2xx
  // waits here for the PRACKs of our reliable 18x (sip/reliable_provisional.hpp).
  ResponsePlan plan = plan_response(rec->rel, b2bua_nua_reliability, a.status, a.reliable, a.sdp);
  if (plan.hold) {
    rec->held_final = a;
    rec->held_since_ms = steady_ms();
    return;
  }
  const std::string& sdp = plan.sdp;
  const bool with_sdp = !sdp.empty();
  const bool with_warning = !a.warning.empty() && a.status >= 300;
  std::string warn = with_warning ? warning(a.warning) : std::string();
  std::string ra = std::to_string(a.retry_after);
  // NUA keeps the phrase pointer (unlike tags, which it copies) until its stack handles the
  // response later in this loop: a custom phrase must live in the handle's own memory.
  const char* phrase = a.reason.empty() ? sip_status_phrase(a.status)
                                        : su_strdup(nua_handle_home(rec->nh), a.reason.c_str());
  if (!phrase) {
    phrase = "Unknown";
  }
  count_final(rec, a.status);
  nua_respond(rec->nh, a.status, phrase, TAG_IF(plan.add_require_100rel, SIPTAG_REQUIRE_STR("100rel")),
              TAG_IF(with_sdp, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
              TAG_IF(with_sdp, SIPTAG_PAYLOAD_STR(sdp.c_str())),
              TAG_IF(with_warning, SIPTAG_WARNING_STR(warn.c_str())),
              TAG_IF(a.retry_after > 0 && a.status >= 300, SIPTAG_RETRY_AFTER_STR(ra.c_str())),
              TAG_END());
}

void SipStack::Impl::send_invite(const SipAction& a) {
  const OutboundInvite& inv = a.invite;
  auto fail = [&](b2bua::Refusal r) {
    LegEvent ev = make_event(a.leg, LegEventKind::failed);
    emit(std::move(apply_refusal(ev, r)));
    emit(make_event(a.leg, LegEventKind::terminated));
  };
  url_t* ruri = url_make(home, inv.request_uri.c_str());
  if (!ruri || (ruri->url_type != url_sip && ruri->url_type != url_sips) || !ruri->url_host) {
    su_free(home, ruri);
    fail(b2bua::Refusal::target_invalid);
    return;
  }
  ruri->url_headers = nullptr;  // sofia would make real headers of them (RFC 4475 escruri)
  // Display names arrive as sofia parsed them (a token run or a quoted string): use them as is.
  std::string from = (inv.from_display.empty() ? std::string() : inv.from_display + " ") +
                     "<sip:" + (inv.from_user.empty() ? std::string() : inv.from_user + "@") +
                     from_host + ">";
  std::string to = (inv.to_display.empty() ? std::string() : inv.to_display + " ") + "<" +
                   inv.to_uri + ">";
  auto leg = std::make_unique<LegRec>();
  leg->id = a.leg;
  leg->created_ms = steady_ms();
  leg->call_id = inv.call_id;
  leg->target = inv.request_uri;
  // Every request of a B leg goes to the route target's address, as to an outbound proxy: the
  // callee's Contact and Record-Route still make the Request-URI and Route, but cannot steer
  // b2buad elsewhere, nor make it create a request sofia cannot send.
  const std::string next_hop = next_hop_uri(ruri);
  nua_handle_t* nh = nua_handle(nua, reinterpret_cast<nua_hmagic_t*>(leg.get()),
                                SIPTAG_FROM_STR(from.c_str()), SIPTAG_TO_STR(to.c_str()),
                                SIPTAG_CALL_ID_STR(inv.call_id.c_str()), TAG_END());
  if (!nh) {
    su_free(home, ruri);
    fail(b2bua::Refusal::target_invalid);
    return;
  }
  leg->nh = nh;
  // A handle parameter (NUA ignores NUTAG_PROXY among nua_handle's tags); queued before the INVITE.
  nua_set_hparams(nh, NUTAG_PROXY(URL_STRING_MAKE(next_hop.c_str())), TAG_END());
  our_call_ids.insert(inv.call_id);
  std::string mf = std::to_string(inv.max_forwards);
  const bool with_sdp = !inv.sdp.empty();
  const std::string extra = header_block(inv.headers);
  nua_invite(nh, NUTAG_URL(ruri), SIPTAG_MAX_FORWARDS_STR(mf.c_str()),
             TAG_IF(!extra.empty(), SIPTAG_HEADER_STR(extra.c_str())),
             TAG_IF(with_sdp, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
             TAG_IF(with_sdp, SIPTAG_PAYLOAD_STR(inv.sdp.c_str())), TAG_END());
  su_free(home, ruri);
  legs.emplace(a.leg, std::move(leg));
}

// -- SipStack ----------------------------------------------------------------------------------------

SipStack::SipStack(SipStackConfig cfg) : cfg_(std::move(cfg)) {}

SipStack::~SipStack() { stop(); }

std::string SipStack::start(caf::actor transport) {
  impl_ = std::make_unique<Impl>();
  impl_->owner = this;
  impl_->transport = std::move(transport);
  std::string host = cfg_.advertise;
  if (host.empty()) {
    host = (cfg_.listen_host == "0.0.0.0" || cfg_.listen_host == "::" || cfg_.listen_host == "*")
               ? "127.0.0.1"
               : cfg_.listen_host;
  }
  impl_->warning_host = host;
  impl_->from_host = host;
  impl_->credentials = cfg_.backend_credentials;
  std::promise<std::string> started;
  auto result = started.get_future();
  thread_ = std::thread([this, &started] { run(&started); });
  std::string err = result.get();
  if (!err.empty()) {
    thread_.join();
  }
  return err;
}

void SipStack::run(std::promise<std::string>* started) {
  pthread_setname_np(pthread_self(), "b2b-sofia");
  su_init();
  su_log_redirect(su_log_default, sofia_logger, nullptr);
  Impl& im = *impl_;
  im.root = su_root_create(nullptr);
  if (!im.root) {
    started->set_value("sip: cannot create the sofia event loop");
    su_deinit();
    return;
  }
  su_root_threading(im.root, 0);
  std::string host = cfg_.listen_host;
  if (host == "0.0.0.0" || host == "::") {
    host = "*";
  } else if (host.find(':') != std::string::npos && host.front() != '[') {
    host = "[" + host + "]";
  }
  std::string url = "sip:" + host + ":" + std::to_string(cfg_.listen_port);
  im.options_by_app = cfg_.auth && cfg_.auth->applies("OPTIONS");
  const std::string supported(b2bua_nua_reliability.supported);
  im.nua = nua_create(im.root, nua_callback, reinterpret_cast<nua_magic_t*>(&im),
                      NUTAG_URL(url.c_str()), NUTAG_MEDIA_ENABLE(0), NUTAG_AUTOANSWER(0),
                      TAG_IF(im.options_by_app, NUTAG_APPL_METHOD("OPTIONS")),
                      NUTAG_AUTOALERT(0), NUTAG_USER_AGENT(cfg_.user_agent.c_str()),
                      // What decides a reliable 18x, as respond's model assumes it (sofia's
                      // defaults, written out: sip/reliable_provisional.hpp).
                      SIPTAG_SUPPORTED_STR(supported.c_str()),
                      NUTAG_EARLY_MEDIA(b2bua_nua_reliability.early_media),
                      NUTAG_ONLY183_100REL(b2bua_nua_reliability.only183_100rel),
                      // Mid-call requests are the bridge's to answer (sip_midcall.cpp).
                      NUTAG_ALLOW("INFO, UPDATE"), NUTAG_APPL_METHOD("INVITE, UPDATE, INFO"),
                      // RFC 4028 per leg, by NUA: Session-Expires, Min-SE (422), refresher
                      // negotiation; refreshes go out as UPDATE without SDP, so no offer crosses.
                      NUTAG_SESSION_TIMER(cfg_.session_expires_s), NUTAG_MIN_SE(cfg_.min_se_s),
                      NUTAG_SESSION_REFRESHER(nua_any_refresher), NUTAG_UPDATE_REFRESH(1),
                      NTATAG_SIP_T1(cfg_.t1_ms), NTATAG_SIP_T1X64(64 * cfg_.t1_ms),
                      // Every message sofia reads is bounded, also the second of one TCP read
                      // (sip/message_class.hpp: sofia aborts on a huge Content-Length there).
                      NTATAG_MAXSIZE(kMaxMessageBytes), NTATAG_MCLASS(bounded_sip_mclass()),
                      // sofia stops reading a TCP connection that sent garbage (tport_stall)
                      // and so never sees it close: only the idle timer frees it.
                      TPTAG_IDLE(cfg_.tcp_idle_ms), TAG_END());
  if (!im.nua) {
    started->set_value("sip.listen " + cfg_.listen_host + ":" + std::to_string(cfg_.listen_port) +
                       ": cannot bind (address in use or not available)");
    su_root_destroy(im.root);
    im.root = nullptr;
    su_deinit();
    return;
  }
  su_task_copy(im.task, su_root_task(im.root));
  im.start_sweep();
  bound_port_ = cfg_.listen_port;
  running_ = true;
  started->set_value({});
  su_root_run(im.root);
  // Stopped: nua is gone (or never shut down cleanly); release the loop in its own thread.
  running_ = false;
  if (im.nua) {
    nua_destroy(im.nua);
    im.nua = nullptr;
  }
  if (im.sweep) {
    su_timer_destroy(im.sweep);
    im.sweep = nullptr;
  }
  su_task_deinit(im.task);
  su_root_destroy(im.root);
  im.root = nullptr;
  su_home_deinit(im.home);
  su_deinit();
}

namespace {

using Closure = std::function<void()>;

void run_closure(su_root_magic_t*, su_msg_r, su_msg_arg_t* arg) {
  auto** slot = reinterpret_cast<Closure**>(arg);
  Closure* fn = *slot;
  *slot = nullptr;
  if (fn) {
    try {
      (*fn)();
    } catch (const std::exception& e) {
      spdlog::error("sip: exception in a posted action: {}", e.what());
    }
    delete fn;
  }
}

void drop_closure(su_msg_arg_t* arg) {
  auto** slot = reinterpret_cast<Closure**>(arg);
  delete *slot;
  *slot = nullptr;
}

}  // namespace

bool SipStack::post(std::function<void()> fn) {
  if (!running_) {
    return false;
  }
  su_msg_r m = SU_MSG_R_INIT;
  if (su_msg_new(m, sizeof(Closure*)) != 0) {
    return false;
  }
  *reinterpret_cast<Closure**>(su_msg_data(m)) = new Closure(std::move(fn));
  su_msg_deinitializer(m, &drop_closure);
  return su_msg_send_to(m, impl_->task, &run_closure) == 0;
}

void SipStack::execute(SipAction action) {
  Impl* im = impl_.get();
  post([im, a = std::move(action)] { im->execute(a); });
}

void SipStack::set_auth(std::shared_ptr<InboundAuth> auth) {
  Impl* im = impl_.get();
  post([im, a = std::move(auth)]() mutable { im->owner->cfg_.auth = std::move(a); });
}

void SipStack::set_backend_credentials(std::vector<BackendCredential> creds) {
  Impl* im = impl_.get();
  post([im, c = std::move(creds)]() mutable { im->credentials = std::move(c); });
}

LegId SipStack::new_leg_id() { return next_leg_.fetch_add(1, std::memory_order_relaxed); }

std::string SipStack::new_call_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string id(32, '0');
  for (int half = 0; half < 2; ++half) {
    std::uint64_t v = rng();
    for (int i = 0; i < 16; ++i) {
      id[half * 16 + i] = hex[(v >> (i * 4)) & 0xf];
    }
  }
  return id;
}

void SipStack::stop(std::uint32_t timeout_ms) {
  if (!thread_.joinable()) {
    return;
  }
  Impl* im = impl_.get();
  // nua_shutdown ends every dialog; nua_r_shutdown then breaks the loop.
  post([im] {
    if (im->nua && !im->shut_down) {
      nua_shutdown(im->nua);
    } else {
      su_root_break(im->root);
    }
  });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (running_ && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (running_) {
    post([im] { su_root_break(im->root); });  // shutdown took too long: stop anyway
  }
  thread_.join();
}

}  // namespace b2bua::sip
