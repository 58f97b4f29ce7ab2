// The call-leg actor and its SIP-side state.
#include "actors/call_leg.hpp"

#include <caf/event_based_actor.hpp>

#include "actors/protocol/atoms.hpp"
#include "actors/protocol/refusal.hpp"

namespace b2bua {

bool CallLegState::on_sip(const LegEvent& ev) {
  switch (ev.kind) {
    case LegEventKind::ringing:
    case LegEventKind::early_media:
      if (ev.status == last_provisional && ev.sdp == last_provisional_sdp) {
        return false;
      }
      last_provisional = ev.status;
      last_provisional_sdp = ev.sdp;
      early = true;
      break;
    case LegEventKind::answered:
      answered = true;
      final = true;
      break;
    case LegEventKind::failed:
      final = true;
      break;
    case LegEventKind::cancelled:
      final = true;  // NUA answered the INVITE with 487
      ended = true;
      break;
    case LegEventKind::bye:
    case LegEventKind::terminated:
      ended = true;
      break;
    default:
      break;
  }
  return true;
}

std::optional<SipAction> CallLegState::on_bridge_midcall(const LegEvent& cmd) const {
  SipAction a;
  a.leg = id;
  a.tag = cmd.txn;
  auto respond = [&] {
    a.kind = SipActionKind::respond_request;
    a.status = cmd.status >= 200 && cmd.status < 700 ? cmd.status : 500;
    a.reason = a.status == cmd.status ? cmd.reason : "Server Internal Error";
    a.sdp = cmd.sdp;
    a.warning = cmd.warning;
    a.retry_after = cmd.retry_after;
    return a;
  };
  switch (cmd.kind) {
    case LegEventKind::reoffer:
      if (!answered && !early) {
        return std::nullopt;  // no dialog yet to carry it (the SIP layer checks an early one)
      }
      a.kind = SipActionKind::reoffer;
      a.method = cmd.method == "UPDATE" ? "UPDATE" : "INVITE";
      a.sdp = cmd.sdp;
      return a;
    case LegEventKind::reanswer:
      if (cmd.method == "ACK") {
        a.kind = SipActionKind::ack;
        a.sdp = cmd.sdp;
        return a;
      }
      return respond();
    case LegEventKind::info:
      if (cmd.status != 0) {
        return respond();
      }
      a.kind = SipActionKind::info;
      a.content_type = cmd.content_type;
      a.body = cmd.body;
      return a;
    default:
      return std::nullopt;
  }
}

std::optional<SipAction> CallLegState::on_bridge(const LegEvent& cmd) {
  if (ended) {
    return std::nullopt;
  }
  if (auto mid = on_bridge_midcall(cmd)) {
    return mid;
  }
  SipAction a;
  a.leg = id;
  if (role == LegRole::a) {
    if (final && cmd.kind != LegEventKind::bye) {
      return std::nullopt;
    }
    switch (cmd.kind) {
      case LegEventKind::ringing:
        a.kind = SipActionKind::respond;
        a.status = cmd.status > 100 && cmd.status < 200 ? cmd.status : 180;
        a.reason = a.status == cmd.status ? cmd.reason : "Ringing";
        a.reliable = cmd.reliable;
        early = true;
        return a;
      case LegEventKind::early_media:
        early = true;
        a.kind = SipActionKind::respond;
        a.status = cmd.status > 100 && cmd.status < 200 ? cmd.status : 183;
        a.reason = a.status == cmd.status ? cmd.reason : "Session Progress";
        a.sdp = cmd.sdp;
        a.reliable = cmd.reliable;
        return a;
      case LegEventKind::answered:
        a.kind = SipActionKind::respond;
        a.status = cmd.status >= 200 && cmd.status < 300 ? cmd.status : 200;
        a.reason = a.status == cmd.status ? cmd.reason : "OK";
        a.sdp = cmd.sdp;
        answered = true;
        final = true;
        return a;
      case LegEventKind::failed:
        a.kind = SipActionKind::respond;
        if (cmd.status >= 300 && cmd.status < 700) {
          a.status = cmd.status;
          a.reason = cmd.reason;
          a.warning = cmd.warning;
          a.retry_after = cmd.retry_after;
        } else {
          apply_refusal(a, Refusal::internal);  // no error status: never sent as one
        }
        final = true;
        return a;
      case LegEventKind::bye:
        if (answered) {
          a.kind = SipActionKind::bye;
          a.why = cmd.reason;
          a.status = cmd.status;  // the cause of the Reason header (200 when not an error)
          ended = true;
          return a;
        }
        if (!final) {  // not answered yet: the caller gets an error instead
          a.kind = SipActionKind::respond;
          apply_refusal(a, Refusal::call_ended, {.status = cmd.status, .reason = cmd.reason});
          if (!cmd.warning.empty()) {
            a.warning = cmd.warning;  // the BYE's own cause (e.g. b2bua.dialog.ended)
          }
          final = true;
          return a;
        }
        return std::nullopt;
      default:
        return std::nullopt;
    }
  }
  switch (cmd.kind) {
    case LegEventKind::cancelled:
    case LegEventKind::bye:
      if (answered) {
        a.kind = SipActionKind::bye;
        a.status = cmd.status;  // the cause of the Reason header (200 when not an error)
        ended = true;
      } else if (!final && !cancel_sent) {
        a.kind = SipActionKind::cancel;
        cancel_sent = true;
      } else {
        return std::nullopt;
      }
      a.why = cmd.reason;
      return a;
    default:
      return std::nullopt;
  }
}

caf::behavior call_leg_actor(caf::stateful_actor<CallLegState>* self, LegRole role, LegId id,
                             caf::actor bridge, caf::actor transport, std::shared_ptr<SipPort> sip,
                             OutboundInvite invite) {
  self->state.id = id;
  self->state.role = role;
  // Not linked: a link would put one attachable per live leg on the transport, scanned linearly
  // at every leg's exit. The transport tells its legs to exit when it stops (see transport.hpp).
  self->send(transport, attach_atom::value, id, caf::actor{self}, role == LegRole::a);
  if (role == LegRole::b) {
    SipAction a;
    a.leg = id;
    a.kind = SipActionKind::invite;
    a.invite = std::move(invite);
    sip->execute(std::move(a));
  }
  return {
      [self, bridge](sip_atom, LegEvent& ev) {
        const bool last = ev.kind == LegEventKind::terminated;
        if (self->state.on_sip(ev)) {
          self->send(bridge, leg_atom::value, std::move(ev));
        }
        if (last) {
          self->quit();
        }
      },
      [self, sip](leg_atom, const LegEvent& cmd) {
        if (auto action = self->state.on_bridge(cmd)) {
          sip->execute(std::move(*action));
        }
      },
  };
}

}  // namespace b2bua
