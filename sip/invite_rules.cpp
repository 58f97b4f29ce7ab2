// Rules for a caller's INVITE (see invite_rules.hpp).
#include "sip/invite_rules.hpp"

#include <strings.h>

namespace b2bua::sip {

namespace {

bool is(const char* a, const char* b) { return a && strcasecmp(a, b) == 0; }

// An Accept header that lists media types, none of which SDP fits.
bool refuses_sdp(const sip_accept_t* accept) {
  bool listed = false;
  for (const sip_accept_t* a = accept; a; a = a->ac_next) {
    if (!a->ac_type || !*a->ac_type) {
      continue;  // an empty Accept value: taken as saying nothing
    }
    listed = true;
    if (is(a->ac_type, "application/sdp") || is(a->ac_type, "application/*") ||
        is(a->ac_type, "*/*")) {
      return false;
    }
  }
  return listed;
}

}  // namespace

std::optional<Refusal> check_invite(const sip_t* sip) {
  if (!sip || !sip->sip_request) {
    return std::nullopt;
  }
  const url_t* ruri = sip->sip_request->rq_url;
  if (ruri && ruri->url_headers && *ruri->url_headers) {
    return table_refusal(b2bua::Refusal::sip_bad_request_uri);
  }
  const bool has_body = sip->sip_payload && sip->sip_payload->pl_len > 0;
  if (has_body && sip->sip_content_type && sip->sip_content_type->c_type &&
      !is(sip->sip_content_type->c_type, "application/sdp")) {
    return table_refusal(b2bua::Refusal::offer_unsupported_body, /*accept_sdp=*/true);
  }
  if (refuses_sdp(sip->sip_accept)) {
    return table_refusal(b2bua::Refusal::sdp_not_acceptable, /*accept_sdp=*/true);
  }
  return std::nullopt;
}

}  // namespace b2bua::sip
