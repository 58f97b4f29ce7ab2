// RFC 4733 telephone-events: the 4-byte event payload (parsed and built), whole event packets,
// DTMF event codes, and EventDetector, which turns one side's event packets into finished digits
// (each reported once although its end packet is repeated). No I/O, no allocation; any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace b2bua::rtp {

/// The payload of one event packet (RFC 4733 section 2.3).
struct TelephoneEvent {
  std::uint8_t event = 0;      ///< 0-9, 10 '*', 11 '#', 12-15 A-D, 16 flash, ...
  bool end = false;            ///< E: the last packet(s) of the event
  std::uint8_t volume = 0;     ///< 0..63, -dBm0
  std::uint16_t duration = 0;  ///< in RTP timestamp units, from the event's timestamp

  friend bool operator==(const TelephoneEvent&, const TelephoneEvent&) = default;
};

/// Bytes of the event payload.
inline constexpr std::size_t telephone_event_size = 4;
/// Bytes of an event packet as b2buad builds it: the 12-byte RTP header and the payload.
inline constexpr std::size_t event_packet_size = 12 + telephone_event_size;

/// Reads the first event of `payload` (the bytes after the RTP header; redundant events RFC 4733
/// 2.5.1.5 may follow and are ignored). False when it is shorter than 4 bytes.
bool parse_telephone_event(std::span<const std::uint8_t> payload, TelephoneEvent& out) noexcept;

/// One RFC 4733 packet to build.
struct EventPacket {
  bool marker = false;  ///< set on the first packet of an event
  std::uint8_t payload_type = 101;
  std::uint16_t seq = 0;
  std::uint32_t timestamp = 0;  ///< the event's start, the same in all of its packets
  std::uint32_t ssrc = 0;
  TelephoneEvent event;
};

/// Writes `p` as a 16-byte RTP packet (V=2, no CSRC, no extension) into `out`; returns the size,
/// or 0 when `out` is too small. The payload type is masked to 7 bits and the volume to 6.
std::size_t build_event_packet(const EventPacket& p, std::span<std::uint8_t> out) noexcept;

/// '0'-'9', '*', '#', 'A'-'D' for events 0-15; '\0' for any other event.
char dtmf_char(std::uint8_t event) noexcept;
/// The event code of a DTMF character ('a'-'d' too); -1 for anything else.
int dtmf_event(char c) noexcept;

/// Timestamp units as milliseconds at `clock_rate` Hz (8000 when 0).
std::uint32_t units_to_ms(std::uint32_t units, std::uint32_t clock_rate) noexcept;
/// Milliseconds as timestamp units at `clock_rate` Hz (8000 when 0), saturated at 0xffff (the
/// duration field's limit).
std::uint16_t ms_to_units(std::uint32_t ms, std::uint32_t clock_rate) noexcept;

/// An event seen to its end.
struct FinishedEvent {
  std::uint8_t event = 0;
  std::uint32_t duration = 0;  ///< timestamp units

  friend bool operator==(const FinishedEvent&, const FinishedEvent&) = default;
};

/// Follows the event packets one side sends and reports each event once: at its first end packet
/// (the repeats, RFC 4733 2.5.1.4, are ignored), or, when every end packet was lost, when the next
/// event starts (with the longest duration seen). Packets of the event before the current one
/// (reordered) are ignored. An event longer than the duration field (RFC 4733 2.5.1.3, about 8 s
/// at 8 kHz) counts as one event per segment.
class EventDetector {
 public:
  /// Notes one event packet whose RTP timestamp is `timestamp`.
  std::optional<FinishedEvent> on_packet(std::uint32_t timestamp,
                                         const TelephoneEvent& ev) noexcept;

 private:
  bool have_ = false;
  bool reported_ = false;
  bool have_previous_ = false;
  std::uint32_t timestamp_ = 0;
  std::uint32_t previous_timestamp_ = 0;
  std::uint8_t event_ = 0;
  std::uint16_t duration_ = 0;
};

/// When and what b2buad sends for one digit it injects: an update every `update_ms` (the first
/// with the marker bit) whose duration covers the event up to the next update, then the end
/// packet `end_repeats` times `end_gap_ms` apart, all with the final duration.
class DigitSchedule {
 public:
  static constexpr std::uint32_t update_ms = 50;
  static constexpr std::uint32_t end_gap_ms = 20;
  static constexpr unsigned end_repeats = 3;
  /// Shortest and longest digit sent; requests outside are clamped.
  static constexpr std::uint32_t min_ms = 40;
  static constexpr std::uint32_t max_ms = 5000;

  /// Event `event` lasting `duration_ms` (clamped) at `clock_rate` Hz (8000 when 0).
  DigitSchedule(std::uint8_t event, std::uint32_t duration_ms, std::uint32_t clock_rate) noexcept;

  /// What one packet carries and when it is due.
  struct Step {
    std::uint32_t due_ms = 0;  ///< after the first packet
    bool marker = false;
    TelephoneEvent event;
  };

  bool done() const noexcept { return next_ >= updates_ + end_repeats; }
  /// The next packet; only while !done().
  Step peek() const noexcept;
  void advance() noexcept { ++next_; }
  /// When the last packet is due (after the first).
  std::uint32_t last_due_ms() const noexcept;

 private:
  std::uint8_t event_;
  std::uint32_t duration_ms_;
  std::uint32_t clock_rate_;
  unsigned updates_;
  unsigned next_ = 0;
};

}  // namespace b2bua::rtp
