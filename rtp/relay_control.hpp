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
};

}  // namespace b2bua::rtp
