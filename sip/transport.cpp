// The SIP transport actor: routes LegEvents from the sofia thread to the actor that owns each leg.
#include "sip/transport.hpp"

#include <unordered_map>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/protocol/atoms.hpp"
#include "actors/protocol/call_types.hpp"
#include "actors/protocol/leg_event.hpp"
#include "actors/protocol/refusal.hpp"

namespace b2bua::sip {

namespace {
// Events kept for a leg whose actor has not attached yet (CANCEL racing the routing decision).
constexpr std::size_t max_buffered = 16;
}  // namespace


TransportState::~TransportState() {
  for (auto& [owner, legs] : owned) {
    caf::anon_send_exit(owner, caf::exit_reason::user_shutdown);
  }
}

caf::behavior transport_actor(caf::stateful_actor<TransportState>* self,
                              std::shared_ptr<SipPort> sip) {
  // Only an anonymous exit (shutdown) stops it; attached actors' exits arrive as DOWN messages.
  self->set_exit_handler([self](const caf::exit_msg& em) {
    if (!em.source || em.source == self->address()) {  // anon_send_exit names the receiver
      self->quit(em.reason);
    }
  });
  self->set_down_handler([self, sip](const caf::down_msg& dm) {
    auto i = self->state.owned.find(dm.source);
    if (i == self->state.owned.end()) {
      return;
    }
    for (LegId leg : i->second) {
      auto e = self->state.legs.find(leg);
      if (e != self->state.legs.end() && !e->second.released) {
        spdlog::warn("leg={} actor ended before its leg; releasing it in SIP", leg);
        e->second.released = true;
        e->second.owner = nullptr;
        SipAction a;
        a.leg = leg;
        a.kind = SipActionKind::release;
        a.why = "call actor failed";
        sip->execute(std::move(a));
      }
    }
    self->state.owned.erase(i);
  });
  return {
      [self](route_atom, caf::actor& router) { self->state.router = std::move(router); },
      [self, sip](incoming_atom, IncomingCall& call) {
        if (!self->state.router) {
          SipAction a;
          a.leg = call.leg;
          a.kind = SipActionKind::release;
          sip->execute(std::move(apply_refusal(a, b2bua::Refusal::starting)));
          return;
        }
        self->state.legs[call.leg];
        self->send(self->state.router, incoming_atom::value, std::move(call));
      },
      [self](leg_atom, LegEvent& ev) {
        auto i = self->state.legs.find(ev.leg);
        if (i == self->state.legs.end()) {
          return;  // a leg nobody claimed (e.g. rejected while routing) ending
        }
        auto& e = i->second;
        const bool last = ev.kind == LegEventKind::terminated;
        if (e.owner) {
          self->send(e.owner, sip_atom::value, std::move(ev));
        } else {
          // No bridge yet: the router may hold the call (deciding or queued) and must learn
          // that the caller left.
          const bool gone = ev.kind == LegEventKind::cancelled || ev.kind == LegEventKind::bye ||
                            last;
          if (gone && self->state.router) {
            self->send(self->state.router, sip_atom::value, ev);
          }
          if (!e.released && e.pending.size() < max_buffered) {
            e.pending.push_back(std::move(ev));
          }
        }
        if (last) {
          self->state.legs.erase(i);  // a late attach for this leg is told `terminated` at once
        }
      },
      [self](attach_atom, LegId leg, caf::actor& owner, bool existing) {
        auto i = self->state.legs.find(leg);
        if (i == self->state.legs.end()) {
          if (existing) {
            // The A leg ended before its actor attached.
            self->send(owner, sip_atom::value, make_event(leg, LegEventKind::terminated));
            return;
          }
          i = self->state.legs.emplace(leg, TransportState::Entry{}).first;
        }
        auto& e = i->second;
        e.owner = owner;
        self->monitor(owner);
        self->state.owned[owner.address()].push_back(leg);
        bool ended = false;
        for (auto& ev : e.pending) {
          ended = ended || ev.kind == LegEventKind::terminated;
          self->send(owner, sip_atom::value, std::move(ev));
        }
        e.pending.clear();
        if (ended) {
          self->state.legs.erase(i);
        }
      },
  };
}

}  // namespace b2bua::sip
