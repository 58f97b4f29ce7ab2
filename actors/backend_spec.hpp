// Backend groups and breakers as configured: plain values, shared by the config parser and the
// actors (no CAF here).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace b2bua {

struct BreakerConfig {
  std::uint32_t failure_threshold = 3;   ///< consecutive failures that open the breaker
  std::uint32_t cooldown_ms = 5000;      ///< open this long, then half-open
  std::uint32_t max_cooldown_ms = 60000; ///< each reopen from half-open doubles the cooldown, up to this
  std::uint32_t half_open_trials = 1;    ///< calls or probes let through while half-open
};

struct ProbeConfig {
  bool enabled = false;
  std::uint32_t interval_ms = 5000;
  std::uint32_t timeout_ms = 2000;
  /// Replies that count as alive: exact codes, or 1..6 for a whole class (2 = any 2xx).
  std::vector<int> alive = {2};
};

/// How a group picks the first backend of a call; the others follow as failover, in rotation.
enum class LbStrategy : std::uint8_t {
  round_robin,  ///< each call starts at the next backend
  weighted,     ///< smooth weighted round robin (nginx's): weight 3 gets 3 of every 4 calls vs 1
  least_calls,  ///< fewest active calls per unit of weight first
  hash,         ///< hash of the Call-ID or the From user: one caller sticks to one backend
  failover,     ///< always in the configured order (primary, then backups)
};

/// "round_robin", "weighted", "least_calls", "hash", "failover".
const char* to_string(LbStrategy s);

/// A group as configured (`groups` in the config).
struct GroupSpec {
  struct Target {
    std::string uri;
    std::uint32_t weight = 1;
    std::uint32_t max_calls = 0;  ///< 0 = unlimited
    bool disabled = false;        ///< starts disabled (operator)
    /// Digest credentials b2buad answers this backend's 401/407 with ("" user = none).
    struct Auth {
      std::string user;
      std::string password;
      std::string realm;          ///< "" = any realm the backend names
    };
    Auth auth{};
  };
  std::string name;
  LbStrategy strategy = LbStrategy::round_robin;
  std::string hash_key = "call_id";  ///< with hash: "call_id" or "from_user"
  std::vector<Target> targets;
  std::uint32_t max_attempts = 0;    ///< per call; 0 = every target once
  ProbeConfig probe;
};

}  // namespace b2bua
