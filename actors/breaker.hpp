// The circuit breaker of one backend: its state machine, the status it shares with the router,
// the bridges and the REST API, and the actor that owns both and probes the backend with OPTIONS.
//
// In: (admit_atom) -> bool: may a call go to this backend now? closed: yes; half-open: yes while
//   trial slots are left; open or disabled: no. Callers wait briefly and treat no answer as yes.
// In: (outcome_atom, bool ok, uint32 retry_after_s, std::string why) from bridges: a call attempt's
//   result. Failures are 408, 5xx, no answer within the failover timeout, transport errors; a
//   retry_after_s > 0 (503 with Retry-After) opens the breaker for at least that long.
// In: (disable_atom, bool) from the operator: disabled refuses every call until enabled again.
// Timers (own messages): (timeout_atom, uint64 generation) the cooldown of the open state ended
//   -> half-open; (probe_atom) send the next OPTIONS probe; (probe_atom, uint64 seq, int status)
//   the probe's answer from the SIP layer (status 0 = no answer within probe timeout_ms).
// Out: OPTIONS through SipPort (SipActionKind::options, reply to this actor). Every state change
//   is logged (warn) with the backend and the reason, and counted in BackendStatus.
#pragma once

#include <algorithm>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_clock.hpp>
#include <caf/behavior.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/backend_spec.hpp"
#include "actors/protocol/sip_port.hpp"

namespace b2bua {

enum class BreakerMode : std::uint8_t { closed, open, half_open, disabled };

/// "closed", "open", "half_open", "disabled".
const char* to_string(BreakerMode mode);

/// True when `status` is one of `alive` (see ProbeConfig::alive).
bool probe_alive(const std::vector<int>& alive, int status);

/// What everyone may read about a backend without asking its actor. Written by the breaker actor
/// (mode, counters, probe results) and by bridges (active_calls); read by the router, the REST API
/// and the metrics, lock-free.
struct BackendStatus {
  std::string uri;
  std::string group;                 ///< first group that named it ("" for a literal target)
  std::atomic<std::uint32_t> max_calls{0};  ///< 0 = unlimited; a reload may change it
  std::atomic<std::uint8_t> mode{0}; ///< BreakerMode
  std::atomic<std::uint32_t> active_calls{0};
  std::atomic<std::uint32_t> consecutive_failures{0};
  std::atomic<std::uint64_t> failures_total{0};
  std::atomic<std::uint64_t> successes_total{0};
  std::atomic<std::uint64_t> state_changes{0};
  std::atomic<std::uint64_t> probes_total{0};
  std::atomic<std::int64_t> last_probe_latency_us{-1};  ///< -1 = never answered
  std::atomic<int> last_probe_status{0};                ///< 0 = none (or timed out)

  BreakerMode current() const { return static_cast<BreakerMode>(mode.load()); }

  /// Takes a call slot unless the backend is at max_calls. Any thread.
  bool try_acquire();
  /// Gives a slot back. Any thread.
  void release();
};

/// The breaker's state machine without timers or messages (times are given by the caller).
class BreakerMachine {
public:
  struct Change {
    bool changed = false;
    BreakerMode from = BreakerMode::closed;
    BreakerMode to = BreakerMode::closed;
  };

  explicit BreakerMachine(BreakerConfig cfg) : cfg_(cfg), cooldown_ms_(cfg.cooldown_ms) {}

  BreakerMode mode() const { return mode_; }
  std::uint32_t consecutive_failures() const { return failures_; }
  /// How long the open state lasts (set when it opens).
  std::uint32_t cooldown_ms() const { return open_for_ms_; }

  /// Asks for a slot: true when closed, or half-open with a trial left (which it takes).
  bool admit();
  Change on_success();
  /// `retry_after_ms` > 0: the backend asked for a pause; the breaker opens for at least that long.
  Change on_failure(std::uint32_t retry_after_ms = 0);
  /// A backend's Retry-After in seconds as the pause the breaker honours: at most an hour (one
  /// damaged or hostile response must not take a backend out of service for days).
  static std::uint32_t pause_ms(std::uint32_t retry_after_s) {
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(retry_after_s, 3600) * 1000);
  }
  /// The open state's cooldown ended: half-open with fresh trial slots.
  Change on_cooldown_end();
  /// Half-open for a cooldown with every trial taken and no outcome: free the slots again.
  void reset_trials() { trials_used_ = 0; }
  Change set_disabled(bool disabled);

private:
  Change move_to(BreakerMode to);
  Change open(std::uint32_t at_least_ms);

  BreakerConfig cfg_;
  BreakerMode mode_ = BreakerMode::closed;
  std::uint32_t failures_ = 0;
  std::uint32_t trials_used_ = 0;
  std::uint32_t cooldown_ms_;   ///< the next cooldown (doubles on reopen from half-open)
  std::uint32_t open_for_ms_ = 0;
};

struct BreakerState {
  std::unique_ptr<BreakerMachine> machine;
  std::shared_ptr<BackendStatus> status;
  std::uint64_t generation = 0;    ///< of the current open/half-open period (stale timers ignored)
  std::uint64_t probe_seq = 0;     ///< of the probe in flight (0 = none)
  std::uint64_t probes_sent = 0;
  caf::actor_clock::time_point probe_sent;
  static inline const char* name = "b2bua.breaker";
};

/// One backend's breaker. `sip` may be null when probing is off.
caf::behavior breaker_actor(caf::stateful_actor<BreakerState>* self,
                            std::shared_ptr<BackendStatus> status, BreakerConfig cfg,
                            ProbeConfig probe, std::shared_ptr<SipPort> sip);

}  // namespace b2bua
