// What an INVITE must be for b2buad to take it on, beyond what sofia-sip checks: pure rules on
// the parsed request (no NUA), each refusal with its status and Warning id.
#pragma once

#include <optional>

#include <sofia-sip/sip.h>

#include "sip/refusal.hpp"

namespace b2bua::sip {

/// Checks, in this order: a Request-URI with a headers component (RFC 3261 19.1.1: not allowed
/// there; sofia would turn them into real headers of the callee's INVITE) -> 400; a body that
/// is not application/sdp (RFC 3261 21.4.13) -> 415; an Accept header that allows no SDP
/// (RFC 3261 21.4.7) -> 406. Nothing: the INVITE may go on.
std::optional<Refusal> check_invite(const sip_t* sip);

}  // namespace b2bua::sip
