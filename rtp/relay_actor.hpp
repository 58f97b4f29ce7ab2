// The relay actor: one per call, the control plane of the call's media relay in the Engine. It
// allocates the ports, passes on peer addresses, answers counter requests and watches for RTP
// timeouts. Packets never pass through it.
//
// Spawn: relay_actor(engine, relay id, watcher, config). It monitors the watcher (the bridge).
// In (request -> reply):
//   (allocate_atom, uint32_t stream_count) -> RelayPorts | error(RelayErrc): pool_exhausted (503),
//     duplicate_relay when already allocated, bad_stream, stopped. Nothing stays allocated on
//     error.
//   (set_peer_atom, PeerUpdate) -> void | error(RelayErrc): unknown_relay before allocate,
//     bad_stream, bad_address. Send it for each side as its SDP arrives (and on re-offers).
//   (stats_atom) -> RelayStats. Answered from the worker thread's snapshot, normally within
//     milliseconds; the requester sets its own timeout (config timers.request_ms or so).
// In (no reply):
//   (dtmf_atom, DtmfPickup) - how one side's RFC 4733 events are picked up (payload type, clock,
//     forwarded or not); its digits come back as below. Ignored for a relay already gone.
//   (digit_atom, DigitRequest) - send a digit as RFC 4733 events towards one side (queued in the
//     worker; dropped and counted beyond max_queued_digits).
//   (answered_atom) - the call is answered: from now on, no packet in either direction for
//     `timeout_s` (counted from the answer or the last packet seen) sends the timeout below.
//   (release_atom) - quit; the ports go back to the pool.
// Out: (counters_atom, RelayStats) to the watcher after every periodic snapshot (about once a
//   second once answered), for the call table.
// Out: (digit_atom, PickedDigit) to the watcher for each digit a side sent as RFC 4733 events
//   (the worker posts it to the relay with the same atom).
// Out: (rtp_timeout_atom, RelayId) to the watcher, once. The actor stays up (the watcher ends the
//   call and then releases the relay).
// Timer: after `answered_atom`, every `check_ms` on the CAF clock, a counters snapshot.
// DOWN of the watcher: quit. On every exit (release, quit, kill, error) the state's destructor
//   releases the relay in the engine.
#pragma once

#include <cstdint>
#include <map>
#include <memory>

#include <caf/actor.hpp>
#include <caf/actor_clock.hpp>
#include <caf/atom.hpp>
#include <caf/behavior.hpp>
#include <caf/error.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/protocol/refusal.hpp"
#include "rtp/relay_control.hpp"
#include "rtp/relay_types.hpp"

namespace b2bua::rtp {

using allocate_atom = caf::atom_constant<caf::atom("allocate")>;      // bridge -> relay
using set_peer_atom = caf::atom_constant<caf::atom("set_peer")>;      // bridge -> relay
using stats_atom = caf::atom_constant<caf::atom("stats")>;            // anyone -> relay
using answered_atom = caf::atom_constant<caf::atom("answered")>;      // bridge -> relay
using release_atom = caf::atom_constant<caf::atom("release")>;        // bridge -> relay
using rtp_timeout_atom = caf::atom_constant<caf::atom("rtp_tmout")>;  // relay -> watcher
using rtp_tick_atom = caf::atom_constant<caf::atom("rtp_tick")>;      // relay -> itself
using counters_atom = caf::atom_constant<caf::atom("counters")>;      // worker -> relay
using dtmf_atom = caf::atom_constant<caf::atom("dtmf")>;              // bridge -> relay
using digit_atom = caf::atom_constant<caf::atom("digit")>;  // bridge <-> relay <- worker

/// The error category of RelayErrc values inside caf::error.
constexpr caf::atom_value relay_error_category = caf::atom("rtp");

/// RelayErrc as a caf::error (category `relay_error_category`, code = the enum value).
caf::error make_error(RelayErrc e);

/// The refusal the caller gets when the relay fails a call with `e`: media_ports_exhausted for
/// an empty port pool (503 with Retry-After), media_error for anything else (500).
Refusal refusal_of(RelayErrc e) noexcept;

struct RelayActorConfig {
  std::uint32_t timeout_s = 30;   ///< media.rtp_timeout_s; 0 = never
  std::uint32_t check_ms = 1000;  ///< how often counters are read once answered
};

struct RelayState {
  std::shared_ptr<RelayControl> engine;
  RelayId id = 0;
  caf::actor watcher;
  RelayActorConfig cfg;
  bool allocated = false;
  bool answered = false;
  bool timed_out = false;
  std::uint64_t last_packets = 0;                ///< packets both ways at the last change
  caf::actor_clock::time_point last_activity{};  ///< CAF clock: the answer or that change
  std::uint64_t next_token = 1;
  std::map<std::uint64_t, caf::typed_response_promise<RelayStats>>
      pending;  ///< stats requests by token

  RelayState() = default;
  RelayState(const RelayState&) = delete;
  RelayState& operator=(const RelayState&) = delete;
  /// Releases the relay in the engine (runs when the actor exits, however it exits).
  ~RelayState();

  /// Marks the call answered at `now`: the idle time counts from here.
  void on_answered(caf::actor_clock::time_point now);
  /// Notes a snapshot seen at `now`. True exactly once: when the RTP timeout fires.
  bool on_counters(const RelayStats& s, caf::actor_clock::time_point now);

  static inline const char* name = "b2bua.rtp.relay";
};

/// `engine` must outlive nothing in particular (shared); `watcher` may be null (no timeout report).
caf::behavior relay_actor(caf::stateful_actor<RelayState>* self,
                          std::shared_ptr<RelayControl> engine, RelayId id, caf::actor watcher,
                          RelayActorConfig cfg);

}  // namespace b2bua::rtp
