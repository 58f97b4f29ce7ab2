// Engine: the media relay of one b2buad. It owns the port pool and the `b2b-rtp-N` workers,
// places each call's relay on one worker and offers the thread-safe RelayControl API.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "rtp/port_pool.hpp"
#include "rtp/relay_control.hpp"
#include "rtp/relay_worker.hpp"

namespace b2bua::rtp {

/// The `media` section of the configuration.
struct EngineConfig {
  std::string listen_ip = "127.0.0.1";  ///< media.listen_ip: numeric IP the sockets bind
  std::uint16_t port_min = 16384;       ///< media.port_min: first port of the pool (inclusive)
  std::uint16_t port_max = 32767;       ///< media.port_max: last port of the pool (inclusive)
  unsigned workers = 1;                 ///< media.workers: relay threads, 1..64
  std::vector<int> cpus;  ///< media.cpus: worker i is pinned to cpus[i % size]; empty = no pinning
  /// media.rt_priority: 1..99 runs the workers SCHED_FIFO at that priority (needs CAP_SYS_NICE or
  /// RLIMIT_RTPRIO; otherwise start() fails); 0 = the normal scheduler.
  int rt_priority = 0;
  LatchMode latch = LatchMode::latch;  ///< media.latch: "latch" or "sdp"
  unsigned batch = 32;                 ///< datagrams per recvmmsg/sendmmsg, 1..1024
  std::uint32_t max_streams = 8;       ///< media streams (m= lines) per relay
};

class Engine final : public RelayControl {
 public:
  explicit Engine(EngineConfig cfg);
  /// Stops the workers and closes every socket.
  ~Engine() override;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// "" when `cfg` is usable, else one line naming the key and the rule (startup error: exit 2).
  static std::string validate(const EngineConfig& cfg);

  /// Validates the config, checks that a port pair can be bound, starts the workers. Returns ""
  /// or one line naming what failed. Owner's thread, once.
  std::string start();

  /// Stops the workers (joining them) and returns every relay's ports to the pool. Later calls of
  /// the API fail with `stopped` or are ignored. Idempotent; owner's thread.
  void stop();

  RelayErrc allocate(RelayId id, std::uint32_t stream_count, RelayPorts& out) override;
  /// As above with an explicit latch mode for this relay.
  RelayErrc allocate(RelayId id, std::uint32_t stream_count, LatchMode mode, RelayPorts& out);
  RelayErrc set_peer(RelayId id, const PeerUpdate& peer) override;
  /// Convenience form of set_peer. Any thread.
  RelayErrc set_peer(RelayId id, Side side, std::uint32_t stream, const std::string& addr,
                     std::uint16_t port, std::uint16_t rtcp_port, bool rtcp_mux);
  void release(RelayId id) override;
  void stats(RelayId id, StatsCallback cb) override;
  RelayErrc set_dtmf(RelayId id, const DtmfPickup& pickup, DigitCallback cb) override;
  RelayErrc send_digit(RelayId id, const DigitRequest& digit) override;

  /// Counters summed over all workers (atomics; any thread, never blocks on a worker).
  RelayTotals totals() const;
  /// Relays allocated and not released. Any thread.
  std::size_t relay_count() const;
  /// Relays per worker, by worker index (placement is least-loaded first). Any thread.
  std::vector<std::size_t> worker_loads() const;
  /// Port pairs not handed out. Any thread.
  std::size_t ports_available() const { return pool_->available(); }
  std::size_t ports_capacity() const { return pool_->capacity(); }
  const EngineConfig& config() const { return cfg_; }

 private:
  struct Entry {
    unsigned worker = 0;
    std::vector<PortPair> pairs;  // [2 * stream + side]
  };

  EngineConfig cfg_;
  std::shared_ptr<PortPool> pool_;  // shared with the completions of worker removals
  std::vector<std::unique_ptr<Worker>> workers_;
  mutable std::mutex mu_;  // guards the members below; held while posting so commands keep order
  bool running_ = false;
  std::unordered_map<RelayId, Entry> relays_;
  std::vector<std::size_t> load_;  // relays per worker

  // The worker of a live relay whose `stream` exists, or the error (under mu_).
  RelayErrc worker_of(RelayId id, std::uint32_t stream, Worker*& out) const;
};

}  // namespace b2bua::rtp
