// Engine: the SIP thread's watchdog (sip/watchdog.hpp) and what a declared stall does to the
// engine: new calls refused, /health and /ready 503, the owner's hook (b2buad exits).
#include <chrono>

#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "actors/protocol/atoms.hpp"
#include "api/engine/engine.hpp"
#include "api/engine/detail/engine_parts.hpp"
#include "api/engine/detail/engine_settings.hpp"

namespace b2bua::api {

void Engine::start_watchdog() {
  auto settings = watchdog_settings(cfg_);
  if (!settings) {
    return;
  }
  auto& p = *parts_;
  std::shared_ptr<sip::SipStack> stack = p.sip;
  p.watchdog = std::make_unique<sip::Watchdog>(
      *settings, [stack](std::function<void()> fn) { return stack->post(std::move(fn)); },
      p.sip->native_thread(), [this](const sip::StallReport&) { stalled(); });
  p.watchdog->start();
}

// The watchdog thread, once. The owner's hook comes first: if what blocks the SIP thread also
// blocks the log (a full stderr pipe), b2buad must still get to exit.
void Engine::stalled() {
  if (on_sip_stall_) {
    on_sip_stall_();
  }
  auto& p = *parts_;
  // Every new call enters through the SIP thread, which cannot admit it now; the router refuses
  // whatever is queued too (its 503 waits in the SIP thread's queue like everything else).
  p.sip->set_draining(true);
  caf::anon_send(p.router, drain_atom::value);
  spdlog::error("b2bua.sip.stalled: new calls are refused; /health and /ready answer 503 "
                "sip_stalled");
}

bool Engine::sip_stalled() const {
  return parts_ && parts_->watchdog && parts_->watchdog->stalled();
}

}  // namespace b2bua::api
