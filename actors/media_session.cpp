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

}  // namespace

MediaSession::MediaSession(std::string address, std::string session_id)
    : address_(std::move(address)) {
  to_callee_.session_id = session_id;
  to_caller_.session_id = std::move(session_id);
}

bool MediaSession::read_offer(const std::string& sdp, std::string* error) {
  auto info = rtp::parse_sdp(sdp, error);
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
  std::vector<rtp::LocalStream> local;
  for (std::size_t i = 0; i < offer_.streams.size(); ++i) {
    const bool live = i < ports_.streams.size() && offer_.streams[i].port != 0;
    local.push_back(live ? rtp::LocalStream{ports_.streams[i].b_rtp, ports_.streams[i].b_rtcp}
                         : rtp::LocalStream{});
  }
  return rtp::rewrite_sdp(sdp, address_, local, to_callee_, error);
}

std::optional<std::string> MediaSession::answer_for_caller(const std::string& sdp,
                                                           std::vector<rtp::PeerUpdate>* peers,
                                                           std::string* error) {
  auto info = rtp::parse_sdp(sdp, error);
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
  std::vector<rtp::LocalStream> local;
  for (std::size_t i = 0; i < info->streams.size(); ++i) {
    const bool live = i < ports_.streams.size() && info->streams[i].port != 0;
    local.push_back(live ? rtp::LocalStream{ports_.streams[i].a_rtp, ports_.streams[i].a_rtcp}
                         : rtp::LocalStream{});
  }
  auto out = rtp::rewrite_sdp(sdp, address_, local, to_caller_, error);
  if (out) {
    if (peers) {
      *peers = peers_of(*info, rtp::Side::b);
    }
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
  auto info = rtp::parse_sdp(sdp, error);
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
  auto out = rtp::rewrite_sdp(sdp, address_, local_for(to, *info),
                              to == rtp::Side::b ? to_callee_ : to_caller_, error);
  if (out) {
    reoffer_ = ReOffer{from, std::move(*info)};
  }
  return out;
}

std::optional<std::string> MediaSession::reanswer(const std::string& sdp,
                                                  std::vector<rtp::PeerUpdate>* peers,
                                                  std::string* error) {
  if (!reoffer_) {
    if (error) {
      *error = "no open re-offer";
    }
    return std::nullopt;
  }
  auto info = rtp::parse_sdp(sdp, error);
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
  auto out = rtp::rewrite_sdp(sdp, address_, local_for(offerer, *info),
                              offerer == rtp::Side::b ? to_callee_ : to_caller_, error);
  if (!out) {
    return std::nullopt;
  }
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

}  // namespace b2bua
