// LegEvent: the one message that legs and bridges exchange, in both directions.
//
// From the SIP side to a leg actor, a LegEvent says what happened on that leg's dialog.
// From the bridge to a leg actor, the same kinds say what the leg must make happen on its side:
// `ringing` to an A leg means "send 180", `failed` means "send this final error", `bye` means "hang up".
#pragma once

#include <cstdint>
#include <string>

#include <caf/meta/type_name.hpp>

#include "actors/protocol/ids.hpp"

namespace b2bua {

enum class LegEventKind : std::uint8_t {
  incoming,     ///< A new INVITE arrived on this (A) leg.
  trying,       ///< 100 Trying (B leg) - informational only.
  ringing,      ///< 180 (or another 18x without SDP).
  early_media,  ///< 183 (or any 18x) carrying SDP.
  answered,     ///< 200 OK to the INVITE, with the answer SDP.
  confirmed,    ///< The ACK for the 2xx arrived / was sent: the dialog is up.
  failed,       ///< A final non-2xx response to the INVITE.
  cancelled,    ///< The caller cancelled before the answer (A), or please CANCEL (to B).
  bye,          ///< The dialog was ended with BYE by the far side (or please send BYE).
  terminated,   ///< The SIP layer released the leg: nothing more will come for it.
  // Mid-call (an established dialog). `txn` names the in-dialog request a response belongs to.
  reoffer,      ///< SIP: a re-INVITE or UPDATE (`method`) arrived, `sdp` its offer ("" = none).
                ///< Bridge: send a re-INVITE/UPDATE with this offer.
  reanswer,     ///< SIP: the final response to our re-INVITE/UPDATE (`status`, answer in `sdp`),
                ///< or (`method` "ACK") the ACK carrying the answer to an offer we put in a 200.
                ///< Bridge: respond to request `txn` (or, `method` "ACK", send ACK with `sdp`).
  info,         ///< SIP: an INFO arrived (`status` 0) or our INFO got its final response.
                ///< Bridge: send INFO (`status` 0), or respond to INFO `txn` with `status`.
  dtmf,         ///< A digit (`digit`, `duration` ms) a leg's peer sent by INFO or as RFC 4733
                ///< events (published only).
  hold,         ///< The leg's peer put the call on hold (published only).
  resume,       ///< The leg's peer took the call off hold (published only).
};

/// Text name of a kind, for logs and the REST API.
const char* to_string(LegEventKind kind);

struct LegEvent {
  LegId leg = 0;
  LegEventKind kind = LegEventKind::terminated;
  int status = 0;           ///< SIP status when there is one (18x, 200, 4xx...).
  std::string reason;       ///< SIP reason phrase.
  std::string sdp;          ///< The body when it is application/sdp, else empty.
  std::string warning;      ///< Stable id when b2buad itself produced the failure, else empty.
  std::uint32_t retry_after = 0;  ///< Retry-After seconds to put on a failure, 0 for none.
  std::string local_tag;    ///< From the SIP side: this leg's dialog tag on b2buad's side, if known.
  std::string remote_tag;   ///< From the SIP side: the peer's dialog tag, if known.
  std::string method;       ///< reoffer/reanswer: "INVITE", "UPDATE" (or "ACK"), else empty.
  std::uint64_t txn = 0;    ///< reoffer/reanswer/info: the in-dialog request this is about.
  std::string content_type; ///< info: the body's type (e.g. application/dtmf-relay).
  std::string body;         ///< info: the body.
  std::string digit;        ///< dtmf: 0-9, *, #, A-D.
  std::uint32_t duration = 0;  ///< dtmf: milliseconds (0 when the sender gave none).
  /// ringing/early_media from SIP: the 18x was reliable (RSeq, RFC 3262). To an A leg: send it
  /// reliably if the caller supports 100rel.
  bool reliable = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, LegEvent& x) {
  return f(caf::meta::type_name("LegEvent"), x.leg, x.kind, x.status, x.reason, x.sdp, x.warning,
           x.retry_after, x.local_tag, x.remote_tag, x.method, x.txn, x.content_type, x.body,
           x.digit, x.duration, x.reliable);
}

/// A published leg event (dtmf, hold, resume) of one call, as the call registry hands it to
/// subscribers. `role`: "a" when the caller did it (its digit, its hold), "b" for the callee.
struct CallEvent {
  CallId call = 0;
  std::string role;
  LegEvent event;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, CallEvent& x) {
  return f(caf::meta::type_name("CallEvent"), x.call, x.role, x.event);
}

inline LegEvent make_event(LegId leg, LegEventKind kind, int status = 0, std::string reason = {}) {
  LegEvent ev;
  ev.leg = leg;
  ev.kind = kind;
  ev.status = status;
  ev.reason = std::move(reason);
  return ev;
}

}  // namespace b2bua
