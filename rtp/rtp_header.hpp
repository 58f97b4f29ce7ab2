// RTP and RTCP packet views (bounds-checked parsing of untrusted datagrams) and StreamStats, the
// RFC 3550 receiver statistics of one stream: loss from sequence numbers and interarrival jitter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace b2bua::rtp {

enum class RtpParse : std::uint8_t {
  ok,
  too_short,           ///< fewer than the 12 bytes of the fixed header
  bad_version,         ///< V != 2
  csrc_past_end,       ///< the CSRC list runs past the end
  extension_past_end,  ///< the header extension runs past the end
  bad_padding,         ///< P set with a padding count of 0 or longer than the payload
};

const char* to_string(RtpParse r) noexcept;

/// The fixed RTP header (RFC 3550 section 5.1) of one packet, plus where its parts lie.
struct RtpHeader {
  std::uint8_t version = 0;
  bool padding = false;
  bool extension = false;
  std::uint8_t csrc_count = 0;
  bool marker = false;
  std::uint8_t payload_type = 0;
  std::uint16_t seq = 0;
  std::uint32_t timestamp = 0;
  std::uint32_t ssrc = 0;
  std::uint16_t extension_profile = 0;  ///< with `extension`: the 16-bit profile field
  std::size_t extension_size =
      0;  ///< with `extension`: bytes of extension data (after its 4-byte header)
  std::size_t header_size = 0;   ///< fixed header + CSRCs + extension: where the payload starts
  std::size_t payload_size = 0;  ///< bytes between the header and the padding
  std::size_t padding_size = 0;  ///< with `padding`: the count in the last byte
};

/// Parses the header of `packet`; `out` is complete only when `ok` is returned. Never reads outside
/// `packet`. Any thread.
RtpParse parse_rtp(std::span<const std::uint8_t> packet, RtpHeader& out) noexcept;

/// RFC 5761 demultiplexing for rtcp-mux: V=2 and a second byte in 192..223 (RTCP packet types
/// 200 SR .. 204 APP, 205/206 feedback, 207 XR; RTP payload types 64..95 are never used with mux).
bool is_rtcp(std::span<const std::uint8_t> packet) noexcept;

enum class RtcpParse : std::uint8_t { ok, too_short, bad_version, not_rtcp, length_past_end };

/// The common header of the first RTCP packet of a compound packet (RFC 3550 section 6.4).
struct RtcpHeader {
  bool padding = false;
  std::uint8_t count = 0;        ///< reception report count / subtype
  std::uint8_t packet_type = 0;  ///< 200 SR, 201 RR, 202 SDES, 203 BYE, 204 APP, ...
  std::size_t size = 0;          ///< (length + 1) * 4 bytes
  std::uint32_t ssrc = 0;        ///< sender SSRC when size >= 8, else 0
};

RtcpParse parse_rtcp(std::span<const std::uint8_t> packet, RtcpHeader& out) noexcept;

/// Receiver statistics of one RTP stream, RFC 3550 appendix A.1 (sequence numbers: 16-bit
/// wraparound counted in cycles, reordering up to `max_misorder` behind the highest, a jump of
/// more than `max_dropout` ignored unless the next packet continues it, which restarts the
/// counting) and A.8 (interarrival jitter). Differences from A.1, on purpose: no probation (the
/// first packet starts the count, a relay has no use for validating a source), exact duplicate
/// detection over the last 128 sequence numbers (a duplicate neither counts as received nor hides
/// a loss), and an SSRC change is a restart. Loss of earlier runs is carried across restarts.
/// Single-threaded (owned by one worker); no allocation.
class StreamStats {
 public:
  static constexpr std::uint16_t max_dropout = 3000;
  static constexpr std::uint16_t max_misorder = 100;

  explicit StreamStats(std::uint32_t clock_rate = 8000) noexcept;

  /// RTP timestamp units per second, for jitter (8000 for G.711, 48000 for Opus). 0 is ignored.
  void set_clock_rate(std::uint32_t hz) noexcept;
  std::uint32_t clock_rate() const noexcept { return clock_rate_; }

  /// Notes one packet of `bytes` bytes that arrived at `arrival_ns` (a monotonic clock).
  void on_packet(const RtpHeader& h, std::size_t bytes, std::int64_t arrival_ns) noexcept;

  std::uint64_t packets() const noexcept { return packets_; }  ///< every packet, duplicates too
  std::uint64_t bytes() const noexcept { return bytes_; }
  std::uint64_t received() const noexcept { return received_ + received_before_; }
  std::uint64_t duplicates() const noexcept { return duplicates_; }
  std::uint64_t restarts() const noexcept { return restarts_; }
  /// Cumulative packets lost, never negative.
  std::uint64_t lost() const noexcept;
  /// Interarrival jitter in timestamp units (RFC 3550 A.8) and in microseconds.
  std::uint32_t jitter() const noexcept { return static_cast<std::uint32_t>(jitter_q4_ >> 4); }
  std::uint32_t jitter_us() const noexcept;

 private:
  void start(std::uint16_t seq, std::uint32_t ssrc) noexcept;
  void restart(std::uint16_t seq, std::uint32_t ssrc) noexcept;
  void shift_seen(std::uint32_t k) noexcept;
  bool test_and_set_seen(std::uint32_t k) noexcept;
  void update_jitter(std::uint32_t rtp_ts, std::int64_t arrival_ns) noexcept;
  std::int64_t current_lost() const noexcept;

  std::uint32_t clock_rate_;
  bool started_ = false;
  std::uint32_t ssrc_ = 0;
  std::uint16_t max_seq_ = 0;
  std::int64_t cycles_ = 0;     // count of wraparounds * 65536
  std::int64_t base_ = 0;       // extended sequence number of the first packet
  std::uint32_t bad_seq_ = 0;   // the sequence number that would confirm a restart
  std::uint64_t received_ = 0;  // distinct packets of this run
  std::uint64_t received_before_ = 0;
  std::uint64_t lost_before_ = 0;   // loss of earlier runs
  std::uint64_t seen_[2] = {0, 0};  // bit k (k < 128): highest - k arrived
  std::uint64_t packets_ = 0;
  std::uint64_t bytes_ = 0;
  std::uint64_t duplicates_ = 0;
  std::uint64_t restarts_ = 0;
  bool have_transit_ = false;
  std::uint32_t last_transit_ = 0;
  std::int64_t first_arrival_ns_ = 0;
  std::uint64_t jitter_q4_ = 0;  // jitter * 16, as in A.8's integer form
};

}  // namespace b2bua::rtp
