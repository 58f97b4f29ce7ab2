// Endpoint: a UDP address (IPv4 or IPv6) held by value, cheap to compare on the packet path.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <sys/socket.h>

namespace b2bua::rtp {

/// An IP address and port. Default-constructed it is unknown (family AF_UNSPEC).
struct Endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;

  /// True when it holds an address with a non-zero port.
  bool known() const noexcept { return len != 0; }
  int family() const noexcept { return addr.ss_family; }
  std::uint16_t port() const noexcept;
  /// "ip:port" ("[ip]:port" for IPv6), "-" when unknown.
  std::string to_string() const;

  /// Parses a numeric IPv4 or IPv6 address. Port 0 or a bad address gives an unknown Endpoint.
  static Endpoint from(std::string_view ip, std::uint16_t port);
  /// Copies what recvmsg filled in; families other than AF_INET/AF_INET6 give an unknown Endpoint.
  static Endpoint from_sockaddr(const sockaddr* sa, socklen_t len);
};

/// Same family, address and port (IPv6 flow info and scope are ignored).
bool same_endpoint(const Endpoint& a, const Endpoint& b) noexcept;

/// Same as `same_endpoint` but against a raw sockaddr filled in by the kernel.
bool same_endpoint(const Endpoint& a, const sockaddr_storage& b) noexcept;

/// True when `ip` is a numeric IPv4 or IPv6 address; `family` receives AF_INET or AF_INET6.
bool parse_ip(std::string_view ip, int& family);

}  // namespace b2bua::rtp
