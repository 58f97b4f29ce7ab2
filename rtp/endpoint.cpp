// Endpoint parsing, formatting and comparison.
#include "rtp/endpoint.hpp"

#include <cstring>

#include <arpa/inet.h>
#include <netinet/in.h>

namespace b2bua::rtp {

namespace {

bool same_raw(const sockaddr_storage& a, const sockaddr_storage& b) noexcept {
  if (a.ss_family != b.ss_family) {
    return false;
  }
  if (a.ss_family == AF_INET) {
    const auto& x = reinterpret_cast<const sockaddr_in&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in&>(b);
    return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr;
  }
  if (a.ss_family == AF_INET6) {
    const auto& x = reinterpret_cast<const sockaddr_in6&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in6&>(b);
    return x.sin6_port == y.sin6_port &&
           std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof(x.sin6_addr)) == 0;
  }
  return false;
}

}  // namespace

std::uint16_t Endpoint::port() const noexcept {
  if (addr.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in&>(addr).sin_port);
  }
  if (addr.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6&>(addr).sin6_port);
  }
  return 0;
}

std::string Endpoint::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(addr).sin_addr, buf, sizeof buf);
    return std::string(buf) + ":" + std::to_string(port());
  }
  if (addr.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(addr).sin6_addr, buf, sizeof buf);
    return "[" + std::string(buf) + "]:" + std::to_string(port());
  }
  return "-";
}

Endpoint Endpoint::from(std::string_view ip, std::uint16_t port) {
  Endpoint e;
  if (port == 0 || ip.size() >= INET6_ADDRSTRLEN) {
    return e;
  }
  char text[INET6_ADDRSTRLEN] = {};
  std::memcpy(text, ip.data(), ip.size());
  auto* v4 = reinterpret_cast<sockaddr_in*>(&e.addr);
  if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    e.len = sizeof(sockaddr_in);
    return e;
  }
  e.addr = {};
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&e.addr);
  if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    e.len = sizeof(sockaddr_in6);
    return e;
  }
  e.addr = {};
  return e;
}

Endpoint Endpoint::from_sockaddr(const sockaddr* sa, socklen_t len) {
  Endpoint e;
  if (sa == nullptr) {
    return e;
  }
  if (sa->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    std::memcpy(&e.addr, sa, sizeof(sockaddr_in));
    e.len = sizeof(sockaddr_in);
  } else if (sa->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    std::memcpy(&e.addr, sa, sizeof(sockaddr_in6));
    e.len = sizeof(sockaddr_in6);
  }
  return e;
}

bool same_endpoint(const Endpoint& a, const Endpoint& b) noexcept {
  return a.known() && b.known() && same_raw(a.addr, b.addr);
}

bool same_endpoint(const Endpoint& a, const sockaddr_storage& b) noexcept {
  return a.known() && same_raw(a.addr, b);
}

bool parse_ip(std::string_view ip, int& family) {
  auto e = Endpoint::from(ip, 1);
  family = e.family();
  return e.known();
}

}  // namespace b2bua::rtp
