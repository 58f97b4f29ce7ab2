// RFC 4733 in the relay's packet path: transmit memory, pick-up and the digit sender.
#include "rtp/dtmf_relay.hpp"

#include <random>

namespace b2bua::rtp {

namespace {

// Random SSRCs, timestamps and sequence numbers for streams b2buad starts itself (RFC 3550 8.1).
std::uint32_t random_u32() {
  thread_local std::mt19937 gen{std::random_device{}()};
  return static_cast<std::uint32_t>(gen());
}

constexpr std::int64_t ms_ns = 1'000'000;

}  // namespace

void TxMemory::start_event(std::int64_t now_ns, std::uint32_t clock_rate, std::uint32_t (*random)(),
                           std::uint32_t& ssrc, std::uint32_t& timestamp) noexcept {
  const std::uint64_t hz = clock_rate == 0 ? 8000 : clock_rate;
  if (!seen_) {
    seen_ = true;
    ssrc_ = random();
    last_seq_ = static_cast<std::uint16_t>(random());
    last_timestamp_ = random();
    last_ns_ = now_ns;
  }
  const std::int64_t elapsed = now_ns > last_ns_ ? now_ns - last_ns_ : 0;
  ssrc = ssrc_;
  timestamp = last_timestamp_ +
              static_cast<std::uint32_t>(static_cast<std::uint64_t>(elapsed) * hz / 1'000'000'000);
  last_timestamp_ = timestamp;
  last_ns_ = now_ns;
}

void TxMemory::on_held_back(std::uint16_t seq) noexcept {
  const auto ahead = static_cast<std::int16_t>(seq - last_input_);
  if (have_input_ && ahead > 0 && ahead <= StreamStats::max_dropout) {
    // One held-back packet leaves one gap; packets lost before it stay visible as losses.
    seq_offset_ = static_cast<std::uint16_t>(seq_offset_ - 1);
  }
  note_input(seq);
}

void DtmfPickupState::set(const DtmfPickup& p) noexcept {
  const bool on = p.payload_type >= 0 && p.payload_type < 128;
  const std::uint16_t pt = on ? static_cast<std::uint16_t>(p.payload_type) : off;
  const std::uint32_t rate = p.clock_rate == 0 ? 8000 : p.clock_rate;
  forward = !on || p.forward;
  if (pt != payload_type || rate != clock_rate) {
    // Only a new payload type or clock starts over: the same pick-up sent again after a
    // re-offer must not make the repeats of an event already reported count as a new one.
    payload_type = pt;
    clock_rate = rate;
    detector = EventDetector{};
  }
}

std::optional<PickedDigit> DtmfPickupState::on_packet(const RtpHeader& h,
                                                      std::span<const std::uint8_t> pkt) noexcept {
  TelephoneEvent ev;
  if (h.header_size > pkt.size() ||
      !parse_telephone_event(pkt.subspan(h.header_size, h.payload_size), ev)) {
    return std::nullopt;
  }
  auto done = detector.on_packet(h.timestamp, ev);
  if (!done) {
    return std::nullopt;
  }
  const char c = dtmf_char(done->event);
  if (c == '\0') {
    return std::nullopt;  // flash and the other non-DTMF events are not digits
  }
  PickedDigit d;
  d.digit.assign(1, c);
  d.duration_ms = units_to_ms(done->duration, clock_rate);
  return d;
}

bool DigitSender::enqueue(const DigitRequest& d, std::size_t max_waiting) {
  if (queue_.size() >= max_waiting || d.digit.size() != 1 || dtmf_event(d.digit[0]) < 0) {
    return false;
  }
  queue_.push_back(d);
  return true;
}

std::optional<std::int64_t> DigitSender::due_ns() const noexcept {
  if (active_) {
    return active_->start_ns + std::int64_t{active_->plan.peek().due_ms} * ms_ns;
  }
  if (!queue_.empty()) {
    return next_start_ns_;
  }
  return std::nullopt;
}

unsigned DigitSender::run(std::int64_t now_ns, DigitSink& sink) {
  unsigned started = 0;
  for (;;) {
    if (!active_) {
      if (queue_.empty() || now_ns < next_start_ns_) {
        return started;
      }
      DigitRequest req = std::move(queue_.front());
      queue_.pop_front();
      TxMemory* tx = sink.tx(req.stream, req.towards);
      if (tx == nullptr) {
        continue;  // no such stream: nothing to send it on
      }
      const auto event = static_cast<std::uint8_t>(dtmf_event(req.digit[0]));
      DigitSchedule plan(event, req.duration_ms, req.clock_rate);
      std::uint32_t ssrc = 0;
      std::uint32_t timestamp = 0;
      tx->start_event(now_ns, req.clock_rate, &random_u32, ssrc, timestamp);
      active_.emplace(Active{std::move(req), plan, now_ns, timestamp, ssrc});
      ++started;
    }
    auto& a = *active_;
    while (!a.plan.done() && a.start_ns + std::int64_t{a.plan.peek().due_ms} * ms_ns <= now_ns) {
      const auto step = a.plan.peek();
      TxMemory* tx = sink.tx(a.req.stream, a.req.towards);
      if (tx != nullptr) {
        EventPacket p;
        p.marker = step.marker;
        p.payload_type = a.req.payload_type;
        p.seq = tx->take_seq();
        p.timestamp = a.timestamp;
        p.ssrc = a.ssrc;
        p.event = step.event;
        std::uint8_t buf[event_packet_size];
        if (const auto n = build_event_packet(p, buf); n != 0) {
          sink.emit(a.req.stream, a.req.towards, std::span<const std::uint8_t>(buf, n));
        }
      }
      a.plan.advance();
    }
    if (!a.plan.done()) {
      return started;
    }
    next_start_ns_ = a.start_ns + std::int64_t{a.plan.last_due_ms() + gap_ms} * ms_ns;
    active_.reset();
  }
}

}  // namespace b2bua::rtp
