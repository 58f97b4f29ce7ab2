// Fuzzes the INFO DTMF bodies a peer sends (application/dtmf-relay, application/dtmf).
// Input: the Content-Type on the first line, the body after it.
#include <cstddef>
#include <cstdint>
#include <string>

#include "actors/dtmf_info.hpp"
#include "tests/fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto f = b2bua::fuzz::fields(b2bua::fuzz::as_text(data, size), 2);
  const auto d = b2bua::parse_dtmf_info(std::string{f[0]}, std::string{f[1]});
  if (d && (d->digit.size() != 1 ||
            std::string{"0123456789*#ABCD"}.find(d->digit[0]) == std::string::npos)) {
    b2bua::fuzz::broken("parse_dtmf_info returned something that is not one DTMF character");
  }
  return 0;
}
