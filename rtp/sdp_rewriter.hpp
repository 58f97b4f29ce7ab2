// SDP for the media relay: reads a peer's offer or answer and rewrites it so that media flows
// through b2buad's own ports. Pure functions over text (sofia-sip's SDP parser and printer); no
// CAF, no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace b2bua::rtp {

/// What a stream's connection address (c=) is.
enum class AddressKind : std::uint8_t {
  none,       ///< no c= applies
  ip4,        ///< an IPv4 literal, declared IN IP4
  ip6,        ///< an IPv6 literal, declared IN IP6
  host_name,  ///< a fully qualified domain name (RFC 4566 allows one; b2buad does not resolve it)
  invalid,    ///< anything else: garbage, a literal of the other family than declared, ...
};

/// One m= line as the peer described it.
struct SdpStream {
  /// "audio", "video", ... (sofia lower-cases the well-known ones).
  std::string media;
  /// Media-level c= if present, else session-level c=; "" if neither.
  std::string address;
  /// The connection address is `IN IP6`.
  bool ipv6 = false;
  /// What `address` is.
  AddressKind address_kind = AddressKind::none;
  /// 0 = rejected or disabled stream.
  std::uint16_t port = 0;
  /// a=rtcp:<port> if present and valid, else port+1; 0 when port is 0 (or 65535).
  std::uint16_t rtcp_port = 0;
  /// Media-level a=rtcp-mux present.
  bool rtcp_mux = false;
  /// "sendrecv" (default), "sendonly", "recvonly" or "inactive"; media-level overrides session.
  std::string direction;
  /// The stream's connection is c=IN IP4 0.0.0.0 (RFC 2543 hold).
  bool hold_zero_address = false;
  /// Transport as sofia names it: "RTP/AVP", "RTP/SAVP", "RTP/SAVPF", "udptl", ...
  std::string protocol;
  /// RTP payload types of the m= line, in order (empty for other transports).
  std::vector<std::uint8_t> payload_types;
  /// Clock rate of the first payload type (its rtpmap, or the static table); 0 = unknown.
  std::uint32_t clock_rate = 0;
  /// The telephone-event (RFC 4733) payload type, -1 = none; its clock rate and a=fmtp events.
  int te_payload_type = -1;
  std::uint32_t te_clock_rate = 0;
  std::string te_events;

  friend bool operator==(const SdpStream&, const SdpStream&) = default;
};

/// What b2buad needs to know about one session description.
struct SdpInfo {
  /// In m= line order.
  std::vector<SdpStream> streams;
  /// o= sess-id in decimal; sofia saturates values above 2^64-1 to 18446744073709551615.
  std::string origin_session_id;
  /// o= sess-version (saturates likewise).
  std::uint64_t origin_version = 0;
};

/// Largest SDP body accepted, in bytes. Larger bodies are refused before sofia sees them.
inline constexpr std::size_t max_sdp_size = 65535;

/// Parses SDP text. Lines sofia-sip cannot read but b2buad can relay around are accepted and
/// printed back untouched by rewrite_sdp: unknown line types, attribute names outside letters,
/// digits and '-', and a=rtpmap without a clock rate (RFC 4475's "a=rtpmap:31 LPC"; the payload
/// type's clock rate is then unknown, 0).
/// Returns nullopt and sets `*error` (one printable line, if `error` is not null) when sofia cannot
/// parse it or it is not usable: no m= line, a port above 65535, no connection address for a stream
/// with a non-zero port, a NUL byte, more than `max_sdp_size` bytes, or lines that sofia-sip 1.12
/// would silently drop or mis-read. Never throws. Any thread may call it; calls share nothing.
std::optional<SdpInfo> parse_sdp(std::string_view sdp, std::string* error) noexcept;

/// What rewrite_sdp does to telephone-event (RFC 4733, DTMF) in one RTP m= line.
struct TelephoneEventEdit {
  enum class Kind : std::uint8_t {
    keep,
    add,    ///< append `payload_type` telephone-event/`clock_rate` (a=fmtp `events`) if absent
    strip,  ///< remove every telephone-event format, unless it is the line's only format
  };
  Kind kind = Kind::keep;
  std::uint8_t payload_type = 101;  ///< add: must not be used by the line already (else kept)
  std::uint32_t clock_rate = 8000;
  std::string events = "0-16";
};

/// b2buad's ports for one m= line. `port` 0 keeps (or makes) the stream disabled; `rtcp_port` 0
/// means the RFC 3550 default, port+1. `te` edits its telephone-event format.
struct LocalStream {
  std::uint16_t port = 0;
  std::uint16_t rtcp_port = 0;
  TelephoneEventEdit te = {};
};

/// Per-direction memory of what b2buad last sent on one leg, so that o= versions behave (RFC 3264
/// 8). Start with a default-constructed value; the first rewrite initialises it. Before that, a
/// caller may set `session_id` (decimal, fits in 64 bits) and `version`; otherwise the session id
/// is taken from the first SDP rewritten for the leg and the version starts at 0.
struct SdpOriginState {
  bool initialised = false;
  std::string session_id;     ///< b2buad's o= sess-id on this leg
  std::uint64_t version = 0;  ///< o= sess-version of `last_body`
  std::string last_body;      ///< the SDP b2buad last sent on this leg
};

/// Rewrites `sdp` for the other leg so that its media flows through `address` and `local`.
/// - Session and media c= become `address` (`IN IP6` when it contains ':'), except
///   c=IN IP4 0.0.0.0, which is kept so that a hold stays a hold. Several media-level c= lines
///   collapse to one.
/// - m= port i becomes local[i].port; 0 stays 0, and local[i].port 0 disables the stream.
///   "port/count" becomes a single port.
/// - a=rtcp becomes the local RTCP port (plus `address` if the original named an address). It is
///   removed when a=rtcp-mux is present or the stream is disabled, and added when the local RTCP
///   port is not port+1.
/// - ICE attributes are removed: candidate, ice-ufrag, ice-pwd, ice-options, ice-lite,
///   ice-mismatch, end-of-candidates, remote-candidates.
/// - telephone-event is added or stripped as local[i].te says (RTP lines of live streams only).
/// - o= becomes "b2bua <state.session_id> <version> IN IP4|IP6 <address>"; the version goes up by
///   exactly one when the body differs from state.last_body. A missing s= or t= is supplied.
/// - Everything else is kept in order, except that sofia prints a=rtpmap and a=fmtp first in an
///   RTP/AVP or RTP/SAVP media section.
/// Returns nullopt and sets `*error` (one line) on input parse_sdp refuses, an `address` that is
/// not an IPv4 or IPv6 literal, fewer `local` entries than m= lines, or an invalid
/// state.session_id; the state is then unchanged. Never throws. Any thread may call it; the caller
/// owns `state`.
std::optional<std::string> rewrite_sdp(std::string_view sdp, const std::string& address,
                                       const std::vector<LocalStream>& local, SdpOriginState& state,
                                       std::string* error) noexcept;

}  // namespace b2bua::rtp
