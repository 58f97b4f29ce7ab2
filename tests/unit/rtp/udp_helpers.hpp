// Loopback UDP peers, packet builders and bounded waiting for the relay tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace b2bua::rtp::test {

/// Binds a UDP socket on 127.0.0.1:`port`; returns -1 when the port is taken.
inline int bind_loopback(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// An even port p such that p .. p + count - 1 can all be bound now on 127.0.0.1 (probed, bounded).
inline std::optional<std::uint16_t> free_port_range(unsigned count) {
  // Spread the start so that parallel test runs rarely probe the same ports.
  auto seed = static_cast<unsigned>(::getpid()) * 7919u;
  for (unsigned attempt = 0; attempt < 200; ++attempt) {
    unsigned base = 20000 + ((seed + attempt * 613u) % 20000u);
    base &= ~1u;
    bool ok = true;
    for (unsigned p = base; p < base + count && ok; ++p) {
      int fd = bind_loopback(static_cast<std::uint16_t>(p));
      ok = fd >= 0;
      if (fd >= 0) {
        ::close(fd);
      }
    }
    if (ok) {
      return static_cast<std::uint16_t>(base);
    }
  }
  return std::nullopt;
}

struct Datagram {
  std::vector<std::uint8_t> bytes;
  std::uint16_t from_port = 0;
};

/// A test peer on 127.0.0.1 with an OS-chosen port.
class UdpPeer {
 public:
  UdpPeer() {
    fd_ = bind_loopback(0);
    sockaddr_in a{};
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~UdpPeer() { ::close(fd_); }
  UdpPeer(const UdpPeer&) = delete;
  UdpPeer& operator=(const UdpPeer&) = delete;

  std::uint16_t port() const { return port_; }
  int fd() const { return fd_; }

  bool send_to(std::uint16_t port, const std::vector<std::uint8_t>& data) const {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return ::sendto(fd_, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a) ==
           static_cast<ssize_t>(data.size());
  }

  /// The next datagram, waiting at most `timeout_ms`.
  std::optional<Datagram> recv(int timeout_ms = 2000) const {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) != 1) {
      return std::nullopt;
    }
    Datagram d;
    d.bytes.resize(65536);
    sockaddr_in from{};
    socklen_t len = sizeof from;
    ssize_t n = ::recvfrom(fd_, d.bytes.data(), d.bytes.size(), MSG_DONTWAIT,
                           reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) {
      return std::nullopt;
    }
    d.bytes.resize(static_cast<std::size_t>(n));
    d.from_port = ntohs(from.sin_port);
    return d;
  }

  /// True when nothing is queued right now (no waiting).
  bool idle() const {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, 0) == 0;
  }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

/// An RTP packet: V=2, payload type `pt`, `payload` bytes of 0xd5 (G.711 silence).
inline std::vector<std::uint8_t> rtp_packet(std::uint16_t seq, std::uint32_t ts, std::uint32_t ssrc,
                                            std::size_t payload = 160, std::uint8_t pt = 0) {
  std::vector<std::uint8_t> p(12 + payload, 0xd5);
  p[0] = 0x80;
  p[1] = pt;
  p[2] = static_cast<std::uint8_t>(seq >> 8);
  p[3] = static_cast<std::uint8_t>(seq);
  for (int i = 0; i < 4; ++i) {
    p[4 + i] = static_cast<std::uint8_t>(ts >> (24 - 8 * i));
    p[8 + i] = static_cast<std::uint8_t>(ssrc >> (24 - 8 * i));
  }
  return p;
}

/// An empty RTCP receiver report (PT 201, length 1 word after the header).
inline std::vector<std::uint8_t> rtcp_rr(std::uint32_t ssrc) {
  std::vector<std::uint8_t> p = {0x80, 201, 0, 1, 0, 0, 0, 0};
  for (int i = 0; i < 4; ++i) {
    p[4 + i] = static_cast<std::uint8_t>(ssrc >> (24 - 8 * i));
  }
  return p;
}

inline std::uint16_t seq_of(const std::vector<std::uint8_t>& p) {
  return p.size() >= 4 ? static_cast<std::uint16_t>((p[2] << 8) | p[3]) : 0;
}

/// Polls `pred` every millisecond until it holds or `timeout` passes; returns its last value.
template <class Pred>
bool wait_until(Pred pred, std::chrono::milliseconds timeout = std::chrono::milliseconds(3000)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return pred();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace b2bua::rtp::test
