// DTMF carried in SIP INFO bodies: application/dtmf-relay ("Signal=5\r\nDuration=160") and
// application/dtmf ("5"). Pure functions over untrusted text; never throw.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace b2bua {

struct DtmfDigit {
  std::string digit;          ///< one of 0-9 * # A-D (upper case)
  std::uint32_t duration = 0; ///< milliseconds, 0 when the body gave none
};

/// The digit an INFO body carries, or nullopt when the type is not a DTMF one or the body is not
/// a valid digit. `content_type` may carry parameters; case does not matter.
std::optional<DtmfDigit> parse_dtmf_info(const std::string& content_type, const std::string& body);

}  // namespace b2bua
