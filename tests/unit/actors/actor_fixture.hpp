// A deterministic actor system for unit tests: CAF's testing scheduler with its manual clock, a
// SipPort that records actions, and a transport stand-in that records which actor owns which leg.
#pragma once

#include <map>
#include <memory>
#include <stdexcept>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/send.hpp>

#include "actors/bridge.hpp"
#include "actors/protocol/atoms.hpp"
#include "actors/protocol/leg_event.hpp"
#include "actors/protocol/sip_port.hpp"

namespace b2bua::test {

/// A bridge's attempt list with one target and no breaker.
inline std::vector<Attempt> one_attempt(std::string target) {
  Attempt at;
  at.backend.uri = target;
  at.target = std::move(target);
  return {std::move(at)};
}

struct RecordingSipPort : SipPort {
  std::vector<SipAction> actions;
  LegId next = 100;
  int call_ids = 0;
  bool throw_on_call_id = false;  ///< new_call_id throws: a fault inside the bridge's own code
  void execute(SipAction a) override { actions.push_back(std::move(a)); }
  LegId new_leg_id() override { return next++; }
  std::string new_call_id() override {
    if (throw_on_call_id) {
      throw std::runtime_error("test: new_call_id failed");
    }
    return "b-call-" + std::to_string(++call_ids);
  }

  /// Actions on one leg, in order.
  std::vector<SipAction> on(LegId leg) const {
    std::vector<SipAction> out;
    for (const auto& a : actions) {
      if (a.leg == leg) {
        out.push_back(a);
      }
    }
    return out;
  }
};

struct Recorded {
  std::map<LegId, caf::actor> owners;           // from (attach_atom, leg, actor, existing)
  std::vector<std::pair<CallInfo, bool>> calls; // registry updates; bool = ended
  std::vector<CallId> ended;
  std::vector<CallEvent> events;  // (event_atom) the bridge published to the registry
};

inline caf::actor_system_config& testing_config(caf::actor_system_config& cfg) {
  cfg.set("scheduler.policy", caf::atom("testing"));
  cfg.set("logger.verbosity", caf::atom("quiet"));
  cfg.set("logger.console", caf::atom("none"));
  return cfg;
}

struct ActorFixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{testing_config(cfg)};
  caf::scheduler::test_coordinator& sched =
      dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  std::shared_ptr<RecordingSipPort> sip = std::make_shared<RecordingSipPort>();
  std::shared_ptr<Recorded> rec = std::make_shared<Recorded>();
  caf::actor transport;
  caf::actor registry;

  ActorFixture() {
    auto r = rec;
    transport = sys.spawn([r](caf::event_based_actor* self) -> caf::behavior {
      // Like the real transport: only an anonymous exit stops it.
      self->set_exit_handler([self](const caf::exit_msg& em) {
        if (!em.source || em.source == self->address()) {
          self->quit(em.reason);
        }
      });
      return {[r](attach_atom, LegId leg, caf::actor owner, bool) { r->owners[leg] = owner; }};
    });
    registry = sys.spawn([r](caf::event_based_actor*) -> caf::behavior {
      return {
          [r](update_atom, const CallInfo& info) { r->calls.emplace_back(info, false); },
          [r](ended_atom, const CallInfo& info) { r->ended.push_back(info.id); },
          [r](event_atom, const CallEvent& ev) { r->events.push_back(ev); },
      };
    });
    sched.run();
  }

  ~ActorFixture() {
    caf::anon_send_exit(transport, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(registry, caf::exit_reason::user_shutdown);
    for (auto& [leg, a] : rec->owners) {
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    }
    sched.run();
  }

  /// Delivers a SIP-side event to the actor that owns `leg`, as the transport would.
  void sip_event(LegId leg, LegEventKind kind, int status = 0, std::string reason = {},
                 std::string sdp = {}, std::string warning = {}) {
    LegEvent ev = make_event(leg, kind, status, std::move(reason));
    ev.sdp = std::move(sdp);
    ev.warning = std::move(warning);
    auto i = rec->owners.find(leg);
    REQUIRE_MESSAGE(i != rec->owners.end(), "no actor attached to leg " << leg);
    caf::anon_send(i->second, sip_atom::value, std::move(ev));
    sched.run();
  }
};

}  // namespace b2bua::test
