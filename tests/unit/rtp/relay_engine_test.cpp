// The relay data plane end to end through the Engine: loopback UDP peers on both sides.
#include "rtp/relay_engine.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <string>

#include <dirent.h>
#include <sched.h>
#include <unistd.h>

#include "tests/unit/rtp/engine_fixture.hpp"

using namespace b2bua::rtp;
using namespace b2bua::rtp::test;

TEST_CASE_FIXTURE(EngineFixture,
                  "RTP is relayed both ways, from the other side's port, and counted") {
  UdpPeer caller, callee;
  auto ports = relay(1, caller.port(), callee.port());
  for (std::uint16_t i = 0; i < 5; ++i) {
    REQUIRE(caller.send_to(ports.a_rtp, rtp_packet(i, i * 160u, 0xa)));
  }
  for (std::uint16_t i = 0; i < 5; ++i) {
    auto d = callee.recv();
    REQUIRE(d);
    CHECK(d->from_port == ports.b_rtp);
    CHECK(d->bytes == rtp_packet(i, i * 160u, 0xa));
  }
  for (std::uint16_t i = 0; i < 3; ++i) {
    REQUIRE(callee.send_to(ports.b_rtp, rtp_packet(100 + i, i * 160u, 0xb, 100)));
  }
  for (std::uint16_t i = 0; i < 3; ++i) {
    auto d = caller.recv();
    REQUIRE(d);
    CHECK(d->from_port == ports.a_rtp);
    CHECK(seq_of(d->bytes) == 100 + i);
  }
  auto s = read_stats(*engine, 1);
  CHECK(s.found);
  CHECK(s.a.packets == 5);
  CHECK(s.a.bytes == 5 * 172);
  CHECK(s.a.forwarded == 5);
  CHECK(s.b.packets == 3);
  CHECK(s.b.bytes == 3 * 112);
  CHECK(s.b.forwarded == 3);
  CHECK(s.a.lost == 0);
  CHECK(s.a.dropped == 0);
  CHECK(s.a.last_packet_ns > 0);
  CHECK(s.b.last_packet_ns >= s.a.last_packet_ns);
  CHECK(s.now_ns >= s.b.last_packet_ns);
  auto t = engine->totals();
  CHECK(t.packets == 8);
  CHECK(t.forwarded == 8);
  CHECK(t.relays == 1);
}

TEST_CASE_FIXTURE(EngineFixture, "RTCP is relayed between the +1 sockets") {
  UdpPeer caller, caller_rtcp, callee, callee_rtcp;
  auto ports = relay(1, caller.port(), callee.port(), caller_rtcp.port(), callee_rtcp.port());
  CHECK(ports.a_rtcp == ports.a_rtp + 1);
  CHECK(ports.b_rtcp == ports.b_rtp + 1);
  REQUIRE(caller_rtcp.send_to(ports.a_rtcp, rtcp_rr(0xa)));
  auto d = callee_rtcp.recv();
  REQUIRE(d);
  CHECK(d->from_port == ports.b_rtcp);
  CHECK(d->bytes == rtcp_rr(0xa));
  REQUIRE(callee_rtcp.send_to(ports.b_rtcp, rtcp_rr(0xb)));
  auto back = caller_rtcp.recv();
  REQUIRE(back);
  CHECK(back->from_port == ports.a_rtcp);
  CHECK(callee.idle());
  auto s = read_stats(*engine, 1);
  CHECK(s.a.rtcp_packets == 1);
  CHECK(s.b.rtcp_packets == 1);
  CHECK(s.a.lost == 0);
}

TEST_CASE_FIXTURE(EngineFixture, "with rtcp-mux RTCP travels on the RTP sockets, per side") {
  UdpPeer caller, callee, callee_rtcp;
  RelayPorts rp;
  REQUIRE(engine->allocate(7, 1, rp) == RelayErrc::ok);
  auto ports = rp.streams[0];
  SUBCASE("both sides multiplex") {
    REQUIRE(engine->set_peer(7, Side::a, 0, "127.0.0.1", caller.port(), 0, true) == RelayErrc::ok);
    REQUIRE(engine->set_peer(7, Side::b, 0, "127.0.0.1", callee.port(), 0, true) == RelayErrc::ok);
    sync(7);
    REQUIRE(caller.send_to(ports.a_rtp, rtcp_rr(0xa)));
    auto d = callee.recv();
    REQUIRE(d);
    CHECK(d->from_port == ports.b_rtp);
    CHECK(d->bytes == rtcp_rr(0xa));
  }
  SUBCASE("only the caller multiplexes") {
    REQUIRE(engine->set_peer(7, Side::a, 0, "127.0.0.1", caller.port(), 0, true) == RelayErrc::ok);
    REQUIRE(engine->set_peer(7, Side::b, 0, "127.0.0.1", callee.port(), callee_rtcp.port(),
                             false) == RelayErrc::ok);
    sync(7);
    REQUIRE(caller.send_to(ports.a_rtp, rtcp_rr(0xa)));
    auto d = callee_rtcp.recv();
    REQUIRE(d);
    CHECK(d->from_port == ports.b_rtcp);
    REQUIRE(callee_rtcp.send_to(ports.b_rtcp, rtcp_rr(0xb)));
    auto back = caller.recv();
    REQUIRE(back);
    CHECK(back->from_port == ports.a_rtp);
    CHECK(back->bytes == rtcp_rr(0xb));
  }
  // RTP still flows on the same sockets and RTCP did not disturb its sequence statistics.
  REQUIRE(caller.send_to(ports.a_rtp, rtp_packet(1, 160, 0xa)));
  auto d = callee.recv();
  REQUIRE(d);
  CHECK(seq_of(d->bytes) == 1);
  auto s = read_stats(*engine, 7);
  CHECK(s.a.rtcp_packets == 1);
  CHECK(s.a.packets == 2);
  CHECK(s.a.lost == 0);
}

TEST_CASE_FIXTURE(EngineFixture,
                  "the first source latches; a new one takes over after three packets in a row") {
  UdpPeer caller, moved, stranger, callee;
  auto ports = relay(1, 0, callee.port());  // the caller's SDP address is not known
  REQUIRE(caller.send_to(ports.a_rtp, rtp_packet(1, 0, 0xa)));
  REQUIRE(callee.recv());
  REQUIRE(callee.send_to(ports.b_rtp, rtp_packet(50, 0, 0xb)));
  auto back = caller.recv();
  REQUIRE(back);  // sent to the latched source
  CHECK(seq_of(back->bytes) == 50);

  // A stranger's isolated packets never take over, even interleaved with the caller's.
  REQUIRE(stranger.send_to(ports.a_rtp, rtp_packet(900, 0, 0xee)));
  REQUIRE(stranger.send_to(ports.a_rtp, rtp_packet(901, 0, 0xee)));
  REQUIRE(caller.send_to(ports.a_rtp, rtp_packet(2, 160, 0xa)));
  REQUIRE(stranger.send_to(ports.a_rtp, rtp_packet(902, 0, 0xee)));
  REQUIRE(caller.send_to(ports.a_rtp, rtp_packet(3, 320, 0xa)));
  for (std::uint16_t want : {2, 3}) {
    auto d = callee.recv();
    REQUIRE(d);
    CHECK(seq_of(d->bytes) == want);
  }

  // The caller's NAT binding moves: the third packet from the new address is relayed.
  for (std::uint16_t i = 10; i < 13; ++i) {
    REQUIRE(moved.send_to(ports.a_rtp, rtp_packet(i, 0, 0xa)));
  }
  auto d = callee.recv();
  REQUIRE(d);
  CHECK(seq_of(d->bytes) == 12);
  REQUIRE(callee.send_to(ports.b_rtp, rtp_packet(51, 160, 0xb)));
  auto to_moved = moved.recv();
  REQUIRE(to_moved);
  CHECK(seq_of(to_moved->bytes) == 51);
  CHECK(caller.idle());
  CHECK(stranger.idle());
  auto s = read_stats(*engine, 1);
  CHECK(s.a.dropped == 5);  // three from the stranger, two from the new address
  CHECK(s.a.packets == 4);
}

TEST_CASE_FIXTURE(EngineFixture,
                  "in sdp mode packets from other addresses are dropped and counted") {
  UdpPeer caller, callee, stranger;
  auto ports = relay(1, caller.port(), callee.port(), 0, 0, LatchMode::sdp);
  for (int i = 0; i < 4; ++i) {
    REQUIRE(stranger.send_to(ports.a_rtp, rtp_packet(900, 0, 0xee)));
  }
  REQUIRE(caller.send_to(ports.a_rtp, rtp_packet(1, 0, 0xa)));
  auto d = callee.recv();
  REQUIRE(d);
  CHECK(seq_of(d->bytes) ==
        1);  // the same socket queue: the stranger's came first and went nowhere
  REQUIRE(stranger.send_to(ports.b_rtp, rtp_packet(901, 0, 0xee)));
  REQUIRE(callee.send_to(ports.b_rtp, rtp_packet(2, 0, 0xb)));
  auto back = caller.recv();
  REQUIRE(back);
  CHECK(seq_of(back->bytes) == 2);
  CHECK(stranger.idle());
  auto s = read_stats(*engine, 1);
  CHECK(s.a.dropped == 4);
  CHECK(s.a.packets == 1);
  CHECK(s.b.dropped == 1);
  CHECK(s.b.packets == 1);
}

TEST_CASE_FIXTURE(EngineFixture,
                  "nothing is sent before the other side's address is known; a re-offer moves it") {
  UdpPeer caller, callee, callee2;
  auto ports = relay(1, caller.port(), 0);
  REQUIRE(caller.send_to(ports.a_rtp, rtp_packet(1, 0, 0xa)));
  REQUIRE(wait_until([&] { return read_stats(*engine, 1).a.dropped == 1; }));
  REQUIRE(engine->set_peer(1, Side::b, 0, "127.0.0.1", callee.port(), 0, false) == RelayErrc::ok);
  sync(1);
  REQUIRE(caller.send_to(ports.a_rtp, rtp_packet(2, 160, 0xa)));
  auto d = callee.recv();
  REQUIRE(d);
  CHECK(seq_of(d->bytes) == 2);
  REQUIRE(callee.send_to(ports.b_rtp, rtp_packet(70, 0, 0xb)));  // B latches to callee
  REQUIRE(caller.recv());
  // A re-INVITE moves the callee: the new SDP address wins over the old latch.
  REQUIRE(engine->set_peer(1, Side::b, 0, "127.0.0.1", callee2.port(), 0, false) == RelayErrc::ok);
  sync(1);
  REQUIRE(caller.send_to(ports.a_rtp, rtp_packet(3, 320, 0xa)));
  auto moved = callee2.recv();
  REQUIRE(moved);
  CHECK(seq_of(moved->bytes) == 3);
  CHECK(callee.idle());
  auto s = read_stats(*engine, 1);
  CHECK(s.a.forwarded == 2);
  CHECK(s.a.dropped == 1);
}

TEST_CASE_FIXTURE(EngineFixture, "a burst of 1000 packets arrives complete and in order") {
  UdpPeer caller, callee;
  auto ports = relay(1, caller.port(), callee.port());
  constexpr int chunks = 10;
  constexpr int per_chunk = 100;
  int received = 0;
  bool in_order = true;
  for (int c = 0; c < chunks; ++c) {
    for (int i = 0; i < per_chunk; ++i) {
      auto seq = static_cast<std::uint16_t>(c * per_chunk + i);
      REQUIRE(caller.send_to(ports.a_rtp, rtp_packet(seq, seq * 160u, 0xa)));
    }
    for (int i = 0; i < per_chunk; ++i) {
      auto d = callee.recv();
      REQUIRE_MESSAGE(d, "packet " << received << " did not arrive");
      in_order = in_order && seq_of(d->bytes) == received;
      ++received;
    }
  }
  CHECK(received == 1000);
  CHECK(in_order);
  auto s = read_stats(*engine, 1);
  CHECK(s.a.packets == 1000);
  CHECK(s.a.bytes == 1000 * 172);
  CHECK(s.a.forwarded == 1000);
  CHECK(s.a.dropped == 0);
  CHECK(s.a.lost == 0);
  auto t = engine->totals();
  CHECK(t.rx_batches >= 1);
  CHECK(t.rx_batches <= 1000);
  MESSAGE("1000 packets in " << t.rx_batches << " receive batches, " << t.tx_batches
                             << " send batches");
}

TEST_CASE_FIXTURE(EngineFixture,
                  "release returns every port to the pool and the ports can be bound again") {
  const auto start = engine->ports_available();
  RelayPorts ports;
  REQUIRE(engine->allocate(9, 2, ports) == RelayErrc::ok);
  REQUIRE(ports.streams.size() == 2);
  CHECK(ports.ip == "127.0.0.1");
  CHECK(engine->ports_available() == start - 4);
  CHECK(bind_loopback(ports.streams[1].b_rtcp) < 0);
  engine->release(9);
  engine->release(9);  // twice is harmless
  CHECK(engine->relay_count() == 0);
  REQUIRE(wait_until([&] { return engine->ports_available() == start; }));
  CHECK_FALSE(read_stats(*engine, 9).found);
  for (const auto& st : ports.streams) {
    for (std::uint16_t port : {st.a_rtp, st.a_rtcp, st.b_rtp, st.b_rtcp}) {
      int fd = bind_loopback(port);
      CHECK_MESSAGE(fd >= 0, "port " << port << " still held");
      if (fd >= 0) {
        ::close(fd);
      }
    }
  }
}

TEST_CASE("an allocation that runs out of ports fails with pool_exhausted and keeps nothing") {
  EngineFixture f(5);  // 5 pairs; a one-stream relay takes 2
  RelayPorts p;
  REQUIRE(f.engine->allocate(1, 1, p) == RelayErrc::ok);
  REQUIRE(f.engine->allocate(2, 1, p) == RelayErrc::ok);
  CHECK(f.engine->ports_available() == 1);
  CHECK(f.engine->allocate(3, 1, p) == RelayErrc::pool_exhausted);
  CHECK(f.engine->ports_available() == 1);  // the half allocation went back
  CHECK(f.engine->relay_count() == 2);
  f.engine->release(1);
  REQUIRE(wait_until([&] { return f.engine->ports_available() == 3; }));
  CHECK(f.engine->allocate(3, 1, p) == RelayErrc::ok);
}

TEST_CASE_FIXTURE(EngineFixture, "control errors are returned as values") {
  RelayPorts p;
  REQUIRE(engine->allocate(1, 1, p) == RelayErrc::ok);
  CHECK(engine->allocate(1, 1, p) == RelayErrc::duplicate_relay);
  CHECK(engine->allocate(2, 0, p) == RelayErrc::bad_stream);
  CHECK(engine->allocate(2, 1000, p) == RelayErrc::bad_stream);
  CHECK(engine->allocate(0, 1, p) == RelayErrc::unknown_relay);
  CHECK(engine->set_peer(5, Side::a, 0, "127.0.0.1", 4000, 0, false) == RelayErrc::unknown_relay);
  CHECK(engine->set_peer(1, Side::a, 1, "127.0.0.1", 4000, 0, false) == RelayErrc::bad_stream);
  CHECK(engine->set_peer(1, Side::a, 0, "example.com", 4000, 0, false) == RelayErrc::bad_address);
  CHECK(engine->set_peer(1, Side::a, 0, "::1", 4000, 0, false) == RelayErrc::bad_address);
  CHECK(engine->set_peer(1, Side::a, 0, "", 0, 0, false) == RelayErrc::ok);  // clears
  bool called = false;
  engine->stats(42, [&](const RelayStats& s) {
    called = true;
    CHECK_FALSE(s.found);
    CHECK(s.relay == 42);
  });
  CHECK(called);  // unknown relays are answered on the calling thread
  CHECK(std::string(to_string(RelayErrc::pool_exhausted)) == "b2bua.media.ports_exhausted");
  engine->stop();
  CHECK(engine->allocate(3, 1, p) == RelayErrc::stopped);
  CHECK(engine->relay_count() == 0);
  CHECK(engine->ports_available() == engine->ports_capacity());
}

TEST_CASE("relays are placed on the least loaded worker; workers are named b2b-rtp-N") {
  EngineFixture f(16, 2);
  RelayPorts p;
  for (RelayId id = 1; id <= 3; ++id) {
    REQUIRE(f.engine->allocate(id, 1, p) == RelayErrc::ok);
  }
  CHECK(f.engine->worker_loads() == std::vector<std::size_t>{2, 1});
  f.engine->release(1);  // relay 1 went to worker 0
  CHECK(f.engine->worker_loads() == std::vector<std::size_t>{1, 1});
  REQUIRE(f.engine->allocate(4, 1, p) == RelayErrc::ok);
  REQUIRE(f.engine->allocate(5, 1, p) == RelayErrc::ok);
  CHECK(f.engine->worker_loads() == std::vector<std::size_t>{2, 2});

  std::set<std::string> names;
  if (DIR* d = ::opendir("/proc/self/task")) {
    while (dirent* e = ::readdir(d)) {
      std::ifstream comm(std::string("/proc/self/task/") + e->d_name + "/comm");
      std::string name;
      if (std::getline(comm, name)) {
        names.insert(name);
      }
    }
    ::closedir(d);
  }
  CHECK(names.count("b2b-rtp-0") == 1);
  CHECK(names.count("b2b-rtp-1") == 1);
}

TEST_CASE("workers can be pinned to CPUs") {
  cpu_set_t allowed;
  REQUIRE(::sched_getaffinity(0, sizeof allowed, &allowed) == 0);
  int cpu = 0;
  while (cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &allowed)) {
    ++cpu;
  }
  REQUIRE(cpu < CPU_SETSIZE);
  auto cfg = loopback_config(2);
  cfg.cpus = {cpu};
  Engine engine(cfg);
  CHECK(engine.start().empty());
}

TEST_CASE("a bad media configuration is refused with the key it concerns") {
  EngineConfig ok;
  CHECK(Engine::validate(ok).empty());
  auto with = [&](auto change) {
    EngineConfig c = ok;
    change(c);
    return Engine::validate(c);
  };
  CHECK(with([](EngineConfig& c) { c.listen_ip = "localhost"; }).find("media.listen_ip") == 0);
  CHECK(with([](EngineConfig& c) {
          c.port_min = 3001;
          c.port_max = 3001;
        }).find("media.port_min") == 0);
  CHECK(with([](EngineConfig& c) {
          c.port_min = 4000;
          c.port_max = 3000;
        }).find("media.port_min") == 0);
  CHECK(with([](EngineConfig& c) { c.workers = 0; }).find("media.workers") == 0);
  CHECK(with([](EngineConfig& c) { c.cpus = {-1}; }).find("media.cpus") == 0);
}

TEST_CASE("an engine that cannot bind its listen address does not start") {
  auto cfg = loopback_config(2);
  cfg.listen_ip = "192.0.2.1";  // TEST-NET-1: not an address of this host
  Engine engine(cfg);
  auto err = engine.start();
  CHECK(err.find("media.listen_ip") == 0);
  RelayPorts p;
  CHECK(engine.allocate(1, 1, p) == RelayErrc::stopped);
}
