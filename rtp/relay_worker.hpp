// Worker: one `b2b-rtp-N` thread relaying the UDP packets of its relays with recvmmsg/sendmmsg in
// its own epoll loop. It is driven by commands (a queue plus an eventfd); packets never leave it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "rtp/endpoint.hpp"
#include "rtp/relay_types.hpp"

namespace b2bua::rtp {

/// Consecutive packets from one new source that move a latched socket over to it
/// (LatchMode::latch).
constexpr unsigned relatch_after = 3;

/// Largest datagram relayed; longer ones are dropped and counted.
constexpr std::size_t max_datagram = 4096;

/// Digits a relay holds waiting to be sent as RFC 4733 events; more are dropped and counted.
constexpr std::size_t max_queued_digits = 32;

/// Where one side of one stream is sent to (the addresses from its SDP).
struct SidePeer {
  Endpoint rtp;           ///< unknown until the SDP arrives
  Endpoint rtcp;          ///< unused with rtcp_mux
  bool rtcp_mux = false;  ///< RTCP to and from this side travels on the RTP sockets
};

/// The two local sockets facing one side of one stream (from PortPool).
struct SideSockets {
  int rtp_fd = -1;
  int rtcp_fd = -1;
};

struct StreamSetup {
  SideSockets a;
  SideSockets b;
  SidePeer peer_a;
  SidePeer peer_b;
  std::uint32_t clock_rate = 8000;
};

struct RelaySetup {
  RelayId id = 0;
  LatchMode mode = LatchMode::latch;
  std::vector<StreamSetup> streams;
};

/// The packet path: a packet accepted on the A-side RTP socket of a stream is sent from the B-side
/// RTP socket to the callee (latched address, else its SDP address), and the reverse; RTCP likewise
/// between the RTCP sockets, or on the RTP sockets for a side with rtcp_mux (RFC 5761 demux). No
/// destination yet: dropped and counted. Sends never block: what the kernel refuses is dropped and
/// counted. The worker never closes the sockets it is given: `remove` hands them back.
///
/// DTMF (RFC 4733): a side with a telephone-event payload type set (`set_dtmf`) has its event
/// packets followed (one compare per RTP packet) and each digit reported once to the relay's
/// digit callback; with `forward` false they are not sent on, and the packets sent to the other
/// side keep continuous sequence numbers. `send_digit` makes the worker send a digit's event
/// packets itself, paced by its epoll timeout, with the SSRC and timestamp of the audio it last
/// forwarded that way (random ones before any); the audio forwarded after them has its sequence
/// numbers shifted by the packets inserted.
class Worker {
 public:
  using StatsCallback = std::function<void(const RelayStats&)>;
  using DigitCallback = std::function<void(const PickedDigit&)>;
  using Done = std::function<void()>;

  /// `batch`: datagrams per recvmmsg/sendmmsg call (1..1024).
  explicit Worker(unsigned index, unsigned batch = 32);
  /// Stops the thread if it runs.
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  /// Starts the thread `b2b-rtp-<index>`, pinned to `cpu` when it is >= 0, and run SCHED_FIFO at
  /// `rt_priority` when it is 1..99 (the thread mostly waits in epoll, so it takes the CPU the
  /// moment packets arrive instead of waiting for its turn behind other work). Returns "" or what
  /// failed (the thread is then stopped). Owner's thread, once.
  std::string start(int cpu = -1, int rt_priority = 0);

  /// Stops and joins the thread. Commands it did not run are completed here: `remove` callbacks
  /// run, `stats` callbacks get `found == false`. Idempotent; owner's thread.
  void stop();

  /// Starts relaying a relay's sockets. False if the worker is not running (the caller keeps the
  /// sockets). Any thread.
  bool add(RelaySetup setup);

  /// Replaces one side's peer addresses of one stream and resets that side's latches (a re-offer
  /// may move the peer). `clock_rate` 0 keeps the current one. Any thread.
  bool set_peer(RelayId id, std::uint32_t stream, Side side, SidePeer peer,
                std::uint32_t clock_rate);

  /// Stops relaying `id`; then calls `done` on the worker thread, after which the worker no longer
  /// touches the sockets (the caller closes them). Unknown ids still get `done`. If the worker
  /// is not running, `done` runs at once on the calling thread. Any thread.
  void remove(RelayId id, Done done);

  /// Calls `cb` on the worker thread with the relay's counters (see RelayControl::StatsCallback).
  void stats(RelayId id, StatsCallback cb);

  /// Sets one side's RFC 4733 pick-up (see RelayControl::set_dtmf); a non-empty `cb` becomes the
  /// relay's digit callback, called on the worker thread. Any thread.
  bool set_dtmf(RelayId id, DtmfPickup pickup, DigitCallback cb);

  /// Queues a digit to send as RFC 4733 events (see RelayControl::send_digit). Any thread.
  bool send_digit(RelayId id, DigitRequest digit);

  /// Counters of this worker's relays since start; atomics updated once per batch. Any thread.
  RelayTotals totals() const;

  unsigned index() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The steady clock the workers stamp packets with (CLOCK_MONOTONIC, as std::chrono::steady_clock).
std::int64_t steady_now_ns() noexcept;

}  // namespace b2bua::rtp
