// DtmfPolicy: when the bridge converts a digit between SIP INFO and RFC 4733.
#include "actors/dtmf_policy.hpp"

namespace b2bua {

const char* to_string(DtmfMode m) {
  switch (m) {
    case DtmfMode::automatic:
      return "auto";
    case DtmfMode::rfc4733:
      return "rfc4733";
    case DtmfMode::info:
      return "info";
  }
  return "auto";
}

std::optional<DtmfMode> parse_dtmf_mode(std::string_view text) {
  for (auto m : {DtmfMode::automatic, DtmfMode::rfc4733, DtmfMode::info}) {
    if (text == to_string(m)) {
      return m;
    }
  }
  return std::nullopt;
}

void DtmfPolicy::set_media(std::uint32_t stream, LegTelephoneEvent a, LegTelephoneEvent b) {
  media_ = true;
  stream_ = stream;
  te_[0] = a;
  te_[1] = b;
}

bool DtmfPolicy::inject_towards(Party to) const {
  const int i = index(to);
  if (!relay_ || !media_ || te_[i].receives < 0) {
    return false;  // that leg cannot take events: INFO it is
  }
  const DtmfMode m = modes_.of(to);
  return m == DtmfMode::rfc4733 || (m == DtmfMode::automatic && refuses_info_[i]);
}

bool DtmfPolicy::info_towards(Party to) const {
  if (!relay_ || !media_) {
    return false;
  }
  const int i = index(to);
  const DtmfMode m = modes_.of(to);
  return m == DtmfMode::info ||
         (m == DtmfMode::automatic && te_[i].receives < 0 && te_[1 - i].receives >= 0);
}

rtp::DtmfPickup DtmfPolicy::pickup(Party from) const {
  const auto& te = te_[index(from)];
  rtp::DtmfPickup p;
  p.side = from == Party::a ? rtp::Side::a : rtp::Side::b;
  p.stream = stream_;
  // The sender uses the numbers of the SDP it got (RFC 3264 6.1); a sender that got none but
  // declared its own may send with those.
  const int pt = te.sends >= 0 ? te.sends : te.receives;
  p.payload_type = static_cast<std::int16_t>(relay_ && media_ ? pt : -1);
  p.clock_rate = te.sends >= 0 ? te.send_clock : te.receive_clock;
  p.forward = !info_towards(other(from));
  return p;
}

rtp::DigitRequest DtmfPolicy::digit_request(Party to, const DtmfDigit& d) const {
  const auto& te = te_[index(to)];
  rtp::DigitRequest r;
  r.towards = to == Party::a ? rtp::Side::a : rtp::Side::b;
  r.stream = stream_;
  r.digit = d.digit;
  r.duration_ms = d.duration == 0 ? 160 : d.duration;
  r.payload_type = static_cast<std::uint8_t>(te.receives < 0 ? 101 : te.receives);
  r.clock_rate = te.receive_clock;
  return r;
}

void DtmfPolicy::forwarded(Party to, std::uint64_t txn, DtmfDigit d) {
  auto& pending = pending_[index(to)];
  if (pending.size() >= max_pending) {
    pending.erase(pending.begin());  // txn ids grow: the oldest
  }
  pending[txn] = std::move(d);
}

std::optional<DtmfDigit> DtmfPolicy::on_info_response(Party to, std::uint64_t txn, int status) {
  auto& pending = pending_[index(to)];
  auto i = pending.find(txn);
  if (i == pending.end()) {
    return std::nullopt;
  }
  DtmfDigit d = std::move(i->second);
  pending.erase(i);
  const bool refused = status == 405 || status == 415 || status == 501 || status == 489;
  if (!refused || modes_.of(to) != DtmfMode::automatic || !relay_ || !media_ ||
      te_[index(to)].receives < 0) {
    return std::nullopt;
  }
  refuses_info_[index(to)] = true;
  return d;
}

}  // namespace b2bua
