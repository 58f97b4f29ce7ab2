// The SIP transport actor on the testing scheduler: events reach the attached owner, an owner that
// dies with its leg alive gets the leg released in SIP, and a stopping transport tells every
// attached owner to exit (legs do not link to it).
#include "sip/transport.hpp"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "tests/unit/actors/actor_fixture.hpp"

using namespace b2bua;

namespace {

struct TransportFixture : test::ActorFixture {
  std::shared_ptr<test::RecordingSipPort> port = std::make_shared<test::RecordingSipPort>();
  std::shared_ptr<std::vector<std::string>> seen = std::make_shared<std::vector<std::string>>();
  caf::actor tr;

  TransportFixture() {
    tr = sys.spawn(sip::transport_actor, std::static_pointer_cast<SipPort>(port));
    sched.run();
  }
  ~TransportFixture() {
    caf::anon_send_exit(tr, caf::exit_reason::user_shutdown);
    sched.run();
  }

  // An owner that records what it gets, exits included.
  caf::actor owner(const std::string& name) {
    auto s = seen;
    return sys.spawn([s, name](caf::event_based_actor* self) -> caf::behavior {
      self->set_exit_handler([s, name, self](const caf::exit_msg& em) {
        s->push_back(name + " exit " + to_string(em.reason));
        self->quit(em.reason);
      });
      return {[s, name](sip_atom, const LegEvent& ev) {
        s->push_back(name + " " + to_string(ev.kind));
      }};
    });
  }
};

}  // namespace

TEST_CASE_FIXTURE(TransportFixture, "events reach the owner; a dead owner's live leg is released") {
  auto o = owner("o");
  caf::anon_send(tr, attach_atom::value, LegId{5}, o, false);
  sched.run();
  caf::anon_send(tr, leg_atom::value, make_event(5, LegEventKind::ringing, 180));
  sched.run();
  CHECK(*seen == std::vector<std::string>{"o ringing"});
  caf::anon_send_exit(o, caf::exit_reason::kill);
  sched.run();
  auto actions = port->on(5);
  REQUIRE(actions.size() == 1);
  CHECK(actions[0].kind == SipActionKind::release);
}

TEST_CASE_FIXTURE(TransportFixture, "a stopping transport tells every attached owner to exit") {
  auto o1 = owner("o1");
  auto o2 = owner("o2");
  auto gone = owner("gone");
  caf::anon_send(tr, attach_atom::value, LegId{1}, o1, false);
  caf::anon_send(tr, attach_atom::value, LegId{2}, o2, false);
  caf::anon_send(tr, attach_atom::value, LegId{3}, gone, false);
  sched.run();
  caf::anon_send(tr, leg_atom::value, make_event(3, LegEventKind::terminated));
  sched.run();
  caf::anon_send_exit(gone, caf::exit_reason::normal);  // a leg that ended normally
  sched.run();
  seen->clear();
  caf::anon_send_exit(tr, caf::exit_reason::user_shutdown);
  sched.run();
  std::sort(seen->begin(), seen->end());
  CHECK(*seen == std::vector<std::string>{"o1 exit exit_reason(user_shutdown)",
                                           "o2 exit exit_reason(user_shutdown)"});
  CHECK(port->actions.empty());
}
