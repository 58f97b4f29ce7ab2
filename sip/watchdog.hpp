// Watchdog: notices when an event-loop thread (the b2b-sofia thread) stops turning its loop, and
// says so once, with a backtrace of that thread taken while it is stuck.
//
// Its own thread (b2b-watchdog) posts a heartbeat closure into the watched loop every `period`,
// at most one at a time; the closure stamps the time it ran. When a heartbeat has waited longer
// than `stall` without running, the loop has not turned for at least that long: the watchdog
// interrupts the watched thread with a signal (watchdog_signal()) whose handler records the
// thread's stack frames with backtrace() into a static buffer, symbolizes them in its own thread,
// marks itself stalled (for good: a stall is declared once), calls `on_stall` from the watchdog
// thread and then logs the report (b2bua.sip.stalled, one error line per frame). Posting fails while the loop is not running (before start, after stop): those
// periods are not counted.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <pthread.h>

namespace b2bua::sip {

/// What the watchdog saw when it declared a stall.
struct StallReport {
  std::string thread_name;          ///< pthread name of the watched thread ("b2b-sofia")
  std::chrono::milliseconds silent; ///< how long the oldest heartbeat had waited
  /// The watched thread's stack, innermost first, as "name+0xoff (binary) [0xaddr]" or the raw
  /// backtrace_symbols text when no name is known. Empty when the thread did not run the signal
  /// handler within a second (blocked signals, or stuck inside the kernel).
  std::vector<std::string> frames;
};

struct WatchdogConfig {
  std::chrono::milliseconds stall{5000};  ///< a heartbeat waiting longer than this is a stall
  std::chrono::milliseconds period{0};    ///< heartbeat interval; 0 = stall/5 within 10-1000 ms
};

class Watchdog {
public:
  /// Posts a closure into the watched loop; false when the loop does not run (SipStack::post).
  using Post = std::function<bool(std::function<void()>)>;
  using OnStall = std::function<void(const StallReport&)>;

  /// `target` is the watched thread (SipStack::native_thread()); `post` and `on_stall` are called
  /// from the watchdog thread only. Nothing runs before start().
  Watchdog(WatchdogConfig cfg, Post post, pthread_t target, OnStall on_stall);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  /// Installs the backtrace signal handler (once per process) and starts the watchdog thread.
  /// Owner's thread, once.
  void start();

  /// Stops and joins the watchdog thread (returns after `on_stall` when it is running). A heartbeat
  /// still queued in the loop stays harmless. Owner's thread; idempotent.
  void stop();

  /// True once a stall was declared (it stays true). Any thread.
  bool stalled() const { return state_->stalled.load(); }

  /// Heartbeats that ran in the watched loop so far. Any thread.
  std::uint64_t beats() const { return state_->beats.load(); }

  /// When the last heartbeat ran (steady clock; its epoch before the first). Any thread.
  std::chrono::steady_clock::time_point last_beat() const {
    return std::chrono::steady_clock::time_point(
        std::chrono::nanoseconds(state_->last_beat_ns.load()));
  }

private:
  /// Shared with the heartbeat closures, which may run after the Watchdog is gone.
  struct State {
    std::atomic<std::uint64_t> beats{0};
    std::atomic<std::int64_t> last_beat_ns{0};  ///< steady clock, stamped in the watched thread
    std::atomic<bool> stalled{false};
  };

  void run();
  void declare(std::chrono::milliseconds silent);

  WatchdogConfig cfg_;
  Post post_;
  pthread_t target_;
  OnStall on_stall_;
  std::shared_ptr<State> state_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

/// The signal the watchdog sends to take a backtrace (SIGRTMIN + 3). Nothing else may use it.
int watchdog_signal();

/// Takes a backtrace of `thread` (any thread of this process but the caller) through
/// watchdog_signal(); waits at most `wait` for its handler. Empty when it did not run. Any thread;
/// one capture at a time (serialized inside).
std::vector<std::string> capture_backtrace(pthread_t thread,
                                           std::chrono::milliseconds wait = std::chrono::seconds(1));

}  // namespace b2bua::sip
