// The media relay's vocabulary: ids, the plain value types of the relay control API and of the
// relay actor's messages (each with a CAF `inspect`), and the relay's error codes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace b2bua::rtp {

/// Names one call's relay (all its media streams). Chosen by the caller (the call id fits); 0 is
/// never valid.
using RelayId = std::uint64_t;

/// A: the caller's side (ports offered to the caller). B: the callee's side.
enum class Side : std::uint8_t { a = 0, b = 1 };

constexpr Side other(Side s) noexcept {
  return s == Side::a ? Side::b : Side::a;
}

/// Where a side's packets are sent and which sources are accepted.
enum class LatchMode : std::uint8_t {
  /// Symmetric RTP (NAT): a socket accepts the first source that sends to it and sends that side's
  /// packets there; until then it sends to the SDP address. A different source that sends
  /// `relatch_after` packets in a row (none from the latched one in between) takes over; the
  /// packets before that are dropped and counted. New peer addresses (re-offer) reset the latch.
  latch,
  /// Trust SDP only: packets from any other address are dropped and counted.
  sdp,
};

/// Errors of the relay control API, as values (the relay actor turns them into caf::error).
enum class RelayErrc : std::uint8_t {
  ok = 0,
  pool_exhausted = 1,   ///< no port pair could be bound: answer 503
  unknown_relay = 2,    ///< no such relay (never allocated or already released)
  duplicate_relay = 3,  ///< allocate() for an id that is live
  bad_stream = 4,       ///< stream index out of range, or a stream count of 0 or over the limit
  bad_address = 5,      ///< the peer address does not parse or its family differs from ours
  stopped = 6,          ///< the engine is not running
};

const char* to_string(RelayErrc e) noexcept;

/// A new or changed remote address of one side of one media stream, from SDP.
struct PeerUpdate {
  Side side = Side::a;
  std::uint32_t stream = 0;      ///< index of the m= line among the relayed streams
  std::string addr;              ///< numeric IP; empty = unknown yet
  std::uint16_t port = 0;        ///< RTP port; 0 = unknown (or a disabled stream)
  std::uint16_t rtcp_port = 0;   ///< 0 = port + 1 (RFC 3550), ignored with rtcp_mux
  bool rtcp_mux = false;         ///< this side multiplexes RTCP on the RTP port (RFC 5761)
  std::uint32_t clock_rate = 0;  ///< RTP clock of the codec for jitter; 0 = keep (default 8000)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, PeerUpdate& x) {
  return f(caf::meta::type_name("PeerUpdate"), x.side, x.stream, x.addr, x.port, x.rtcp_port,
           x.rtcp_mux, x.clock_rate);
}

/// The local ports of one media stream: what goes into the SDP sent to each side.
struct StreamPorts {
  std::uint16_t a_rtp = 0;  ///< offered to the caller
  std::uint16_t a_rtcp = 0;
  std::uint16_t b_rtp = 0;  ///< offered to the callee
  std::uint16_t b_rtcp = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, StreamPorts& x) {
  return f(caf::meta::type_name("StreamPorts"), x.a_rtp, x.a_rtcp, x.b_rtp, x.b_rtcp);
}

/// Reply to an allocation.
struct RelayPorts {
  RelayId relay = 0;
  std::string
      ip;  ///< the IP the sockets are bound to (`media.listen_ip`; SDP may advertise another)
  std::vector<StreamPorts> streams;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, RelayPorts& x) {
  return f(caf::meta::type_name("RelayPorts"), x.relay, x.ip, x.streams);
}

/// How the relay treats the RFC 4733 telephone-events one side sends on one stream.
struct DtmfPickup {
  Side side = Side::a;        ///< the side whose packets these are
  std::uint32_t stream = 0;   ///< index of the m= line among the relayed streams
  std::int16_t payload_type = -1;  ///< the telephone-event PT that side sends; -1 = off
  std::uint32_t clock_rate = 8000;  ///< of the telephone-event format (durations in ms)
  bool forward = true;  ///< false: event packets are reported but not sent to the other side
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, DtmfPickup& x) {
  return f(caf::meta::type_name("DtmfPickup"), x.side, x.stream, x.payload_type, x.clock_rate,
           x.forward);
}

/// A digit the relay sends as RFC 4733 events towards one side (SIP INFO converted).
struct DigitRequest {
  Side towards = Side::b;
  std::uint32_t stream = 0;
  std::string digit;                ///< 0-9, *, #, A-D
  std::uint32_t duration_ms = 160;  ///< clamped to 40..5000
  std::uint8_t payload_type = 101;  ///< the telephone-event PT that side receives
  std::uint32_t clock_rate = 8000;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, DigitRequest& x) {
  return f(caf::meta::type_name("DigitRequest"), x.towards, x.stream, x.digit, x.duration_ms,
           x.payload_type, x.clock_rate);
}

/// A digit one side sent as RFC 4733 events, seen to its end by the relay.
struct PickedDigit {
  RelayId relay = 0;
  std::uint32_t stream = 0;
  Side side = Side::a;        ///< the side that sent it
  std::string digit;          ///< 0-9, *, #, A-D
  std::uint32_t duration_ms = 0;

  friend bool operator==(const PickedDigit&, const PickedDigit&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, PickedDigit& x) {
  return f(caf::meta::type_name("PickedDigit"), x.relay, x.stream, x.side, x.digit,
           x.duration_ms);
}

/// Counters of what one side sent to us (summed over the relay's streams).
struct SideStats {
  std::uint64_t packets = 0;       ///< accepted packets, RTP and RTCP
  std::uint64_t bytes = 0;         ///< UDP payload bytes of those
  std::uint64_t rtcp_packets = 0;  ///< of which RTCP
  std::uint64_t forwarded = 0;     ///< handed to the kernel towards the other side
  std::uint64_t dropped = 0;    ///< not forwarded: strangers, truncated, no peer yet, send errors
  std::uint64_t lost = 0;       ///< RTP packets lost (RFC 3550 A.1), summed over streams
  std::uint32_t jitter_us = 0;  ///< RFC 3550 A.8 jitter, the largest of the streams
  std::int64_t last_packet_ns = 0;  ///< steady-clock time of the last accepted packet, 0 = none
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, SideStats& x) {
  return f(caf::meta::type_name("SideStats"), x.packets, x.bytes, x.rtcp_packets, x.forwarded,
           x.dropped, x.lost, x.jitter_us, x.last_packet_ns);
}

/// A snapshot of one relay's counters, taken on its worker thread.
struct RelayStats {
  RelayId relay = 0;
  bool found = false;  ///< false: the relay is unknown (released, never allocated, engine stopped)
  SideStats a;         ///< what the caller sent
  SideStats b;         ///< what the callee sent
  std::int64_t now_ns = 0;  ///< the worker's steady clock when the snapshot was taken

  std::uint64_t packets() const { return a.packets + b.packets; }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, RelayStats& x) {
  return f(caf::meta::type_name("RelayStats"), x.relay, x.found, x.a, x.b, x.now_ns);
}

/// Counters of all relays of an engine since it started (a metrics scrape sums the workers).
struct RelayTotals {
  std::uint64_t packets = 0;  ///< received and accepted
  std::uint64_t bytes = 0;
  std::uint64_t forwarded = 0;
  std::uint64_t dropped = 0;
  std::uint64_t rx_batches = 0;  ///< recvmmsg calls that returned packets
  std::uint64_t tx_batches = 0;  ///< sendmmsg calls
  std::uint64_t relays = 0;      ///< relays live now
  std::uint64_t digits_picked = 0;    ///< RFC 4733 digits seen to their end
  std::uint64_t digits_injected = 0;  ///< digits b2buad sent as RFC 4733 events
  std::uint64_t digits_dropped = 0;   ///< digits to send over a relay's queue limit, and digits picked up
                                      ///< within 50 ms of the previous one (not reported)
};

}  // namespace b2bua::rtp
