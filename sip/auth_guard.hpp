// Source checks around digest authentication: trusted networks (CIDR) that skip the challenge, and
// a bounded per-source failure counter that blocks a source after repeated failures. No sofia here;
// owned and used by one thread (the SIP thread).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace b2bua::sip {

/// An IPv4 or IPv6 address as 16 bytes (IPv4 mapped into ::ffff:0:0/96).
using IpBytes = std::array<std::uint8_t, 16>;

/// A numeric IPv4/IPv6 address in text (no brackets, no port); nullopt when it is not one.
std::optional<IpBytes> parse_ip(std::string_view text);

/// A network: "10.0.0.0/8", "::1/128", or a bare address (one host).
struct Cidr {
  IpBytes net{};
  int prefix = 128;  ///< in IPv6 terms: an IPv4 /8 is stored as /104
  bool contains(const IpBytes& ip) const;
};

/// nullopt when `text` is not an address with an optional /prefix in range.
std::optional<Cidr> parse_cidr(std::string_view text);

/// Counts failures per source within a window; a source with `max_failures` is blocked for
/// `block_s`. At most `max_sources` are tracked: beyond that, expired entries are dropped, and if
/// none are, new sources go uncounted (memory stays bounded under a spread-out attack).
class FailureLimiter {
 public:
  FailureLimiter(std::uint32_t max_failures, std::uint32_t window_s, std::uint32_t block_s,
                 std::size_t max_sources)
      : max_failures_(max_failures),
        window_s_(window_s),
        block_s_(block_s),
        max_sources_(max_sources) {}

  /// True while `ip` is blocked at `now_s`.
  bool blocked(const IpBytes& ip, std::int64_t now_s);
  /// Counts one failure; returns true when this one starts a block.
  bool record_failure(const IpBytes& ip, std::int64_t now_s);
  /// Forgets the failures of `ip` (a success).
  void record_success(const IpBytes& ip) { table_.erase(ip); }

  std::size_t tracked() const { return table_.size(); }

 private:
  struct Entry {
    std::uint32_t failures = 0;
    std::int64_t window_start = 0;
    std::int64_t blocked_until = 0;
  };
  struct Hash {
    std::size_t operator()(const IpBytes& b) const;
  };
  void prune(std::int64_t now_s);

  std::uint32_t max_failures_;
  std::uint32_t window_s_;
  std::uint32_t block_s_;
  std::size_t max_sources_;
  std::unordered_map<IpBytes, Entry, Hash> table_;
  /// When a full table was last scanned: a flood of new (spoofed) sources while every entry is
  /// still live scans at most once a second, not once per failure.
  std::int64_t last_prune_s_ = -1;
};

}  // namespace b2bua::sip
