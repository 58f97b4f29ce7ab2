// The call registry on the testing scheduler: hooks for started, answered and ended calls (router
// refusals included), and drop_atom answering only once the call has ended.
#include "actors/call_registry.hpp"

#include <memory>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "actor_fixture.hpp"

using namespace b2bua;

namespace {

struct RegistryFixture : test::ActorFixture {
  struct Seen {
    std::vector<CallId> started, answered, ended;
    std::vector<std::string> reasons;
    std::vector<CallInfo> dropped;   // answers to drop_atom
    std::vector<std::string> bridge; // what the fake bridge was told
  };
  std::shared_ptr<Seen> seen = std::make_shared<Seen>();
  caf::actor reg;
  caf::actor bridge;

  RegistryFixture() {
    RegistryHooks h;
    auto s = seen;
    h.started = [s](const CallInfo& c) { s->started.push_back(c.id); };
    h.answered = [s](const CallInfo& c) { s->answered.push_back(c.id); };
    h.ended = [s](const CallInfo& c) {
      s->ended.push_back(c.id);
      s->reasons.push_back(c.end_reason);
    };
    reg = sys.spawn(call_registry_actor, h);
    bridge = sys.spawn([s](caf::event_based_actor*) -> caf::behavior {
      return {[s](hangup_atom, const std::string& why, int status) {
        s->bridge.push_back(why + "/" + std::to_string(status));
      }};
    });
    sched.run();
  }
  ~RegistryFixture() {
    caf::anon_send_exit(reg, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(bridge, caf::exit_reason::user_shutdown);
    sched.run();
  }

  CallInfo info(CallId id, std::int64_t answer_ms = 0) {
    CallInfo c;
    c.id = id;
    c.answer_ms = answer_ms;
    return c;
  }
  void update(const CallInfo& c) {
    caf::send_as(bridge, reg, update_atom::value, c);
    sched.run();
  }
  void drop(CallId id) {
    auto s = seen;
    auto r = reg;
    sys.spawn([s, r, id](caf::event_based_actor* self) {
      self->request(r, caf::infinite, drop_atom::value, id, std::string("op"))
          .then([s](const CallInfo& c) { s->dropped.push_back(c); });
    });
    sched.run();
  }
};

}  // namespace

TEST_CASE_FIXTURE(RegistryFixture, "hooks see each call start once, its answer once, its end once") {
  update(info(5));
  update(info(5));
  update(info(5, 1000));
  update(info(5, 1000));
  CallInfo end = info(5, 1000);
  end.end_reason = "caller_bye";
  caf::anon_send(reg, ended_atom::value, end);
  sched.run();
  CHECK(seen->started == std::vector<CallId>{5});
  CHECK(seen->answered == std::vector<CallId>{5});
  CHECK(seen->ended == std::vector<CallId>{5});
  CHECK(seen->reasons == std::vector<std::string>{"caller_bye"});
}

TEST_CASE_FIXTURE(RegistryFixture, "a call the router refused starts and ends in one message") {
  IncomingCall in;
  in.leg = 9;
  in.call_id = "abc";
  in.from_uri = "sip:a@h";
  in.source = "10.0.0.1:5060";
  in.received_ms = 1234;
  const CallInfo c = refused_call_info(in, 404, "b2bua.route.no_match", "r1");
  CHECK(c.end_reason == "route_no_match");
  CHECK(c.final_status == 404);
  CHECK(c.route == "r1");
  REQUIRE(c.legs.size() == 1);
  CHECK(c.legs[0].call_id == "abc");
  CHECK(c.legs[0].remote == "10.0.0.1:5060");
  CHECK(c.end_ms >= c.start_ms);
  CHECK(refused_call_info(in, 482, "b2bua.sip.loop").end_reason == "sip_loop");
  caf::anon_send(reg, ended_atom::value, c);
  sched.run();
  CHECK(seen->started == std::vector<CallId>{9});
  CHECK(seen->ended == std::vector<CallId>{9});
}

TEST_CASE_FIXTURE(RegistryFixture, "drop tells the bridge 480 and answers when the call ended") {
  update(info(7, 1000));
  drop(7);
  CHECK(seen->bridge == std::vector<std::string>{"op/480"});
  CHECK(seen->dropped.empty());  // not before the end
  CallInfo end = info(7, 1000);
  end.end_reason = "operator_hangup";
  caf::anon_send(reg, ended_atom::value, end);
  sched.run();
  REQUIRE(seen->dropped.size() == 1);
  CHECK(seen->dropped[0].id == 7);
  CHECK(seen->dropped[0].end_reason == "operator_hangup");
  drop(8);  // unknown: id 0 at once
  REQUIRE(seen->dropped.size() == 2);
  CHECK(seen->dropped[1].id == 0);
}

TEST_CASE_FIXTURE(RegistryFixture, "subscribers get every leg event in order until they exit") {
  auto got = std::make_shared<std::vector<std::string>>();
  auto hooked = std::make_shared<std::vector<std::string>>();
  RegistryHooks h;
  h.event = [hooked](const CallEvent& ev) { hooked->push_back(ev.event.digit); };
  auto reg2 = sys.spawn(call_registry_actor, h);
  auto sub = sys.spawn([got](caf::event_based_actor*) -> caf::behavior {
    return {[got](event_atom, const CallEvent& ev) {
      got->push_back(std::to_string(ev.call) + ev.role + to_string(ev.event.kind) + ev.event.digit);
    }};
  });
  sched.run();
  auto publish = [&](CallId call, const char* role, LegEventKind kind, const char* digit) {
    LegEvent le = make_event(1, kind);
    le.digit = digit;
    caf::send_as(bridge, reg2, event_atom::value, CallEvent{call, role, le});
    sched.run();
  };
  publish(7, "a", LegEventKind::dtmf, "1");  // nobody subscribed yet: only the hook
  caf::anon_send(reg2, subscribe_atom::value, sub);
  caf::anon_send(reg2, subscribe_atom::value, sub);  // twice is once
  sched.run();
  publish(7, "a", LegEventKind::dtmf, "5");
  publish(7, "b", LegEventKind::hold, "");
  CHECK(*got == std::vector<std::string>{"7adtmf5", "7bhold"});
  CHECK(*hooked == std::vector<std::string>{"1", "5", ""});
  caf::anon_send_exit(sub, caf::exit_reason::user_shutdown);
  sched.run();
  publish(8, "a", LegEventKind::dtmf, "9");  // the dead subscriber was dropped
  CHECK(got->size() == 2);
  CHECK(hooked->size() == 4);
  caf::anon_send_exit(reg2, caf::exit_reason::user_shutdown);
  sched.run();
}
