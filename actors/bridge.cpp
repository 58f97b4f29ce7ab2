// The bridge actor: relays one call's events between its A and B legs.
#include "actors/bridge.hpp"

#include <chrono>

#include <caf/after.hpp>
#include <caf/event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/call_leg.hpp"
#include "actors/protocol/atoms.hpp"
#include "actors/route_table.hpp"

namespace b2bua {

namespace {

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

using Self = caf::stateful_actor<BridgeState>;

LegInfo& leg_info(BridgeState& st, bool a_side) { return st.info.legs[a_side ? 0 : 1]; }

void publish(Self* self) {
  if (self->state.registry) {
    self->send(self->state.registry, update_atom::value, self->state.info);
  }
}

void to_leg(Self* self, bool a_side, LegEventKind kind, const LegEvent* from = nullptr) {
  LegEvent cmd = from ? *from : LegEvent{};
  cmd.kind = kind;
  auto& st = self->state;
  cmd.leg = a_side ? st.a_id : st.b_id;
  self->send(a_side ? st.a : st.b, leg_atom::value, std::move(cmd));
}

// Fails the caller (before the answer) with a status b2buad decided on.
void fail_caller(Self* self, int status, std::string reason, std::string warning) {
  auto& st = self->state;
  if (st.a_final || st.a_done) {
    return;
  }
  LegEvent ev;
  ev.status = status;
  ev.reason = std::move(reason);
  ev.warning = std::move(warning);
  st.a_final = true;
  st.info.final_status = status;
  leg_info(st, true).last_status = status;
  to_leg(self, true, LegEventKind::failed, &ev);
}

void end_call(Self* self, const char* why) {
  auto& st = self->state;
  if (st.info.end_reason.empty()) {
    st.info.end_reason = why;
  }
  if (!st.ending) {
    st.ending = true;
    st.info.state = "ending";
    publish(self);
  }
}

void maybe_finish(Self* self) {
  auto& st = self->state;
  if (!st.a_done || !st.b_done) {
    return;
  }
  st.info.state = "ended";
  st.info.end_ms = now_ms();
  spdlog::debug("call={} ended: {} ({})", st.info.id, st.info.end_reason, st.info.final_status);
  if (st.registry) {
    self->send(st.registry, ended_atom::value, st.info.id);
  }
  self->quit();
}

void on_a_event(Self* self, const LegEvent& ev) {
  auto& st = self->state;
  switch (ev.kind) {
    case LegEventKind::cancelled:
      st.a_final = true;
      st.info.final_status = 487;
      leg_info(st, true).last_status = 487;
      end_call(self, "cancelled");
      to_leg(self, false, LegEventKind::cancelled);
      break;
    case LegEventKind::confirmed:
      leg_info(st, true).state = "confirmed";
      break;
    case LegEventKind::bye:
      leg_info(st, true).state = "ended";
      st.a_final = true;  // a BYE before the answer ends the caller's INVITE too (487 by NUA)
      end_call(self, "caller_bye");
      to_leg(self, false, LegEventKind::bye);
      break;
    case LegEventKind::terminated:
      st.a_done = true;
      leg_info(st, true).state = "ended";
      leg_info(st, true).ended_ms = now_ms();
      if (!st.b_done) {
        end_call(self, "caller_gone");
        to_leg(self, false, LegEventKind::bye);
      }
      maybe_finish(self);
      break;
    default:
      break;
  }
}

void on_b_answered(Self* self, const LegEvent& ev) {
  auto& st = self->state;
  auto& b = leg_info(st, false);
  b.state = "answered";
  b.last_status = ev.status;
  b.answered_ms = now_ms();
  if (st.a_final || st.a_done || st.ending) {
    // The caller is gone (CANCEL crossed the 200, or the no-answer timer won): end B.
    to_leg(self, false, LegEventKind::bye);
    return;
  }
  st.a_final = true;
  st.answered = true;
  st.info.state = "answered";
  st.info.answer_ms = b.answered_ms;
  st.info.final_status = ev.status;
  auto& a = leg_info(st, true);
  a.state = "answered";
  a.last_status = ev.status;
  a.answered_ms = b.answered_ms;
  to_leg(self, true, LegEventKind::answered, &ev);
  publish(self);
}

void on_b_event(Self* self, const LegEvent& ev) {
  auto& st = self->state;
  auto& b = leg_info(st, false);
  switch (ev.kind) {
    case LegEventKind::trying:
      b.state = "trying";
      break;
    case LegEventKind::ringing:
    case LegEventKind::early_media:
      b.state = ev.kind == LegEventKind::ringing ? "ringing" : "early";
      b.last_status = ev.status;
      if (!st.a_final && !st.ending) {
        leg_info(st, true).state = b.state;
        leg_info(st, true).last_status = ev.status;
        if (st.info.state != b.state) {
          st.info.state = b.state;
          publish(self);
        }
        to_leg(self, true, ev.kind, &ev);
      }
      break;
    case LegEventKind::answered:
      on_b_answered(self, ev);
      break;
    case LegEventKind::failed:
      b.state = "failed";
      b.last_status = ev.status;
      if (!st.a_final && !st.a_done) {
        st.a_final = true;
        st.info.final_status = ev.status;
        leg_info(st, true).last_status = ev.status;
        end_call(self, "failed");
        to_leg(self, true, LegEventKind::failed, &ev);
      }
      break;
    case LegEventKind::bye:
      b.state = "ended";
      end_call(self, "callee_bye");
      to_leg(self, true, LegEventKind::bye);
      break;
    case LegEventKind::terminated:
      st.b_done = true;
      b.state = "ended";
      b.ended_ms = now_ms();
      if (!st.a_done) {
        if (!st.a_final) {
          fail_caller(self, 503, "Service Unavailable", "b2bua.target.gone");
          end_call(self, "callee_gone");
        } else if (st.answered && !st.ending) {
          end_call(self, "callee_gone");
          to_leg(self, true, LegEventKind::bye);
        }
      }
      maybe_finish(self);
      break;
    default:
      break;
  }
}

void hang_up(Self* self, const std::string& why) {
  auto& st = self->state;
  if (st.answered) {
    end_call(self, "hangup");
    LegEvent ev;
    ev.reason = why;
    if (!st.a_done) {
      to_leg(self, true, LegEventKind::bye, &ev);
    }
    if (!st.b_done) {
      to_leg(self, false, LegEventKind::bye, &ev);
    }
    return;
  }
  end_call(self, "hangup");
  if (!st.b_done) {
    to_leg(self, false, LegEventKind::cancelled);
  }
  fail_caller(self, 503, "Service Unavailable", "b2bua.call.hangup");
}

}  // namespace

caf::behavior bridge_actor(Self* self, IncomingCall call, RouteDecision route, std::string target,
                           BridgeConfig cfg, caf::actor transport, caf::actor registry,
                           std::shared_ptr<SipPort> sip) {
  auto& st = self->state;
  st.registry = std::move(registry);
  st.a_id = call.leg;
  st.b_id = sip->new_leg_id();

  OutboundInvite inv;
  inv.request_uri = target;
  // The To header keeps the called user of the caller's To, at the target's host (topology hiding).
  inv.to_uri = with_user(target, call.to_user);
  inv.to_display = call.to_display;
  inv.from_user = call.from_user;
  inv.from_display = call.from_display;
  inv.call_id = sip->new_call_id();
  inv.max_forwards = call.max_forwards - 1;
  inv.sdp = call.sdp;

  auto& info = st.info;
  info.id = call.leg;
  info.from = call.from_uri;
  info.to = call.to_uri;
  info.target = target;
  info.route = route.route_name;
  info.state = "calling";
  info.start_ms = call.received_ms;
  info.legs.resize(2);
  info.legs[0] = LegInfo{call.leg, "a", "incoming", call.call_id, call.source, 0, call.received_ms,
                         0, 0};
  info.legs[1] = LegInfo{st.b_id, "b", "calling", inv.call_id, target, 0, now_ms(), 0, 0};

  caf::actor me{self};
  st.a = self->spawn(call_leg_actor, LegRole::a, st.a_id, me, transport, sip, OutboundInvite{});
  st.b = self->spawn(call_leg_actor, LegRole::b, st.b_id, me, transport, sip, std::move(inv));
  self->monitor(st.a);
  self->monitor(st.b);
  publish(self);

  self->set_down_handler([self](const caf::down_msg& dm) {
    auto& st = self->state;
    if (dm.source == st.a.address() && !st.a_done) {
      on_a_event(self, make_event(st.a_id, LegEventKind::terminated));
    } else if (dm.source == st.b.address() && !st.b_done) {
      on_b_event(self, make_event(st.b_id, LegEventKind::terminated));
    }
  });

  return {
      [self](leg_atom, const LegEvent& ev) {
        if (ev.leg == self->state.a_id) {
          on_a_event(self, ev);
        } else if (ev.leg == self->state.b_id) {
          on_b_event(self, ev);
        }
      },
      [self](hangup_atom, const std::string& why) { hang_up(self, why); },
      // The no-answer timer is a receive timeout: it restarts with every event, so it runs from the
      // last provisional response, and CAF cancels it when the bridge quits (a delayed_send would
      // keep the finished bridge alive until it fired).
      caf::after(std::chrono::milliseconds(cfg.no_answer_ms)) >> [self] {
        auto& st = self->state;
        if (st.answered || st.a_final || st.ending) {
          return;
        }
        spdlog::info("call={} leg=b no answer after timeout: cancelling", st.info.id);
        end_call(self, "no_answer");
        to_leg(self, false, LegEventKind::cancelled);
        fail_caller(self, 480, "Temporarily Unavailable", "b2bua.call.no_answer");
      }
  };
}

}  // namespace b2bua
