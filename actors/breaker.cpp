// The circuit breaker of one backend: state machine and actor.
#include "actors/breaker.hpp"

#include <algorithm>
#include <chrono>

#include <caf/event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/protocol/atoms.hpp"

namespace b2bua {

const char* to_string(BreakerMode mode) {
  switch (mode) {
    case BreakerMode::closed: return "closed";
    case BreakerMode::open: return "open";
    case BreakerMode::half_open: return "half_open";
    case BreakerMode::disabled: return "disabled";
  }
  return "closed";
}

bool probe_alive(const std::vector<int>& alive, int status) {
  for (int a : alive) {
    if (a == status || (a >= 1 && a <= 6 && status / 100 == a)) {
      return true;
    }
  }
  return false;
}

bool BackendStatus::try_acquire() {
  const std::uint32_t limit = max_calls.load(std::memory_order_relaxed);
  std::uint32_t n = active_calls.load(std::memory_order_relaxed);
  do {
    if (limit > 0 && n >= limit) {
      return false;
    }
  } while (!active_calls.compare_exchange_weak(n, n + 1, std::memory_order_relaxed));
  return true;
}

void BackendStatus::release() {
  std::uint32_t n = active_calls.load(std::memory_order_relaxed);
  while (n > 0 && !active_calls.compare_exchange_weak(n, n - 1, std::memory_order_relaxed)) {
  }
}

// -- BreakerMachine ----------------------------------------------------------------------------------

BreakerMachine::Change BreakerMachine::move_to(BreakerMode to) {
  Change c{mode_ != to, mode_, to};
  mode_ = to;
  return c;
}

BreakerMachine::Change BreakerMachine::open(std::uint32_t at_least_ms) {
  open_for_ms_ = std::max(cooldown_ms_, at_least_ms);
  trials_used_ = 0;
  return move_to(BreakerMode::open);
}

bool BreakerMachine::admit() {
  switch (mode_) {
    case BreakerMode::closed:
      return true;
    case BreakerMode::half_open:
      if (trials_used_ < cfg_.half_open_trials) {
        ++trials_used_;
        return true;
      }
      return false;
    default:
      return false;
  }
}

BreakerMachine::Change BreakerMachine::on_success() {
  failures_ = 0;
  if (mode_ == BreakerMode::half_open) {
    cooldown_ms_ = cfg_.cooldown_ms;  // recovered: the back-off starts over
    return move_to(BreakerMode::closed);
  }
  return {};
}

BreakerMachine::Change BreakerMachine::on_failure(std::uint32_t retry_after_ms) {
  switch (mode_) {
    case BreakerMode::closed:
      ++failures_;
      if (failures_ >= cfg_.failure_threshold || retry_after_ms > 0) {
        return open(retry_after_ms);
      }
      return {};
    case BreakerMode::half_open: {
      ++failures_;
      // The trial failed: open again, for twice as long as last time (up to the maximum).
      cooldown_ms_ = std::min(cfg_.max_cooldown_ms, cooldown_ms_ * 2);
      return open(retry_after_ms);
    }
    default:
      ++failures_;  // a late outcome while open or disabled changes nothing
      return {};
  }
}

BreakerMachine::Change BreakerMachine::on_cooldown_end() {
  if (mode_ != BreakerMode::open) {
    return {};
  }
  trials_used_ = 0;
  return move_to(BreakerMode::half_open);
}

BreakerMachine::Change BreakerMachine::set_disabled(bool disabled) {
  if (disabled) {
    return move_to(BreakerMode::disabled);
  }
  if (mode_ != BreakerMode::disabled) {
    return {};
  }
  failures_ = 0;
  cooldown_ms_ = cfg_.cooldown_ms;
  return move_to(BreakerMode::closed);
}

// -- the actor ---------------------------------------------------------------------------------------

namespace {

using Self = caf::stateful_actor<BreakerState>;

void publish(Self* self) {
  auto& st = self->state;
  st.status->mode.store(static_cast<std::uint8_t>(st.machine->mode()));
  st.status->consecutive_failures.store(st.machine->consecutive_failures());
}

// Applies a state change: log, count, and arm the timer the new state needs.
void changed(Self* self, BreakerMachine::Change c, const std::string& why) {
  auto& st = self->state;
  publish(self);
  if (!c.changed) {
    return;
  }
  st.status->state_changes.fetch_add(1, std::memory_order_relaxed);
  ++st.generation;
  if (c.to == BreakerMode::open) {
    spdlog::warn("backend {} breaker {} -> open for {} ms: {}", st.status->uri, to_string(c.from),
                 st.machine->cooldown_ms(), why);
    self->delayed_send(self, std::chrono::milliseconds(st.machine->cooldown_ms()),
                       timeout_atom::value, st.generation);
  } else if (c.to == BreakerMode::half_open) {
    spdlog::info("backend {} breaker open -> half_open: {}", st.status->uri, why);
    // Should no trial ever report back (its caller hung up first), free the slots later.
    self->delayed_send(self, std::chrono::milliseconds(st.machine->cooldown_ms()),
                       timeout_atom::value, st.generation);
  } else {
    spdlog::warn("backend {} breaker {} -> {}: {}", st.status->uri, to_string(c.from),
                 to_string(c.to), why);
  }
}

void on_outcome(Self* self, bool ok, std::uint32_t retry_after_s, const std::string& why) {
  auto& st = self->state;
  if (ok) {
    st.status->successes_total.fetch_add(1, std::memory_order_relaxed);
    changed(self, st.machine->on_success(), why.empty() ? "success" : why);
  } else {
    st.status->failures_total.fetch_add(1, std::memory_order_relaxed);
    changed(self, st.machine->on_failure(BreakerMachine::pause_ms(retry_after_s)), why);
  }
}

void send_probe(Self* self, const ProbeConfig& probe, const std::shared_ptr<SipPort>& sip) {
  auto& st = self->state;
  const BreakerMode m = st.machine->mode();
  const bool may = m == BreakerMode::closed || (m == BreakerMode::half_open && st.machine->admit());
  if (st.probe_seq != 0 || !may) {
    return;  // one probe at a time; none while open (cooldown) or disabled
  }
  st.probe_seq = ++st.probes_sent;
  st.probe_sent = self->clock().now();
  st.status->probes_total.fetch_add(1, std::memory_order_relaxed);
  SipAction a;
  a.kind = SipActionKind::options;
  a.invite.request_uri = st.status->uri;
  a.reply_to = caf::actor{self};
  a.tag = st.probe_seq;
  sip->execute(std::move(a));
  // The answer for a lost probe is "no answer": status 0 after timeout_ms.
  self->delayed_send(self, std::chrono::milliseconds(probe.timeout_ms), probe_atom::value,
                     st.probe_seq, 0);
}

void on_probe_result(Self* self, const ProbeConfig& probe, std::uint64_t seq, int status) {
  auto& st = self->state;
  if (seq == 0 || seq != st.probe_seq) {
    return;  // a late answer or a timeout of a probe already answered
  }
  st.probe_seq = 0;
  st.status->last_probe_status.store(status);
  if (status > 0) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(self->clock().now() -
                                                                    st.probe_sent);
    st.status->last_probe_latency_us.store(us.count());
  }
  const BreakerMode m = st.machine->mode();
  if (m == BreakerMode::open || m == BreakerMode::disabled) {
    return;
  }
  if (status > 0 && probe_alive(probe.alive, status)) {
    on_outcome(self, true, 0, "OPTIONS answered " + std::to_string(status));
  } else if (status == 0) {
    on_outcome(self, false, 0, "OPTIONS not answered within " + std::to_string(probe.timeout_ms) +
                                   " ms");
  } else {
    on_outcome(self, false, 0, "OPTIONS answered " + std::to_string(status));
  }
}

}  // namespace

caf::behavior breaker_actor(Self* self, std::shared_ptr<BackendStatus> status, BreakerConfig cfg,
                            ProbeConfig probe, std::shared_ptr<SipPort> sip) {
  auto& st = self->state;
  st.machine = std::make_unique<BreakerMachine>(cfg);
  st.status = std::move(status);
  publish(self);
  if (probe.enabled && sip) {
    self->send(self, probe_atom::value);
  }
  return {
      [self](admit_atom) { return self->state.machine->admit(); },
      [self](outcome_atom, bool ok, std::uint32_t retry_after_s, const std::string& why) {
        on_outcome(self, ok, retry_after_s, why);
      },
      [self](disable_atom, bool disabled) {
        changed(self, self->state.machine->set_disabled(disabled),
                disabled ? "disabled by the operator" : "enabled by the operator");
      },
      [self](timeout_atom, std::uint64_t generation) {
        auto& st = self->state;
        if (generation != st.generation) {
          return;
        }
        if (st.machine->mode() == BreakerMode::half_open) {
          st.machine->reset_trials();
          self->delayed_send(self, std::chrono::milliseconds(st.machine->cooldown_ms()),
                             timeout_atom::value, st.generation);
          return;
        }
        changed(self, st.machine->on_cooldown_end(), "cooldown over");
      },
      [self, probe, sip](probe_atom) {
        send_probe(self, probe, sip);
        self->delayed_send(self, std::chrono::milliseconds(probe.interval_ms), probe_atom::value);
      },
      [self, probe](probe_atom, std::uint64_t seq, int status) {
        on_probe_result(self, probe, seq, status);
      },
  };
}

}  // namespace b2bua
