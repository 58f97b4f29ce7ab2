// Backend groups and load balancing: which backends a call may go to, in which order, and the
// directory that owns one breaker actor per backend.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "actors/backend_spec.hpp"
#include "actors/breaker.hpp"
#include "actors/protocol/call_types.hpp"
#include "actors/protocol/sip_port.hpp"

namespace b2bua {

/// One backend as a call attempt sees it. `breaker` may be null (no breaker: always admitted).
struct BackendRef {
  std::string uri;
  caf::actor breaker;
  std::shared_ptr<BackendStatus> status;
};

/// A group ready for routing. Picking mutates only the atomic cursor: any thread.
struct BackendGroup {
  std::string name;
  LbStrategy strategy = LbStrategy::round_robin;
  std::string hash_key;
  std::vector<BackendRef> members;
  std::vector<std::uint32_t> weights;
  std::vector<std::size_t> schedule;  ///< weighted: the smooth-WRR sequence of member indexes
  std::uint32_t max_attempts = 0;
  mutable std::atomic<std::uint64_t> cursor{0};
};

/// The smooth weighted round-robin sequence for `weights` (one full cycle, sum of weights long).
std::vector<std::size_t> smooth_wrr_schedule(const std::vector<std::uint32_t>& weights);

/// The backends to try for one call, first choice first, at most max_attempts.
std::vector<BackendRef> pick_order(const BackendGroup& group, const IncomingCall& call);

/// Owns the backends: one BackendStatus and one breaker actor per backend URI, created for the
/// configured groups at start and on reload, and on demand for literal route targets. Thread-safe.
class BackendDirectory {
public:
  BackendDirectory(caf::actor_system& sys, std::shared_ptr<SipPort> sip, BreakerConfig breaker);
  ~BackendDirectory();
  BackendDirectory(const BackendDirectory&) = delete;
  BackendDirectory& operator=(const BackendDirectory&) = delete;

  /// Replaces the groups (start, reload). A backend that stays keeps its breaker and counters;
  /// one no group names any more is stopped (unless it is a literal target in use). With
  /// `keep_removed`, groups and backends missing from `groups` stay for now (a reload first adds,
  /// then swaps the rules, then prunes, so no call sees a rule naming a group not there yet).
  void set_groups(const std::vector<GroupSpec>& groups, bool keep_removed = false);

  /// The group, or null.
  std::shared_ptr<const BackendGroup> group(const std::string& name) const;

  /// The backend for a literal target URI, created (closed, not probed) when new. At most
  /// `max_literal` such backends exist; beyond that the ref has no breaker.
  BackendRef literal(const std::string& uri);

  /// Every backend, for the REST API and the metrics.
  std::vector<std::shared_ptr<const BackendStatus>> all() const;

  /// Sends `disable_atom` to a backend's breaker. False when there is no such backend.
  bool set_disabled(const std::string& uri, bool disabled);

  /// Stops every breaker actor (shutdown).
  void stop();

  static constexpr std::size_t max_literal = 1024;

private:
  BackendRef spawn(const std::string& uri, const std::string& group, std::uint32_t max_calls,
                   const ProbeConfig& probe);

  caf::actor_system& sys_;
  std::shared_ptr<SipPort> sip_;
  BreakerConfig breaker_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, BackendRef> by_uri_;     ///< every backend
  std::unordered_map<std::string, bool> literal_;          ///< uri -> created for a literal target
  std::unordered_map<std::string, std::shared_ptr<const BackendGroup>> groups_;
};

}  // namespace b2bua
