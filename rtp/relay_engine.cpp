// Engine: relay placement, port accounting and the control API over the workers.
#include "rtp/relay_engine.hpp"

#include <algorithm>

#include <sched.h>

#include "actors/protocol/refusal.hpp"

namespace b2bua::rtp {

const char* to_string(RelayErrc e) noexcept {
  switch (e) {
    case RelayErrc::ok:
      return "ok";
    case RelayErrc::pool_exhausted:
      return warning_id(Refusal::media_ports_exhausted);  // the id of the caller's 503
    case RelayErrc::unknown_relay:
      return "b2bua.media.unknown_relay";
    case RelayErrc::duplicate_relay:
      return "b2bua.media.duplicate_relay";
    case RelayErrc::bad_stream:
      return "b2bua.media.bad_stream";
    case RelayErrc::bad_address:
      return "b2bua.media.bad_address";
    case RelayErrc::stopped:
      return "b2bua.media.stopped";
  }
  return "b2bua.media.unknown_error";
}

Engine::Engine(EngineConfig cfg)
    : cfg_(std::move(cfg)),
      pool_(std::make_shared<PortPool>(cfg_.listen_ip, cfg_.port_min, cfg_.port_max)) {}

Engine::~Engine() {
  stop();
}

std::string Engine::validate(const EngineConfig& cfg) {
  int family = 0;
  if (!parse_ip(cfg.listen_ip, family)) {
    return "media.listen_ip: '" + cfg.listen_ip + "' is not a numeric IPv4 or IPv6 address";
  }
  PortPool probe(cfg.listen_ip, cfg.port_min, cfg.port_max);
  if (cfg.port_min > cfg.port_max || probe.capacity() == 0) {
    return "media.port_min/media.port_max: the range must hold an even port and the odd one after "
           "it";
  }
  if (cfg.workers < 1 || cfg.workers > 64) {
    return "media.workers: must be 1..64";
  }
  for (int cpu : cfg.cpus) {
    if (cpu < 0 || cpu >= CPU_SETSIZE) {
      return "media.cpus: " + std::to_string(cpu) + " is not a CPU number";
    }
  }
  if (cfg.rt_priority < 0 || cfg.rt_priority > 99) {
    return "media.rt_priority: must be 0..99";
  }
  if (cfg.batch < 1 || cfg.batch > 1024) {
    return "media batch: must be 1..1024";
  }
  if (cfg.max_streams < 1) {
    return "media max_streams: must be at least 1";
  }
  return {};
}

std::string Engine::start() {
  if (auto err = validate(cfg_); !err.empty()) {
    return err;
  }
  std::lock_guard lock(mu_);
  if (running_ || !workers_.empty()) {
    return "media: engine already started";
  }
  // One bind now turns a bad listen_ip or a range held by others into a startup error.
  auto probe = pool_->acquire();
  if (!probe) {
    return "media.listen_ip/media.port_min/media.port_max: cannot bind any UDP port pair on " +
           cfg_.listen_ip + " in " + std::to_string(cfg_.port_min) + "-" +
           std::to_string(cfg_.port_max);
  }
  pool_->release(*probe);
  for (unsigned i = 0; i < cfg_.workers; ++i) {
    auto w = std::make_unique<Worker>(i, cfg_.batch);
    int cpu = cfg_.cpus.empty() ? -1 : cfg_.cpus[i % cfg_.cpus.size()];
    if (auto err = w->start(cpu, cfg_.rt_priority); !err.empty()) {
      for (auto& started : workers_) {
        started->stop();
      }
      workers_.clear();
      return "media: worker " + std::to_string(i) + ": " + err;
    }
    workers_.push_back(std::move(w));
  }
  load_.assign(workers_.size(), 0);
  running_ = true;
  return {};
}

void Engine::stop() {
  std::lock_guard lock(mu_);
  running_ = false;
  // Workers never take mu_, so joining them under it is safe; their pending removals complete.
  for (auto& w : workers_) {
    w->stop();
  }
  for (auto& [id, entry] : relays_) {
    for (auto& p : entry.pairs) {
      pool_->release(p);
    }
  }
  relays_.clear();
  std::fill(load_.begin(), load_.end(), 0);
}

RelayErrc Engine::allocate(RelayId id, std::uint32_t stream_count, RelayPorts& out) {
  return allocate(id, stream_count, cfg_.latch, out);
}

RelayErrc Engine::allocate(RelayId id, std::uint32_t stream_count, LatchMode mode,
                           RelayPorts& out) {
  std::lock_guard lock(mu_);
  if (!running_) {
    return RelayErrc::stopped;
  }
  if (id == 0) {
    return RelayErrc::unknown_relay;
  }
  if (relays_.count(id) != 0) {
    return RelayErrc::duplicate_relay;
  }
  if (stream_count == 0 || stream_count > cfg_.max_streams) {
    return RelayErrc::bad_stream;
  }
  Entry entry;
  for (std::uint32_t i = 0; i < 2 * stream_count; ++i) {
    auto pair = pool_->acquire();
    if (!pair) {
      for (auto& p : entry.pairs) {
        pool_->release(p);
      }
      return RelayErrc::pool_exhausted;
    }
    entry.pairs.push_back(*pair);
  }
  entry.worker =
      static_cast<unsigned>(std::min_element(load_.begin(), load_.end()) - load_.begin());
  RelaySetup setup;
  setup.id = id;
  setup.mode = mode;
  out = RelayPorts{};
  out.relay = id;
  out.ip = cfg_.listen_ip;
  for (std::uint32_t i = 0; i < stream_count; ++i) {
    const auto& a = entry.pairs[2 * i];
    const auto& b = entry.pairs[2 * i + 1];
    StreamSetup st;
    st.a = SideSockets{a.rtp_fd, a.rtcp_fd};
    st.b = SideSockets{b.rtp_fd, b.rtcp_fd};
    setup.streams.push_back(st);
    out.streams.push_back(StreamPorts{a.rtp_port, a.rtcp_port, b.rtp_port, b.rtcp_port});
  }
  // Running workers accept commands until stop(), which needs mu_: this cannot fail.
  workers_[entry.worker]->add(std::move(setup));
  ++load_[entry.worker];
  relays_.emplace(id, std::move(entry));
  return RelayErrc::ok;
}

RelayErrc Engine::set_peer(RelayId id, const PeerUpdate& peer) {
  SidePeer side;
  side.rtcp_mux = peer.rtcp_mux;
  if (!peer.addr.empty() && peer.port != 0) {
    side.rtp = Endpoint::from(peer.addr, peer.port);
    if (!side.rtp.known() || side.rtp.family() != pool_->family()) {
      return RelayErrc::bad_address;
    }
    if (peer.rtcp_mux) {
      side.rtcp = side.rtp;
    } else if (peer.rtcp_port != 0) {
      side.rtcp = Endpoint::from(peer.addr, peer.rtcp_port);
    } else if (peer.port < 65535) {
      side.rtcp = Endpoint::from(peer.addr, static_cast<std::uint16_t>(peer.port + 1));
    }
  }
  std::lock_guard lock(mu_);
  if (!running_) {
    return RelayErrc::stopped;
  }
  auto i = relays_.find(id);
  if (i == relays_.end()) {
    return RelayErrc::unknown_relay;
  }
  if (peer.stream >= i->second.pairs.size() / 2) {
    return RelayErrc::bad_stream;
  }
  workers_[i->second.worker]->set_peer(id, peer.stream, peer.side, side, peer.clock_rate);
  return RelayErrc::ok;
}

RelayErrc Engine::set_peer(RelayId id, Side side, std::uint32_t stream, const std::string& addr,
                           std::uint16_t port, std::uint16_t rtcp_port, bool rtcp_mux) {
  PeerUpdate p;
  p.side = side;
  p.stream = stream;
  p.addr = addr;
  p.port = port;
  p.rtcp_port = rtcp_port;
  p.rtcp_mux = rtcp_mux;
  return set_peer(id, p);
}

void Engine::release(RelayId id) {
  std::lock_guard lock(mu_);
  auto i = relays_.find(id);
  if (i == relays_.end()) {
    return;
  }
  Entry entry = std::move(i->second);
  relays_.erase(i);
  --load_[entry.worker];
  // The sockets are closed only once the worker has dropped them from its epoll set: a closed fd
  // number may be reused at once by another socket.
  workers_[entry.worker]->remove(id, [pool = pool_, pairs = std::move(entry.pairs)] {
    for (const auto& p : pairs) {
      pool->release(p);
    }
  });
}

void Engine::stats(RelayId id, StatsCallback cb) {
  Worker* w = nullptr;
  {
    std::lock_guard lock(mu_);
    auto i = relays_.find(id);
    if (i != relays_.end()) {
      w = workers_[i->second.worker].get();
    }
  }
  if (w == nullptr) {
    RelayStats none;
    none.relay = id;
    if (cb) {
      cb(none);
    }
    return;
  }
  // Outside mu_: the callback may run here (worker stopped) and call back into the engine.
  w->stats(id, std::move(cb));
}

RelayErrc Engine::worker_of(RelayId id, std::uint32_t stream, Worker*& out) const {
  if (!running_) {
    return RelayErrc::stopped;
  }
  auto i = relays_.find(id);
  if (i == relays_.end()) {
    return RelayErrc::unknown_relay;
  }
  if (stream >= i->second.pairs.size() / 2) {
    return RelayErrc::bad_stream;
  }
  out = workers_[i->second.worker].get();
  return RelayErrc::ok;
}

RelayErrc Engine::set_dtmf(RelayId id, const DtmfPickup& pickup, DigitCallback cb) {
  std::lock_guard lock(mu_);
  Worker* w = nullptr;
  if (auto e = worker_of(id, pickup.stream, w); e != RelayErrc::ok) {
    return e;
  }
  w->set_dtmf(id, pickup, std::move(cb));
  return RelayErrc::ok;
}

RelayErrc Engine::send_digit(RelayId id, const DigitRequest& digit) {
  std::lock_guard lock(mu_);
  Worker* w = nullptr;
  if (auto e = worker_of(id, digit.stream, w); e != RelayErrc::ok) {
    return e;
  }
  w->send_digit(id, digit);
  return RelayErrc::ok;
}

RelayTotals Engine::totals() const {
  RelayTotals sum;
  std::lock_guard lock(mu_);
  for (const auto& w : workers_) {
    auto t = w->totals();
    sum.packets += t.packets;
    sum.bytes += t.bytes;
    sum.forwarded += t.forwarded;
    sum.dropped += t.dropped;
    sum.rx_batches += t.rx_batches;
    sum.tx_batches += t.tx_batches;
    sum.digits_picked += t.digits_picked;
    sum.digits_injected += t.digits_injected;
    sum.digits_dropped += t.digits_dropped;
  }
  sum.relays = relays_.size();
  return sum;
}

std::vector<std::size_t> Engine::worker_loads() const {
  std::lock_guard lock(mu_);
  return load_;
}

std::size_t Engine::relay_count() const {
  std::lock_guard lock(mu_);
  return relays_.size();
}

}  // namespace b2bua::rtp
