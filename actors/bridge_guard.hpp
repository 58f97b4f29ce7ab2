// The bridge's guard: no fault inside the bridge may leave a caller without a final response or a
// relay holding its ports. Any exception in a handler, any error reply the bridge did not ask for
// and any refusal of a peer address by the relay end the call through abort_call.
#pragma once

#include <exception>
#include <string>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/bridge.hpp"
#include "rtp/relay_types.hpp"

namespace b2bua::bridge_guard {

using Self = caf::stateful_actor<BridgeState>;

/// Ends the call after a fault of b2buad's own: 500 `b2bua.internal` to a caller still waiting
/// (CANCEL to the callee), BYE both ways once answered (Reason "internal error"); the relay is
/// released at once. End reason "internal_error". Defined in bridge.cpp. Never throws.
void abort_call(Self* self, const std::string& what) noexcept;

/// A one-line description of an exception.
std::string describe(const std::exception_ptr& e);

/// Runs `f()`; an exception ends the call with abort_call instead of killing the bridge (which
/// would strand its caller: nothing else answers it).
template <class F>
void run(Self* self, const char* where, F&& f) noexcept {
  try {
    f();
  } catch (...) {
    abort_call(self, std::string(where) + ": " + describe(std::current_exception()));
  }
}

/// Sends each peer address to the relay as a request; a refusal (or no answer) ends the call with
/// abort_call, unless it is ending anyway.
void set_peers(Self* self, std::vector<rtp::PeerUpdate> peers);

/// Installs the bridge's last resorts: an exception that escaped `run` or an error message
/// nobody asked for ends the call (the exception handler then also publishes the call's end and
/// releases its slots, as the actor stops).
void install(Self* self);

}  // namespace b2bua::bridge_guard
