// The inside of a relay Worker, shared by its two source files: relay_worker.cpp (the epoll loop,
// the commands and the packet path) and relay_worker_dtmf.cpp (RFC 4733 pick-up and sending).
// Private to rtp/: nothing outside the worker includes it.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include <sys/socket.h>
#include <unistd.h>

#include "rtp/dtmf_relay.hpp"
#include "rtp/relay_worker.hpp"
#include "rtp/rtp_header.hpp"

namespace b2bua::rtp {
namespace worker_detail {


struct Relay;
struct Stream;

// One local socket of a relay and what it has learnt about its remote end.
struct Sock {
  int fd = -1;
  Relay* relay = nullptr;
  Stream* stream = nullptr;
  Side side = Side::a;
  bool rtcp = false;
  Endpoint latched;    // LatchMode::latch: where this side's packets go, once learnt
  Endpoint candidate;  // a new source that may take over
  unsigned candidate_hits = 0;
};

struct SideCounters {
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  std::uint64_t rtcp_packets = 0;
  std::uint64_t forwarded = 0;
  std::uint64_t dropped = 0;
  std::int64_t last_ns = 0;
};

struct SideState {
  SidePeer peer;
  Sock rtp;
  Sock rtcp;
  StreamStats stats;
  SideCounters c;
  DtmfPickupState dtmf;  // this side's RFC 4733 events
  TxMemory tx;           // what goes towards this side
};

struct Stream {
  SideState side[2];
};

struct Relay {
  RelayId id = 0;
  LatchMode mode = LatchMode::latch;
  std::vector<Stream> streams;  // sized once: sockets point into it
  Worker::DigitCallback on_digit;
  DigitSender digits;
  bool sending = false;  // listed in Impl::sending
};

struct AddCmd {
  RelaySetup setup;
};
struct PeerCmd {
  RelayId id;
  std::uint32_t stream;
  Side side;
  SidePeer peer;
  std::uint32_t clock_rate;
};
struct RemoveCmd {
  RelayId id;
  Worker::Done done;
};
struct StatsCmd {
  RelayId id;
  Worker::StatsCallback cb;
};
struct DtmfCmd {
  RelayId id;
  DtmfPickup pickup;
  Worker::DigitCallback cb;
};
struct DigitCmd {
  RelayId id;
  DigitRequest digit;
};
using Command = std::variant<AddCmd, PeerCmd, RemoveCmd, StatsCmd, DtmfCmd, DigitCmd>;

// Writers are the worker alone; one cache line so that scrapes do not disturb its neighbours.
struct alignas(64) Totals {
  std::atomic<std::uint64_t> packets{0};
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<std::uint64_t> forwarded{0};
  std::atomic<std::uint64_t> dropped{0};
  std::atomic<std::uint64_t> rx_batches{0};
  std::atomic<std::uint64_t> tx_batches{0};
  std::atomic<std::uint64_t> relays{0};
  std::atomic<std::uint64_t> digits_picked{0};
  std::atomic<std::uint64_t> digits_injected{0};
  std::atomic<std::uint64_t> digits_dropped{0};
};

inline void bump(std::atomic<std::uint64_t>& a, std::uint64_t n) {
  if (n != 0) {
    a.fetch_add(n, std::memory_order_relaxed);
  }
}

// Where the packets towards one side go: its latched address, else its SDP address.
inline const Endpoint& destination(LatchMode mode, const Sock& via, const Endpoint& sdp) {
  return (mode == LatchMode::latch && via.latched.known()) ? via.latched : sdp;
}

}  // namespace worker_detail

using namespace worker_detail;

struct Worker::Impl {
  unsigned index;
  unsigned batch;
  int epoll_fd = -1;
  int event_fd = -1;
  std::thread thread;
  std::atomic<bool> stopping{false};

  std::mutex mu;  // guards `queue` and `accepting`
  std::deque<Command> queue;
  bool accepting = false;

  std::unordered_map<RelayId, std::unique_ptr<Relay>> relays;  // worker thread only
  std::vector<Relay*> sending;  // relays with digits to send (worker thread only)
  Totals totals;

  // Batch buffers, allocated once.
  std::vector<std::uint8_t> buffers;
  std::vector<mmsghdr> rx;
  std::vector<iovec> rx_iov;
  std::vector<sockaddr_storage> rx_addr;
  std::vector<mmsghdr> tx[2];  // [0]: to the other side's RTP socket, [1]: to its RTCP socket
  std::vector<iovec> tx_iov[2];

  Impl(unsigned i, unsigned b) : index(i), batch(b) {
    buffers.resize(std::size_t{batch} * max_datagram);
    rx.resize(batch);
    rx_iov.resize(batch);
    rx_addr.resize(batch);
    for (unsigned k = 0; k < batch; ++k) {
      rx_iov[k] = iovec{buffers.data() + std::size_t{k} * max_datagram, max_datagram};
      rx[k] = mmsghdr{};
      rx[k].msg_hdr.msg_iov = &rx_iov[k];
      rx[k].msg_hdr.msg_iovlen = 1;
      rx[k].msg_hdr.msg_name = &rx_addr[k];
    }
    for (auto q : {0, 1}) {
      tx[q].resize(batch);
      tx_iov[q].resize(batch);
      for (unsigned k = 0; k < batch; ++k) {
        tx[q][k] = mmsghdr{};
        tx[q][k].msg_hdr.msg_iov = &tx_iov[q][k];
        tx[q][k].msg_hdr.msg_iovlen = 1;
      }
    }
  }

  ~Impl() {
    if (epoll_fd >= 0) {
      ::close(epoll_fd);
    }
    if (event_fd >= 0) {
      ::close(event_fd);
    }
  }

  // Queues `c` (moving from it) and wakes the thread; false, with `c` untouched, when not running.
  bool post(Command& c) {
    {
      std::lock_guard lock(mu);
      if (!accepting) {
        return false;
      }
      queue.push_back(std::move(c));
    }
    std::uint64_t one = 1;
    // Cannot fail short of 2^64 - 1 unread wake-ups.
    [[maybe_unused]] auto n = ::write(event_fd, &one, sizeof one);
    return true;
  }

  void run();
  void run_commands();
  void execute(AddCmd& c);
  void execute(PeerCmd& c);
  void execute(RemoveCmd& c);
  void execute(StatsCmd& c);
  void execute(DtmfCmd& c);
  void execute(DigitCmd& c);
  int wait_ms() const;
  void send_digits();
  bool pick_up(Relay& relay, const Sock& s, SideState& in, const RtpHeader& h,
               std::span<const std::uint8_t> pkt);
  void on_readable(Sock& s);
  void flush(int fd, int q, unsigned count, SideCounters& in);
  void unregister(Relay& r);
};

}  // namespace b2bua::rtp
