// RFC 4733 payloads and packets, the event detector, the digit schedule, and the relay's DTMF
// parts (pick-up, transmit memory, digit sender) without sockets.
#include "rtp/telephone_event.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "rtp/dtmf_relay.hpp"

using namespace b2bua::rtp;

namespace {

std::vector<std::uint8_t> bytes(std::initializer_list<int> v) {
  std::vector<std::uint8_t> out;
  for (int b : v) {
    out.push_back(static_cast<std::uint8_t>(b));
  }
  return out;
}

TelephoneEvent te(std::uint8_t event, bool end, std::uint16_t duration) {
  TelephoneEvent e;
  e.event = event;
  e.end = end;
  e.volume = 10;
  e.duration = duration;
  return e;
}

}  // namespace

TEST_CASE("event payloads parse field by field") {
  struct Row {
    std::vector<std::uint8_t> in;
    bool ok;
    TelephoneEvent want;
  };
  const Row rows[] = {
      {bytes({0x01, 0x0a, 0x00, 0x00}), true, te(1, false, 0)},
      {bytes({0x01, 0x8a, 0x08, 0xc0}), true, te(1, true, 0x8c0)},             // the pcap's end
      {bytes({0x0b, 0x3f, 0xff, 0xff}), true, {11, false, 63, 0xffff}},        // '#', max volume
      {bytes({0x10, 0xc0, 0x00, 0xa0}), true, {16, true, 0, 160}},             // flash, R bit set
      {bytes({0x05, 0x0a, 0x01, 0x40, 0x99, 0x99}), true, te(5, false, 320)},  // trailing bytes
      {bytes({0x05, 0x0a, 0x01}), false, {}},
      {bytes({}), false, {}},
  };
  for (const auto& r : rows) {
    TelephoneEvent got;
    CAPTURE(r.in.size());
    REQUIRE(parse_telephone_event(r.in, got) == r.ok);
    if (r.ok) {
      CHECK(got == r.want);
    }
  }
}

TEST_CASE("a built event packet parses back to what was built") {
  EventPacket p;
  p.marker = true;
  p.payload_type = 96;
  p.seq = 65535;
  p.timestamp = 0xdeadbeef;
  p.ssrc = 0x01020304;
  p.event = te(12, true, 1280);
  std::uint8_t buf[32];
  REQUIRE(build_event_packet(p, buf) == event_packet_size);
  RtpHeader h;
  REQUIRE(parse_rtp(std::span<const std::uint8_t>(buf, event_packet_size), h) == RtpParse::ok);
  CHECK(h.marker);
  CHECK(h.payload_type == 96);
  CHECK(h.seq == 65535);
  CHECK(h.timestamp == 0xdeadbeef);
  CHECK(h.ssrc == 0x01020304);
  TelephoneEvent back;
  REQUIRE(parse_telephone_event(std::span<const std::uint8_t>(buf + h.header_size, 4), back));
  CHECK(back == p.event);
  std::uint8_t small[15];
  CHECK(build_event_packet(p, small) == 0);
}

TEST_CASE("DTMF characters and event codes map both ways") {
  const char* all = "0123456789*#ABCD";
  for (int e = 0; e < 16; ++e) {
    CHECK(dtmf_char(static_cast<std::uint8_t>(e)) == all[e]);
    CHECK(dtmf_event(all[e]) == e);
  }
  CHECK(dtmf_event('c') == 14);
  CHECK(dtmf_char(16) == '\0');
  CHECK(dtmf_char(255) == '\0');
  CHECK(dtmf_event('E') == -1);
  CHECK(dtmf_event(' ') == -1);
  CHECK(units_to_ms(2240, 8000) == 280);
  CHECK(units_to_ms(4800, 48000) == 100);
  CHECK(units_to_ms(800, 0) == 100);
  CHECK(ms_to_units(160, 8000) == 1280);
  CHECK(ms_to_units(100000, 8000) == 0xffff);
}

TEST_CASE("the detector reports an event once, at its first end packet") {
  // The packets of /usr/share/sip-tester/dtmf_2833_1.pcap: 8 updates, the end packet 3 times.
  EventDetector d;
  std::vector<FinishedEvent> got;
  for (std::uint16_t k = 0; k < 7; ++k) {
    if (auto f = d.on_packet(13280, te(1, false, static_cast<std::uint16_t>(320 * k)))) {
      got.push_back(*f);
    }
  }
  CHECK(got.empty());
  for (int k = 0; k < 3; ++k) {
    if (auto f = d.on_packet(13280, te(1, true, 2240))) {
      got.push_back(*f);
    }
  }
  REQUIRE(got.size() == 1);
  CHECK(got[0] == FinishedEvent{1, 2240});
}

TEST_CASE("the detector copes with lost end packets, late packets and repeated digits") {
  EventDetector d;
  CHECK_FALSE(d.on_packet(1000, te(4, false, 160)));
  CHECK_FALSE(d.on_packet(1000, te(4, false, 480)));
  // Every end packet of '4' was lost: the next event reports it, with the longest duration.
  auto f = d.on_packet(5000, te(4, false, 160));
  REQUIRE(f);
  CHECK(*f == FinishedEvent{4, 480});
  // A reordered packet of the event before is ignored.
  CHECK_FALSE(d.on_packet(1000, te(4, true, 800)));
  // The same digit again (a new timestamp) is a new event.
  auto g = d.on_packet(5000, te(4, true, 800));
  REQUIRE(g);
  CHECK(*g == FinishedEvent{4, 800});
  auto h = d.on_packet(9000, te(11, true, 400));  // only an end packet arrived
  REQUIRE(h);
  CHECK(*h == FinishedEvent{11, 400});
  CHECK_FALSE(d.on_packet(9000, te(11, true, 400)));
}

TEST_CASE("garbage through the pick-up never crashes; all it reports are DTMF digits") {
  DtmfPickupState p;
  DtmfPickup cfg;
  cfg.payload_type = 101;
  p.set(cfg);
  std::mt19937 gen(4733);
  int reported = 0;
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::uint8_t> pkt(gen() % 40);
    for (auto& b : pkt) {
      b = static_cast<std::uint8_t>(gen());
    }
    RtpHeader h;
    if (parse_rtp(pkt, h) != RtpParse::ok) {
      continue;
    }
    if (auto d = p.on_packet(h, pkt)) {
      ++reported;
      CHECK(d->digit.size() == 1);
      CHECK(dtmf_event(d->digit[0]) >= 0);
    }
  }
  // Truncated: a header that claims more than the packet holds.
  RtpHeader lying;
  lying.header_size = 100;
  lying.payload_size = 4;
  std::vector<std::uint8_t> short_pkt(16, 0);
  CHECK_FALSE(p.on_packet(lying, short_pkt));
  MESSAGE(reported << " random packets happened to end a digit");
}

TEST_CASE("a digit's schedule: marker first, an update every 50 ms, three end packets") {
  struct Row {
    std::uint32_t ms;
    unsigned updates;
  };
  for (const Row r : {Row{160, 4}, Row{100, 2}, Row{10, 1}, Row{9000, 100}}) {
    CAPTURE(r.ms);
    DigitSchedule s(5, r.ms, 8000);
    std::vector<DigitSchedule::Step> steps;
    while (!s.done()) {
      steps.push_back(s.peek());
      s.advance();
    }
    const std::uint32_t ms = std::clamp(r.ms, DigitSchedule::min_ms, DigitSchedule::max_ms);
    REQUIRE(steps.size() == r.updates + 3);
    CHECK(steps[0].marker);
    CHECK(steps[0].due_ms == 0);
    std::uint16_t last = 0;
    for (std::size_t k = 0; k < steps.size(); ++k) {
      CHECK(steps[k].event.event == 5);
      CHECK(steps[k].marker == (k == 0));
      CHECK(steps[k].event.duration >= last);
      last = steps[k].event.duration;
      CHECK(steps[k].event.end == (k >= r.updates));
      if (k > 0) {
        CHECK(steps[k].due_ms > steps[k - 1].due_ms);
      }
    }
    CHECK(steps.back().event.duration == ms_to_units(ms, 8000));
    CHECK(steps.back().due_ms == s.last_due_ms());
  }
}

namespace {

struct RecordingSink : DigitSink {
  TxMemory memory;
  std::vector<std::vector<std::uint8_t>> packets;
  TxMemory* tx(std::uint32_t stream, Side side) override {
    return stream == 0 && side == Side::b ? &memory : nullptr;
  }
  void emit(std::uint32_t, Side, std::span<const std::uint8_t> p) override {
    packets.emplace_back(p.begin(), p.end());
  }
};

}  // namespace

TEST_CASE("the digit sender fits its packets into the forwarded stream and paces them") {
  RecordingSink sink;
  // Audio forwarded towards B: seq 100, ts 8000, SSRC 0xabc at t = 0.
  std::vector<std::uint8_t> audio(172, 0);
  RtpHeader h;
  h.seq = 100;
  h.timestamp = 8000;
  h.ssrc = 0xabc;
  sink.memory.on_forward(audio, h, 0);
  DigitSender sender;
  DigitRequest d;
  d.digit = "9";
  d.duration_ms = 100;
  d.payload_type = 96;
  REQUIRE(sender.enqueue(d, 2));
  REQUIRE(sender.enqueue(d, 2));
  CHECK_FALSE(sender.enqueue(d, 2));  // the limit
  DigitRequest bad = d;
  bad.digit = "x";
  CHECK_FALSE(sender.enqueue(bad, 8));
  const std::int64_t ms = 1'000'000;
  CHECK(sender.run(20 * ms, sink) == 1);  // starts 20 ms after the last audio packet
  REQUIRE(sink.packets.size() == 1);
  CHECK(*sender.due_ns() == 70 * ms);
  CHECK(sender.run(69 * ms, sink) == 0);
  CHECK(sink.packets.size() == 1);
  sender.run(200 * ms, sink);  // the second update and the three ends
  REQUIRE(sink.packets.size() == 5);
  std::uint16_t seq = 100;
  for (std::size_t k = 0; k < sink.packets.size(); ++k) {
    RtpHeader p;
    REQUIRE(parse_rtp(sink.packets[k], p) == RtpParse::ok);
    CHECK(p.seq == ++seq);
    CHECK(p.ssrc == 0xabc);
    CHECK(p.timestamp == 8000 + 160);  // 20 ms at 8 kHz after the audio
    CHECK(p.payload_type == 96);
    CHECK(p.marker == (k == 0));
  }
  // Audio forwarded now is shifted by the five packets inserted.
  h.seq = 101;
  sink.memory.on_forward(audio, h, 210 * ms);
  CHECK(((audio[2] << 8) | audio[3]) == 106);
  // The second digit waits for the gap after the first one's last end packet (140 ms + 50).
  CHECK(*sender.due_ns() == (20 + 140 + 50) * ms);
}

TEST_CASE("held-back packets close their gap in the forwarded sequence numbers") {
  TxMemory tx;
  std::vector<std::uint8_t> pkt(20, 0);
  RtpHeader h;
  h.seq = 7;
  tx.on_forward(pkt, h, 0);
  CHECK(pkt[3] == 0);  // unshifted: untouched
  tx.on_held_back(8);
  tx.on_held_back(9);
  tx.on_held_back(9);  // a repeated end packet leaves no gap
  tx.on_held_back(5);  // nor does a late one
  h.seq = 10;
  tx.on_forward(pkt, h, 1);
  CHECK(((pkt[2] << 8) | pkt[3]) == 8);
  CHECK(tx.seq_offset() == static_cast<std::uint16_t>(-2));
}
