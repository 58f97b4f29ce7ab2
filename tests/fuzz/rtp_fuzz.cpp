// Fuzzes what the relay workers do with every datagram: the RTP and RTCP header views, the receiver
// statistics, and the RFC 4733 pick-up (event payload, detector, held-back sequence numbers).
// Input: datagrams, each preceded by one length byte (a datagram of up to 255 bytes), so that one
// input is a stream of packets; the whole input is also parsed as one datagram.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "rtp/dtmf_relay.hpp"
#include "rtp/rtp_header.hpp"
#include "rtp/telephone_event.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace {

using namespace b2bua::rtp;
using b2bua::fuzz::broken;

void one_datagram(std::span<const std::uint8_t> pkt) {
  RtpHeader h;
  if (parse_rtp(pkt, h) == RtpParse::ok &&
      (h.header_size < 12 || h.header_size + h.payload_size + h.padding_size != pkt.size())) {
    broken("parse_rtp: header, payload and padding do not add up to the packet");
  }
  (void)is_rtcp(pkt);
  RtcpHeader rh;
  if (parse_rtcp(pkt, rh) == RtcpParse::ok && (rh.size < 4 || rh.size > pkt.size())) {
    broken("parse_rtcp: the first packet's size lies outside the datagram");
  }
}

struct Stream {
  StreamStats stats{8000};
  DtmfPickupState pickup;
  TxMemory tx;
  std::int64_t now_ns = 1'000'000'000;

  Stream() {
    DtmfPickup p;
    p.payload_type = 101;
    pickup.set(p);
  }

  void packet(std::span<const std::uint8_t> pkt) {
    one_datagram(pkt);
    now_ns += 20'000'000;
    RtpHeader h;
    if (parse_rtp(pkt, h) != RtpParse::ok) {
      return;
    }
    stats.on_packet(h, pkt.size(), now_ns);
    (void)stats.lost();
    (void)stats.jitter_us();
    TelephoneEvent ev;
    if (parse_telephone_event(pkt.subspan(h.header_size, h.payload_size), ev)) {
      (void)dtmf_char(ev.event);
    }
    if (h.payload_type == 101) {
      if (auto d = pickup.on_packet(h, pkt); d && d->digit.size() != 1) {
        broken("the pick-up reported something that is not one DTMF character");
      }
      tx.on_held_back(h.seq);
    } else {
      std::vector<std::uint8_t> copy(pkt.begin(), pkt.end());
      tx.on_forward(copy, h, now_ns);
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> in{data, size};
  one_datagram(in);
  Stream s;
  while (!in.empty()) {
    const std::size_t n = std::min<std::size_t>(in[0], in.size() - 1);
    s.packet(in.subspan(1, n));
    in = in.subspan(1 + n);
  }
  return 0;
}
