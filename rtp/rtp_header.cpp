// RTP/RTCP header parsing and RFC 3550 receiver statistics.
#include "rtp/rtp_header.hpp"

namespace b2bua::rtp {

namespace {

std::uint16_t be16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

std::uint32_t be32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

constexpr std::size_t fixed_header = 12;
constexpr std::int64_t seq_mod = 1 << 16;

}  // namespace

const char* to_string(RtpParse r) noexcept {
  switch (r) {
    case RtpParse::ok:
      return "ok";
    case RtpParse::too_short:
      return "too_short";
    case RtpParse::bad_version:
      return "bad_version";
    case RtpParse::csrc_past_end:
      return "csrc_past_end";
    case RtpParse::extension_past_end:
      return "extension_past_end";
    case RtpParse::bad_padding:
      return "bad_padding";
  }
  return "?";
}

RtpParse parse_rtp(std::span<const std::uint8_t> packet, RtpHeader& out) noexcept {
  const std::size_t n = packet.size();
  if (n < fixed_header) {
    return RtpParse::too_short;
  }
  const std::uint8_t* p = packet.data();
  RtpHeader h;
  h.version = p[0] >> 6;
  if (h.version != 2) {
    return RtpParse::bad_version;
  }
  h.padding = (p[0] & 0x20) != 0;
  h.extension = (p[0] & 0x10) != 0;
  h.csrc_count = p[0] & 0x0f;
  h.marker = (p[1] & 0x80) != 0;
  h.payload_type = p[1] & 0x7f;
  h.seq = be16(p + 2);
  h.timestamp = be32(p + 4);
  h.ssrc = be32(p + 8);
  std::size_t pos = fixed_header + 4u * h.csrc_count;
  if (pos > n) {
    return RtpParse::csrc_past_end;
  }
  if (h.extension) {
    if (pos + 4 > n) {
      return RtpParse::extension_past_end;
    }
    h.extension_profile = be16(p + pos);
    h.extension_size = 4u * be16(p + pos + 2);
    pos += 4;
    if (h.extension_size > n - pos) {
      return RtpParse::extension_past_end;
    }
    pos += h.extension_size;
  }
  h.header_size = pos;
  if (h.padding) {
    // The count includes its own byte, so 0 is invalid; it may not eat into the header.
    h.padding_size = p[n - 1];
    if (h.padding_size == 0 || h.padding_size > n - pos) {
      return RtpParse::bad_padding;
    }
  }
  h.payload_size = n - pos - h.padding_size;
  out = h;
  return RtpParse::ok;
}

bool is_rtcp(std::span<const std::uint8_t> packet) noexcept {
  return packet.size() >= 4 && (packet[0] >> 6) == 2 && packet[1] >= 192 && packet[1] <= 223;
}

RtcpParse parse_rtcp(std::span<const std::uint8_t> packet, RtcpHeader& out) noexcept {
  if (packet.size() < 4) {
    return RtcpParse::too_short;
  }
  const std::uint8_t* p = packet.data();
  if ((p[0] >> 6) != 2) {
    return RtcpParse::bad_version;
  }
  if (!is_rtcp(packet)) {
    return RtcpParse::not_rtcp;
  }
  RtcpHeader h;
  h.padding = (p[0] & 0x20) != 0;
  h.count = p[0] & 0x1f;
  h.packet_type = p[1];
  h.size = (std::size_t{be16(p + 2)} + 1) * 4;
  if (h.size > packet.size()) {
    return RtcpParse::length_past_end;
  }
  h.ssrc = h.size >= 8 ? be32(p + 4) : 0;
  out = h;
  return RtcpParse::ok;
}

// ---- StreamStats ----------------------------------------------------------------------------

StreamStats::StreamStats(std::uint32_t clock_rate) noexcept
    : clock_rate_(clock_rate == 0 ? 8000 : clock_rate) {}

void StreamStats::set_clock_rate(std::uint32_t hz) noexcept {
  if (hz != 0) {
    clock_rate_ = hz;
  }
}

void StreamStats::start(std::uint16_t seq, std::uint32_t ssrc) noexcept {
  started_ = true;
  ssrc_ = ssrc;
  max_seq_ = seq;
  cycles_ = 0;
  base_ = seq;
  bad_seq_ = seq_mod + 1;  // no sequence number matches
  received_ = 1;
  seen_[0] = 1;
  seen_[1] = 0;
  have_transit_ = false;
}

void StreamStats::restart(std::uint16_t seq, std::uint32_t ssrc) noexcept {
  lost_before_ += static_cast<std::uint64_t>(current_lost());
  received_before_ += received_;
  ++restarts_;
  start(seq, ssrc);
}

void StreamStats::shift_seen(std::uint32_t k) noexcept {
  if (k >= 128) {
    seen_[0] = seen_[1] = 0;
  } else if (k >= 64) {
    seen_[1] = seen_[0] << (k - 64);
    seen_[0] = 0;
  } else if (k > 0) {
    seen_[1] = (seen_[1] << k) | (seen_[0] >> (64 - k));
    seen_[0] <<= k;
  }
}

bool StreamStats::test_and_set_seen(std::uint32_t k) noexcept {
  std::uint64_t& word = seen_[k / 64];
  std::uint64_t bit = std::uint64_t{1} << (k % 64);
  bool was = (word & bit) != 0;
  word |= bit;
  return was;
}

void StreamStats::on_packet(const RtpHeader& h, std::size_t bytes,
                            std::int64_t arrival_ns) noexcept {
  ++packets_;
  bytes_ += bytes;
  if (!started_) {
    first_arrival_ns_ = arrival_ns;
    start(h.seq, h.ssrc);
    update_jitter(h.timestamp, arrival_ns);
    return;
  }
  if (h.ssrc != ssrc_) {
    restart(h.seq, h.ssrc);
    update_jitter(h.timestamp, arrival_ns);
    return;
  }
  const std::uint16_t ahead = static_cast<std::uint16_t>(h.seq - max_seq_);
  if (ahead == 0) {
    ++duplicates_;
    return;
  }
  if (ahead < max_dropout) {
    // In order, possibly with a gap.
    if (h.seq < max_seq_) {
      cycles_ += seq_mod;
    }
    max_seq_ = h.seq;
    shift_seen(ahead);
    seen_[0] |= 1;
    ++received_;
  } else if (ahead <= seq_mod - max_misorder) {
    // A big jump: a stray packet, or the source restarted if the next packet follows it.
    if (h.seq != bad_seq_) {
      bad_seq_ = static_cast<std::uint16_t>(h.seq + 1);
      return;
    }
    restart(h.seq, h.ssrc);
  } else {
    // Late (reordered) or a duplicate of a recent packet.
    const std::uint16_t behind = static_cast<std::uint16_t>(max_seq_ - h.seq);
    if (test_and_set_seen(behind)) {
      ++duplicates_;
      return;
    }
    ++received_;
    const std::int64_t ext = cycles_ + max_seq_ - behind;
    if (ext < base_) {
      base_ = ext;  // arrived before the first one we saw
    }
  }
  update_jitter(h.timestamp, arrival_ns);
}

void StreamStats::update_jitter(std::uint32_t rtp_ts, std::int64_t arrival_ns) noexcept {
  // Arrival in timestamp units, relative to the first packet (no overflow for years at 90 kHz).
  const std::int64_t since = arrival_ns - first_arrival_ns_;
  const std::int64_t secs = since / 1'000'000'000;
  const std::int64_t rem = since % 1'000'000'000;
  const auto arrival =
      static_cast<std::uint32_t>(secs * clock_rate_ + rem * clock_rate_ / 1'000'000'000);
  const std::uint32_t transit = arrival - rtp_ts;
  if (have_transit_) {
    auto d = static_cast<std::int32_t>(transit - last_transit_);
    std::uint64_t ad = d < 0 ? std::uint64_t(-std::int64_t{d}) : std::uint64_t(d);
    // J += (|D| - J) / 16 in the scaled integer form of A.8.
    jitter_q4_ = jitter_q4_ + ad - ((jitter_q4_ + 8) >> 4);
  }
  last_transit_ = transit;
  have_transit_ = true;
}

std::int64_t StreamStats::current_lost() const noexcept {
  if (!started_) {
    return 0;
  }
  const std::int64_t expected = cycles_ + max_seq_ - base_ + 1;
  const std::int64_t lost = expected - static_cast<std::int64_t>(received_);
  return lost < 0 ? 0 : lost;
}

std::uint64_t StreamStats::lost() const noexcept {
  return lost_before_ + static_cast<std::uint64_t>(current_lost());
}

std::uint32_t StreamStats::jitter_us() const noexcept {
  return static_cast<std::uint32_t>(std::uint64_t{jitter()} * 1'000'000 / clock_rate_);
}

}  // namespace b2bua::rtp
