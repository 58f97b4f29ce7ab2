// The relay actor: per-call control of the media relay and its RTP timeout.
#include "rtp/relay_actor.hpp"

#include <chrono>

#include <caf/actor_cast.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

namespace b2bua::rtp {

caf::error make_error(RelayErrc e) {
  return caf::error(static_cast<std::uint8_t>(e), relay_error_category);
}

Refusal refusal_of(RelayErrc e) noexcept {
  return e == RelayErrc::pool_exhausted ? Refusal::media_ports_exhausted : Refusal::media_error;
}

RelayState::~RelayState() {
  if (engine && allocated) {
    engine->release(id);
  }
}

void RelayState::on_answered(caf::actor_clock::time_point now) {
  answered = true;
  last_activity = now;
}

bool RelayState::on_counters(const RelayStats& s, caf::actor_clock::time_point now) {
  if (s.found && s.packets() != last_packets) {
    last_packets = s.packets();
    last_activity = now;
    return false;
  }
  if (!answered || timed_out || cfg.timeout_s == 0) {
    return false;
  }
  if (now - last_activity >= std::chrono::seconds(cfg.timeout_s)) {
    timed_out = true;
    return true;
  }
  return false;
}

namespace {

using Self = caf::stateful_actor<RelayState>;

// Asks the engine for a snapshot; it comes back as (counters_atom, token, RelayStats).
void request_counters(Self* self, std::uint64_t token) {
  auto me = caf::actor_cast<caf::actor>(self);
  self->state.engine->stats(self->state.id, [me, token](const RelayStats& s) {
    caf::anon_send(me, counters_atom::value, token, s);
  });
}

void schedule_tick(Self* self) {
  auto& st = self->state;
  if (st.answered && !st.timed_out) {
    self->delayed_send(self, std::chrono::milliseconds(st.cfg.check_ms), rtp_tick_atom::value);
  }
}

caf::result<RelayPorts> allocate(Self* self, std::uint32_t streams) {
  auto& st = self->state;
  if (st.allocated) {
    return make_error(RelayErrc::duplicate_relay);
  }
  RelayPorts ports;
  if (auto e = st.engine->allocate(st.id, streams, ports); e != RelayErrc::ok) {
    return make_error(e);
  }
  st.allocated = true;
  return ports;
}

void on_counters(Self* self, std::uint64_t token, const RelayStats& s) {
  auto& st = self->state;
  if (auto i = st.pending.find(token); i != st.pending.end()) {
    i->second.deliver(s);
    st.pending.erase(i);
  }
  if (token == 0 && st.watcher && s.found) {
    self->send(st.watcher, counters_atom::value, s);  // the periodic snapshot, for the call table
  }
  if (st.on_counters(s, self->clock().now()) && st.watcher) {
    self->send(st.watcher, rtp_timeout_atom::value, st.id);
  }
}

}  // namespace

caf::behavior relay_actor(Self* self, std::shared_ptr<RelayControl> engine, RelayId id,
                          caf::actor watcher, RelayActorConfig cfg) {
  auto& st = self->state;
  st.engine = std::move(engine);
  st.id = id;
  st.watcher = std::move(watcher);
  st.cfg = cfg;
  if (st.cfg.check_ms == 0) {
    st.cfg.check_ms = 1000;
  }
  if (st.watcher) {
    self->monitor(st.watcher);
    self->set_down_handler([self](const caf::down_msg& dm) {
      if (dm.source == self->state.watcher) {
        self->quit();
      }
    });
  }
  return {
      [self](allocate_atom, std::uint32_t streams) { return allocate(self, streams); },
      [self](set_peer_atom, const PeerUpdate& peer) -> caf::result<void> {
        if (auto e = self->state.engine->set_peer(self->state.id, peer); e != RelayErrc::ok) {
          return make_error(e);
        }
        return caf::unit;
      },
      // Fire and forget: the only errors are a relay already gone or a stream it never had.
      [self](dtmf_atom, const DtmfPickup& p) {
        auto me = caf::actor_cast<caf::actor>(self);
        auto on_digit = [me](const PickedDigit& d) { caf::anon_send(me, digit_atom::value, d); };
        self->state.engine->set_dtmf(self->state.id, p, on_digit);
      },
      [self](digit_atom, const DigitRequest& d) {
        self->state.engine->send_digit(self->state.id, d);
      },
      [self](digit_atom, const PickedDigit& d) {
        if (self->state.watcher) {
          self->send(self->state.watcher, digit_atom::value, d);
        }
      },
      [self](stats_atom) {
        auto token = self->state.next_token++;
        auto promise = self->make_response_promise<RelayStats>();
        self->state.pending.emplace(token, promise);
        request_counters(self, token);
        return promise;
      },
      [self](answered_atom) {
        if (!self->state.answered) {
          self->state.on_answered(self->clock().now());
          schedule_tick(self);
        }
      },
      [self](release_atom) { self->quit(); },
      [self](rtp_tick_atom) {
        request_counters(self, 0);
        schedule_tick(self);
      },
      [self](counters_atom, std::uint64_t token, const RelayStats& s) {
        on_counters(self, token, s);
      },
  };
}

}  // namespace b2bua::rtp
