// The bridge's mid-call part: offer/answer across the bridge, hold and resume, INFO and DTMF.
#include "actors/bridge_midcall.hpp"

#include <chrono>

#include <spdlog/spdlog.h>

#include "actors/bridge_dtmf.hpp"
#include "actors/bridge_guard.hpp"
#include "actors/dtmf_info.hpp"
#include "actors/protocol/atoms.hpp"
#include "actors/protocol/refusal.hpp"
#include "rtp/relay_actor.hpp"

namespace b2bua::midcall {

namespace {

const char* name(Party p) { return p == Party::a ? "a" : "b"; }
// Why the MediaSession refused an SDP (bypass mode has no SDP to refuse).
Refusal sdp_refusal(const BridgeState& st) {
  return st.media ? st.media->refusal() : Refusal::sdp_unparseable;
}
rtp::Side side(Party p) { return p == Party::a ? rtp::Side::a : rtp::Side::b; }
LegInfo& leg_info(BridgeState& st, Party p) { return st.info.legs[p == Party::a ? 0 : 1]; }

void send_to(Self* self, Party p, LegEventKind kind, LegEvent cmd) {
  auto& st = self->state;
  cmd.kind = kind;
  cmd.leg = p == Party::a ? st.a_id : st.b_id;
  const caf::actor& leg = p == Party::a ? st.a : st.b;
  if (leg) {
    self->send(leg, leg_atom::value, std::move(cmd));
  }
}

// A final response of b2buad's own to request `txn` of `to`'s peer.
void refuse(Self* self, Party to, std::uint64_t txn, Refusal refusal,
            const RefusalContext& ctx = {}) {
  LegEvent r;
  apply_refusal(r, refusal, ctx);
  r.txn = txn;
  send_to(self, to, LegEventKind::reanswer, std::move(r));
}

bool ends_far_dialog(const LegEvent& ev) {
  return ev.warning == warning_id(Refusal::dialog_ended);
}

// The far leg's final response (`min_status` or above) to a request relayed to it, as the answer
// to the sender's request: relayed, unless it ended the far dialog (500 b2bua.dialog.ended) or is
// no SIP status (500 b2bua.internal).
LegEvent relayed_failure(const LegEvent& ev, int min_status) {
  LegEvent resp;
  if (ends_far_dialog(ev)) {
    return apply_refusal(resp, Refusal::dialog_ended, {.retry_after = ev.retry_after});
  }
  if (ev.status < min_status || ev.status >= 700) {
    return apply_refusal(resp, Refusal::internal);
  }
  resp.status = ev.status;
  resp.reason = ev.reason;
  resp.warning = ev.warning;
  resp.retry_after = ev.retry_after;
  return resp;
}

void publish(Self* self) {
  if (self->state.registry) {
    self->send(self->state.registry, update_atom::value, self->state.info);
  }
}

}  // namespace

void note(Self* self, Party p, const LegEvent& ev) {
  auto& st = self->state;
  auto& leg = leg_info(st, p);
  switch (ev.kind) {
    case LegEventKind::hold:
    case LegEventKind::resume:
      leg.on_hold = ev.kind == LegEventKind::hold;
      if (!st.ending && st.answered) {  // an early UPDATE: the answer decides the state
        const bool held = st.info.legs[0].on_hold || st.info.legs[1].on_hold;
        st.info.state = held ? "on_hold" : "answered";
      }
      spdlog::info("call={} leg={} {}", st.info.id, name(p), to_string(ev.kind));
      break;
    case LegEventKind::dtmf:
      leg.dtmf += ev.digit;
      if (leg.dtmf.size() > 64) {
        leg.dtmf.erase(0, leg.dtmf.size() - 64);
      }
      spdlog::info("call={} leg={} dtmf digit={} duration={}", st.info.id, name(p), ev.digit,
                   ev.duration);
      break;
    default:
      return;
  }
  publish(self);
  if (st.registry) {
    self->send(st.registry, event_atom::value, CallEvent{st.info.id, name(p), ev});
  }
}

namespace {

// The offer from `by` succeeded: publish hold or resume when its direction changed the call.
void apply_hold(Self* self, Party by) {
  auto& st = self->state;
  auto holds = st.offer_holds;
  st.offer_holds.reset();
  if (!holds || leg_info(st, by).on_hold == *holds) {
    return;
  }
  LegId id = by == Party::a ? st.a_id : st.b_id;
  note(self, by, make_event(id, *holds ? LegEventKind::hold : LegEventKind::resume));
}

// The 2xx to the open offer: relay its answer (or, offerless, its offer) to the offerer.
void relay_answer(Self* self, Party from, const OpenOffer& open, const LegEvent& ev) {
  auto& st = self->state;
  LegEvent resp;
  resp.status = ev.status;
  resp.reason = ev.reason;
  resp.txn = open.txn;
  resp.sdp = ev.sdp;
  std::string error;
  if (open.offerless) {
    // The far side's offer is in its 200; the offerer's ACK will bring the answer.
    st.offer_holds = ev.sdp.empty() ? std::nullopt : sdp_holds(ev.sdp);
    std::optional<std::string> out = ev.sdp;
    if (ev.sdp.empty() || (st.media && !(out = st.media->reoffer(side(from), ev.sdp, &error)))) {
      spdlog::warn("call={} leg={} {}: no usable offer in the 200 to a "
                   "re-INVITE without SDP: {}", st.info.id, name(from),
                   warning_id(sdp_refusal(st)), error);
      st.oa.reset();
      send_to(self, from, LegEventKind::reanswer, [] { LegEvent a; a.method = "ACK"; return a; }());
      refuse(self, open.from, open.txn, sdp_refusal(st));
      return;
    }
    resp.sdp = std::move(*out);
    send_to(self, open.from, LegEventKind::reanswer, std::move(resp));
    return;
  }
  if (st.media && !ev.sdp.empty()) {
    std::vector<rtp::PeerUpdate> peers;
    auto out = st.media->reanswer(ev.sdp, &peers, &error);
    if (!out) {
      spdlog::warn("call={} leg={} {}: answer not relayable: {}", st.info.id,
                   name(from), warning_id(sdp_refusal(st)), error);
      st.media->drop_reoffer();
      st.offer_holds.reset();
      refuse(self, open.from, open.txn, sdp_refusal(st));
      return;
    }
    resp.sdp = std::move(*out);
    bridge_guard::set_peers(self, std::move(peers));
    st.media->describe(st.info.legs[0], st.info.legs[1]);
    bridge_dtmf::on_media(self);
  }
  send_to(self, open.from, LegEventKind::reanswer, std::move(resp));
  apply_hold(self, open.from);
}

// The offerer's ACK with the answer to the offer relayed in our 200 (re-INVITE without SDP).
void relay_ack(Self* self, Party from, const LegEvent& ev) {
  auto& st = self->state;
  if (!st.oa.on_ack(from)) {
    return;
  }
  LegEvent ack;
  ack.method = "ACK";
  ack.sdp = ev.sdp;
  if (st.media && !ev.sdp.empty()) {
    std::vector<rtp::PeerUpdate> peers;
    std::string error;
    auto out = st.media->reanswer(ev.sdp, &peers, &error);
    if (out) {
      ack.sdp = std::move(*out);
      bridge_guard::set_peers(self, std::move(peers));
      st.media->describe(st.info.legs[0], st.info.legs[1]);
      bridge_dtmf::on_media(self);
    } else {
      spdlog::warn("call={} leg={} {}: answer in the ACK not relayable: {}",
                   st.info.id, name(from), warning_id(sdp_refusal(st)), error);
      st.media->drop_reoffer();
      ack.sdp.clear();
    }
  }
  send_to(self, other(from), LegEventKind::reanswer, std::move(ack));
  if (!ev.sdp.empty()) {
    apply_hold(self, other(from));  // the offer was the far side's
  }
}

}  // namespace

// Whether an offer that came before the answer can be carried to the other leg's early dialog
// (RFC 3311): an UPDATE, once the callee answered the INVITE's offer in a reliable 18x. Otherwise
// the INVITE's offer is still in progress: 500 with Retry-After (RFC 3311 5.2). The SIP layer
// checks each early dialog itself (the caller's got the answer reliably and PRACKed it).
bool early_offer_allowed(Self* self, Party from, const LegEvent& ev) {
  auto& st = self->state;
  if (ev.method == "UPDATE" && st.b && st.b_early_answer) {
    return true;
  }
  spdlog::info("call={} leg={} b2bua.offer.early_pending: {} before the early answer refused",
               st.info.id, name(from), ev.method);
  refuse(self, from, ev.txn, Refusal::offer_early_pending,
         {.retry_after = st.oa.pick_retry_after()});
  return false;
}

void on_reoffer(Self* self, Party from, const LegEvent& ev) {
  auto& st = self->state;
  if (st.ending || st.a_done || st.b_done || (!st.answered && st.a_final)) {
    spdlog::info("call={} leg={} b2bua.offer.no_call: {} outside a call refused", st.info.id,
                 name(from), ev.method);
    refuse(self, from, ev.txn, Refusal::offer_no_call);
    return;
  }
  if (!st.answered && !early_offer_allowed(self, from, ev)) {
    return;
  }
  const auto& open = st.oa.open();
  if (open && open->from == from && !open->offerless &&
      (st.oa.stage() == OfferAnswer::Stage::forwarded ||
       st.oa.stage() == OfferAnswer::Stage::retry_wait)) {
    // The same party offers again before its open offer was answered: not glare but an overlap
    // (RFC 3261 14.2, RFC 3311 5.2): 500 with Retry-After.
    spdlog::info("call={} leg={} b2bua.offer.pending: a second {} while its offer is open",
                 st.info.id, name(from), ev.method);
    refuse(self, from, ev.txn, Refusal::offer_pending, {.retry_after = st.oa.pick_retry_after()});
    return;
  }
  if (!st.oa.idle() || (st.answered && !st.a_confirmed)) {
    // Glare (RFC 3261 14.1): an offer is open across the bridge (or the caller's ACK, which
    // completes the first one, has not arrived). The peer retries after its own random delay.
    spdlog::debug("call={} leg={} glare: 491 to a {}", st.info.id, name(from), ev.method);
    refuse(self, from, ev.txn, Refusal::offer_glare);
    return;
  }
  std::string offer = ev.sdp;
  if (st.media && !offer.empty()) {
    std::string error;
    auto out = st.media->reoffer(side(from), offer, &error);
    if (!out) {
      spdlog::warn("call={} leg={} {}: re-offer not relayable: {}", st.info.id,
                   name(from), warning_id(sdp_refusal(st)), error);
      refuse(self, from, ev.txn, sdp_refusal(st));
      return;
    }
    offer = std::move(*out);
  }
  st.offer_holds = ev.sdp.empty() ? std::nullopt : sdp_holds(ev.sdp);
  st.oa.offer(from, ev.txn, ev.method, offer);
  LegEvent fwd;
  fwd.method = ev.method;
  fwd.sdp = std::move(offer);
  send_to(self, other(from), LegEventKind::reoffer, std::move(fwd));
}

void on_reanswer(Self* self, Party from, const LegEvent& ev) {
  auto& st = self->state;
  if (ev.method == "ACK") {
    relay_ack(self, from, ev);
    return;
  }
  if (!st.oa.open()) {
    return;
  }
  const OpenOffer open = *st.oa.open();
  switch (st.oa.on_response(from, ev.status)) {
    case OfferAnswer::Outcome::relay_answer:
      relay_answer(self, from, open, ev);
      return;
    case OfferAnswer::Outcome::retry:
      spdlog::info("call={} leg={} 491 to our {}: retry in {} ms", st.info.id, name(from),
                   open.method, st.oa.retry_delay_ms());
      self->delayed_send(self, std::chrono::milliseconds(st.oa.retry_delay_ms()),
                         retry_atom::value, st.oa.retry_generation());
      return;
    case OfferAnswer::Outcome::relay_failure: {
      if (st.media) {
        st.media->drop_reoffer();
      }
      st.offer_holds.reset();
      // A status that ended the far dialog (RFC 5057) says nothing about the offerer's: 500, then
      // the bridge ends the call with that status as the Reason of the offerer's BYE.
      LegEvent resp = relayed_failure(ev, 300);
      resp.txn = open.txn;
      send_to(self, open.from, LegEventKind::reanswer, std::move(resp));
      return;
    }
    case OfferAnswer::Outcome::ignore:
      return;
  }
}

void on_retry(Self* self, std::uint64_t generation) {
  auto& st = self->state;
  if (st.ending) {
    st.oa.reset();
    return;
  }
  if (!st.oa.on_retry_timer(generation) || !st.oa.open()) {
    return;
  }
  const OpenOffer& open = *st.oa.open();
  LegEvent fwd;
  fwd.method = open.method;
  fwd.sdp = open.offer;
  send_to(self, other(open.from), LegEventKind::reoffer, std::move(fwd));
}

void on_info(Self* self, Party from, const LegEvent& ev) {
  auto& st = self->state;
  if (ev.status != 0) {
    if (bridge_dtmf::on_info_response(self, from, ev)) {
      return;  // ours, or a refusal that sends the digit as RFC 4733 events instead
    }
    // The far side's answer to the INFO we relayed: it answers the sender's INFO.
    LegEvent resp = relayed_failure(ev, 200);
    resp.retry_after = 0;  // an INFO's answer carries none
    resp.txn = ev.txn;
    send_to(self, other(from), LegEventKind::info, std::move(resp));
    return;
  }
  if (!st.answered || st.ending || st.a_done || st.b_done) {
    LegEvent resp;
    apply_refusal(resp, Refusal::info_no_call);
    resp.txn = ev.txn;
    send_to(self, from, LegEventKind::info, std::move(resp));
    return;
  }
  if (auto d = parse_dtmf_info(ev.content_type, ev.body)) {
    LegEvent digit = make_event(from == Party::a ? st.a_id : st.b_id, LegEventKind::dtmf);
    digit.digit = d->digit;
    digit.duration = d->duration;
    note(self, from, digit);
    if (bridge_dtmf::on_info_digit(self, from, ev.txn, *d)) {
      return;  // answered 200 and sent on as RFC 4733 events
    }
  }
  LegEvent fwd;
  fwd.content_type = ev.content_type;
  fwd.body = ev.body;
  fwd.txn = ev.txn;
  send_to(self, other(from), LegEventKind::info, std::move(fwd));
}

}  // namespace b2bua::midcall
