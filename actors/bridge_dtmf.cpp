// The bridge's DTMF part: SIP INFO <-> RFC 4733 conversion and the relay's pick-up.
#include "actors/bridge_dtmf.hpp"

#include <spdlog/spdlog.h>

#include "actors/bridge_midcall.hpp"
#include "actors/protocol/atoms.hpp"
#include "actors/protocol/refusal.hpp"
#include "rtp/relay_actor.hpp"

namespace b2bua::bridge_dtmf {

namespace {

const char* name(Party p) {
  return p == Party::a ? "a" : "b";
}

LegId leg_id(const BridgeState& st, Party p) {
  return p == Party::a ? st.a_id : st.b_id;
}

void to_leg(Self* self, Party p, LegEvent cmd) {
  auto& st = self->state;
  cmd.kind = LegEventKind::info;
  cmd.leg = leg_id(st, p);
  if (const caf::actor& leg = p == Party::a ? st.a : st.b) {
    self->send(leg, leg_atom::value, std::move(cmd));
  }
}

// 200 to the INFO `txn` that `to`'s peer sent: its digit went on as RFC 4733 events.
void accept_info(Self* self, Party to, std::uint64_t txn) {
  LegEvent ok = make_event(0, LegEventKind::info, 200, "OK");
  ok.txn = txn;
  to_leg(self, to, std::move(ok));
}

void inject(Self* self, Party towards, const DtmfDigit& d) {
  auto& st = self->state;
  spdlog::info("call={} leg={} dtmf digit={} sent as RFC 4733 events", st.info.id, name(towards),
               d.digit);
  self->send(st.relay, rtp::digit_atom::value, st.dtmf.digit_request(towards, d));
}

}  // namespace

void on_media(Self* self) {
  auto& st = self->state;
  if (!st.media || !st.relay) {
    return;
  }
  auto stream = st.media->dtmf_stream();
  if (!stream) {
    return;
  }
  st.dtmf.set_media(*stream, st.media->telephone_event(rtp::Side::a),
                    st.media->telephone_event(rtp::Side::b));
  for (Party p : {Party::a, Party::b}) {
    self->send(st.relay, rtp::dtmf_atom::value, st.dtmf.pickup(p));
  }
}

bool on_info_digit(Self* self, Party from, std::uint64_t txn, const DtmfDigit& d) {
  auto& st = self->state;
  const Party to = other(from);
  if (st.relay && st.dtmf.inject_towards(to)) {
    accept_info(self, from, txn);
    inject(self, to, d);
    return true;
  }
  st.dtmf.forwarded(to, txn, d);
  return false;
}

bool on_info_response(Self* self, Party from, const LegEvent& ev) {
  auto& st = self->state;
  if (ev.txn == 0) {
    // The answer to an INFO b2buad made of RFC 4733 events: nobody waits for it.
    spdlog::debug("call={} leg={} {} to our DTMF INFO", st.info.id, name(from), ev.status);
    return true;
  }
  if (ev.warning == warning_id(Refusal::dialog_ended)) {
    return false;  // that leg is gone (RFC 5057): the usual 500 to the sender, then the BYE
  }
  auto d = st.dtmf.on_info_response(from, ev.txn, ev.status);
  if (!d || !st.relay) {
    return false;
  }
  spdlog::info("call={} leg={} INFO refused with {}: DTMF goes as RFC 4733 events from now on",
               st.info.id, name(from), ev.status);
  accept_info(self, other(from), ev.txn);
  inject(self, from, *d);
  return true;
}

void on_rtp_digit(Self* self, const rtp::PickedDigit& d) {
  auto& st = self->state;
  const Party from = d.side == rtp::Side::a ? Party::a : Party::b;
  LegEvent digit = make_event(leg_id(st, from), LegEventKind::dtmf);
  digit.digit = d.digit;
  digit.duration = d.duration_ms;
  midcall::note(self, from, digit);
  const Party to = other(from);
  if (!st.answered || st.ending || !st.dtmf.info_towards(to)) {
    return;
  }
  LegEvent info;
  info.content_type = "application/dtmf-relay";
  info.body = "Signal=" + d.digit + "\r\nDuration=" + std::to_string(d.duration_ms) + "\r\n";
  spdlog::info("call={} leg={} dtmf digit={} sent as INFO", st.info.id, name(to), d.digit);
  to_leg(self, to, std::move(info));  // txn 0: its answer is ours
}

}  // namespace b2bua::bridge_dtmf
