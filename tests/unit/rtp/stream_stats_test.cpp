// StreamStats: RFC 3550 loss counting from sequence numbers and interarrival jitter.
#include "rtp/rtp_header.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

using namespace b2bua::rtp;

namespace {

constexpr std::int64_t ms = 1'000'000;  // ns

RtpHeader pkt(std::uint16_t seq, std::uint32_t ts = 0, std::uint32_t ssrc = 1) {
  RtpHeader h;
  h.version = 2;
  h.seq = seq;
  h.timestamp = ts;
  h.ssrc = ssrc;
  return h;
}

// Feeds sequence numbers 20 ms apart with matching 8 kHz timestamps (no jitter).
StreamStats feed(const std::vector<std::uint16_t>& seqs) {
  StreamStats s(8000);
  std::int64_t t = 1000 * ms;
  for (auto q : seqs) {
    s.on_packet(pkt(q, static_cast<std::uint32_t>(q) * 160u), 172, t);
    t += 20 * ms;
  }
  return s;
}

struct SeqCase {
  const char* name;
  std::vector<std::uint16_t> seqs;
  std::uint64_t lost;
  std::uint64_t duplicates;
  std::uint64_t restarts;
};

}  // namespace

TEST_CASE("sequence numbers give loss, duplicates and restarts as in RFC 3550 A.1") {
  const std::vector<SeqCase> cases = {
      {"in order", {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0, 0, 0},
      {"one lost", {1, 2, 4, 5}, 1, 0, 0},
      {"three lost in a row", {10, 11, 15, 16}, 3, 0, 0},
      {"reordered", {1, 3, 2, 4}, 0, 0, 0},
      {"reordered before the first one seen", {5, 4, 6}, 0, 0, 0},
      {"duplicate", {1, 2, 2, 3}, 0, 1, 0},
      {"a duplicate does not hide a loss", {1, 2, 4, 2, 5}, 1, 1, 0},
      {"late duplicate of a reordered packet", {1, 3, 2, 2, 4}, 0, 1, 0},
      {"wraparound at 65535", {65533, 65534, 65535, 0, 1, 2}, 0, 0, 0},
      {"loss across the wrap", {65534, 65535, 1, 2}, 1, 0, 0},
      {"reordered across the wrap", {65534, 0, 65535, 1}, 0, 0, 0},
      {"one stray jump is ignored", {100, 101, 40000, 102, 103}, 0, 0, 0},
      {"a continued jump is a restart", {100, 101, 102, 30000, 30001, 30002}, 0, 0, 1},
      {"loss before a restart is kept", {100, 102, 30000, 30001, 30003}, 2, 0, 1},
      {"a gap below the dropout limit is loss", {1, 2001}, 1999, 0, 0},
  };
  for (const auto& c : cases) {
    std::string name = c.name;
    CAPTURE(name);
    auto s = feed(c.seqs);
    CHECK(s.lost() == c.lost);
    CHECK(s.duplicates() == c.duplicates);
    CHECK(s.restarts() == c.restarts);
    CHECK(s.packets() == c.seqs.size());
    CHECK(s.bytes() == 172 * c.seqs.size());
  }
}

TEST_CASE("a new SSRC restarts the count without losing what was counted") {
  StreamStats s;
  s.on_packet(pkt(10, 0, 1), 100, 0);
  s.on_packet(pkt(12, 320, 1), 100, 40 * ms);  // 11 lost
  s.on_packet(pkt(5000, 0, 2), 100, 60 * ms);  // new source
  s.on_packet(pkt(5001, 160, 2), 100, 80 * ms);
  CHECK(s.restarts() == 1);
  CHECK(s.lost() == 1);
  CHECK(s.received() == 4);
}

TEST_CASE("jitter is zero for perfectly paced packets") {
  auto s = feed({1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  CHECK(s.jitter() == 0);
  CHECK(s.jitter_us() == 0);
}

TEST_CASE("jitter follows the RFC 3550 A.8 estimator") {
  // Packets every 20 ms of media, arriving with a varying delay; compare with the formula in
  // floating point (J += (|D| - J) / 16), allowing the integer form's rounding.
  const std::vector<int> delay_ms = {0, 5, 0, 12, 3, 3, 30, 0, 8, 1, 0, 0, 20, 2};
  StreamStats s(8000);
  double ref = 0;
  double last_transit = 0;
  for (std::size_t i = 0; i < delay_ms.size(); ++i) {
    std::int64_t arrival = static_cast<std::int64_t>(i) * 20 * ms + delay_ms[i] * ms;
    auto ts = static_cast<std::uint32_t>(i * 160);
    s.on_packet(pkt(static_cast<std::uint16_t>(i + 1), ts), 172, arrival);
    double transit = static_cast<double>(arrival) / 1e9 * 8000 - ts;
    if (i > 0) {
      ref += (std::fabs(transit - last_transit) - ref) / 16;
    }
    last_transit = transit;
  }
  CHECK(ref > 10);  // the delays are large enough to matter
  CHECK(std::fabs(static_cast<double>(s.jitter()) - ref) <= 1.0);
  CHECK(s.jitter_us() == s.jitter() * 125);  // 8 kHz: 125 us per unit
}

TEST_CASE("jitter uses the stream's clock rate") {
  // 10 ms of delay variation is 80 units at 8 kHz and 480 units at 48 kHz.
  auto run = [](std::uint32_t hz) {
    StreamStats s(hz);
    const std::uint32_t step = hz / 50;
    for (std::uint32_t i = 0; i < 50; ++i) {
      std::int64_t arrival = std::int64_t{i} * 20 * ms + (i % 2 == 1 ? 10 * ms : 0);
      s.on_packet(pkt(static_cast<std::uint16_t>(i), i * step), 100, arrival);
    }
    return s;
  };
  auto narrow = run(8000);
  auto wide = run(48000);
  CHECK(narrow.jitter() > 40);
  CHECK(wide.jitter() > 6 * narrow.jitter() - 12);
  CHECK(wide.jitter() < 6 * narrow.jitter() + 12);
  CHECK(static_cast<double>(narrow.jitter_us()) ==
        doctest::Approx(static_cast<double>(wide.jitter_us())).epsilon(0.05));
}
