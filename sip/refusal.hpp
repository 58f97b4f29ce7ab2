// A refusal of a request by b2buad's SIP rules, as the peer (or the bridge) gets it: the value
// the pure rules of sip/ return and the adapter sends.
#pragma once

#include <string_view>

namespace b2bua::sip {

struct Refusal {
  int status = 0;
  const char* phrase = "";
  std::string_view warning;  ///< the Warning id (b2bua.*)
  bool retry_after = false;  ///< add Retry-After (the adapter picks the value)
  bool accept_sdp = false;   ///< add `Accept: application/sdp` (415, 406)
};

}  // namespace b2bua::sip
