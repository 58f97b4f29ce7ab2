// Worker, RFC 4733 part: picking up a side's telephone-events and sending digits into the media
// towards a side, paced by the worker's epoll timeout (see relay_worker_impl.hpp).
#include <algorithm>
#include <cstring>

#include "rtp/relay_worker_impl.hpp"

namespace b2bua::rtp {

namespace {

// The worker's sockets as the DigitSender of one relay sees them.
class RelaySink final : public DigitSink {
 public:
  explicit RelaySink(Relay& r) : relay_(r) {}
  TxMemory* tx(std::uint32_t stream, Side side) override {
    return stream < relay_.streams.size() ? &relay_.streams[stream].side[static_cast<int>(side)].tx
                                          : nullptr;
  }
  void emit(std::uint32_t stream, Side side, std::span<const std::uint8_t> packet) override {
    auto& to = relay_.streams[stream].side[static_cast<int>(side)];
    const Endpoint& dst = destination(relay_.mode, to.rtp, to.peer.rtp);
    if (dst.known()) {
      // Never blocks; a refused packet is lost like any other on UDP.
      ::sendto(to.rtp.fd, packet.data(), packet.size(), MSG_DONTWAIT,
               reinterpret_cast<const sockaddr*>(&dst.addr), dst.len);
    }
  }

 private:
  Relay& relay_;
};

}  // namespace

void Worker::Impl::execute(DtmfCmd& c) {
  auto i = relays.find(c.id);
  if (i == relays.end() || c.pickup.stream >= i->second->streams.size()) {
    return;
  }
  Relay& r = *i->second;
  r.streams[c.pickup.stream].side[static_cast<int>(c.pickup.side)].dtmf.set(c.pickup);
  if (c.cb) {
    r.on_digit = std::move(c.cb);
  }
}

void Worker::Impl::execute(DigitCmd& c) {
  auto i = relays.find(c.id);
  if (i == relays.end()) {
    return;
  }
  Relay& r = *i->second;
  if (!r.digits.enqueue(c.digit, max_queued_digits)) {
    bump(totals.digits_dropped, 1);
    return;
  }
  if (!r.sending) {
    r.sending = true;
    sending.push_back(&r);
  }
}

// The epoll timeout: until the next digit packet is due, or forever.
int Worker::Impl::wait_ms() const {
  if (sending.empty()) {
    return -1;
  }
  std::int64_t due = INT64_MAX;
  for (const Relay* r : sending) {
    if (auto d = r->digits.due_ns()) {
      due = std::min(due, *d);
    }
  }
  const std::int64_t left = due - steady_now_ns();
  return left <= 0 ? 0 : static_cast<int>(std::min<std::int64_t>(left / 1'000'000 + 1, 1000));
}

void Worker::Impl::send_digits() {
  const std::int64_t now = steady_now_ns();
  for (std::size_t k = 0; k < sending.size();) {
    Relay& r = *sending[k];
    RelaySink sink(r);
    bump(totals.digits_injected, r.digits.run(now, sink));
    if (r.digits.due_ns()) {
      ++k;
      continue;
    }
    r.sending = false;
    sending[k] = sending.back();
    sending.pop_back();
  }
}

// An RTP packet with the telephone-event payload type of its side: reports a finished digit.
// Returns whether the packet is forwarded.
bool Worker::Impl::pick_up(Relay& relay, const Sock& s, SideState& in, const RtpHeader& h,
                           std::span<const std::uint8_t> pkt) {
  if (auto d = in.dtmf.on_packet(h, pkt)) {
    const std::int64_t now = steady_now_ns();  // only when a digit completes: rare
    if (in.dtmf.last_report_ns != 0 && now - in.dtmf.last_report_ns < min_digit_gap_ns) {
      bump(totals.digits_dropped, 1);
      return in.dtmf.forward;
    }
    in.dtmf.last_report_ns = now;
    bump(totals.digits_picked, 1);
    if (relay.on_digit) {
      d->relay = relay.id;
      d->stream = static_cast<std::uint32_t>(s.stream - relay.streams.data());
      d->side = s.side;
      relay.on_digit(*d);
    }
  }
  return in.dtmf.forward;
}

}  // namespace b2bua::rtp
