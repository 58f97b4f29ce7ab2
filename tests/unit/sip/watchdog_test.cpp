// Watchdog: a real thread running posted closures stands in for the SIP thread (and, once, the
// real SipStack): blocked, it is declared stalled once, after stall_ms, with its own stack in the
// report; healthy or stopped, never.
#include "sip/watchdog.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor.hpp>
#include <doctest/doctest.h>

#include "sip/sip_stack.hpp"

using namespace b2bua::sip;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Blocks the calling thread until `release` (at most 10 s). External and not inlined, so that it
// is a named frame in the backtrace (the test binary exports its symbols).
__attribute__((noinline)) void watchdog_test_block_here(const std::atomic<bool>& release) {
  const auto deadline = Clock::now() + 10s;
  while (!release.load() && Clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  asm volatile("");  // keeps this frame from becoming a tail call
}

namespace {

// An event loop: runs posted closures in its own thread, in order; refuses posts once stopped
// (and drops what is still queued), like SipStack::post.
class Loop {
public:
  Loop() : thread_([this] { run(); }) {}
  ~Loop() { stop(); }

  bool post(std::function<void()> fn) {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      return false;
    }
    queue_.push_back(std::move(fn));
    cv_.notify_one();
    return true;
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      queue_.clear();
    }
    cv_.notify_one();
    if (thread_.joinable()) {
      thread_.join();
    }
  }

  pthread_t handle() { return thread_.native_handle(); }

private:
  void run() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) {
        return;
      }
      auto fn = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      fn();
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

// Collects the watchdog's stall reports.
struct Reports {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<StallReport> all;
  std::vector<Clock::time_point> when;

  Watchdog::OnStall handler() {
    return [this](const StallReport& r) {
      std::lock_guard<std::mutex> lock(mu);
      all.push_back(r);
      when.push_back(Clock::now());
      cv.notify_all();
    };
  }
  bool wait_first(std::chrono::milliseconds limit) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, limit, [this] { return !all.empty(); });
  }
  std::size_t count() {
    std::lock_guard<std::mutex> lock(mu);
    return all.size();
  }
};

bool names_frame(const StallReport& r, const std::string& what) {
  return std::any_of(r.frames.begin(), r.frames.end(),
                     [&](const std::string& f) { return f.find(what) != std::string::npos; });
}

Watchdog::Post poster(Loop& loop) {
  return [&loop](std::function<void()> fn) { return loop.post(std::move(fn)); };
}

}  // namespace

TEST_CASE("a blocked loop is declared stalled once, after stall_ms, with the blocked frame named") {
  Loop loop;
  Reports reports;
  Watchdog wd({300ms, 20ms}, poster(loop), loop.handle(), reports.handler());
  wd.start();
  std::this_thread::sleep_for(100ms);
  CHECK(wd.beats() > 0);
  CHECK_FALSE(wd.stalled());

  std::atomic<bool> release{false};
  const auto blocked_at = Clock::now();
  REQUIRE(loop.post([&release] { watchdog_test_block_here(release); }));
  std::this_thread::sleep_for(150ms);
  CHECK_FALSE(wd.stalled());
  CHECK(reports.count() == 0);

  REQUIRE(reports.wait_first(5s));
  CHECK(wd.stalled());
  const auto after = reports.when[0] - blocked_at;
  CHECK(after >= 300ms);
  CHECK(after < 300ms + 1500ms);  // one period late at most, plus a loaded machine's slack
  const StallReport& r = reports.all[0];
  CHECK(r.silent >= 300ms);
  CHECK(names_frame(r, "watchdog_test_block_here"));
  INFO("frames: " << r.frames.size());

  std::this_thread::sleep_for(400ms);  // still blocked: nothing more is declared
  release = true;
  std::this_thread::sleep_for(100ms);
  wd.stop();
  CHECK(reports.count() == 1);
  CHECK(wd.stalled());  // a stall stays declared
}

TEST_CASE("a busy but turning loop never trips the watchdog") {
  Loop loop;
  Reports reports;
  // 300 ms: far above one 20 ms item, so a loaded machine's scheduling does not count as a stall.
  Watchdog wd({300ms, 10ms}, poster(loop), loop.handle(), reports.handler());
  wd.start();
  // 40 work items of 20 ms keep the loop busy for 800 ms; each posts the next as it ends, so a
  // heartbeat waits behind one item at most.
  std::function<void(int)> work = [&loop, &work](int left) {
    std::this_thread::sleep_for(20ms);
    if (left > 0) {
      loop.post([&work, left] { work(left - 1); });
    }
  };
  loop.post([&work] { work(40); });
  std::this_thread::sleep_for(1000ms);
  wd.stop();
  CHECK(reports.count() == 0);
  CHECK_FALSE(wd.stalled());
  CHECK(wd.beats() >= 10);
  CHECK(Clock::now() - wd.last_beat() < 500ms);
}

TEST_CASE("a loop that stops (posts refused, its queue dropped) is not a stall") {
  Loop loop;
  Reports reports;
  Watchdog wd({300ms, 10ms}, poster(loop), loop.handle(), reports.handler());
  wd.start();
  std::this_thread::sleep_for(50ms);
  loop.stop();
  std::this_thread::sleep_for(800ms);  // well past the stall time
  wd.stop();
  CHECK(reports.count() == 0);
  CHECK_FALSE(wd.stalled());
}

TEST_CASE("capture_backtrace gives up when the thread does not run the handler") {
  std::atomic<bool> release{false};
  std::atomic<bool> masked{false};
  std::thread t([&] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, watchdog_signal());
    pthread_sigmask(SIG_BLOCK, &set, nullptr);  // the signal stays pending until the thread ends
    masked = true;
    watchdog_test_block_here(release);
  });
  while (!masked) {
    std::this_thread::sleep_for(1ms);
  }
  const auto t0 = Clock::now();
  CHECK(capture_backtrace(t.native_handle(), 100ms).empty());
  CHECK(Clock::now() - t0 >= 100ms);
  release = true;
  t.join();
}

TEST_CASE("capture_backtrace names the frames of a running thread") {
  std::atomic<bool> release{false};
  std::thread t([&] { watchdog_test_block_here(release); });
  std::this_thread::sleep_for(20ms);
  auto frames = capture_backtrace(t.native_handle());
  release = true;
  t.join();
  StallReport r;
  r.frames = frames;
  CHECK(names_frame(r, "watchdog_test_block_here"));
}

TEST_CASE("the real SipStack: a posted closure that sleeps past stall_ms is declared with its stack") {
  SipStackConfig sc;
  sc.listen_host = "127.0.0.1";
  sc.listen_port = 0;
  SipStack stack(sc);
  REQUIRE(stack.start(caf::actor{}) == "");
  Reports reports;
  Watchdog wd({250ms, 20ms}, [&stack](std::function<void()> fn) { return stack.post(std::move(fn)); },
              stack.native_thread(), reports.handler());
  wd.start();
  std::this_thread::sleep_for(100ms);
  CHECK(wd.beats() > 0);
  std::atomic<bool> release{false};
  REQUIRE(stack.post([&release] { watchdog_test_block_here(release); }));
  REQUIRE(reports.wait_first(5s));
  release = true;
  CHECK(wd.stalled());
  CHECK(reports.all[0].thread_name == "b2b-sofia");
  CHECK(names_frame(reports.all[0], "watchdog_test_block_here"));
  wd.stop();
  stack.stop(2000);
}
