// A test program around b2bua::SimpleB2bua for test_simple_b2bua.py.
// Usage: simple_b2bua_probe MODE SIP_ADDRESS TARGET [DEAD_TARGET]
//   MODE async: routes from another thread 20 ms later (on_route_async); sync: on_route;
//   builder: rules from SimpleB2bua::routes() with a fallback to DEAD_TARGET, add_failover from
//   DEAD_TARGET to TARGET and add_header("X-Tenant", "probe"); auth: require_auth("probe.test")
//   with user alice (password secret), and an async route that sends only calls whose
//   IncomingCall::auth_user is "alice" to TARGET (others 403).
//   Calls to the user "nobody" get no route (404). Reads commands on stdin, one per line:
//   "count" prints "count=<call_count()> listed=<list_calls().size()> legs=<legs of the first>
//   from=<from of the first>"; "events" prints "dtmf=<role>:<digit>:<duration>,... other=<kind>:<role>,..."
//   (what on_dtmf and on_event saw, "-" when nothing); "quit" stops gracefully and exits 0.
#include <chrono>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

#include "api/engine/simple_b2bua.hpp"

int main(int argc, char** argv) {
  if (argc != 4 && argc != 5) {
    std::cerr << "usage: simple_b2bua_probe async|sync|builder|auth SIP_ADDRESS TARGET [DEAD]\n";
    return 2;
  }
  const std::string mode = argv[1];
  const std::string target = argv[3];
  b2bua::SimpleB2bua b2b("probe", std::string(argv[2]));
  if (mode == "auth") {
    b2b.require_auth("probe.test").add_user("alice", "secret");
    b2b.on_route_async([target](const b2bua::IncomingCall& call, b2bua::RouteReply reply) {
      reply(call.auth_user == "alice"
                ? b2bua::RouteDecision::route_to(target, "probe")
                : b2bua::RouteDecision::reject(403, "Forbidden", "b2bua.route.rejected"));
    });
  } else if (mode == "async") {
    b2b.on_route_async([target](const b2bua::IncomingCall& call, b2bua::RouteReply reply) {
      std::thread([target, call, reply] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        if (call.to_user == "nobody") {
          reply(b2bua::RouteDecision::reject(404, "Not Found", "b2bua.route.no_match"));
        } else {
          reply(b2bua::RouteDecision::route_to(target, "probe"));
        }
      }).detach();
    });
  } else if (mode == "builder") {
    const std::string dead = argc == 5 ? argv[4] : target;
    b2b.routes().to("nobody").reject(403, "Forbidden").fallback(dead).build();
    b2b.add_failover(dead, target).add_header("X-Tenant", "probe");
  } else {
    b2b.on_route([target](const std::string&, const std::string& to) {
      return to.find("nobody@") != std::string::npos ? std::string() : target;
    });
  }
  std::mutex events_mutex;
  std::string dtmf_seen, other_seen;
  b2b.on_dtmf([&](b2bua::CallId, const std::string& role, const std::string& digit,
                  std::uint32_t duration) {
    std::lock_guard<std::mutex> lock(events_mutex);
    dtmf_seen += (dtmf_seen.empty() ? "" : ",") + role + ":" + digit + ":" + std::to_string(duration);
  });
  b2b.on_event([&](const b2bua::CallEvent& ev) {
    if (ev.event.kind != b2bua::LegEventKind::dtmf) {
      std::lock_guard<std::mutex> lock(events_mutex);
      other_seen += (other_seen.empty() ? "" : ",") + std::string(to_string(ev.event.kind)) + ":" +
                    ev.role;
    }
  });
  try {
    b2b.start();
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  std::cout << "ready" << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line == "count") {
      auto calls = b2b.list_calls();
      std::cout << "count=" << b2b.call_count() << " listed=" << calls.size()
                << " legs=" << (calls.empty() ? 0 : calls[0].legs.size())
                << " from=" << (calls.empty() ? "-" : calls[0].from) << std::endl;
    } else if (line == "events") {
      std::lock_guard<std::mutex> lock(events_mutex);
      std::cout << "dtmf=" << (dtmf_seen.empty() ? "-" : dtmf_seen)
                << " other=" << (other_seen.empty() ? "-" : other_seen) << std::endl;
    } else if (line == "quit") {
      break;
    }
  }
  b2b.stop();
  std::cout << "stopped" << std::endl;
  return 0;
}
