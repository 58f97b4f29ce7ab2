// Fuzzes parse_sdp and rewrite_sdp, as the bridge uses them on every SDP from a peer: an input that
// parses must rewrite, and what b2buad sends on must parse again with the same m= lines.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "rtp/sdp_rewriter.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace {

using namespace b2bua::rtp;
using b2bua::fuzz::broken;

std::vector<LocalStream> local_for(const SdpInfo& info, std::uint32_t h) {
  std::vector<LocalStream> local(info.streams.size());
  for (std::size_t i = 0; i < local.size(); ++i) {
    const auto v = h + static_cast<std::uint32_t>(i) * 7;
    local[i].port = v % 11 == 0 ? 0 : static_cast<std::uint16_t>(20000 + 2 * (i % 4000));
    local[i].rtcp_port = v % 3 == 0 ? static_cast<std::uint16_t>(local[i].port + 3) : 0;
    local[i].te.kind = static_cast<TelephoneEventEdit::Kind>(v % 3);
    local[i].te.payload_type = static_cast<std::uint8_t>(96 + v % 32);
    local[i].te.clock_rate = v % 5 == 0 ? 48000 : 8000;
  }
  return local;
}

void check_rewritten(const SdpInfo& in, const std::string& out, const std::vector<LocalStream>& local) {
  std::string error;
  const auto again = parse_sdp(out, &error);
  if (!again) {
    broken(("the rewritten SDP does not parse: " + error).c_str());
  }
  if (again->streams.size() != in.streams.size()) {
    broken("the rewritten SDP has other m= lines");
  }
  for (std::size_t i = 0; i < in.streams.size(); ++i) {
    const auto want = in.streams[i].port == 0 ? 0 : local[i].port;
    if (again->streams[i].port != want) {
      broken("a rewritten m= port is not b2buad's");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = b2bua::fuzz::as_text(data, size);
  std::string error;
  const auto info = parse_sdp(text, &error);
  if (!info) {
    if (error.empty()) {
      broken("parse_sdp refused without a reason");
    }
    return 0;
  }
  const auto h = b2bua::fuzz::pick(text);
  const auto local = local_for(*info, h);
  const std::string address = h % 2 ? "192.0.2.1" : "2001:db8::1";
  SdpOriginState state;
  const auto out = rewrite_sdp(text, address, local, state, &error);
  if (!out) {
    broken(("rewrite_sdp refused what parse_sdp read: " + error).c_str());
  }
  check_rewritten(*info, *out, local);
  // The same body again keeps the o= version (RFC 3264 8); b2buad's own output rewrites too.
  const auto version = state.version;
  if (!rewrite_sdp(text, address, local, state, &error) || state.version != version) {
    broken("rewriting the same SDP again changed the o= version");
  }
  if (!rewrite_sdp(*out, address, local, state, &error)) {
    broken(("rewrite_sdp refused its own output: " + error).c_str());
  }
  return 0;
}
