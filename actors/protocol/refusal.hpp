// Refusal: every error response b2buad itself generates, in one table (SIP status, reason phrase,
// Warning id, Retry-After policy), one mapping to the SIP response fields, and its CAF error
// category. Header only, so every folder (sip/, rtp/, api/) may use it without linking actors/.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/fwd.hpp>

namespace b2bua {

/// Why b2buad refused a request or failed a call (README, "Errors b2buad generates"). The values
/// are caf::error codes of `refusal_category` (0 is "no error" in CAF, so they start at 1).
enum class Refusal : std::uint8_t {
  // Before a call exists (the SIP thread's admission).
  sip_bad_request = 1,
  sip_bad_request_uri,
  sip_missing_contact,
  sip_bad_contact,
  sip_bad_record_route,
  sip_too_many_hops,
  sip_loop,
  sip_unknown_method,
  offer_unsupported_body,
  sdp_not_acceptable,
  draining,
  limits_max_calls,
  starting,
  auth_challenge,
  auth_proxy_challenge,
  auth_stale,
  auth_proxy_stale,
  auth_malformed,
  auth_failed,
  auth_replay,
  auth_rate_limited,
  // Routing.
  route_no_match,
  route_rejected,
  route_bad_rule,
  route_unknown_group,
  route_error,
  route_timeout,
  queue_full,
  queue_timeout,
  // Backends and the B leg.
  backend_all_down,
  backend_all_failed,
  target_timeout,
  target_unreachable,
  target_auth_failed,
  target_bad_contact,
  target_invalid,
  target_gone,
  // The call.
  call_no_answer,
  call_hangup,
  call_hangup_operator,
  call_ended,
  call_setup_deadline,
  call_no_prack,
  internal,
  // Media.
  sdp_unparseable,
  sdp_unsupported_address,
  sdp_address_family,
  media_ports_exhausted,
  media_error,
  // Mid-call.
  offer_glare,
  offer_pending,
  offer_overlap,
  offer_leg_busy,
  offer_no_call,
  offer_early_pending,
  offer_early_unreliable,
  request_too_many_pending,
  info_no_call,
  info_no_dialog,
  dialog_ended,
};

/// Where a refusal's status and reason phrase come from.
enum class StatusFrom : std::uint8_t {
  table,    ///< always the table's
  context,  ///< the context's when it names one (a configured reject, a relayed backend error,
            ///< the status sofia-sip made for a target it could not reach), else the table's
};

/// Where a refusal's Retry-After value comes from.
enum class RetryAfter : std::uint8_t {
  none,        ///< never one
  configured,  ///< `limits.retry_after_s` (the context's value; 0: none)
  random,      ///< 1-10 s picked per response (RFC 3261 14.2, RFC 3311 5.2; the context picks)
  relayed,     ///< the far side's own when its error is passed on (a backend's error, its
               ///< unanswered challenge, the response that ended its dialog); for
               ///< backend.all_failed without one, `limits.retry_after_s`
};

/// One row of the refusal table.
struct RefusalRow {
  Refusal refusal;
  int status;
  const char* reason;
  const char* warning;  ///< the stable id in `Warning: 399 <host> "<id>"`, logs and call records
  RetryAfter retry_after;
  StatusFrom status_from = StatusFrom::table;
};

/// The refusal table, in the enum's order (checked below at compile time).
inline constexpr std::array refusal_table{
    // clang-format off
    RefusalRow{Refusal::sip_bad_request, 400, "Bad Request", "b2bua.sip.bad_request", RetryAfter::none},
    RefusalRow{Refusal::sip_bad_request_uri, 400, "Bad Request-URI", "b2bua.sip.bad_request_uri", RetryAfter::none},
    RefusalRow{Refusal::sip_missing_contact, 400, "Missing Contact", "b2bua.sip.bad_contact", RetryAfter::none},
    RefusalRow{Refusal::sip_bad_contact, 400, "Bad Contact", "b2bua.sip.bad_contact", RetryAfter::none},
    RefusalRow{Refusal::sip_bad_record_route, 400, "Bad Contact", "b2bua.sip.bad_record_route", RetryAfter::none},
    RefusalRow{Refusal::sip_too_many_hops, 483, "Too Many Hops", "b2bua.sip.too_many_hops", RetryAfter::none},
    RefusalRow{Refusal::sip_loop, 482, "Loop Detected", "b2bua.sip.loop", RetryAfter::none},
    RefusalRow{Refusal::sip_unknown_method, 501, "Not Implemented", "b2bua.sip.unknown_method", RetryAfter::none},
    RefusalRow{Refusal::offer_unsupported_body, 415, "Unsupported Media Type", "b2bua.offer.unsupported_body", RetryAfter::none},
    RefusalRow{Refusal::sdp_not_acceptable, 406, "Not Acceptable", "b2bua.sdp.not_acceptable", RetryAfter::none},
    RefusalRow{Refusal::draining, 503, "Service Unavailable", "b2bua.draining", RetryAfter::configured},
    RefusalRow{Refusal::limits_max_calls, 503, "Service Unavailable", "b2bua.limits.max_calls", RetryAfter::configured},
    RefusalRow{Refusal::starting, 503, "Service Unavailable", "b2bua.starting", RetryAfter::none},
    RefusalRow{Refusal::auth_challenge, 401, "Unauthorized", "b2bua.auth.challenge", RetryAfter::none},
    RefusalRow{Refusal::auth_proxy_challenge, 407, "Proxy Authentication Required", "b2bua.auth.challenge", RetryAfter::none},
    RefusalRow{Refusal::auth_stale, 401, "Unauthorized", "b2bua.auth.stale", RetryAfter::none},
    RefusalRow{Refusal::auth_proxy_stale, 407, "Proxy Authentication Required", "b2bua.auth.stale", RetryAfter::none},
    RefusalRow{Refusal::auth_malformed, 400, "Bad Request", "b2bua.auth.malformed", RetryAfter::none},
    RefusalRow{Refusal::auth_failed, 403, "Forbidden", "b2bua.auth.failed", RetryAfter::none},
    RefusalRow{Refusal::auth_replay, 403, "Forbidden", "b2bua.auth.replay", RetryAfter::none},
    RefusalRow{Refusal::auth_rate_limited, 403, "Forbidden", "b2bua.auth.rate_limited", RetryAfter::none},
    RefusalRow{Refusal::route_no_match, 404, "Not Found", "b2bua.route.no_match", RetryAfter::none},
    RefusalRow{Refusal::route_rejected, 403, "Forbidden", "b2bua.route.rejected", RetryAfter::none, StatusFrom::context},
    RefusalRow{Refusal::route_bad_rule, 500, "Server Internal Error", "b2bua.route.bad_rule", RetryAfter::none},
    RefusalRow{Refusal::route_unknown_group, 500, "Server Internal Error", "b2bua.route.unknown_group", RetryAfter::none},
    RefusalRow{Refusal::route_error, 500, "Server Internal Error", "b2bua.route.error", RetryAfter::none},
    RefusalRow{Refusal::route_timeout, 500, "Server Internal Error", "b2bua.route.timeout", RetryAfter::none},
    RefusalRow{Refusal::queue_full, 503, "Service Unavailable", "b2bua.queue.full", RetryAfter::configured},
    RefusalRow{Refusal::queue_timeout, 503, "Service Unavailable", "b2bua.queue.timeout", RetryAfter::configured},
    RefusalRow{Refusal::backend_all_down, 503, "Service Unavailable", "b2bua.backend.all_down", RetryAfter::configured},
    RefusalRow{Refusal::backend_all_failed, 503, "Service Unavailable", "b2bua.backend.all_failed", RetryAfter::relayed, StatusFrom::context},
    RefusalRow{Refusal::target_timeout, 408, "Request Timeout", "b2bua.target.timeout", RetryAfter::none, StatusFrom::context},
    RefusalRow{Refusal::target_unreachable, 503, "Service Unavailable", "b2bua.target.unreachable", RetryAfter::none, StatusFrom::context},
    RefusalRow{Refusal::target_auth_failed, 403, "Forbidden", "b2bua.target.auth_failed", RetryAfter::relayed},
    RefusalRow{Refusal::target_bad_contact, 502, "Bad Gateway", "b2bua.target.bad_contact", RetryAfter::none},
    RefusalRow{Refusal::target_invalid, 500, "Server Internal Error", "b2bua.target.invalid", RetryAfter::none},
    RefusalRow{Refusal::target_gone, 503, "Service Unavailable", "b2bua.target.gone", RetryAfter::none},
    RefusalRow{Refusal::call_no_answer, 480, "Temporarily Unavailable", "b2bua.call.no_answer", RetryAfter::none},
    RefusalRow{Refusal::call_hangup, 503, "Service Unavailable", "b2bua.call.hangup", RetryAfter::none},
    RefusalRow{Refusal::call_hangup_operator, 480, "Temporarily Unavailable", "b2bua.call.hangup", RetryAfter::none},
    RefusalRow{Refusal::call_ended, 503, "Service Unavailable", "b2bua.call.ended", RetryAfter::none, StatusFrom::context},
    RefusalRow{Refusal::call_setup_deadline, 500, "Server Internal Error", "b2bua.call.setup_deadline", RetryAfter::none},
    RefusalRow{Refusal::call_no_prack, 504, "Server Time-out", "b2bua.call.no_prack", RetryAfter::none},
    RefusalRow{Refusal::internal, 500, "Server Internal Error", "b2bua.internal", RetryAfter::none},
    RefusalRow{Refusal::sdp_unparseable, 488, "Not Acceptable Here", "b2bua.sdp.unparseable", RetryAfter::none},
    RefusalRow{Refusal::sdp_unsupported_address, 488, "Not Acceptable Here", "b2bua.sdp.unsupported_address", RetryAfter::none},
    RefusalRow{Refusal::sdp_address_family, 488, "Not Acceptable Here", "b2bua.sdp.address_family", RetryAfter::none},
    RefusalRow{Refusal::media_ports_exhausted, 503, "Service Unavailable", "b2bua.media.ports_exhausted", RetryAfter::configured},
    RefusalRow{Refusal::media_error, 500, "Server Internal Error", "b2bua.media.error", RetryAfter::none},
    RefusalRow{Refusal::offer_glare, 491, "Request Pending", "b2bua.offer.glare", RetryAfter::none},
    RefusalRow{Refusal::offer_pending, 500, "Server Internal Error", "b2bua.offer.pending", RetryAfter::random},
    RefusalRow{Refusal::offer_overlap, 500, "Server Internal Error", "b2bua.offer.overlap", RetryAfter::none},
    RefusalRow{Refusal::offer_leg_busy, 491, "Request Pending", "b2bua.offer.leg_busy", RetryAfter::none},
    RefusalRow{Refusal::offer_no_call, 488, "Not Acceptable Here", "b2bua.offer.no_call", RetryAfter::none},
    RefusalRow{Refusal::offer_early_pending, 500, "Server Internal Error", "b2bua.offer.early_pending", RetryAfter::random},
    RefusalRow{Refusal::offer_early_unreliable, 488, "Not Acceptable Here", "b2bua.offer.early_unreliable", RetryAfter::none},
    RefusalRow{Refusal::request_too_many_pending, 500, "Server Internal Error", "b2bua.request.too_many_pending", RetryAfter::random},
    RefusalRow{Refusal::info_no_call, 488, "Not Acceptable Here", "b2bua.info.no_call", RetryAfter::none},
    RefusalRow{Refusal::info_no_dialog, 481, "Call/Transaction Does Not Exist", "b2bua.info.no_call", RetryAfter::none},
    RefusalRow{Refusal::dialog_ended, 500, "Server Internal Error", "b2bua.dialog.ended", RetryAfter::relayed},
    // clang-format on
};

namespace detail {
constexpr bool refusal_table_in_order() {
  for (std::size_t i = 0; i < refusal_table.size(); ++i) {
    if (static_cast<std::size_t>(refusal_table[i].refusal) != i + 1) {
      return false;
    }
  }
  return true;
}
}  // namespace detail

static_assert(detail::refusal_table_in_order(), "refusal_table: one row per Refusal, in order");
static_assert(refusal_table.size() == static_cast<std::size_t>(Refusal::dialog_ended),
              "refusal_table: a Refusal without a row");

/// The row of `r`. Any thread.
constexpr const RefusalRow& row_of(Refusal r) {
  return refusal_table[static_cast<std::size_t>(r) - 1];
}

/// The Warning id of `r`, e.g. "b2bua.route.no_match". Any thread.
constexpr const char* warning_id(Refusal r) { return row_of(r).warning; }

/// What the place that refuses knows besides the refusal itself.
struct RefusalContext {
  /// Retry-After seconds for a row whose policy is not `none` (0: none).
  std::uint32_t retry_after = 0;
  /// For a row with StatusFrom::context: the status to send instead of the table's (300-699;
  /// anything else keeps the table's), with its reason phrase ("": the status's standard one).
  int status = 0;
  std::string_view reason = {};
};

/// The fields of the SIP response b2buad sends for a refusal.
struct SipRefusal {
  int status = 0;
  std::string_view reason;
  const char* warning = "";
  std::uint32_t retry_after = 0;  ///< 0: no Retry-After header
};

/// The one mapping from a refusal (and its context) to the response's fields. Any thread.
constexpr SipRefusal sip_refusal(Refusal r, const RefusalContext& ctx = {}) {
  const RefusalRow& row = row_of(r);
  SipRefusal out{row.status, row.reason, row.warning, 0};
  if (row.status_from == StatusFrom::context && ctx.status >= 300 && ctx.status < 700) {
    out.status = ctx.status;
    out.reason = ctx.reason;
  }
  if (row.retry_after != RetryAfter::none) {
    out.retry_after = ctx.retry_after;
  }
  return out;
}

/// Fills the status, reason, warning and retry_after of a SipAction or a LegEvent.
template <class Message>
Message& apply_refusal(Message& m, Refusal r, const RefusalContext& ctx = {}) {
  const SipRefusal s = sip_refusal(r, ctx);
  m.status = s.status;
  m.reason = s.reason;
  m.warning = s.warning;
  m.retry_after = s.retry_after;
  return m;
}

// -- CAF 0.17: Refusal as an error category --------------------------------------------------------

/// The category of Refusal values inside caf::error.
constexpr caf::atom_value refusal_category = caf::atom("refusal");

/// Text of a refusal: its Warning id.
inline std::string to_string(Refusal r) { return warning_id(r); }

/// CAF's error renderer for the category: `cfg.add_error_category(refusal_category,
/// render_refusal)` (CAF 0.17.6's add_error_category<T> does not compile: its lambda lacks the
/// atom_value parameter that error_renderer takes).
inline std::string render_refusal(std::uint8_t code, caf::atom_value, const caf::message&) {
  if (code == 0 || code > static_cast<std::uint8_t>(Refusal::dialog_ended)) {
    return "refusal: unknown code " + std::to_string(code);
  }
  return "refusal: " + to_string(static_cast<Refusal>(code));
}

/// A Refusal as a caf::error (found by CAF through ADL: `caf::error e = Refusal::draining;`).
inline caf::error make_error(Refusal r) {
  return caf::error(static_cast<std::uint8_t>(r), refusal_category);
}

/// The Refusal a caf::error carries, if it is one of ours.
inline std::optional<Refusal> refusal_of(const caf::error& e) {
  // CAF 0.17: an empty error has no category to read (category() dereferences its data).
  if (!e || e.category() != refusal_category || e.code() == 0 ||
      e.code() > static_cast<std::uint8_t>(Refusal::dialog_ended)) {
    return std::nullopt;
  }
  return static_cast<Refusal>(e.code());
}

}  // namespace b2bua
