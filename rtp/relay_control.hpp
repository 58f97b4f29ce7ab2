// RelayControl: the control API of the media relay as the call actors see it. The Engine
// implements it; actor tests replace it with a fake.
#pragma once

#include <cstdint>
#include <functional>

#include "rtp/relay_types.hpp"

namespace b2bua::rtp {

class RelayControl {
 public:
  /// Receives a counters snapshot. Called exactly once per request: on the relay's worker thread
  /// normally; on the calling thread when the relay is unknown or its worker is not running.
  /// Must not block (post the result where it is needed, e.g. with caf::anon_send).
  using StatsCallback = std::function<void(const RelayStats&)>;
  /// Receives each digit a side sent as RFC 4733 events, on the relay's worker thread. Must not
  /// block (post it on, e.g. with caf::anon_send).
  using DigitCallback = std::function<void(const PickedDigit&)>;

  virtual ~RelayControl() = default;

  /// Binds a port pair per side for each of `stream_count` media streams and starts relaying them
  /// (peers unknown until `set_peer`). On error nothing stays allocated. Any thread.
  virtual RelayErrc allocate(RelayId id, std::uint32_t stream_count, RelayPorts& out) = 0;

  /// Sets (or, with an empty address or port 0, clears) where one side of one stream is sent.
  /// Any thread; applied asynchronously, in order with the other commands for the same relay
  /// (a `stats` round trip after it returns once it has been applied).
  virtual RelayErrc set_peer(RelayId id, const PeerUpdate& peer) = 0;

  /// Stops relaying and returns every port to the pool (asynchronously, once the worker has let go
  /// of the sockets). Unknown ids are ignored. Any thread; never blocks.
  virtual void release(RelayId id) = 0;

  /// Requests a counters snapshot of one relay. Any thread; never blocks.
  virtual void stats(RelayId id, StatsCallback cb) = 0;

  /// Sets how one side's RFC 4733 packets on one stream are picked up (reported to `cb`, which
  /// replaces the relay's callback unless empty) and whether they are still forwarded. Any
  /// thread; applied asynchronously, in order with the other commands.
  virtual RelayErrc set_dtmf(RelayId id, const DtmfPickup& pickup, DigitCallback cb) = 0;

  /// Queues a digit to be sent as RFC 4733 events towards one side (a relay sends one digit at a
  /// time; beyond `max_queued_digits` waiting, requests are dropped and counted). Any thread.
  virtual RelayErrc send_digit(RelayId id, const DigitRequest& digit) = 0;
};

}  // namespace b2bua::rtp
