// Fuzzes MediaSession, the SDP side of a relayed call, through the bridge's order of events: the
// caller's offer, the callee's answer, then a mid-call offer and its answer. Input: up to four SDP
// bodies separated by lines "%%". Refusals are fine; crashes, leaks and UB are not.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "actors/media_session.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace {

using namespace b2bua;

DtmfMode mode(std::uint32_t v) { return static_cast<DtmfMode>(v % 3); }

rtp::RelayPorts ports_for(std::uint32_t count) {
  rtp::RelayPorts p;
  p.relay = 1;
  p.ip = "127.0.0.1";
  for (std::uint32_t i = 0; i < count; ++i) {
    const auto base = static_cast<std::uint16_t>(20000 + 4 * (i % 2000));
    p.streams.push_back({base, static_cast<std::uint16_t>(base + 1),
                         static_cast<std::uint16_t>(base + 2), static_cast<std::uint16_t>(base + 3)});
  }
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_text(data, size);
  const auto sdp = fuzz::parts(text, 4);
  const auto h = fuzz::pick(text);
  MediaSession ms(h % 2 ? "192.0.2.1" : "2001:db8::1", "4242");
  ms.set_dtmf_modes({mode(h >> 1), mode(h >> 3)});
  std::string error;
  const std::string offer{sdp[0]};
  if (!ms.read_offer(offer, &error)) {
    return 0;
  }
  ms.set_ports(ports_for(ms.stream_count()));
  if (!ms.offer_for_callee(offer, &error)) {
    return 0;
  }
  std::vector<rtp::PeerUpdate> peers;
  if (sdp.size() < 2 || !ms.answer_for_caller(std::string{sdp[1]}, &peers, &error)) {
    return 0;
  }
  LegInfo a;
  LegInfo b;
  ms.describe(a, b);
  (void)ms.dtmf_stream();
  (void)ms.telephone_event(rtp::Side::a);
  (void)ms.telephone_event(rtp::Side::b);
  if (sdp.size() < 3) {
    return 0;
  }
  const auto from = h % 4 < 2 ? rtp::Side::a : rtp::Side::b;
  if (!ms.reoffer(from, std::string{sdp[2]}, &error)) {
    return 0;
  }
  if (sdp.size() < 4 || !ms.reanswer(std::string{sdp[3]}, &peers, &error)) {
    ms.drop_reoffer();
  }
  ms.describe(a, b);
  (void)ms.telephone_event(rtp::Side::a);
  return 0;
}
