// The bridge's guard: faults inside the bridge end the call with a final response.
#include "actors/bridge_guard.hpp"

#include <chrono>

#include <caf/exit_reason.hpp>
#include <spdlog/spdlog.h>

#include "actors/protocol/atoms.hpp"
#include "rtp/relay_actor.hpp"

namespace b2bua::bridge_guard {

std::string describe(const std::exception_ptr& e) {
  try {
    if (e) {
      std::rethrow_exception(e);
    }
    return "no exception";
  } catch (const std::exception& x) {
    return std::string("exception: ") + x.what();
  } catch (...) {
    return "unknown exception";
  }
}

void set_peers(Self* self, std::vector<rtp::PeerUpdate> peers) {
  auto& st = self->state;
  for (auto& p : peers) {
    if (!st.relay) {
      return;
    }
    const std::string what = std::string("relay refused the ") +
                             (p.side == rtp::Side::a ? "caller" : "callee") + "'s address " +
                             p.addr.substr(0, 64);
    self->request(st.relay, std::chrono::seconds(2), rtp::set_peer_atom::value, std::move(p))
        .then([] {},
              [self, what](caf::error& err) {
                auto& st = self->state;
                if (st.ending || (st.a_done && st.b_done)) {
                  return;  // the relay went with the call
                }
                const bool relay_err = err.category() == rtp::relay_error_category;
                abort_call(self, what + " (" +
                                     (relay_err ? rtp::to_string(static_cast<rtp::RelayErrc>(
                                                      err.code()))
                                                : "no answer") +
                                     ")");
              });
  }
}

void install(Self* self) {
  self->set_error_handler([self](caf::error& err) {
    abort_call(self, "unexpected error message (code " + std::to_string(err.code()) + ")");
  });
  self->set_exception_handler([self](caf::scheduled_actor*, std::exception_ptr& e) -> caf::error {
    abort_call(self, describe(e));
    // The actor stops now: what maybe_finish would do once both legs ended, done here.
    auto& st = self->state;
    try {
      if (st.registry && st.info.state != "ended") {
        st.info.state = "ended";
        self->send(st.registry, ended_atom::value, st.info);
      }
    } catch (...) {
      // nothing more can be done for this call
    }
    for (auto* slot : {&st.slot, &st.reserved}) {
      if (*slot) {
        (*slot)->release();
        *slot = nullptr;
      }
    }
    return caf::exit_reason::unhandled_exception;
  });
}

}  // namespace b2bua::bridge_guard
