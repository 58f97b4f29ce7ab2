// PortPool: binding and recycling of RTP/RTCP socket pairs.
#include "rtp/port_pool.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace b2bua::rtp {

namespace {

// Enough for a burst of a few hundred small packets while a worker is busy elsewhere; the kernel
// caps it at net.core.rmem_max / wmem_max, which is fine (best effort).
constexpr int socket_buffer_bytes = 1 << 20;

int bind_udp(const std::string& ip, std::uint16_t port) {
  auto ep = Endpoint::from(ip, port);
  if (!ep.known()) {
    return -1;
  }
  int fd = ::socket(ep.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  int size = socket_buffer_bytes;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&ep.addr), ep.len) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

PortPool::PortPool(std::string bind_ip, std::uint16_t first, std::uint16_t last)
    : ip_(std::move(bind_ip)) {
  parse_ip(ip_, family_);
  std::uint32_t p = first + (first % 2);
  if (p == 0) {
    p = 2;  // port 0 means "any" to bind(): never part of a pool
  }
  for (; p + 1 <= last; p += 2) {
    free_.push_back(static_cast<std::uint16_t>(p));
  }
  capacity_ = free_.size();
}

PortPool::~PortPool() {
  for (auto& [port, pair] : out_) {
    ::close(pair.rtp_fd);
    ::close(pair.rtcp_fd);
  }
}

bool PortPool::bind_pair(std::uint16_t port, PortPair& out) const {
  int rtp = bind_udp(ip_, port);
  if (rtp < 0) {
    return false;
  }
  int rtcp = bind_udp(ip_, static_cast<std::uint16_t>(port + 1));
  if (rtcp < 0) {
    ::close(rtp);
    return false;
  }
  out = PortPair{port, static_cast<std::uint16_t>(port + 1), rtp, rtcp};
  return true;
}

std::optional<PortPair> PortPool::acquire() {
  std::lock_guard lock(mu_);
  if (!valid()) {
    return std::nullopt;
  }
  for (std::size_t tries = free_.size(); tries > 0; --tries) {
    std::uint16_t port = free_.front();
    free_.pop_front();
    PortPair pair;
    if (bind_pair(port, pair)) {
      out_[port] = pair;
      return pair;
    }
    free_.push_back(port);  // held by someone else now; it may be free at a later attempt
  }
  return std::nullopt;
}

bool PortPool::release(const PortPair& pair) {
  std::lock_guard lock(mu_);
  auto i = out_.find(pair.rtp_port);
  if (i == out_.end() || i->second.rtp_fd != pair.rtp_fd || i->second.rtcp_fd != pair.rtcp_fd) {
    return false;
  }
  ::close(pair.rtp_fd);
  ::close(pair.rtcp_fd);
  out_.erase(i);
  free_.push_back(pair.rtp_port);
  return true;
}

std::size_t PortPool::available() const {
  std::lock_guard lock(mu_);
  return free_.size();
}

std::size_t PortPool::in_use() const {
  std::lock_guard lock(mu_);
  return out_.size();
}

}  // namespace b2bua::rtp
