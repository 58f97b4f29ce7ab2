// A running relay Engine on 127.0.0.1 over a probed free port range, and a bounded stats read.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <memory>

#include "rtp/relay_engine.hpp"
#include "tests/unit/rtp/udp_helpers.hpp"

namespace b2bua::rtp::test {

inline EngineConfig loopback_config(unsigned pairs, unsigned workers = 1) {
  auto base = free_port_range(2 * pairs);
  REQUIRE_MESSAGE(base, "no free port range on 127.0.0.1");
  EngineConfig cfg;
  cfg.listen_ip = "127.0.0.1";
  cfg.port_min = *base;
  cfg.port_max = static_cast<std::uint16_t>(*base + 2 * pairs - 1);
  cfg.workers = workers;
  return cfg;
}

/// The engine's snapshot of `id`, waiting at most two seconds for the worker's answer.
inline RelayStats read_stats(RelayControl& engine, RelayId id) {
  auto p = std::make_shared<std::promise<RelayStats>>();
  auto f = p->get_future();
  engine.stats(id, [p](const RelayStats& s) { p->set_value(s); });
  REQUIRE(f.wait_for(std::chrono::seconds(2)) == std::future_status::ready);
  return f.get();
}

struct EngineFixture {
  std::shared_ptr<Engine> engine;

  explicit EngineFixture(unsigned pairs, unsigned workers = 1) {
    engine = std::make_shared<Engine>(loopback_config(pairs, workers));
    auto err = engine->start();
    REQUIRE_MESSAGE(err.empty(), err);
  }

  EngineFixture() : EngineFixture(8, 1) {}

  /// One stream relay `id`; both peers set to the given loopback ports (0 = leave unknown).
  StreamPorts relay(RelayId id, std::uint16_t a_port, std::uint16_t b_port,
                    std::uint16_t a_rtcp = 0, std::uint16_t b_rtcp = 0,
                    LatchMode mode = LatchMode::latch) {
    RelayPorts ports;
    REQUIRE(engine->allocate(id, 1, mode, ports) == RelayErrc::ok);
    REQUIRE(ports.streams.size() == 1);
    if (a_port != 0) {
      REQUIRE(engine->set_peer(id, Side::a, 0, "127.0.0.1", a_port, a_rtcp, false) ==
              RelayErrc::ok);
    }
    if (b_port != 0) {
      REQUIRE(engine->set_peer(id, Side::b, 0, "127.0.0.1", b_port, b_rtcp, false) ==
              RelayErrc::ok);
    }
    sync(id);
    return ports.streams[0];
  }

  /// Returns once the relay's worker has run every command posted so far (commands and packets
  /// race otherwise: set_peer applies asynchronously).
  void sync(RelayId id) { read_stats(*engine, id); }
};

}  // namespace b2bua::rtp::test
