// The bridge actor: relays one call's events between its A and B legs.
#include "actors/bridge.hpp"

#include <chrono>

#include <caf/after.hpp>
#include <caf/event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/bridge_dtmf.hpp"
#include "actors/bridge_guard.hpp"
#include "actors/bridge_midcall.hpp"
#include "actors/call_leg.hpp"
#include "actors/protocol/atoms.hpp"
#include "actors/protocol/refusal.hpp"
#include "actors/route_table.hpp"
#include "rtp/relay_actor.hpp"

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
  const caf::actor& leg = a_side ? st.a : st.b;
  if (leg) {  // no B leg yet while the relay allocates its ports
    self->send(leg, leg_atom::value, std::move(cmd));
  }
}

// Fails the caller (before the answer) with `ev`'s status, reason, Warning and Retry-After.
void fail_caller(Self* self, const LegEvent& ev) {
  auto& st = self->state;
  if (st.a_final || st.a_done) {
    return;
  }
  st.a_final = true;
  st.info.final_status = ev.status;
  leg_info(st, true).last_status = ev.status;
  to_leg(self, true, LegEventKind::failed, &ev);
}

// Fails the caller (before the answer) with one of b2buad's refusals.
void fail_caller(Self* self, Refusal r, const RefusalContext& ctx = {}) {
  LegEvent ev;
  fail_caller(self, apply_refusal(ev, r, ctx));
}

void end_call(Self* self, const char* why) {
  auto& st = self->state;
  if (st.info.end_reason.empty()) {
    st.info.end_reason = why;
  }
  if (!st.ending) {
    st.ending = true;
    st.oa.reset();
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
    self->send(st.registry, ended_atom::value, st.info);  // the final snapshot: CDR and stats
  }
  if (st.relay) {
    self->send(st.relay, rtp::release_atom::value);
  }
  for (auto* slot : {&st.slot, &st.reserved}) {
    if (*slot) {
      (*slot)->release();
      *slot = nullptr;
    }
  }
  self->quit();
}

// Tells the current attempt's breaker how it went (once per attempt).
void report(Self* self, bool ok, std::uint32_t retry_after_s, std::string why) {
  auto& st = self->state;
  if (st.outcome_sent || !st.breaker) {
    return;
  }
  st.outcome_sent = true;
  self->send(st.breaker, outcome_atom::value, ok, retry_after_s, std::move(why));
}

// A final response worth trying another backend for (RFC 3261 16.7-style: the target, not the
// request, is the problem).
bool failover_status(int status) { return status == 408 || (status >= 500 && status < 600); }

void try_next(Self* self);

// Why a BYE from the SIP side ended the call: the peer's own, or b2buad's session timer on that leg
// (RFC 4028: the session expired, or our refresh failed). The latter carry a Reason to pass on.
const char* bye_reason(const LegEvent& ev, const char* peer_bye) {
  if (ev.warning == "b2bua.session.expired") {
    return "session_expired";
  }
  if (ev.warning == "b2bua.session.refresh_failed") {
    return "session_refresh_failed";
  }
  if (ev.warning == warning_id(Refusal::dialog_ended)) {
    return "dialog_ended";  // a 481, 408, 404... to a request of ours ended that leg's dialog
  }
  return peer_bye;
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
      st.a_confirmed = st.a_confirmed || st.answered;
      leg_info(st, true).state = "confirmed";
      if (!ev.local_tag.empty()) {
        leg_info(st, true).local_tag = ev.local_tag;
      }
      break;
    case LegEventKind::bye:
      leg_info(st, true).state = "ended";
      st.a_final = true;  // a BYE before the answer ends the caller's INVITE too (487 by NUA)
      end_call(self, bye_reason(ev, "caller_bye"));
      to_leg(self, false, LegEventKind::bye, ev.reason.empty() ? nullptr : &ev);
      break;
    case LegEventKind::terminated:
      st.a_done = true;
      leg_info(st, true).state = "ended";
      leg_info(st, true).ended_ms = now_ms();
      if (!st.b) {
        st.b_done = true;  // the caller left while the relay was allocating: no B leg at all
      }
      if (!st.b_done) {
        end_call(self, "caller_gone");
        to_leg(self, false, LegEventKind::bye);
      }
      maybe_finish(self);
      break;
    case LegEventKind::reoffer:
      midcall::on_reoffer(self, Party::a, ev);
      break;
    case LegEventKind::reanswer:
      midcall::on_reanswer(self, Party::a, ev);
      break;
    case LegEventKind::info:
      midcall::on_info(self, Party::a, ev);
      break;
    default:
      break;
  }
}

// Rewrites an SDP from the callee for the caller (relay mode). False when it cannot be relayed.
bool media_for_caller(Self* self, LegEvent& ev) {
  auto& st = self->state;
  if (!st.media || ev.sdp.empty()) {
    return true;
  }
  std::vector<rtp::PeerUpdate> peers;
  std::string error;
  auto sdp = st.media->answer_for_caller(ev.sdp, &peers, &error);
  if (!sdp) {
    spdlog::warn("call={} leg=b {}: SDP not relayable: {}", st.info.id,
                 warning_id(st.media->refusal()), error);
    return false;
  }
  ev.sdp = std::move(*sdp);
  bridge_guard::set_peers(self, std::move(peers));
  st.media->describe(leg_info(st, true), leg_info(st, false));
  bridge_dtmf::on_media(self);
  return true;
}

void on_b_answered(Self* self, LegEvent ev) {
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
  if (st.b_early_answer && !ev.sdp.empty()) {
    // The offer was answered in a reliable 18x (and maybe changed since by an early UPDATE): an
    // SDP in the 200 repeats an answer at best, and must not bring an older one back.
    spdlog::debug("call={} leg=b SDP in the 200 after a reliable early answer: not relayed",
                  st.info.id);
    ev.sdp.clear();
  }
  if (!media_for_caller(self, ev)) {
    end_call(self, "failed");
    to_leg(self, false, LegEventKind::bye);
    fail_caller(self, st.media->refusal());
    return;
  }
  if (st.relay) {
    self->send(st.relay, rtp::answered_atom::value);
  }
  st.a_final = true;
  st.answered = true;
  st.info.state = st.info.legs[0].on_hold || st.info.legs[1].on_hold ? "on_hold" : "answered";
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
  if (!ev.remote_tag.empty()) {  // the tags of the B dialog, from the callee's responses
    b.local_tag = ev.local_tag;
    b.remote_tag = ev.remote_tag;
  }
  switch (ev.kind) {
    case LegEventKind::trying:
      b.state = "trying";
      st.heard = true;
      break;
    case LegEventKind::ringing:
    case LegEventKind::early_media:
      st.heard = true;
      report(self, true, 0, "call answered " + std::to_string(ev.status));
      b.state = ev.kind == LegEventKind::ringing ? "ringing" : "early";
      b.last_status = ev.status;
      if (b.ringing_ms == 0) {
        b.ringing_ms = now_ms();
      }
      if (!st.a_final && !st.ending) {
        leg_info(st, true).state = b.state;
        leg_info(st, true).last_status = ev.status;
        if (leg_info(st, true).ringing_ms == 0) {
          leg_info(st, true).ringing_ms = b.ringing_ms;
        }
        if (st.info.state != b.state) {
          st.info.state = b.state;
          publish(self);
        }
        LegEvent out = ev;
        if (st.b_early_answer) {
          out.sdp.clear();  // the offer has its answer (RFC 3262); this is no new one
        } else if (!media_for_caller(self, out)) {
          out.kind = LegEventKind::ringing;  // early media b2buad cannot anchor: ringing only
          out.sdp.clear();
        } else if (ev.reliable && !out.sdp.empty()) {
          st.b_early_answer = true;  // the early dialogs may carry UPDATEs now (RFC 3311)
        }
        to_leg(self, true, out.kind, &out);
      }
      break;
    case LegEventKind::answered:
      st.heard = true;
      report(self, true, 0, "call answered " + std::to_string(ev.status));
      on_b_answered(self, ev);
      break;
    case LegEventKind::failed:
      b.state = "failed";
      b.last_status = ev.status;
      st.heard = true;
      if (failover_status(ev.status)) {
        report(self, false, ev.retry_after,
               "call failed " + std::to_string(ev.status) +
                   (ev.warning.empty() ? std::string() : " (" + ev.warning + ")"));
      } else {
        report(self, true, 0, "call answered " + std::to_string(ev.status));
      }
      if (failover_status(ev.status) && !st.a_final && !st.a_done && !st.ending) {
        st.last_error = ev;
        if (ev.warning.empty()) {
          st.last_real_error = ev;  // the backend's own answer: relayed if no other one answers
        }
        spdlog::info("call={} leg=b backend {} failed with {}: trying the next one", st.info.id,
                     st.info.backend, ev.status);
        try_next(self);
        break;
      }
      if (st.slot) {  // the backend answered: its call slot is free again
        st.slot->release();
        st.slot = nullptr;
      }
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
      end_call(self, bye_reason(ev, "callee_bye"));
      to_leg(self, true, LegEventKind::bye, ev.reason.empty() ? nullptr : &ev);
      break;
    case LegEventKind::terminated:
      st.b_done = true;
      b.state = "ended";
      b.ended_ms = now_ms();
      if (!st.a_done) {
        if (!st.a_final) {
          fail_caller(self, Refusal::target_gone);
          end_call(self, "callee_gone");
        } else if (st.answered && !st.ending) {
          end_call(self, "callee_gone");
          to_leg(self, true, LegEventKind::bye);
        }
      }
      maybe_finish(self);
      break;
    case LegEventKind::reoffer:
      midcall::on_reoffer(self, Party::b, ev);
      break;
    case LegEventKind::reanswer:
      midcall::on_reanswer(self, Party::b, ev);
      break;
    case LegEventKind::info:
      midcall::on_info(self, Party::b, ev);
      break;
    default:
      break;
  }
}

// Shutdown (503, "hangup") or an operator's DELETE (480, "operator_hangup").
void hang_up(Self* self, const std::string& why, int status = 503, const char* tag = "hangup") {
  auto& st = self->state;
  if (st.answered) {
    end_call(self, tag);
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
  end_call(self, tag);
  if (!st.b_done) {
    to_leg(self, false, LegEventKind::cancelled);
  }
  fail_caller(self, status == 480 ? Refusal::call_hangup_operator : Refusal::call_hangup);
}

// Starts a B leg to `at` (its admission and call slot already granted).
void launch(Self* self, const Attempt& at) {
  auto& st = self->state;
  const auto& cfg = st.cfg;
  st.b_id = st.sip->new_leg_id();
  st.heard = false;
  st.b_early_answer = false;
  st.outcome_sent = false;
  st.tried = true;
  OutboundInvite inv = st.pending;
  inv.request_uri = at.target;
  // The To header keeps the called user of the caller's To, at the target's host (topology
  // hiding); `to_uri` holds that user until here.
  inv.to_uri = with_user(at.target, inv.to_uri);
  inv.call_id = st.sip->new_call_id();
  auto& info = st.info;
  info.target = at.target;
  info.backend = at.backend.uri;
  ++info.attempts;
  auto& b = info.legs[1];
  b = LegInfo{};
  b.id = st.b_id;
  b.role = "b";
  b.state = "calling";
  b.call_id = inv.call_id;
  b.remote = at.target;
  b.created_ms = now_ms();
  if (st.media) {
    st.media->describe(leg_info(st, true), b);
  }
  caf::actor me{self};
  st.b = self->spawn(call_leg_actor, LegRole::b, st.b_id, me, st.transport, st.sip, std::move(inv));
  self->monitor(st.b);
  if (st.next_attempt < st.attempts.size()) {
    // Another backend is left to try: do not wait for the transaction timeout (64*T1) here. The
    // last attempt runs its course and a silent target gives 408 as it always did.
    self->delayed_send(self, std::chrono::milliseconds(cfg.failover_timeout_ms),
                       timeout_atom::value, st.b_id);
  }
  publish(self);
}

// No attempt left: the caller gets the last error a backend sent, else 503.
void all_failed(Self* self) {
  auto& st = self->state;
  const auto& cfg = st.cfg;
  st.b_done = true;
  st.b = nullptr;
  end_call(self, "failed");
  if (st.info.attempts == 1 && st.last_error) {
    const LegEvent& e = *st.last_error;  // the one backend's error (or its timeout) as it came
    LegEvent ev;
    ev.status = e.status;
    ev.reason = e.reason;
    ev.warning = e.warning;
    ev.retry_after = e.retry_after;
    fail_caller(self, ev);
  } else if (st.last_real_error) {
    const LegEvent& e = *st.last_real_error;
    fail_caller(self, Refusal::backend_all_failed,
                {.retry_after = e.retry_after, .status = e.status, .reason = e.reason});
  } else if (st.tried) {
    spdlog::info("call={} every backend failed", st.info.id);
    fail_caller(self, Refusal::backend_all_failed, {.retry_after = cfg.retry_after_s});
  } else {
    spdlog::info("call={} no backend available (breakers open or at max_calls)", st.info.id);
    fail_caller(self, Refusal::backend_all_down, {.retry_after = cfg.retry_after_s});
  }
  maybe_finish(self);
}

// The caller gave up while no B leg was running: nothing more to start.
bool caller_gone(Self* self) {
  auto& st = self->state;
  if (!(st.a_final || st.a_done || st.ending)) {
    return false;
  }
  st.b_done = true;
  st.b = nullptr;
  maybe_finish(self);
  return true;
}

// Moves to the next attempt: asks its breaker, takes a call slot, starts the B leg.
void try_next(Self* self) {
  auto& st = self->state;
  const auto& cfg = st.cfg;
  if (st.slot) {
    st.slot->release();
    st.slot = nullptr;
  }
  st.b = nullptr;  // the previous leg (if any) ends by itself; its events are ignored from now on
  st.b_id = 0;
  st.breaker = nullptr;
  if (caller_gone(self)) {
    return;
  }
  while (st.next_attempt < st.attempts.size()) {
    Attempt at = st.attempts[st.next_attempt++];
    if (at.backend.status && !at.reserved && !at.backend.status->try_acquire()) {
      spdlog::debug("call={} backend {} at max_calls: skipped", st.info.id, at.backend.uri);
      continue;
    }
    if (at.reserved) {
      st.reserved = nullptr;  // the router's reservation becomes this attempt's slot
    }
    st.slot = at.backend.status;  // released by the next try_next or when the bridge ends
    if (!at.backend.breaker) {
      launch(self, at);
      return;
    }
    auto admitted = [self, at](bool ok) {
      auto& st = self->state;
      if (!ok) {
        spdlog::debug("call={} backend {} refused by its breaker", st.info.id, at.backend.uri);
        try_next(self);
        return;
      }
      st.breaker = at.backend.breaker;
      if (!caller_gone(self)) {
        launch(self, at);
      }
    };
    if (at.backend.status && at.backend.status->current() == BreakerMode::closed) {
      admitted(true);  // what a closed breaker answers: no request, no request timeout
      return;
    }
    self->request(at.backend.breaker, std::chrono::milliseconds(cfg.admission_timeout_ms),
                  admit_atom::value)
        .then([self, admitted](bool ok) { bridge_guard::run(self, "admission", [&] { admitted(ok); }); },
              [self, admitted](caf::error&) {  // no answer in time: closed
                bridge_guard::run(self, "admission", [&] { admitted(true); });
              });
    return;
  }
  all_failed(self);
}

// The relay's ports arrived: tell it the caller's address and start the B leg with the offer
// rewritten.
template <class Refuse>
void on_ports(Self* self, const Refuse& refuse, const rtp::RelayPorts& ports) {
  auto& st = self->state;
  bridge_guard::set_peers(self, st.media->set_ports(ports));
  if (st.a_final || st.a_done || st.ending) {
    st.b_done = true;  // the caller gave up meanwhile
    maybe_finish(self);
    return;
  }
  std::string error;
  auto offer = st.media->offer_for_callee(st.pending.sdp, &error);
  if (!offer) {
    spdlog::warn("call={} leg=a offer rewrite failed: {}", st.info.id, error);
    refuse(Refusal::sdp_unparseable);
    return;
  }
  st.pending.sdp = std::move(*offer);
  st.media->describe(leg_info(st, true), leg_info(st, false));
  try_next(self);
}

// Relay mode: read the offer, get ports from a relay actor, then start the B leg with the
// rewritten offer. Any failure answers the caller and the call never reaches the callee.
void start_with_relay(Self* self, const BridgeConfig& cfg) {
  auto& st = self->state;
  auto refuse = [self, retry_after = cfg.retry_after_s](Refusal r) {
    auto& st = self->state;
    st.b_done = true;  // there will be no B leg
    end_call(self, "failed");
    fail_caller(self, r, {.retry_after = retry_after});
    maybe_finish(self);
  };
  st.media.emplace(cfg.media_address, std::to_string(now_ms()));
  st.media->set_dtmf_modes(cfg.dtmf);
  std::string error;
  if (!st.media->read_offer(st.pending.sdp, &error)) {
    spdlog::info("call={} leg=a {}: offer not relayable: {}", st.info.id,
                 warning_id(st.media->refusal()), error);
    refuse(st.media->refusal());
    return;
  }
  rtp::RelayActorConfig rc;
  rc.timeout_s = cfg.rtp_timeout_s;
  caf::actor me{self};
  st.relay = self->spawn(rtp::relay_actor, cfg.relay_engine, st.info.id, me, rc);
  self->monitor(st.relay);
  st.info.media_mode = "relay";
  self->request(st.relay, std::chrono::seconds(2), rtp::allocate_atom::value,
                st.media->stream_count())
      .then(
          [self, refuse](const rtp::RelayPorts& ports) {
            bridge_guard::run(self, "relay ports", [&] { on_ports(self, refuse, ports); });
          },
          [self, refuse](caf::error& err) {
            bridge_guard::run(self, "relay allocation", [&] {
            auto& st = self->state;
            const bool relay_err = err.category() == rtp::relay_error_category;
            const auto errc = static_cast<rtp::RelayErrc>(err.code());
            spdlog::warn("call={} leg=a {}: media relay allocation failed", st.info.id,
                         relay_err ? rtp::to_string(errc) : warning_id(Refusal::media_error));
            if (st.a_final || st.a_done) {
              st.b_done = true;
              maybe_finish(self);
              return;
            }
            refuse(relay_err ? rtp::refusal_of(errc) : Refusal::media_error);
            });
          });
}

void on_counters(Self* self, const rtp::RelayStats& s) {
  auto& st = self->state;
  auto& a = leg_info(st, true);
  auto& b = leg_info(st, false);
  if (a.media_packets == s.a.packets && b.media_packets == s.b.packets) {
    return;
  }
  a.media_packets = s.a.packets;
  a.media_bytes = s.a.bytes;
  a.media_lost = s.a.lost;
  a.media_jitter_us = s.a.jitter_us;
  b.media_packets = s.b.packets;
  b.media_bytes = s.b.bytes;
  b.media_lost = s.b.lost;
  b.media_jitter_us = s.b.jitter_us;
  publish(self);
}

void on_rtp_timeout(Self* self) {
  auto& st = self->state;
  if (!st.answered || st.ending) {
    return;
  }
  spdlog::info("call={} leg=a,b b2bua.media.rtp_timeout: no RTP either way, ending the call",
               st.info.id);
  end_call(self, "rtp_timeout");
  LegEvent ev;
  ev.reason = "RTP timeout";
  if (!st.a_done) {
    to_leg(self, true, LegEventKind::bye, &ev);
  }
  if (!st.b_done) {
    to_leg(self, false, LegEventKind::bye, &ev);
  }
}

// No response at all from the current target in failover_timeout_ms: give it up, try the next.
void on_failover_timeout(Self* self, LegId leg) {
  auto& st = self->state;
  if (leg != st.b_id || st.heard || st.answered || st.a_final || st.a_done || st.ending) {
    return;
  }
  spdlog::info("call={} leg=b backend {} silent for {} ms: trying the next one", st.info.id,
               st.info.backend, st.cfg.failover_timeout_ms);
  report(self, false, 0, "no response within " + std::to_string(st.cfg.failover_timeout_ms) + " ms");
  leg_info(st, false).state = "failed";
  leg_info(st, false).last_status = 408;
  LegEvent timeout = make_event(leg, LegEventKind::failed);
  st.last_error = apply_refusal(timeout, Refusal::target_timeout);
  SipAction abandon;
  abandon.leg = leg;
  abandon.kind = SipActionKind::abandon;
  st.sip->execute(std::move(abandon));
  try_next(self);
}

void on_no_answer(Self* self) {
  auto& st = self->state;
  if (st.answered || st.a_final || st.ending) {
    return;
  }
  spdlog::info("call={} leg=b no answer after timeout: cancelling", st.info.id);
  end_call(self, "no_answer");
  to_leg(self, false, LegEventKind::cancelled);
  fail_caller(self, Refusal::call_no_answer);
}

void abort_steps(Self* self, const std::string& what) {
  auto& st = self->state;
  spdlog::error("call={} leg=a b2bua.internal: {}", st.info.id, what);
  if (st.relay) {  // its ports go back now, whatever else happens
    self->demonitor(st.relay);
    self->send(st.relay, rtp::release_atom::value);
    st.relay = nullptr;
  }
  if (!st.b) {
    st.b_done = true;  // no B leg runs (none yet, or between attempts)
  }
  const bool answered = st.answered;
  end_call(self, "internal_error");
  LegEvent ev;
  ev.reason = "internal error";
  if (answered) {
    if (!st.a_done) {
      to_leg(self, true, LegEventKind::bye, &ev);
    }
    if (!st.b_done) {
      to_leg(self, false, LegEventKind::bye, &ev);
    }
  } else {
    if (!st.b_done) {
      to_leg(self, false, LegEventKind::cancelled);
    }
    fail_caller(self, Refusal::internal);
  }
  maybe_finish(self);
}

}  // namespace

void bridge_guard::abort_call(Self* self, const std::string& what) noexcept {
  try {
    abort_steps(self, what);
  } catch (...) {
    // Out of memory at worst: the actor stops and the relay actor, which monitors it, follows.
    self->quit(caf::exit_reason::unhandled_exception);
  }
}

// Every handler runs under the guard: an exception ends the call with 500 b2bua.internal.
// `timeout` is the no-answer timer or nothing: see `step`.
template <class... Timeout>
caf::behavior handlers(Self* self, Timeout... timeout);

// Runs one handler under the guard. The no-answer timer is a receive timeout: it restarts with
// every message, so it runs from the last provisional response, and CAF cancels it when the
// bridge quits (a delayed_send would keep the finished bridge alive until it fired). Once the
// caller has its final answer (or the call ends) it has nothing left to time, and the bridge
// drops it: a receive timeout re-armed on each later message costs CAF's timer thread a wake-up.
template <class F>
void step(Self* self, const char* where, F&& f) {
  bridge_guard::run(self, where, std::forward<F>(f));
  auto& st = self->state;
  if (st.no_answer_armed && (st.answered || st.a_final || st.ending)) {
    st.no_answer_armed = false;
    self->become(handlers(self));
  }
}

template <class... Timeout>
caf::behavior handlers(Self* self, Timeout... timeout) {
  return {
      [self](leg_atom, const LegEvent& ev) {
        step(self, "leg event", [&] {
          if (ev.leg == self->state.a_id) {
            on_a_event(self, ev);
          } else if (ev.leg == self->state.b_id) {
            on_b_event(self, ev);
          }
        });
      },
      [self](hangup_atom, const std::string& why) {
        step(self, "hangup", [&] { hang_up(self, why); });
      },
      [self](hangup_atom, const std::string& why, int status) {
        step(self, "hangup", [&] { hang_up(self, why, status, "operator_hangup"); });
      },
      [self](rtp::counters_atom, const rtp::RelayStats& s) {
        step(self, "counters", [&] { on_counters(self, s); });
      },
      [self](rtp::digit_atom, const rtp::PickedDigit& d) {
        step(self, "rtp digit", [&] { bridge_dtmf::on_rtp_digit(self, d); });
      },
      [self](rtp::rtp_timeout_atom, rtp::RelayId) {
        step(self, "rtp timeout", [&] { on_rtp_timeout(self); });
      },
      [self](timeout_atom, LegId leg) {
        step(self, "failover timer", [&] { on_failover_timeout(self, leg); });
      },
      [self](retry_atom, std::uint64_t generation) {
        step(self, "491 retry", [&] { midcall::on_retry(self, generation); });
      },
      timeout...};
}

caf::behavior bridge_actor(Self* self, IncomingCall call, RouteDecision route,
                           std::vector<Attempt> attempts, BridgeConfig cfg, caf::actor transport,
                           caf::actor registry, std::shared_ptr<SipPort> sip) {
  auto& st = self->state;
  st.cfg = cfg;
  st.registry = std::move(registry);
  st.a_id = call.leg;
  st.attempts = std::move(attempts);
  if (!st.attempts.empty() && st.attempts.front().reserved) {
    st.reserved = st.attempts.front().backend.status;
  }

  // The template of every attempt's INVITE; `launch` fills in the target and a fresh Call-ID.
  OutboundInvite inv;
  inv.to_uri = call.to_user;  // the called user, put at each target's host by `launch`
  inv.to_display = call.to_display;
  inv.from_user = call.from_user;
  inv.from_display = call.from_display;
  inv.max_forwards = call.max_forwards - 1;
  inv.sdp = call.sdp;
  inv.headers = apply_header_policy(route.headers, call.headers);

  auto& info = st.info;
  info.id = call.leg;
  info.from = call.from_uri;
  info.to = call.to_uri;
  info.target = st.attempts.empty() ? std::string() : st.attempts.front().target;
  info.route = route.route_name;
  info.state = "calling";
  info.start_ms = call.received_ms;
  info.legs.resize(2);
  auto& a = info.legs[0];
  a.id = call.leg;
  a.role = "a";
  a.state = "incoming";
  a.call_id = call.call_id;
  a.remote_tag = call.from_tag;
  a.remote = call.source;
  a.created_ms = call.received_ms;
  auto& b = info.legs[1];
  b.role = "b";
  b.state = "calling";
  b.remote = info.target;

  info.media_mode = "bypass";
  st.transport = std::move(transport);
  st.sip = std::move(sip);
  st.pending = std::move(inv);

  caf::actor me{self};
  st.a = self->spawn(call_leg_actor, LegRole::a, st.a_id, me, st.transport, st.sip,
                     OutboundInvite{});
  self->monitor(st.a);
  bridge_guard::install(self);
  const std::string& mode = route.media.empty() ? cfg.media_mode : route.media;
  const bool relay = mode == "relay" && cfg.relay_engine && !st.pending.sdp.empty();
  st.dtmf = DtmfPolicy(cfg.dtmf, relay);
  if (!relay &&
      (cfg.dtmf.caller != DtmfMode::automatic || cfg.dtmf.callee != DtmfMode::automatic)) {
    spdlog::debug("call={} dtmf: no INFO/RFC 4733 conversion without the media relay ({})",
                  st.info.id, mode);
  }
  bridge_guard::run(self, "call start", [&] {
    if (relay) {
      start_with_relay(self, cfg);
    } else {
      try_next(self);  // bypass, or an INVITE without SDP: nothing to anchor
    }
  });
  publish(self);

  self->set_down_handler([self](const caf::down_msg& dm) {
    bridge_guard::run(self, "down", [&] {
      auto& st = self->state;
      if (dm.source == st.a.address() && !st.a_done) {
        on_a_event(self, make_event(st.a_id, LegEventKind::terminated));
      } else if (st.b && dm.source == st.b.address() && !st.b_done) {
        on_b_event(self, make_event(st.b_id, LegEventKind::terminated));
      } else if (st.relay && dm.source == st.relay.address()) {
        st.relay = nullptr;  // the media relay failed: the call goes on, unanchored counters stop
      }
    });
  });

  return handlers(self, caf::after(std::chrono::milliseconds(cfg.no_answer_ms)) >> [self] {
    bridge_guard::run(self, "no-answer timer", [&] { on_no_answer(self); });
  });
}

}  // namespace b2bua
