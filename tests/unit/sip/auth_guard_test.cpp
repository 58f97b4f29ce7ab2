// Trusted networks (CIDR parsing and matching) and the per-source failure limiter.
#include "sip/auth_guard.hpp"

#include <doctest/doctest.h>

using namespace b2bua::sip;

namespace {

IpBytes ip(const char* text) {
  auto b = parse_ip(text);
  REQUIRE(b);
  return *b;
}

}  // namespace

TEST_CASE("CIDR networks contain exactly their addresses") {
  auto lo = parse_cidr("127.0.0.1/32");
  REQUIRE(lo);
  CHECK(lo->contains(ip("127.0.0.1")));
  CHECK_FALSE(lo->contains(ip("127.0.0.2")));
  auto ten = parse_cidr("10.1.2.3/8");  // host bits are ignored
  REQUIRE(ten);
  CHECK(ten->contains(ip("10.255.0.1")));
  CHECK_FALSE(ten->contains(ip("11.0.0.1")));
  auto host = parse_cidr("192.168.1.7");
  REQUIRE(host);
  CHECK(host->contains(ip("192.168.1.7")));
  CHECK_FALSE(host->contains(ip("192.168.1.8")));
  auto all4 = parse_cidr("0.0.0.0/0");
  REQUIRE(all4);
  CHECK(all4->contains(ip("8.8.8.8")));
  CHECK_FALSE(all4->contains(ip("2001:db8::1")));  // IPv4 /0 is not every IPv6 address
  auto v6 = parse_cidr("2001:db8::/32");
  REQUIRE(v6);
  CHECK(v6->contains(ip("2001:db8:1::5")));
  CHECK_FALSE(v6->contains(ip("2001:db9::5")));
  CHECK_FALSE(v6->contains(ip("10.0.0.1")));
}

TEST_CASE("malformed networks are refused") {
  for (const char* bad : {"", "abc", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "::1/129",
                          "10.0.0.0/8x", "10.0.0", "1.2.3.4.5", "[::1]", "10.0.0.0/8/8"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_cidr(bad));
  }
}

TEST_CASE("a source is blocked after max_failures within the window, then released") {
  FailureLimiter lim(3, 60, 30, 100);
  const auto a = ip("192.0.2.1");
  const auto b = ip("192.0.2.2");
  CHECK_FALSE(lim.record_failure(a, 1000));
  CHECK_FALSE(lim.record_failure(a, 1001));
  CHECK_FALSE(lim.blocked(a, 1001));
  CHECK(lim.record_failure(a, 1002));
  CHECK(lim.blocked(a, 1002));
  CHECK(lim.blocked(a, 1031));
  CHECK_FALSE(lim.blocked(b, 1002));
  CHECK_FALSE(lim.blocked(a, 1032));
  // after the block, counting starts again
  CHECK_FALSE(lim.record_failure(a, 1033));
  CHECK_FALSE(lim.blocked(a, 1033));
}

TEST_CASE("failures spread wider than the window never block, and a success forgets them") {
  FailureLimiter lim(2, 10, 30, 100);
  const auto a = ip("192.0.2.1");
  CHECK_FALSE(lim.record_failure(a, 1000));
  CHECK_FALSE(lim.record_failure(a, 1011));  // the first one's window is over
  lim.record_success(a);
  CHECK_FALSE(lim.record_failure(a, 1012));
  CHECK(lim.record_failure(a, 1013));
}

TEST_CASE("the limiter tracks at most max_sources sources") {
  FailureLimiter lim(2, 10, 30, 100);
  for (int i = 0; i < 1000; ++i) {
    IpBytes x{};
    x[14] = static_cast<std::uint8_t>(i >> 8);
    x[15] = static_cast<std::uint8_t>(i & 0xff);
    lim.record_failure(x, 1000);
  }
  CHECK(lim.tracked() == 100);
  // once their windows are over, new sources are counted again
  const auto late = ip("198.51.100.1");
  lim.record_failure(late, 1020);
  CHECK(lim.tracked() == 1);
  CHECK(lim.record_failure(late, 1021));
}
