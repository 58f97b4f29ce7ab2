// What an INVITE must be for b2buad to take it on, beyond what sofia-sip checks: pure rules on
// the parsed request (no NUA), each refusal with its status and Warning id.
#pragma once

#include <optional>
#include <string_view>

#include <sofia-sip/sip.h>

namespace b2bua::sip {

/// A refusal of a request, as the caller gets it.
struct InviteRefusal {
  int status = 0;
  const char* phrase = "";
  std::string_view warning;
  bool accept_sdp = false;  ///< add `Accept: application/sdp` (415, 406)
};

/// Checks, in this order: a Request-URI with a headers component (RFC 3261 19.1.1: not allowed
/// there; sofia would turn them into real headers of the callee's INVITE) -> 400; a body that
/// is not application/sdp (RFC 3261 21.4.13) -> 415; an Accept header that allows no SDP
/// (RFC 3261 21.4.7) -> 406. Nothing: the INVITE may go on.
std::optional<InviteRefusal> check_invite(const sip_t* sip);

}  // namespace b2bua::sip
