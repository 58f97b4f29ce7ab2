// Plain value types that describe a call: what arrived, where it goes, and what it looks like now.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "actors/protocol/ids.hpp"
#include "actors/protocol/refusal.hpp"

namespace b2bua {

/// One SIP header, name and value as they appeared (or are to be sent).
struct HeaderField {
  std::string name;
  std::string value;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, HeaderField& x) {
  return f(caf::meta::type_name("HeaderField"), x.name, x.value);
}

/// Which headers the B leg's INVITE carries besides those b2buad makes itself (per route).
struct HeaderPolicy {
  std::vector<std::string> copy;    ///< names (with `*` wildcards) copied from the caller's INVITE
  std::vector<std::string> remove;  ///< names (with `*` wildcards) never sent, even when copied
  std::vector<HeaderField> add;     ///< added as given
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, HeaderPolicy& x) {
  return f(caf::meta::type_name("HeaderPolicy"), x.copy, x.remove, x.add);
}

/// Everything the router and the bridge need to know about a new INVITE (A leg).
struct IncomingCall {
  LegId leg = 0;
  std::string call_id;       ///< The caller's SIP Call-ID (A side only; never sent to B).
  std::string from_uri;      ///< e.g. "sip:alice@10.0.0.1"
  std::string from_display;  ///< display name, may be empty
  std::string from_user;
  std::string to_uri;
  std::string to_display;
  std::string to_user;
  std::string request_uri;   ///< the Request-URI of the INVITE
  std::string ruri_user;
  std::string source;        ///< "ip:port" the INVITE came from
  int max_forwards = 70;     ///< as received (70 when absent)
  std::string sdp;           ///< the offer, empty when the INVITE had none
  std::int64_t received_ms = 0;  ///< wall clock, ms since the epoch
  /// Headers of the INVITE other than those the B2BUA rebuilds (Via, From, To, Call-ID, CSeq,
  /// Contact, Route, Record-Route, Max-Forwards, Content-*), in order, at most 64.
  std::vector<HeaderField> headers;
  std::string from_tag;      ///< the caller's From tag (the A dialog's remote tag)
  std::string auth_user;     ///< the digest-authenticated user; "" when auth is off or trusted
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, IncomingCall& x) {
  return f(caf::meta::type_name("IncomingCall"), x.leg, x.call_id, x.from_uri, x.from_display,
           x.from_user, x.to_uri, x.to_display, x.to_user, x.request_uri, x.ruri_user, x.source,
           x.max_forwards, x.sdp, x.received_ms, x.headers, x.from_tag, x.auth_user);
}

/// What a routing policy decided for one call.
struct RouteDecision {
  /// route: to `group` or `targets` (failover in order); reject: `status`; redirect: 302 with
  /// `contact`; queue: like route, but when the backends are full the call waits (182 Queued).
  enum class Kind : std::uint8_t { route, reject, redirect, queue };
  Kind kind = Kind::reject;
  std::string target;      ///< with route: the URI to send the B leg to (first of `targets`)
  std::string route_name;  ///< the rule that matched, for logs and the REST API
  int status = row_of(Refusal::route_no_match).status;  ///< with reject (and redirect: 302
                                                        ///< unless set to another 3xx)
  std::string reason = row_of(Refusal::route_no_match).reason;
  std::string warning = warning_id(Refusal::route_no_match);
  std::string media;       ///< with route: "relay", "bypass", or "" for the configured default
  std::vector<std::string> targets;  ///< with route/queue: tried in order (failover)
  std::string group;       ///< with route/queue: a backend group (instead of targets)
  std::string contact;     ///< with redirect: the Contact URI
  int queue_priority = 0;  ///< with queue: higher is served first
  std::uint32_t queue_timeout_ms = 30000;  ///< with queue: then 503
  HeaderPolicy headers;    ///< headers for the B leg

  static RouteDecision route_to(std::string target, std::string name = {}) {
    RouteDecision d;
    d.kind = Kind::route;
    d.target = std::move(target);
    d.route_name = std::move(name);
    d.status = 0;
    d.reason.clear();
    d.warning.clear();
    return d;
  }
  static RouteDecision route_to_group(std::string group, std::string name = {}) {
    RouteDecision d = route_to({}, std::move(name));
    d.group = std::move(group);
    return d;
  }
  static RouteDecision redirect(std::string contact, std::string name = {}) {
    RouteDecision d;
    d.kind = Kind::redirect;
    d.contact = std::move(contact);
    d.route_name = std::move(name);
    d.status = 302;
    d.reason = "Moved Temporarily";
    d.warning.clear();
    return d;
  }
  static RouteDecision reject(int status, std::string reason, std::string warning) {
    RouteDecision d;
    d.status = status;
    d.reason = std::move(reason);
    d.warning = std::move(warning);
    return d;
  }
  /// A reject with one of b2buad's own refusals (the context: a configured status and reason).
  static RouteDecision reject(Refusal r, const RefusalContext& ctx = {}) {
    const SipRefusal s = sip_refusal(r, ctx);
    return reject(s.status, std::string(s.reason), s.warning);
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, RouteDecision& x) {
  return f(caf::meta::type_name("RouteDecision"), x.kind, x.target, x.route_name, x.status,
           x.reason, x.warning, x.media, x.targets, x.group, x.contact, x.queue_priority,
           x.queue_timeout_ms, x.headers);
}

/// How the B leg's INVITE is built: decided by the router and the bridge, executed by the SIP layer.
struct OutboundInvite {
  std::string request_uri;   ///< final R-URI (user part already applied)
  std::string to_uri;        ///< To header URI
  std::string to_display;
  std::string from_user;     ///< user part kept from the caller; host is b2buad's own
  std::string from_display;
  std::string call_id;       ///< fresh Call-ID for the B leg
  int max_forwards = 70;     ///< already decremented
  std::string sdp;           ///< offer to send (empty: none)
  std::vector<HeaderField> headers;  ///< extra headers (the route's header policy applied)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, OutboundInvite& x) {
  return f(caf::meta::type_name("OutboundInvite"), x.request_uri, x.to_uri, x.to_display,
           x.from_user, x.from_display, x.call_id, x.max_forwards, x.sdp, x.headers);
}

/// A snapshot of one leg, for the call table.
struct LegInfo {
  LegId id = 0;
  std::string role;       ///< "a" or "b"
  std::string state;      ///< "incoming", "calling", "ringing", "early", "answered", "confirmed", "ended"
  std::string call_id;    ///< this leg's SIP Call-ID
  std::string remote;     ///< A: source address; B: the target URI
  int last_status = 0;    ///< the last SIP status seen or sent on this leg
  std::int64_t created_ms = 0;
  std::int64_t answered_ms = 0;
  std::int64_t ended_ms = 0;
  // Media, when the call's RTP is relayed (media_local empty otherwise).
  std::string media_local;     ///< b2buad's "ip:port" facing this leg's peer
  std::string media_remote;    ///< the peer's "ip:port" from its SDP
  std::uint64_t media_packets = 0;  ///< RTP and RTCP packets received from this leg's peer
  std::uint64_t media_bytes = 0;
  std::uint64_t media_lost = 0;
  std::uint32_t media_jitter_us = 0;
  std::string local_tag;       ///< this dialog's tag on b2buad's side ("" until known)
  std::string remote_tag;      ///< the peer's tag ("" until known)
  std::int64_t ringing_ms = 0; ///< first 18x received (B) or relayed (A); 0 when none
  std::string dtmf;            ///< digits this leg's peer sent (SIP INFO or RFC 4733; last 64)
  bool on_hold = false;        ///< this leg's peer has put the call on hold
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, LegInfo& x) {
  return f(caf::meta::type_name("LegInfo"), x.id, x.role, x.state, x.call_id, x.remote,
           x.last_status, x.created_ms, x.answered_ms, x.ended_ms, x.media_local, x.media_remote,
           x.media_packets, x.media_bytes, x.media_lost, x.media_jitter_us, x.local_tag,
           x.remote_tag, x.ringing_ms, x.dtmf, x.on_hold);
}

/// A snapshot of one call, as the bridge publishes it to the call registry.
struct CallInfo {
  CallId id = 0;
  std::string from;
  std::string to;
  std::string target;
  std::string route;
  std::string state;      ///< "routing", "calling", "ringing", "early", "answered", "on_hold", "ending", "ended"
  std::int64_t start_ms = 0;
  std::int64_t answer_ms = 0;
  std::int64_t end_ms = 0;
  int final_status = 0;   ///< the final status the caller got (0 while none)
  std::string end_reason; ///< e.g. "caller_bye", "callee_bye", "cancelled", "failed", "no_answer"
  std::string media_mode; ///< "relay" or "bypass"
  std::vector<LegInfo> legs;  ///< [0] the A leg, [1] the current B leg
  std::string backend;    ///< the backend the current B leg went to ("" before any)
  std::uint32_t attempts = 0;  ///< B legs tried (failover makes more than one)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, CallInfo& x) {
  return f(caf::meta::type_name("CallInfo"), x.id, x.from, x.to, x.target, x.route, x.state,
           x.start_ms, x.answer_ms, x.end_ms, x.final_status, x.end_reason, x.media_mode, x.legs,
           x.backend, x.attempts);
}

}  // namespace b2bua
