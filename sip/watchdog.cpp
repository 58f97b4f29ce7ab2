// Watchdog of the SIP thread: heartbeats posted into its loop, and a backtrace of the thread taken
// through a signal when one of them waits too long.
#include "sip/watchdog.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cxxabi.h>
#include <execinfo.h>

#include <spdlog/spdlog.h>

namespace b2bua::sip {

namespace {

using Clock = std::chrono::steady_clock;

// Written only by the signal handler (in the watched thread), read by capture_backtrace once
// g_count is set; g_capture_mu lets one capture at a time use them.
constexpr int max_frames = 64;
void* g_frames[max_frames];
std::atomic<int> g_count{-1};
std::mutex g_capture_mu;

// Async-signal-safe as far as backtrace() is once libgcc's unwinder is loaded (install_handler
// loads it ahead); errno is kept for the interrupted code.
void on_backtrace_signal(int) {
  const int saved = errno;
  const int n = backtrace(g_frames, max_frames);
  g_count.store(n, std::memory_order_release);
  errno = saved;
}

void install_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    // The first backtrace() dlopens libgcc_s, which allocates: never let that happen in the
    // handler, where the interrupted thread may hold malloc's lock.
    void* warm[4];
    backtrace(warm, 4);
    struct sigaction sa {};
    sa.sa_handler = on_backtrace_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(watchdog_signal(), &sa, nullptr);
  });
}

// "binary(mangled+0x1f) [0x55..]" -> "demangled+0x1f (binary) [0x55..]"; other forms as they are.
std::string pretty_frame(const char* raw) {
  std::string s(raw);
  const auto open = s.find('(');
  const auto close = s.find(')', open == std::string::npos ? 0 : open);
  const auto plus = s.find('+', open == std::string::npos ? 0 : open);
  if (open == std::string::npos || close == std::string::npos || plus == std::string::npos ||
      plus > close || plus == open + 1) {
    return s;
  }
  const std::string mangled = s.substr(open + 1, plus - open - 1);
  int status = 0;
  char* demangled = abi::__cxa_demangle(mangled.c_str(), nullptr, nullptr, &status);
  std::string name = status == 0 && demangled ? demangled : mangled;
  std::free(demangled);
  if (name.size() > 300) {
    name = name.substr(0, 297) + "...";
  }
  return name + s.substr(plus, close - plus) + " (" + s.substr(0, open) + ")" + s.substr(close + 1);
}

std::string name_of(pthread_t thread) {
  char buf[16] = {};
  if (pthread_getname_np(thread, buf, sizeof buf) != 0) {
    return "?";
  }
  return buf;
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

}  // namespace

int watchdog_signal() { return SIGRTMIN + 3; }

std::vector<std::string> capture_backtrace(pthread_t thread, std::chrono::milliseconds wait) {
  install_handler();
  std::lock_guard<std::mutex> lock(g_capture_mu);
  g_count.store(-1, std::memory_order_relaxed);
  if (pthread_kill(thread, watchdog_signal()) != 0) {
    return {};
  }
  const auto deadline = Clock::now() + wait;
  while (g_count.load(std::memory_order_acquire) < 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const int n = g_count.load(std::memory_order_acquire);
  if (n <= 0) {
    return {};
  }
  char** symbols = backtrace_symbols(g_frames, n);
  if (!symbols) {
    return {};
  }
  std::vector<std::string> out;
  // Frame 0 is the handler itself.
  for (int i = 1; i < n; ++i) {
    out.push_back(pretty_frame(symbols[i]));
  }
  std::free(symbols);
  return out;
}

Watchdog::Watchdog(WatchdogConfig cfg, Post post, pthread_t target, OnStall on_stall)
    : cfg_(cfg),
      post_(std::move(post)),
      target_(target),
      on_stall_(std::move(on_stall)),
      state_(std::make_shared<State>()) {
  if (cfg_.period.count() <= 0) {
    cfg_.period = std::clamp(cfg_.stall / 5, std::chrono::milliseconds(10),
                             std::chrono::milliseconds(1000));
  }
}

Watchdog::~Watchdog() { stop(); }

void Watchdog::start() {
  install_handler();
  thread_ = std::thread([this] { run(); });
}

void Watchdog::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void Watchdog::run() {
  pthread_setname_np(pthread_self(), "b2b-watchdog");
  std::uint64_t answered_before = 0;  // heartbeats that had run when the pending one was posted
  Clock::time_point sent_at{};
  bool waiting = false;
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, cfg_.period, [this] { return stopping_; })) {
    lock.unlock();
    const auto now = Clock::now();
    if (waiting && state_->beats.load() > answered_before) {
      waiting = false;
    }
    if (waiting && now - sent_at > cfg_.stall) {
      // Still queued: is the loop stuck, or gone (stopped, its queue dropped)? Gone refuses posts.
      if (post_([] {})) {
        declare(std::chrono::duration_cast<std::chrono::milliseconds>(now - sent_at));
        return;
      }
      waiting = false;
    }
    if (!waiting) {
      answered_before = state_->beats.load();
      auto st = state_;
      if (post_([st] {
            st->last_beat_ns.store(now_ns());
            st->beats.fetch_add(1);
          })) {
        sent_at = now;
        waiting = true;
      }
    }
    lock.lock();
  }
}

void Watchdog::declare(std::chrono::milliseconds silent) {
  StallReport r;
  r.thread_name = name_of(target_);
  r.silent = silent;
  r.frames = capture_backtrace(target_);
  state_->stalled.store(true);
  // The handler first: it must run even when logging blocks (the stalled thread may hold the log).
  try {
    if (on_stall_) {
      on_stall_(r);
    }
  } catch (const std::exception& e) {
    spdlog::error("b2bua.sip.stalled: the stall handler threw: {}", e.what());
  } catch (...) {
    spdlog::error("b2bua.sip.stalled: the stall handler threw");
  }
  spdlog::error("b2bua.sip.stalled: thread {} has not turned its event loop for {} ms; its stack "
                "({} frames{}):",
                r.thread_name, silent.count(), r.frames.size(),
                r.frames.empty() ? ", the thread did not answer the signal" : "");
  for (std::size_t i = 0; i < r.frames.size(); ++i) {
    spdlog::error("b2bua.sip.stalled:   #{} {}", i, r.frames[i]);
  }
  spdlog::default_logger()->flush();
}

}  // namespace b2bua::sip
