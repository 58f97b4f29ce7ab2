// PortPool: hands out bound UDP socket pairs (even RTP port, RTCP on the next odd port) from a
// configured range on one local IP.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "rtp/endpoint.hpp"

namespace b2bua::rtp {

/// One acquired pair: two non-blocking UDP sockets bound to `rtp_port` (even) and `rtcp_port`
/// (= rtp_port + 1). Owned by whoever acquired it until it goes back through `PortPool::release`.
struct PortPair {
  std::uint16_t rtp_port = 0;
  std::uint16_t rtcp_port = 0;
  int rtp_fd = -1;
  int rtcp_fd = -1;
};

class PortPool {
 public:
  /// The pool covers the even ports p with first <= p and p + 1 <= last. `bind_ip` is a numeric
  /// IPv4 or IPv6 address ("0.0.0.0", "127.0.0.1", "::"); when it does not parse, `valid()` is
  /// false and `acquire` always fails.
  PortPool(std::string bind_ip, std::uint16_t first, std::uint16_t last);
  /// Closes the sockets of pairs that were never released (their users must have stopped).
  ~PortPool();
  PortPool(const PortPool&) = delete;
  PortPool& operator=(const PortPool&) = delete;

  /// Binds the next free pair. Ports the OS refuses (held by another process) are skipped and
  /// tried again later; at most one attempt per free pair. nullopt when none can be bound: the
  /// caller answers 503. Any thread.
  std::optional<PortPair> acquire();

  /// Closes both sockets and returns the ports to the back of the free list (so a port is not
  /// reused at once: late packets of the previous call find nobody). A pair that is not currently
  /// handed out (double release, foreign fds) is ignored and false is returned. Any thread.
  bool release(const PortPair& pair);

  /// Pairs not handed out (some may be refused by the OS at the next acquire). Any thread.
  std::size_t available() const;
  /// Pairs handed out and not yet released. Any thread.
  std::size_t in_use() const;
  /// All pairs of the range.
  std::size_t capacity() const { return capacity_; }
  bool valid() const { return family_ != 0; }
  const std::string& bind_ip() const { return ip_; }
  /// AF_INET or AF_INET6 (0 when the bind IP did not parse).
  int family() const { return family_; }

 private:
  bool bind_pair(std::uint16_t port, PortPair& out) const;

  std::string ip_;
  int family_ = 0;
  std::size_t capacity_ = 0;
  mutable std::mutex mu_;
  std::deque<std::uint16_t> free_;
  std::map<std::uint16_t, PortPair> out_;  // by rtp port
};

}  // namespace b2bua::rtp
