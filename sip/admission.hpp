// Admission: whether a caller's new INVITE may become a call, before and after authentication.
// Pure rules on the parsed request and b2buad's state (no NUA); sip_stack.cpp sends the refusal
// and counts it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>

#include <sofia-sip/sip.h>

#include "sip/dialog_target.hpp"
#include "sip/refusal.hpp"

namespace b2bua::sip {

/// The verdict before authentication, and what the next steps need of the request.
struct Admission {
  std::optional<Refusal> refusal;
  int max_forwards = 70;  ///< the INVITE's Max-Forwards (70 when it has none)
  TargetCheck target;     ///< its Contact and Record-Route (needs_lookup: send to its source)
};

/// Checks, in this order: From, To, Call-ID and the request line present (400
/// b2bua.sip.bad_request); `draining` (503 + Retry-After, b2bua.draining); Max-Forwards 0 (483
/// b2bua.sip.too_many_hops); a Call-ID of one of b2buad's own B legs, `our_call_ids` (482
/// b2bua.sip.loop: the INVITE came back through some proxy); check_invite's rules
/// (invite_rules.hpp: 400, 415, 406); a Contact or Record-Route no request could be sent to (400
/// Missing Contact / Bad Contact, dialog_target.hpp).
Admission admit_invite(const sip_t* sip, bool draining,
                       const std::unordered_set<std::string>& our_call_ids);

/// After authentication: `active` calls at `max_calls` or more -> 503 + Retry-After,
/// b2bua.limits.max_calls.
std::optional<Refusal> admit_capacity(std::uint64_t active, std::uint64_t max_calls);

}  // namespace b2bua::sip
