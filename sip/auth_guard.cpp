// Trusted networks and the per-source failure limiter.
#include "sip/auth_guard.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace b2bua::sip {

std::optional<IpBytes> parse_ip(std::string_view text) {
  if (text.empty() || text.size() > 64) {
    return std::nullopt;
  }
  std::string s(text);
  IpBytes out{};
  unsigned char v4[4];
  if (inet_pton(AF_INET, s.c_str(), v4) == 1) {
    out[10] = 0xff;
    out[11] = 0xff;
    std::memcpy(out.data() + 12, v4, 4);
    return out;
  }
  if (inet_pton(AF_INET6, s.c_str(), out.data()) == 1) {
    return out;
  }
  return std::nullopt;
}

std::optional<Cidr> parse_cidr(std::string_view text) {
  auto slash = text.find('/');
  auto ip = parse_ip(text.substr(0, slash));
  if (!ip) {
    return std::nullopt;
  }
  const bool v4 = text.substr(0, slash).find(':') == std::string_view::npos;
  const int max = v4 ? 32 : 128;
  int prefix = max;
  if (slash != std::string_view::npos) {
    auto digits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || prefix < 0 ||
        prefix > max) {
      return std::nullopt;
    }
  }
  Cidr c;
  c.prefix = v4 ? prefix + 96 : prefix;
  c.net = *ip;
  for (int bit = c.prefix; bit < 128; ++bit) {  // host bits are ignored, as routers do
    c.net[static_cast<std::size_t>(bit / 8)] &= static_cast<std::uint8_t>(~(0x80 >> (bit % 8)));
  }
  return c;
}

bool Cidr::contains(const IpBytes& ip) const {
  for (int bit = 0; bit < prefix; ++bit) {
    const auto byte = static_cast<std::size_t>(bit / 8);
    const auto mask = static_cast<std::uint8_t>(0x80 >> (bit % 8));
    if ((ip[byte] & mask) != (net[byte] & mask)) {
      return false;
    }
  }
  return true;
}

std::size_t FailureLimiter::Hash::operator()(const IpBytes& b) const {
  std::size_t h = 1469598103934665603ull;
  for (auto c : b) {
    h = (h ^ c) * 1099511628211ull;
  }
  return h;
}

bool FailureLimiter::blocked(const IpBytes& ip, std::int64_t now_s) {
  auto it = table_.find(ip);
  return it != table_.end() && it->second.blocked_until > now_s;
}

void FailureLimiter::prune(std::int64_t now_s) {
  for (auto it = table_.begin(); it != table_.end();) {
    const Entry& e = it->second;
    const bool done =
        e.blocked_until <= now_s && now_s - e.window_start >= static_cast<std::int64_t>(window_s_);
    it = done ? table_.erase(it) : std::next(it);
  }
}

bool FailureLimiter::record_failure(const IpBytes& ip, std::int64_t now_s) {
  auto it = table_.find(ip);
  if (it == table_.end()) {
    if (table_.size() >= max_sources_ && now_s != last_prune_s_) {
      last_prune_s_ = now_s;
      prune(now_s);
    }
    if (table_.size() >= max_sources_) {
      return false;
    }
    it = table_.emplace(ip, Entry{0, now_s, 0}).first;
  }
  Entry& e = it->second;
  if (e.blocked_until > now_s) {
    return false;
  }
  if (now_s - e.window_start >= static_cast<std::int64_t>(window_s_)) {
    e.failures = 0;
    e.window_start = now_s;
  }
  if (++e.failures < max_failures_) {
    return false;
  }
  e.blocked_until = now_s + block_s_;
  e.failures = 0;
  e.window_start = e.blocked_until;
  return true;
}

}  // namespace b2bua::sip
