// RTP/RTCP header parsing: a table of valid and malformed packets; nothing is read past the end.
#include "rtp/rtp_header.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

using namespace b2bua::rtp;

namespace {

using Bytes = std::vector<std::uint8_t>;

// 12-byte fixed header: V=2, PT 0, seq 0x1234, ts 0x01020304, ssrc 0xdeadbeef; `b0` overrides byte
// 0.
Bytes header(std::uint8_t b0 = 0x80, std::uint8_t b1 = 0x00) {
  return {b0, b1, 0x12, 0x34, 0x01, 0x02, 0x03, 0x04, 0xde, 0xad, 0xbe, 0xef};
}

Bytes drop_last(Bytes a) {
  a.pop_back();
  return a;
}

Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Parses from an exactly sized heap copy so that AddressSanitizer would catch a read past the end.
RtpParse parse_exact(const Bytes& p, RtpHeader& h) {
  std::unique_ptr<std::uint8_t[]> copy(new std::uint8_t[p.size() + (p.empty() ? 1 : 0)]);
  std::copy(p.begin(), p.end(), copy.get());
  return parse_rtp(std::span<const std::uint8_t>(copy.get(), p.size()), h);
}

struct Case {
  const char* name;
  Bytes packet;
  RtpParse want;
  std::size_t header_size;
  std::size_t payload_size;
};

}  // namespace

TEST_CASE("RTP header parsing accepts valid packets and rejects each kind of malformed one") {
  const Bytes payload(20, 0xaa);
  const std::vector<Case> cases = {
      {"minimal header, no payload", header(), RtpParse::ok, 12, 0},
      {"header and payload", cat(header(), payload), RtpParse::ok, 12, 20},
      {"empty datagram", {}, RtpParse::too_short, 0, 0},
      {"11 bytes", drop_last(header()), RtpParse::too_short, 0, 0},
      {"version 1", cat(header(0x40), payload), RtpParse::bad_version, 0, 0},
      {"version 0 (STUN-like)", cat(header(0x00), payload), RtpParse::bad_version, 0, 0},
      {"two CSRCs present", cat(cat(header(0x82), Bytes(8, 1)), payload), RtpParse::ok, 20, 20},
      {"CSRC count 15, one present", cat(header(0x8f), Bytes(4, 1)), RtpParse::csrc_past_end, 0, 0},
      {"extension with 1 word",
       cat(cat(header(0x90), {0xbe, 0xde, 0x00, 0x01, 1, 2, 3, 4}), payload), RtpParse::ok, 20, 20},
      {"extension header cut short", cat(header(0x90), {0xbe, 0xde}), RtpParse::extension_past_end,
       0, 0},
      {"extension length past the end", cat(header(0x90), {0xbe, 0xde, 0x00, 0x10, 1, 2, 3, 4}),
       RtpParse::extension_past_end, 0, 0},
      {"extension length 0xffff", cat(header(0x90), {0xbe, 0xde, 0xff, 0xff}),
       RtpParse::extension_past_end, 0, 0},
      {"padding of 4", cat(cat(header(0xa0), payload), {0, 0, 0, 4}), RtpParse::ok, 12, 20},
      {"padding count 0", cat(cat(header(0xa0), payload), {0}), RtpParse::bad_padding, 0, 0},
      {"padding longer than the payload", cat(cat(header(0xa0), Bytes(3, 0)), {200}),
       RtpParse::bad_padding, 0, 0},
      {"padding eating into the header", cat(header(0xa0), {13}), RtpParse::bad_padding, 0, 0},
      {"padding equal to the whole payload", cat(header(0xa0), {0, 0, 3}), RtpParse::ok, 12, 0},
      {"CSRC, extension and padding together",
       cat(cat(cat(header(0xb1), Bytes(4, 7)), {0x10, 0x00, 0x00, 0x00}), {9, 9, 2}), RtpParse::ok,
       20, 1},
  };
  for (const auto& c : cases) {
    std::string name = c.name;
    CAPTURE(name);
    RtpHeader h;
    auto r = parse_exact(c.packet, h);
    CHECK(to_string(r) == std::string(to_string(c.want)));
    if (r == RtpParse::ok) {
      CHECK(h.header_size == c.header_size);
      CHECK(h.payload_size == c.payload_size);
      CHECK(h.header_size + h.payload_size + h.padding_size == c.packet.size());
    }
  }
}

TEST_CASE("RTP header fields are decoded in network byte order") {
  RtpHeader h;
  auto p = cat(header(0x92, 0x80 | 111), Bytes(8, 0));  // CC=2, marker, PT 111
  p = cat(p, {0xbe, 0xde, 0x00, 0x00});                 // empty extension
  REQUIRE(parse_exact(p, h) == RtpParse::ok);
  CHECK(h.version == 2);
  CHECK(h.extension);
  CHECK_FALSE(h.padding);
  CHECK(h.csrc_count == 2);
  CHECK(h.marker);
  CHECK(h.payload_type == 111);
  CHECK(h.seq == 0x1234);
  CHECK(h.timestamp == 0x01020304u);
  CHECK(h.ssrc == 0xdeadbeefu);
  CHECK(h.extension_profile == 0xbede);
  CHECK(h.extension_size == 0);
  CHECK(h.header_size == 24);
}

TEST_CASE("RTCP is told apart from RTP by the second byte (RFC 5761)") {
  for (int pt = 200; pt <= 204; ++pt) {
    CAPTURE(pt);
    Bytes p = {0x81, static_cast<std::uint8_t>(pt), 0x00, 0x01, 1, 2, 3, 4};
    CHECK(is_rtcp(p));
    RtcpHeader h;
    REQUIRE(parse_rtcp(p, h) == RtcpParse::ok);
    CHECK(h.packet_type == pt);
    CHECK(h.count == 1);
    CHECK(h.size == 8);
    CHECK(h.ssrc == 0x01020304u);
  }
  CHECK(is_rtcp(Bytes{0x80, 205, 0, 0}));          // transport feedback
  CHECK_FALSE(is_rtcp(header(0x80, 0)));           // PCMU
  CHECK_FALSE(is_rtcp(header(0x80, 96)));          // dynamic
  CHECK_FALSE(is_rtcp(header(0x80, 0x80 | 0)));    // PCMU with marker: 128
  CHECK_FALSE(is_rtcp(header(0x80, 0x80 | 111)));  // 239
  CHECK_FALSE(is_rtcp(Bytes{0x40, 200, 0, 0}));    // version 1
  CHECK_FALSE(is_rtcp(Bytes{0x80, 200}));          // too short
  RtcpHeader h;
  CHECK(parse_rtcp(Bytes{0x80, 200, 0x00, 0x06, 0, 0, 0, 0}, h) == RtcpParse::length_past_end);
  CHECK(parse_rtcp(Bytes{0x80, 96, 0x00, 0x00}, h) == RtcpParse::not_rtcp);
  CHECK(parse_rtcp(Bytes{0x00, 200, 0x00, 0x00}, h) == RtcpParse::bad_version);
  CHECK(parse_rtcp(Bytes{0x80, 200}, h) == RtcpParse::too_short);
}
