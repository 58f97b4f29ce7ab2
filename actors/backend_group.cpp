// Backend groups: load-balancing order and the directory of backends with their breakers.
#include "actors/backend_group.hpp"

#include <algorithm>
#include <functional>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "actors/protocol/atoms.hpp"

namespace b2bua {

std::vector<std::size_t> smooth_wrr_schedule(const std::vector<std::uint32_t>& weights) {
  std::int64_t total = 0;
  for (auto w : weights) {
    total += w;
  }
  std::vector<std::size_t> out;
  if (total == 0) {
    return out;
  }
  out.reserve(static_cast<std::size_t>(total));
  std::vector<std::int64_t> current(weights.size(), 0);
  for (std::int64_t step = 0; step < total; ++step) {
    std::size_t best = 0;
    for (std::size_t i = 0; i < weights.size(); ++i) {
      current[i] += weights[i];
      if (current[i] > current[best]) {
        best = i;
      }
    }
    current[best] -= total;
    out.push_back(best);
  }
  return out;
}

std::vector<BackendRef> pick_order(const BackendGroup& g, const IncomingCall& call) {
  const std::size_t n = g.members.size();
  std::vector<BackendRef> out;
  if (n == 0) {
    return out;
  }
  std::size_t first = 0;
  switch (g.strategy) {
    case LbStrategy::round_robin:
      first = g.cursor.fetch_add(1, std::memory_order_relaxed) % n;
      break;
    case LbStrategy::weighted:
      if (!g.schedule.empty()) {
        first = g.schedule[g.cursor.fetch_add(1, std::memory_order_relaxed) % g.schedule.size()];
      }
      break;
    case LbStrategy::hash:
      first = std::hash<std::string>{}(g.hash_key == "from_user" ? call.from_user : call.call_id) %
              n;
      break;
    case LbStrategy::failover:
      break;
    case LbStrategy::least_calls: {
      // Ties go round robin, so that idle backends share the calls.
      const std::size_t start = g.cursor.fetch_add(1, std::memory_order_relaxed) % n;
      std::vector<std::size_t> idx(n);
      for (std::size_t i = 0; i < n; ++i) {
        idx[i] = (start + i) % n;
      }
      auto load = [&g](std::size_t i) {
        double w = g.weights[i] == 0 ? 1.0 : g.weights[i];
        return g.members[i].status ? g.members[i].status->active_calls.load() / w : 0.0;
      };
      std::stable_sort(idx.begin(), idx.end(),
                       [&](std::size_t a, std::size_t b) { return load(a) < load(b); });
      for (auto i : idx) {
        out.push_back(g.members[i]);
      }
      break;
    }
  }
  if (out.empty()) {
    for (std::size_t i = 0; i < n; ++i) {
      out.push_back(g.members[(first + i) % n]);
    }
  }
  if (g.max_attempts > 0 && out.size() > g.max_attempts) {
    out.resize(g.max_attempts);
  }
  return out;
}

// -- BackendDirectory --------------------------------------------------------------------------------

BackendDirectory::BackendDirectory(caf::actor_system& sys, std::shared_ptr<SipPort> sip,
                                   BreakerConfig breaker)
    : sys_(sys), sip_(std::move(sip)), breaker_(breaker) {}

BackendDirectory::~BackendDirectory() { stop(); }

BackendRef BackendDirectory::spawn(const std::string& uri, const std::string& group,
                                   std::uint32_t max_calls, const ProbeConfig& probe) {
  BackendRef ref;
  ref.uri = uri;
  ref.status = std::make_shared<BackendStatus>();
  ref.status->uri = uri;
  ref.status->group = group;
  ref.status->max_calls = max_calls;
  ref.breaker = sys_.spawn(breaker_actor, ref.status, breaker_, probe, sip_);
  return ref;
}

void BackendDirectory::set_groups(const std::vector<GroupSpec>& specs, bool keep_removed) {
  std::lock_guard<std::mutex> lock(mu_);
  std::unordered_map<std::string, std::shared_ptr<const BackendGroup>> groups;
  if (keep_removed) {
    groups = groups_;
  }
  std::unordered_map<std::string, bool> named;
  for (const auto& spec : specs) {
    auto g = std::make_shared<BackendGroup>();
    g->name = spec.name;
    g->strategy = spec.strategy;
    g->hash_key = spec.hash_key;
    g->max_attempts = spec.max_attempts;
    for (const auto& t : spec.targets) {
      auto i = by_uri_.find(t.uri);
      if (i == by_uri_.end()) {
        i = by_uri_.emplace(t.uri, spawn(t.uri, spec.name, t.max_calls, spec.probe)).first;
        if (t.disabled) {
          caf::anon_send(i->second.breaker, disable_atom::value, true);
        }
      }
      i->second.status->max_calls = t.max_calls;  // follows the config on reload
      named[t.uri] = true;
      g->members.push_back(i->second);
      g->weights.push_back(t.weight);
    }
    g->schedule = smooth_wrr_schedule(g->weights);
    groups[spec.name] = std::move(g);
  }
  for (auto i = by_uri_.begin(); !keep_removed && i != by_uri_.end();) {
    if (!named.count(i->first) && !literal_.count(i->first)) {
      spdlog::info("backend {} is in no group any more: its breaker stops", i->first);
      caf::anon_send_exit(i->second.breaker, caf::exit_reason::user_shutdown);
      i = by_uri_.erase(i);
    } else {
      ++i;
    }
  }
  groups_ = std::move(groups);
}

std::shared_ptr<const BackendGroup> BackendDirectory::group(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto i = groups_.find(name);
  return i == groups_.end() ? nullptr : i->second;
}

BackendRef BackendDirectory::literal(const std::string& uri) {
  std::lock_guard<std::mutex> lock(mu_);
  auto i = by_uri_.find(uri);
  if (i != by_uri_.end()) {
    literal_[uri] = true;
    return i->second;
  }
  if (literal_.size() >= max_literal) {
    BackendRef ref;
    ref.uri = uri;
    return ref;  // no breaker: always admitted, not counted
  }
  literal_[uri] = true;
  return by_uri_.emplace(uri, spawn(uri, "", 0, ProbeConfig{})).first->second;
}

std::vector<std::shared_ptr<const BackendStatus>> BackendDirectory::all() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<const BackendStatus>> out;
  out.reserve(by_uri_.size());
  for (const auto& [uri, ref] : by_uri_) {
    out.push_back(ref.status);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a->uri < b->uri; });
  return out;
}

bool BackendDirectory::set_disabled(const std::string& uri, bool disabled) {
  std::lock_guard<std::mutex> lock(mu_);
  auto i = by_uri_.find(uri);
  if (i == by_uri_.end()) {
    return false;
  }
  caf::anon_send(i->second.breaker, disable_atom::value, disabled);
  return true;
}

void BackendDirectory::stop() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [uri, ref] : by_uri_) {
    if (ref.breaker) {
      caf::anon_send_exit(ref.breaker, caf::exit_reason::user_shutdown);
    }
  }
  by_uri_.clear();
  literal_.clear();
  groups_.clear();
}

}  // namespace b2bua
