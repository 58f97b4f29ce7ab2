// Unit tests of the Engine's settings: each part's settings built from a Config, without starting
// anything (api/engine/detail/engine_settings.hpp).
#include "api/engine/detail/engine_settings.hpp"

#include <functional>
#include <string>
#include <vector>

#include <doctest/doctest.h>

using namespace b2bua;
using namespace b2bua::api;

namespace {

Config with(const std::function<void(Config&)>& change) {
  Config c;
  change(c);
  return c;
}

RouteRule relayed_route() {
  RouteRule r;
  r.name = "relayed";
  r.media = "relay";
  return r;
}

}  // namespace

TEST_CASE("caf_workers leaves the sofia thread a core unless actors.workers says otherwise") {
  struct Case {
    std::uint32_t workers;
    unsigned cores;
    std::size_t expected;
  };
  const Case cases[] = {{0, 4, 3}, {0, 2, 1}, {0, 1, 1}, {0, 0, 1}, {6, 2, 6}, {1, 16, 1}};
  for (const auto& k : cases) {
    CAPTURE(k.workers);
    CAPTURE(k.cores);
    CHECK(caf_workers(with([&](Config& c) { c.workers = k.workers; }), k.cores) == k.expected);
  }
}

TEST_CASE("own_addresses: the loopback names on any interface, the host itself, then advertise") {
  struct Case {
    const char* listen;
    const char* advertise;
    std::vector<std::string> expected;
  };
  const Case cases[] = {
      {"0.0.0.0:5060", "", {"127.0.0.1:5060", "localhost:5060", "[::1]:5060"}},
      {"[::]:5070", "", {"127.0.0.1:5070", "localhost:5070", "[::1]:5070"}},
      {"10.0.0.5:5060", "", {"10.0.0.5:5060"}},
      {"[2001:db8::1]:5062", "", {"[2001:db8::1]:5062"}},
      {"10.0.0.5:5060", "sbc.example.com", {"10.0.0.5:5060", "sbc.example.com:5060"}},
  };
  for (const auto& k : cases) {
    CAPTURE(k.listen);
    Config c = with([&](Config& x) {
      x.sip_listen = k.listen;
      x.sip_advertise = k.advertise;
    });
    CHECK(own_addresses(c) == k.expected);
    CHECK(router_settings(c).own_addresses == k.expected);
  }
}

TEST_CASE("media_address: media.advertise, then sip.advertise, then the listen host, then loopback") {
  struct Case {
    const char* listen;
    const char* sip_advertise;
    const char* media_advertise;
    const char* expected;
  };
  const Case cases[] = {
      {"0.0.0.0:5060", "", "", "127.0.0.1"},
      {"10.0.0.5:5060", "", "", "10.0.0.5"},
      {"10.0.0.5:5060", "192.0.2.7", "", "192.0.2.7"},
      {"10.0.0.5:5060", "192.0.2.7", "198.51.100.9", "198.51.100.9"},
  };
  for (const auto& k : cases) {
    CAPTURE(k.listen);
    Config c = with([&](Config& x) {
      x.sip_listen = k.listen;
      x.sip_advertise = k.sip_advertise;
      x.media.advertise = k.media_advertise;
    });
    CHECK(media_address(c) == k.expected);
    CHECK(router_settings(c).bridge.media_address == k.expected);
  }
}

TEST_CASE("the relay engine is configured only when some call may be relayed") {
  struct Case {
    const char* what;
    std::function<void(Config&)> change;
    bool relays;
  };
  const Case cases[] = {
      {"relay by default", [](Config&) {}, true},
      {"bypass everywhere", [](Config& c) { c.media.mode = "bypass"; }, false},
      {"bypass but one route relays",
       [](Config& c) {
         c.media.mode = "bypass";
         c.routes = {relayed_route()};
       },
       true},
  };
  for (const auto& k : cases) {
    CAPTURE(k.what);
    Config c = with(k.change);
    CHECK(relays_any_call(c) == k.relays);
    CHECK(media_settings(c).has_value() == k.relays);
  }
  Config c = with([](Config& x) {
    x.media.listen_ip = "10.1.1.1";
    x.media.port_min = 30000;
    x.media.port_max = 30099;
    x.media.workers = 3;
    x.media.cpus = {1, 2};
    x.media.rt_priority = 10;
    x.media.latch = "sdp";
  });
  auto ec = media_settings(c);
  REQUIRE(ec);
  CHECK(ec->listen_ip == "10.1.1.1");
  CHECK(ec->port_min == 30000);
  CHECK(ec->port_max == 30099);
  CHECK(ec->workers == 3);
  CHECK(ec->cpus == std::vector<int>{1, 2});
  CHECK(ec->rt_priority == 10);
  CHECK(ec->latch == rtp::LatchMode::sdp);
}

TEST_CASE("check_media_address wants a numeric IP in SDP only when calls are relayed") {
  struct Case {
    const char* what;
    std::function<void(Config&)> change;
    std::string error;
  };
  const Case cases[] = {
      {"loopback by default", [](Config&) {}, ""},
      {"IPv6 advertise", [](Config& c) { c.media.advertise = "2001:db8::5"; }, ""},
      {"a host name from sip.advertise", [](Config& c) { c.sip_advertise = "sbc.example.com"; },
       "media.advertise: must be a numeric IP address (SDP carries sbc.example.com)"},
      {"a host name, bypass",
       [](Config& c) {
         c.sip_advertise = "sbc.example.com";
         c.media.mode = "bypass";
       },
       ""},
      {"a host name as the listen host", [](Config& c) { c.sip_listen = "sbc.local:5060"; },
       "media.advertise: must be a numeric IP address (SDP carries sbc.local)"},
  };
  for (const auto& k : cases) {
    CAPTURE(k.what);
    CHECK(check_media_address(with(k.change)) == k.error);
  }
}

TEST_CASE("sip_settings carries the sip, limits, timers and auth keys and the backend credentials") {
  Config c = with([](Config& x) {
    x.sip_listen = "127.0.0.1:5070";
    x.sip_advertise = "192.0.2.1";
    x.user_agent = "edge/1";
    x.max_calls = 7;
    x.retry_after_s = 9;
    x.sip_t1_ms = 250;
    x.session_expires_s = 600;
    x.min_se_s = 120;
    x.setup_deadline_ms = 90000;
    x.tcp_idle_ms = 5000;
    GroupSpec g;
    g.name = "pbx";
    GroupSpec::Target with_auth;
    with_auth.uri = "sip:10.0.0.9:5060";
    with_auth.auth.user = "b2b";
    with_auth.auth.password = "secret";
    with_auth.auth.realm = "pbx.example";
    GroupSpec::Target without_auth;
    without_auth.uri = "sip:10.0.0.10:5060";
    g.targets = {without_auth, with_auth};
    x.groups = {g};
  });
  auto sc = sip_settings(c);
  CHECK(sc.listen_host == "127.0.0.1");
  CHECK(sc.listen_port == 5070);
  CHECK(sc.advertise == "192.0.2.1");
  CHECK(sc.user_agent == "edge/1");
  CHECK(sc.max_calls == 7);
  CHECK(sc.retry_after_s == 9);
  CHECK(sc.t1_ms == 250);
  CHECK(sc.session_expires_s == 600);
  CHECK(sc.min_se_s == 120);
  CHECK(sc.setup_deadline_ms == 90000);
  CHECK(sc.tcp_idle_ms == 5000);
  CHECK(sc.auth == nullptr);
  REQUIRE(sc.backend_credentials.size() == 1);
  CHECK(sc.backend_credentials[0].uri == "sip:10.0.0.9:5060");
  CHECK(sc.backend_credentials[0].user == "b2b");
  CHECK(sc.backend_credentials[0].password == "secret");
  CHECK(sc.backend_credentials[0].realm == "pbx.example");

  c.auth.enabled = true;
  c.auth.realm = "example.com";
  CHECK(sip_settings(c).auth != nullptr);
}

TEST_CASE("router_settings carries the routing, bridge and media keys") {
  Config c = with([](Config& x) {
    x.route_timeout_ms = 1500;
    x.retry_after_s = 11;
    x.no_answer_ms = 45000;
    x.failover_timeout_ms = 900;
    x.media.mode = "bypass";
    x.media.timeout_s = 30;
  });
  auto rc = router_settings(c);
  CHECK(rc.route_timeout_ms == 1500);
  CHECK(rc.retry_after_s == 11);
  CHECK(rc.bridge.retry_after_s == 11);
  CHECK(rc.bridge.no_answer_ms == 45000);
  CHECK(rc.bridge.failover_timeout_ms == 900);
  CHECK(rc.bridge.media_mode == "bypass");
  CHECK(rc.bridge.rtp_timeout_s == 30);
  CHECK(rc.bridge.relay_engine == nullptr);  // the wiring sets it once the relay engine runs
}

TEST_CASE("the CDR store, the watchdog and the API are off when their keys say so") {
  CHECK_FALSE(cdr_settings(with([](Config& c) { c.cdr.path.clear(); })));
  auto cdr = cdr_settings(with([](Config& c) {
    c.cdr.path = "calls.sqlite";
    c.cdr.flush_ms = 50;
    c.cdr.max_queue = 10;
  }));
  REQUIRE(cdr);
  CHECK(cdr->path == "calls.sqlite");
  CHECK(cdr->flush_ms == 50);
  CHECK(cdr->max_queue == 10);

  CHECK_FALSE(watchdog_settings(with([](Config& c) { c.sip_watchdog_ms = 0; })));
  auto wd = watchdog_settings(with([](Config& c) { c.sip_watchdog_ms = 750; }));
  REQUIRE(wd);
  CHECK(wd->stall == std::chrono::milliseconds(750));

  CHECK_FALSE(api_settings(with([](Config& c) { c.api_enabled = false; })));
}

TEST_CASE("api_settings warns of an API open beyond loopback without a token") {
  struct Case {
    const char* listen;
    const char* token;
    bool open_without_token;
  };
  const Case cases[] = {
      {"127.0.0.1:8080", "", false}, {"[::1]:8080", "", false},   {"localhost:8080", "", false},
      {"0.0.0.0:8080", "", true},    {"0.0.0.0:8080", "t0k", false}, {"10.0.0.5:9090", "", true},
  };
  for (const auto& k : cases) {
    CAPTURE(k.listen);
    CAPTURE(k.token);
    auto a = api_settings(with([&](Config& c) {
      c.api_listen = k.listen;
      c.api_token = k.token;
    }));
    REQUIRE(a);
    CHECK(a->open_without_token == k.open_without_token);
    CHECK(a->token == k.token);
  }
  auto a = api_settings(with([](Config& c) { c.api_listen = "[::1]:9091"; }));
  REQUIRE(a);
  CHECK(a->host == "::1");
  CHECK(a->port == 9091);
}
