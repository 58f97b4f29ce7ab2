// The RFC 4733 parts of one relay's packet path, owned by its worker thread: what was last
// forwarded towards a side (so that inserted event packets fit into that RTP stream), one side's
// pick-up of its events, and the digits waiting to be sent. No I/O: the worker sends what these
// produce.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <span>

#include "rtp/relay_types.hpp"
#include "rtp/rtp_header.hpp"
#include "rtp/telephone_event.hpp"

namespace b2bua::rtp {

/// What the worker last sent towards one side of one stream, and how far the sequence numbers of
/// the packets it forwards there are shifted by the packets it inserted (+) or held back (-).
class TxMemory {
 public:
  /// The RTP packet `pkt` (parsed as `h`) is being forwarded towards this side at `now_ns`:
  /// rewrites its sequence number when shifted, and remembers it. The hot path: a few stores.
  void on_forward(std::span<std::uint8_t> pkt, const RtpHeader& h, std::int64_t now_ns) noexcept {
    const auto seq = static_cast<std::uint16_t>(h.seq + seq_offset_);
    if (seq_offset_ != 0 && pkt.size() >= 4) {
      pkt[2] = static_cast<std::uint8_t>(seq >> 8);
      pkt[3] = static_cast<std::uint8_t>(seq);
    }
    note_input(h.seq);
    seen_ = true;
    ssrc_ = h.ssrc;
    last_seq_ = seq;
    last_timestamp_ = h.timestamp;
    last_ns_ = now_ns;
  }
  /// A packet with sequence number `seq` from the other side was held back: the packets forwarded
  /// after it close the gap it leaves (a repeated or reordered number leaves none).
  void on_held_back(std::uint16_t seq) noexcept;

  /// The SSRC and RTP timestamp of an event that starts at `now_ns` (`clock_rate` Hz): those of
  /// the forwarded stream, its timestamp advanced by the time since its last packet; random ones
  /// (from `random`) when nothing was forwarded yet, kept for the packets that follow.
  void start_event(std::int64_t now_ns, std::uint32_t clock_rate, std::uint32_t (*random)(),
                   std::uint32_t& ssrc, std::uint32_t& timestamp) noexcept;
  /// The sequence number of a packet inserted now; the forwarded packets after it shift by one.
  std::uint16_t take_seq() noexcept {
    ++seq_offset_;
    return ++last_seq_;
  }

  std::uint16_t seq_offset() const noexcept { return seq_offset_; }

 private:
  void note_input(std::uint16_t seq) noexcept {
    if (!have_input_ || static_cast<std::int16_t>(seq - last_input_) > 0) {
      have_input_ = true;
      last_input_ = seq;
    }
  }

  bool have_input_ = false;
  std::uint16_t last_input_ = 0;  // the newest sequence number that came in
  bool seen_ = false;
  std::uint32_t ssrc_ = 0;
  std::uint16_t last_seq_ = 0;
  std::uint32_t last_timestamp_ = 0;
  std::int64_t last_ns_ = 0;
  std::uint16_t seq_offset_ = 0;
};

/// One side's RFC 4733 pick-up on one stream.
/// Digits picked up from one side closer together than this are dropped (counted): a keypad
/// cannot press 20 a second, and each digit may become a SIP INFO, so a peer spraying event
/// packets with new timestamps must not turn each packet into a SIP request.
constexpr std::int64_t min_digit_gap_ns = 50'000'000;

struct DtmfPickupState {
  /// Never equal to a 7-bit payload type: pick-up off.
  static constexpr std::uint16_t off = 0x100;
  std::uint16_t payload_type = off;
  std::uint32_t clock_rate = 8000;
  bool forward = true;
  EventDetector detector;
  /// Worker clock of the last digit reported (see min_digit_gap_ns), 0 = none yet.
  std::int64_t last_report_ns = 0;

  void set(const DtmfPickup& p) noexcept;
  /// An RTP packet with the pick-up's payload type arrived (header `h`, the whole packet `pkt`):
  /// the digit it completes, if any. Garbage payloads are ignored.
  std::optional<PickedDigit> on_packet(const RtpHeader& h,
                                       std::span<const std::uint8_t> pkt) noexcept;
};

/// Where a DigitSender's packets go: the worker's sockets.
class DigitSink {
 public:
  virtual ~DigitSink() = default;
  /// The memory of what goes towards `side` of `stream`; nullptr when there is no such stream.
  virtual TxMemory* tx(std::uint32_t stream, Side side) = 0;
  /// Sends one built packet towards `side` of `stream`.
  virtual void emit(std::uint32_t stream, Side side, std::span<const std::uint8_t> packet) = 0;
};

/// The digits one relay sends as RFC 4733 events, one at a time, `gap_ms` apart.
class DigitSender {
 public:
  static constexpr std::uint32_t gap_ms = 50;

  /// Queues `d`; false (nothing queued) when `max_waiting` digits wait already or `d.digit` is
  /// not one DTMF character.
  bool enqueue(const DigitRequest& d, std::size_t max_waiting);
  /// The steady-clock time the next packet is due, or nullopt when there is nothing to send.
  std::optional<std::int64_t> due_ns() const noexcept;
  /// Sends every packet due at `now_ns` to `sink`; returns the digits started.
  unsigned run(std::int64_t now_ns, DigitSink& sink);
  std::size_t waiting() const noexcept { return queue_.size(); }

 private:
  struct Active {
    DigitRequest req;
    DigitSchedule plan;
    std::int64_t start_ns;
    std::uint32_t timestamp;
    std::uint32_t ssrc;
  };
  std::deque<DigitRequest> queue_;
  std::optional<Active> active_;
  std::int64_t next_start_ns_ = 0;
};

}  // namespace b2bua::rtp
