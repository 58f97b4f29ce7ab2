// RFC 4733 telephone-event payloads and packets, and the per-side event detector.
#include "rtp/telephone_event.hpp"

#include <algorithm>

namespace b2bua::rtp {

bool parse_telephone_event(std::span<const std::uint8_t> payload, TelephoneEvent& out) noexcept {
  if (payload.size() < telephone_event_size) {
    return false;
  }
  out.event = payload[0];
  out.end = (payload[1] & 0x80) != 0;
  out.volume = payload[1] & 0x3f;
  out.duration = static_cast<std::uint16_t>((payload[2] << 8) | payload[3]);
  return true;
}

std::size_t build_event_packet(const EventPacket& p, std::span<std::uint8_t> out) noexcept {
  if (out.size() < event_packet_size) {
    return 0;
  }
  out[0] = 0x80;  // V=2
  out[1] = static_cast<std::uint8_t>((p.marker ? 0x80 : 0) | (p.payload_type & 0x7f));
  out[2] = static_cast<std::uint8_t>(p.seq >> 8);
  out[3] = static_cast<std::uint8_t>(p.seq);
  for (int i = 0; i < 4; ++i) {
    out[4 + i] = static_cast<std::uint8_t>(p.timestamp >> (24 - 8 * i));
    out[8 + i] = static_cast<std::uint8_t>(p.ssrc >> (24 - 8 * i));
  }
  out[12] = p.event.event;
  out[13] = static_cast<std::uint8_t>((p.event.end ? 0x80 : 0) | (p.event.volume & 0x3f));
  out[14] = static_cast<std::uint8_t>(p.event.duration >> 8);
  out[15] = static_cast<std::uint8_t>(p.event.duration);
  return event_packet_size;
}

char dtmf_char(std::uint8_t event) noexcept {
  static constexpr char chars[] = "0123456789*#ABCD";
  return event < 16 ? chars[event] : '\0';
}

int dtmf_event(char c) noexcept {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  switch (c) {
    case '*':
      return 10;
    case '#':
      return 11;
    default:
      break;
  }
  if (c >= 'A' && c <= 'D') {
    return 12 + (c - 'A');
  }
  if (c >= 'a' && c <= 'd') {
    return 12 + (c - 'a');
  }
  return -1;
}

std::uint32_t units_to_ms(std::uint32_t units, std::uint32_t clock_rate) noexcept {
  const std::uint64_t hz = clock_rate == 0 ? 8000 : clock_rate;
  return static_cast<std::uint32_t>(std::uint64_t{units} * 1000 / hz);
}

std::uint16_t ms_to_units(std::uint32_t ms, std::uint32_t clock_rate) noexcept {
  const std::uint64_t hz = clock_rate == 0 ? 8000 : clock_rate;
  return static_cast<std::uint16_t>(std::min<std::uint64_t>(std::uint64_t{ms} * hz / 1000, 0xffff));
}

std::optional<FinishedEvent> EventDetector::on_packet(std::uint32_t timestamp,
                                                      const TelephoneEvent& ev) noexcept {
  if (have_ && timestamp == timestamp_) {
    if (reported_) {
      return std::nullopt;  // a repeated end packet
    }
    duration_ = std::max(duration_, ev.duration);
    if (ev.end) {
      reported_ = true;
      return FinishedEvent{event_, duration_};
    }
    return std::nullopt;
  }
  if (have_previous_ && timestamp == previous_timestamp_) {
    return std::nullopt;  // a late packet of the event before
  }
  std::optional<FinishedEvent> lost_end;
  if (have_ && !reported_) {
    lost_end = FinishedEvent{event_, duration_};
  }
  have_previous_ = have_;
  previous_timestamp_ = timestamp_;
  have_ = true;
  timestamp_ = timestamp;
  event_ = ev.event;
  duration_ = ev.duration;
  reported_ = false;
  if (lost_end) {
    // This packet may itself be an end packet: its repeats (or the next event) report it.
    return lost_end;
  }
  if (ev.end) {
    reported_ = true;
    return FinishedEvent{event_, duration_};
  }
  return std::nullopt;
}

DigitSchedule::DigitSchedule(std::uint8_t event, std::uint32_t duration_ms,
                             std::uint32_t clock_rate) noexcept
    : event_(event),
      duration_ms_(std::clamp(duration_ms, min_ms, max_ms)),
      clock_rate_(clock_rate == 0 ? 8000 : clock_rate),
      updates_((duration_ms_ + update_ms - 1) / update_ms) {}

DigitSchedule::Step DigitSchedule::peek() const noexcept {
  Step s;
  s.event.event = event_;
  s.event.volume = 10;  // -10 dBm0, a usual DTMF level
  if (next_ < updates_) {
    s.due_ms = next_ * update_ms;
    s.marker = next_ == 0;
    s.event.duration = ms_to_units(std::min((next_ + 1) * update_ms, duration_ms_), clock_rate_);
    return s;
  }
  s.due_ms = updates_ * update_ms + (next_ - updates_) * end_gap_ms;
  s.event.end = true;
  s.event.duration = ms_to_units(duration_ms_, clock_rate_);
  return s;
}

std::uint32_t DigitSchedule::last_due_ms() const noexcept {
  return updates_ * update_ms + (end_repeats - 1) * end_gap_ms;
}

}  // namespace b2bua::rtp
