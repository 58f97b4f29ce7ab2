// MediaSession: offer/answer rewriting of one relayed call.
#include "actors/media_session.hpp"

namespace b2bua {

namespace {

std::string host_port(const std::string& host, std::uint16_t port) {
  if (host.empty() || port == 0) {
    return {};
  }
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

// The first live plain-RTP audio line: where DTMF travels (SRTP packets cannot be read or made).
std::optional<std::size_t> audio_index(const rtp::SdpInfo& info) {
  for (std::size_t i = 0; i < info.streams.size(); ++i) {
    const auto& s = info.streams[i];
    const bool plain = s.protocol == "RTP/AVP" || s.protocol == "RTP/AVPF";
    if (s.media == "audio" && plain && s.port != 0 && !s.payload_types.empty()) {
      return i;
    }
  }
  return std::nullopt;
}

// A dynamic payload type the line does not use: 101 (the usual one) if free, else from 96.
std::optional<std::uint8_t> free_payload_type(const rtp::SdpStream& s) {
  auto used = [&s](int pt) {
    for (auto p : s.payload_types) {
      if (p == pt) {
        return true;
      }
    }
    return false;
  };
  if (!used(101)) {
    return 101;
  }
  for (int pt = 96; pt < 128; ++pt) {
    if (!used(pt)) {
      return static_cast<std::uint8_t>(pt);
    }
  }
  return std::nullopt;
}

Party party(rtp::Side s) { return s == rtp::Side::a ? Party::a : Party::b; }

// The refusal when a live stream of `info` has an address the relay cannot send to (with a
// one-line `error`), nothing when every one is an IP literal of the relay's family. A disabled
// stream (port 0) and an old-style hold (c=IN IP4 0.0.0.0) need none.
std::optional<Refusal> unrelayable(const rtp::SdpInfo& info, bool ipv6, std::string* error) {
  for (std::size_t i = 0; i < info.streams.size(); ++i) {
    const auto& s = info.streams[i];
    if (s.port == 0 || s.hold_zero_address) {
      continue;
    }
    const std::string where = "m= line " + std::to_string(i + 1) + ": c= ";
    const std::string addr = s.address.substr(0, 64);
    std::optional<Refusal> refusal;
    std::string why;
    switch (s.address_kind) {
      case rtp::AddressKind::ip4:
      case rtp::AddressKind::ip6:
        if ((s.address_kind == rtp::AddressKind::ip6) != ipv6) {
          refusal = Refusal::sdp_address_family;
          why = addr + " is " + (ipv6 ? "IPv4" : "IPv6") + ", the media relay " +
                (ipv6 ? "IPv6" : "IPv4");
        }
        break;
      case rtp::AddressKind::host_name:
        refusal = Refusal::sdp_unsupported_address;
        why = "names a host (" + addr + "); media addresses are not resolved";
        break;
      case rtp::AddressKind::none:
      case rtp::AddressKind::invalid:
        refusal = Refusal::sdp_unparseable;
        why = "address \"" + addr + "\" is no IP literal of its type";
        break;
    }
    if (refusal) {
      if (error) {
        *error = where + why;
      }
      return refusal;
    }
  }
  return std::nullopt;
}

}  // namespace

MediaSession::MediaSession(std::string address, std::string session_id)
    : address_(std::move(address)), ipv6_(address_.find(':') != std::string::npos) {
  to_callee_.session_id = session_id;
  to_caller_.session_id = std::move(session_id);
}

std::optional<rtp::SdpInfo> MediaSession::read(const std::string& sdp, std::string* error) {
  refusal_ = Refusal::sdp_unparseable;
  auto info = rtp::parse_sdp(sdp, error);
  if (!info) {
    return std::nullopt;
  }
  if (auto r = unrelayable(*info, ipv6_, error)) {
    refusal_ = *r;
    return std::nullopt;
  }
  return info;
}

bool MediaSession::read_offer(const std::string& sdp, std::string* error) {
  auto info = read(sdp, error);
  if (!info) {
    return false;
  }
  offer_ = std::move(*info);
  return true;
}

std::vector<rtp::PeerUpdate> MediaSession::peers_of(const rtp::SdpInfo& info, rtp::Side side) {
  std::vector<rtp::PeerUpdate> out;
  for (std::uint32_t i = 0; i < info.streams.size(); ++i) {
    const auto& s = info.streams[i];
    // A disabled stream or an old-style hold (0.0.0.0) has no address to send to; latching still
    // learns the real one from the first packet.
    if (s.port == 0 || s.hold_zero_address || s.address.empty()) {
      continue;
    }
    rtp::PeerUpdate p;
    p.side = side;
    p.stream = i;
    p.addr = s.address;
    p.port = s.port;
    p.rtcp_port = s.rtcp_port;
    p.rtcp_mux = s.rtcp_mux;
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<rtp::PeerUpdate> MediaSession::set_ports(const rtp::RelayPorts& ports) {
  ports_ = ports;
  return peers_of(offer_, rtp::Side::a);
}

std::optional<std::string> MediaSession::offer_for_callee(const std::string& sdp,
                                                          std::string* error) {
  auto local = local_for(rtp::Side::b, offer_);
  first_edit_ = offer_edit(rtp::Side::b, offer_);
  if (auto k = audio_index(offer_)) {
    local[*k].te = first_edit_;
  }
  auto out = rtp::rewrite_sdp(sdp, address_, local, to_callee_, error);
  if (out) {
    note_sent(rtp::Side::b, offer_, first_edit_);
  }
  return out;
}

std::optional<std::string> MediaSession::answer_for_caller(const std::string& sdp,
                                                           std::vector<rtp::PeerUpdate>* peers,
                                                           std::string* error) {
  auto info = read(sdp, error);
  if (!info) {
    return std::nullopt;
  }
  if (info->streams.size() != offer_.streams.size()) {
    // RFC 3264 6: the answer has exactly as many m= lines as the offer.
    if (error) {
      *error = "the answer has " + std::to_string(info->streams.size()) + " m= lines, the offer " +
               std::to_string(offer_.streams.size());
    }
    return std::nullopt;
  }
  auto local = local_for(rtp::Side::a, *info);
  const auto edit = answer_edit(offer_, first_edit_);
  if (auto k = audio_index(offer_); k && local[*k].port != 0) {
    local[*k].te = edit;
  }
  auto out = rtp::rewrite_sdp(sdp, address_, local, to_caller_, error);
  if (out) {
    if (peers) {
      *peers = peers_of(*info, rtp::Side::b);
    }
    note_sent(rtp::Side::a, *info, edit);
    answer_ = std::move(*info);
  }
  return out;
}

std::vector<rtp::LocalStream> MediaSession::local_for(rtp::Side side,
                                                     const rtp::SdpInfo& info) const {
  std::vector<rtp::LocalStream> local;
  for (std::size_t i = 0; i < info.streams.size(); ++i) {
    const bool live = i < ports_.streams.size() && info.streams[i].port != 0;
    if (!live) {
      local.push_back(rtp::LocalStream{});
    } else if (side == rtp::Side::a) {
      local.push_back(rtp::LocalStream{ports_.streams[i].a_rtp, ports_.streams[i].a_rtcp});
    } else {
      local.push_back(rtp::LocalStream{ports_.streams[i].b_rtp, ports_.streams[i].b_rtcp});
    }
  }
  return local;
}

std::optional<std::string> MediaSession::reoffer(rtp::Side from, const std::string& sdp,
                                                 std::string* error) {
  auto info = read(sdp, error);
  if (!info) {
    return std::nullopt;
  }
  if (info->streams.size() != ports_.streams.size()) {
    if (error) {
      *error = "the re-offer has " + std::to_string(info->streams.size()) +
               " m= lines, the relay has ports for " + std::to_string(ports_.streams.size());
    }
    return std::nullopt;
  }
  const rtp::Side to = from == rtp::Side::a ? rtp::Side::b : rtp::Side::a;
  auto local = local_for(to, *info);
  const auto edit = offer_edit(to, *info);
  if (auto k = audio_index(*info); k && *k < local.size()) {
    local[*k].te = edit;
  }
  auto out = rtp::rewrite_sdp(sdp, address_, local,
                              to == rtp::Side::b ? to_callee_ : to_caller_, error);
  if (out) {
    reoffer_ = ReOffer{from, std::move(*info), edit};
  }
  return out;
}

std::optional<std::string> MediaSession::reanswer(const std::string& sdp,
                                                  std::vector<rtp::PeerUpdate>* peers,
                                                  std::string* error) {
  if (!reoffer_) {
    refusal_ = Refusal::sdp_unparseable;
    if (error) {
      *error = "no open re-offer";
    }
    return std::nullopt;
  }
  auto info = read(sdp, error);
  if (!info) {
    return std::nullopt;
  }
  if (info->streams.size() != reoffer_->info.streams.size()) {
    if (error) {
      *error = "the answer has " + std::to_string(info->streams.size()) + " m= lines, the offer " +
               std::to_string(reoffer_->info.streams.size());
    }
    return std::nullopt;
  }
  const rtp::Side offerer = reoffer_->from;
  const rtp::Side answerer = offerer == rtp::Side::a ? rtp::Side::b : rtp::Side::a;
  auto local = local_for(offerer, *info);
  const auto edit = answer_edit(reoffer_->info, reoffer_->edit);
  if (auto k = audio_index(reoffer_->info); k && *k < local.size() && local[*k].port != 0) {
    local[*k].te = edit;
  }
  auto out = rtp::rewrite_sdp(sdp, address_, local,
                              offerer == rtp::Side::b ? to_callee_ : to_caller_, error);
  if (!out) {
    return std::nullopt;
  }
  note_sent(answerer, reoffer_->info, reoffer_->edit);
  note_sent(offerer, *info, edit);
  if (peers) {
    *peers = peers_of(reoffer_->info, offerer);
    for (auto& p : peers_of(*info, answerer)) {
      peers->push_back(std::move(p));
    }
  }
  rtp::SdpInfo& a_side = offer_;
  if (offerer == rtp::Side::a) {
    a_side = std::move(reoffer_->info);
    answer_ = std::move(*info);
  } else {
    answer_ = std::move(reoffer_->info);
    a_side = std::move(*info);
  }
  reoffer_.reset();
  return out;
}

void MediaSession::describe(LegInfo& a, LegInfo& b) const {
  if (ports_.streams.empty()) {
    return;
  }
  const auto& p = ports_.streams.front();
  a.media_local = host_port(address_, p.a_rtp);
  b.media_local = host_port(address_, p.b_rtp);
  if (!offer_.streams.empty()) {
    a.media_remote = host_port(offer_.streams.front().address, offer_.streams.front().port);
  }
  if (answer_ && !answer_->streams.empty()) {
    b.media_remote = host_port(answer_->streams.front().address, answer_->streams.front().port);
  }
}

// ---- DTMF: telephone-event on the first audio line ------------------------------------------

rtp::TelephoneEventEdit MediaSession::offer_edit(rtp::Side to, const rtp::SdpInfo& offer) const {
  rtp::TelephoneEventEdit edit;
  auto k = audio_index(offer);
  if (!k) {
    return edit;
  }
  const auto& s = offer.streams[*k];
  const DtmfMode mode = modes_.of(party(to));
  if (mode == DtmfMode::rfc4733 && s.te_payload_type < 0) {
    if (auto pt = free_payload_type(s)) {
      edit.kind = rtp::TelephoneEventEdit::Kind::add;
      edit.payload_type = *pt;
      edit.clock_rate = s.clock_rate == 0 ? 8000 : s.clock_rate;
    }
  } else if (mode == DtmfMode::info && s.te_payload_type >= 0) {
    edit.kind = rtp::TelephoneEventEdit::Kind::strip;
  }
  return edit;
}

rtp::TelephoneEventEdit MediaSession::answer_edit(const rtp::SdpInfo& offer,
                                                  const rtp::TelephoneEventEdit& done) const {
  rtp::TelephoneEventEdit edit;
  auto k = audio_index(offer);
  if (!k) {
    return edit;
  }
  const auto& s = offer.streams[*k];
  if (done.kind == rtp::TelephoneEventEdit::Kind::add && s.te_payload_type < 0) {
    edit.kind = rtp::TelephoneEventEdit::Kind::strip;  // the offerer never had it
  } else if (done.kind == rtp::TelephoneEventEdit::Kind::strip && s.te_payload_type >= 0) {
    // The offerer keeps sending events, which b2buad converts to INFO.
    edit.kind = rtp::TelephoneEventEdit::Kind::add;
    edit.payload_type = static_cast<std::uint8_t>(s.te_payload_type);
    edit.clock_rate = s.te_clock_rate == 0 ? 8000 : s.te_clock_rate;
    edit.events = s.te_events;
  }
  return edit;
}

MediaSession::Sent MediaSession::sent_after(const rtp::SdpInfo& info,
                                            const rtp::TelephoneEventEdit& edit) const {
  Sent out;
  auto k = audio_index(offer_);
  if (!k || *k >= info.streams.size()) {
    return out;
  }
  const auto& s = info.streams[*k];
  using Kind = rtp::TelephoneEventEdit::Kind;
  if (s.te_payload_type >= 0 && edit.kind != Kind::strip) {
    out.payload_type = s.te_payload_type;
    out.clock_rate = s.te_clock_rate == 0 ? 8000 : s.te_clock_rate;
  } else if (edit.kind == Kind::add && s.port != 0 && !s.payload_types.empty()) {
    for (auto pt : s.payload_types) {
      if (pt == edit.payload_type) {
        return out;  // taken: rewrite_sdp added nothing
      }
    }
    out.payload_type = edit.payload_type;
    out.clock_rate = edit.clock_rate == 0 ? 8000 : edit.clock_rate;
  }
  return out;
}

void MediaSession::note_sent(rtp::Side to, const rtp::SdpInfo& info,
                             const rtp::TelephoneEventEdit& edit) {
  sent_[to == rtp::Side::a ? 0 : 1] = sent_after(info, edit);
}

std::optional<std::uint32_t> MediaSession::dtmf_stream() const {
  auto k = audio_index(offer_);
  if (!k || !answer_) {
    return std::nullopt;
  }
  return static_cast<std::uint32_t>(*k);
}

LegTelephoneEvent MediaSession::telephone_event(rtp::Side side) const {
  LegTelephoneEvent out;
  const rtp::SdpInfo* own = side == rtp::Side::a ? &offer_ : (answer_ ? &*answer_ : nullptr);
  auto k = audio_index(offer_);
  if (k && own && *k < own->streams.size() && own->streams[*k].te_payload_type >= 0) {
    out.receives = own->streams[*k].te_payload_type;
    out.receive_clock = own->streams[*k].te_clock_rate == 0 ? 8000 : own->streams[*k].te_clock_rate;
  }
  const Sent& sent = sent_[side == rtp::Side::a ? 0 : 1];
  out.sends = sent.payload_type;
  out.send_clock = sent.clock_rate;
  return out;
}

}  // namespace b2bua
