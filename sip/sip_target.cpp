// SipStack in the sofia thread: where a leg's requests go. A peer's Contact or Record-Route that
// sofia-sip could not send to (`*`, tel:, garbage) never becomes a dialog's target, and a target
// that would need a DNS lookup is replaced by the address the peer's packets come from. Also the
// answer to requests with a method nobody knows.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <string>

#include <spdlog/spdlog.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su.h>

#include "sip/sip_stack_impl.hpp"

namespace b2bua::sip {

namespace {

// The source address of the request NUA is handing us now, as "sip:ip:port;transport=x".
std::string current_source(nua_t* nua) {
  msg_t* msg = nua_current_request(nua);
  su_addrinfo_t* ai = msg ? msg_addrinfo(msg) : nullptr;
  if (!ai || !ai->ai_addr) {
    return {};
  }
  char ip[INET6_ADDRSTRLEN] = {};
  unsigned port = 0;
  if (ai->ai_addr->sa_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(ai->ai_addr);
    inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip);
    port = ntohs(sin->sin_port);
  } else if (ai->ai_addr->sa_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(ai->ai_addr);
    inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof ip);
    port = ntohs(sin6->sin6_port);
  } else {
    return {};
  }
  return port ? source_uri(ip, port, ai->ai_protocol == IPPROTO_TCP) : std::string();
}

}  // namespace

// From now on NUA sends this A leg's requests (BYE, re-INVITE, UPDATE, session refreshes) to the
// caller's source address, as to an outbound proxy; the Request-URI and Route stay the dialog's.
// Called inside NUA's callback for one of the caller's requests.
void SipStack::Impl::send_to_source(LegRec* rec) {
  if (!rec->is_a || rec->via_source) {
    return;  // B legs always go to the route target's address (send_invite)
  }
  std::string uri = current_source(nua);
  if (uri.empty()) {
    return;
  }
  rec->via_source = true;
  spdlog::debug("sip: leg={} requests go to the caller's source {}", rec->id, uri);
  nua_set_hparams(rec->nh, NUTAG_PROXY(URL_STRING_MAKE(uri.c_str())), TAG_END());
}

// A request inside a dialog may carry a Contact, which NUA takes as the dialog's new target even
// before we answer (re-INVITE, UPDATE, extension methods). One it could not send to, or one that
// needs DNS, sends the leg's requests to the peer's source instead; with `refuse` the request is
// answered 400 with Warning. True: refused.
bool SipStack::Impl::check_target_refresh(nua_handle_t* nh, LegRec* rec, const sip_t* sip,
                                          bool refuse) {
  if (!sip || !sip->sip_contact) {
    return false;
  }
  const TargetCheck check = check_dialog_target(sip->sip_contact, nullptr, /*uac=*/false,
                                                /*contact_required=*/false);
  if (check.ok() && !check.needs_lookup) {
    return false;
  }
  send_to_source(rec);
  if (check.ok() || !refuse) {
    return false;
  }
  spdlog::info("sip: leg={} refused a request whose Contact cannot be a target ({})", rec->id,
               check.warning());
  refuse_request(nh, table_refusal(check.refusal.value_or(b2bua::Refusal::sip_bad_contact)));
  return true;
}

// A 2xx from the callee whose Contact or Record-Route cannot be a target: NUA has ACKed it (to the
// route target's address, see send_invite); the leg fails with 502 and is ended with BYE, so the
// bridge tries the next target or answers the caller.
void SipStack::Impl::on_bad_answer_target(LegRec* rec, const TargetCheck& check) {
  spdlog::info("sip: leg={} callee answered with an unusable target ({})", rec->id,
               check.warning());
  rec->final_received = true;
  rec->answered = true;  // the dialog exists in NUA until our BYE ends it
  LegEvent ev = make_event(rec->id, LegEventKind::failed);
  emit(std::move(apply_refusal(ev, b2bua::Refusal::target_bad_contact)));
  rec->bye_sent = true;
  nua_bye(rec->nh, SIPTAG_REASON_STR("SIP;cause=502;text=\"Bad Contact\""), TAG_END());
}

// RFC 3261 8.2.1 / 21.5.2: a method b2buad does not know gets 501 with Allow, in a dialog or not.
void SipStack::Impl::on_unknown_method(nua_handle_t* nh, LegRec* rec, const sip_t* sip) {
  if (rec) {
    check_target_refresh(nh, rec, sip, /*refuse=*/false);
  }
  if (nh) {
    const Refusal r = table_refusal(b2bua::Refusal::sip_unknown_method);
    nua_respond(nh, r.status, r.phrase, NUTAG_WITH_THIS(nua),
                SIPTAG_ALLOW_STR("INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE, PRACK"),
                SIPTAG_WARNING_STR(warning(std::string(r.warning)).c_str()), TAG_END());
  }
  if (!rec && nh) {
    nua_handle_destroy(nh);  // a handle NUA made for this request alone
  }
}

}  // namespace b2bua::sip
