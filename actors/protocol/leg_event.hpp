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
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, LegEvent& x) {
  return f(caf::meta::type_name("LegEvent"), x.leg, x.kind, x.status, x.reason, x.sdp, x.warning,
           x.retry_after, x.local_tag, x.remote_tag);
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
