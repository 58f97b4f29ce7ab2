// A refusal by b2buad's SIP rules, as the peer (or the bridge) gets it: the value the pure rules
// of sip/ return and the adapter sends. Each is one row of the refusal table
// (actors/protocol/refusal.hpp, `table_refusal`), seen as the response's fields, plus the
// `Accept: application/sdp` only the SIP rules know about.
#pragma once

#include <string_view>

#include "actors/protocol/refusal.hpp"

namespace b2bua::sip {

struct Refusal {
  int status = 0;
  const char* phrase = "";
  std::string_view warning;  ///< the Warning id (b2bua.*)
  bool retry_after = false;  ///< add Retry-After (the adapter picks the value, per the table's
                             ///< policy: limits.retry_after_s, or 1-10 s at random)
  bool accept_sdp = false;   ///< add `Accept: application/sdp` (415, 406)
};

/// Row `r` of the refusal table as the SIP rules return it. Any thread.
constexpr Refusal table_refusal(b2bua::Refusal r, bool accept_sdp = false) {
  const RefusalRow& row = row_of(r);
  return Refusal{row.status, row.reason, row.warning, row.retry_after != RetryAfter::none,
                 accept_sdp};
}

}  // namespace b2bua::sip
