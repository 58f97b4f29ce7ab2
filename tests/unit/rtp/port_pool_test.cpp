// PortPool: even RTP ports with RTCP on the next port, exhaustion, release and ports held by
// others.
#include "rtp/port_pool.hpp"

#include <doctest/doctest.h>

#include <set>
#include <vector>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/unit/rtp/udp_helpers.hpp"

using namespace b2bua::rtp;
using b2bua::rtp::test::bind_loopback;
using b2bua::rtp::test::free_port_range;

namespace {

std::uint16_t bound_port(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  return ntohs(a.sin_port);
}

}  // namespace

TEST_CASE("a pool hands out even RTP ports with RTCP on the next port, bound to those ports") {
  auto base = free_port_range(8);
  REQUIRE(base);
  // An odd first port is rounded up; the last even port needs its odd partner inside the range.
  PortPool pool("127.0.0.1", static_cast<std::uint16_t>(*base + 1),
                static_cast<std::uint16_t>(*base + 7));
  CHECK(pool.valid());
  CHECK(pool.capacity() == 3);  // base+2, base+4, base+6
  CHECK(pool.available() == 3);
  std::set<std::uint16_t> seen;
  std::vector<PortPair> pairs;
  for (int i = 0; i < 3; ++i) {
    auto p = pool.acquire();
    REQUIRE(p);
    CHECK(p->rtp_port % 2 == 0);
    CHECK(p->rtcp_port == p->rtp_port + 1);
    CHECK(p->rtp_port >= *base + 2);
    CHECK(p->rtcp_port <= *base + 7);
    CHECK(bound_port(p->rtp_fd) == p->rtp_port);
    CHECK(bound_port(p->rtcp_fd) == p->rtcp_port);
    seen.insert(p->rtp_port);
    pairs.push_back(*p);
  }
  CHECK(seen.size() == 3);
  CHECK(pool.available() == 0);
  CHECK(pool.in_use() == 3);
  for (auto& p : pairs) {
    CHECK(pool.release(p));
  }
}

TEST_CASE("an exhausted pool returns nothing until a pair is released") {
  auto base = free_port_range(4);
  REQUIRE(base);
  PortPool pool("127.0.0.1", *base, static_cast<std::uint16_t>(*base + 3));
  auto a = pool.acquire();
  auto b = pool.acquire();
  REQUIRE(a);
  REQUIRE(b);
  CHECK_FALSE(pool.acquire());
  CHECK(pool.available() == 0);
  CHECK(pool.release(*a));
  CHECK(pool.available() == 1);
  auto c = pool.acquire();
  REQUIRE(c);
  CHECK(c->rtp_port == a->rtp_port);
  CHECK(pool.release(*b));
  CHECK(pool.release(*c));
  CHECK(pool.available() == 2);
}

TEST_CASE(
    "release closes the sockets so the ports can be bound again, and a double release is ignored") {
  auto base = free_port_range(2);
  REQUIRE(base);
  PortPool pool("127.0.0.1", *base, static_cast<std::uint16_t>(*base + 1));
  auto p = pool.acquire();
  REQUIRE(p);
  CHECK(bind_loopback(p->rtp_port) < 0);  // held by the pool
  REQUIRE(pool.release(*p));
  CHECK_FALSE(pool.release(*p));
  CHECK(pool.available() == 1);
  for (std::uint16_t port : {p->rtp_port, p->rtcp_port}) {
    int fd = bind_loopback(port);
    CHECK(fd >= 0);
    if (fd >= 0) {
      ::close(fd);
    }
  }
}

TEST_CASE("a port held by another socket is skipped and tried again later") {
  auto base = free_port_range(6);
  REQUIRE(base);
  // Someone else holds the RTCP port of the first pair: that whole pair must be skipped.
  int other = bind_loopback(static_cast<std::uint16_t>(*base + 1));
  REQUIRE(other >= 0);
  PortPool pool("127.0.0.1", *base, static_cast<std::uint16_t>(*base + 5));
  auto a = pool.acquire();
  REQUIRE(a);
  CHECK(a->rtp_port == *base + 2);
  auto b = pool.acquire();
  REQUIRE(b);
  CHECK(b->rtp_port == *base + 4);
  CHECK_FALSE(pool.acquire());  // only the held pair is left: bounded attempts, then nothing
  CHECK(pool.available() == 1);
  ::close(other);
  auto c = pool.acquire();
  REQUIRE(c);
  CHECK(c->rtp_port == *base);
  pool.release(*a);
  pool.release(*b);
  pool.release(*c);
}

TEST_CASE("a pool with an unparseable bind address is invalid and never binds") {
  PortPool pool("not-an-ip", 30000, 30009);
  CHECK_FALSE(pool.valid());
  CHECK_FALSE(pool.acquire());
  PortPool empty("127.0.0.1", 30001, 30001);
  CHECK(empty.capacity() == 0);
  CHECK_FALSE(empty.acquire());
}

TEST_CASE("releasing a pair the pool never handed out does not close its sockets") {
  auto base = free_port_range(2);
  REQUIRE(base);
  PortPool pool("127.0.0.1", *base, static_cast<std::uint16_t>(*base + 1));
  int fd = bind_loopback(0);
  REQUIRE(fd >= 0);
  PortPair foreign{*base, static_cast<std::uint16_t>(*base + 1), fd, fd};
  CHECK_FALSE(pool.release(foreign));
  CHECK(::fcntl(fd, F_GETFD) != -1);  // still open
  ::close(fd);
}
