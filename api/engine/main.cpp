// b2buad: the server binary. Parses the command line and the config, runs the Engine until SIGTERM.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <variant>

#include <pthread.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <jemalloc/jemalloc.h>

#include "api/config/config.hpp"
#include "api/engine/engine.hpp"

// jemalloc (linked into b2buad) reads this at start-up: give freed pages back to the system within
// seconds, so that memory returns to its baseline after a load peak. sofia-sip keeps every
// finished transaction for 64*T1 (32 s), which makes peaks large. The purging background thread
// is started only once the server runs and joined before exit (see jemalloc_background): started
// from malloc_conf, it could still be setting up while a config error made the process exit at
// once, and jemalloc then printed "Error setting tsd" to stderr.
extern "C" {
const char* malloc_conf = "max_background_threads:1,dirty_decay_ms:2000,muzzy_decay_ms:0";
}

namespace {

constexpr int exit_config = 2;
constexpr int exit_stalled = 70;  // EX_SOFTWARE: a restart is in order (Restart=on-failure)
constexpr auto stall_grace = std::chrono::seconds(1);

void jemalloc_background(bool on) {
  if (mallctl("background_thread", nullptr, nullptr, &on, sizeof on) != 0) {
    spdlog::debug("jemalloc: background_thread {} not available", on);
  }
}

int fail(const std::string& line) {
  std::fprintf(stderr, "b2buad: %s\n", line.c_str());
  return exit_config;
}

void setup_logging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("b2buad");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
  // Every record reaches the file at once, whatever the sink: the lines that explain a crash or
  // a kill -9 are the last ones, and a buffer would lose exactly them.
  spdlog::flush_on(spdlog::level::trace);
}

// The watchdog declared the SIP thread stalled (in the watchdog thread): leave so that the service
// manager restarts b2buad. The wedged thread is not waited for (std::_Exit). The exit comes from a
// thread of its own after a grace that lets probes see /health answer 503; SIGALRM ends the
// process anyway should logging itself be what hangs.
void exit_on_stall() {
  alarm(static_cast<unsigned>(stall_grace.count()) + 4);
  std::thread([] {
    std::this_thread::sleep_for(stall_grace);
    spdlog::error("b2buad: exiting with status {}: the SIP thread is stalled", exit_stalled);
    spdlog::default_logger()->flush();
    std::fflush(nullptr);
    std::_Exit(exit_stalled);
  }).detach();
}

// SIGHUP: re-reads the config file and applies its routes and groups; a bad file changes nothing.
void reload(b2bua::api::Engine& engine, const std::string& path) {
  if (path.empty()) {
    spdlog::warn("SIGHUP: running on the embedded default config, nothing to re-read");
    return;
  }
  auto loaded = b2bua::api::load_config_file(path);
  if (auto* err = std::get_if<std::string>(&loaded)) {
    spdlog::error("SIGHUP: reload refused, the old rules stay: {}", *err);
    return;
  }
  if (std::string err = engine.reload(std::get<b2bua::api::Config>(loaded)); !err.empty()) {
    spdlog::error("SIGHUP: reload refused, the old rules stay: {}", err);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // a file or pipe gets whole lines as they come
  CLI::App app{"b2buad - a back-to-back SIP user agent (B2BUA) server", "b2buad"};
  std::string config_path;
  bool check_only = false;
  bool print_default = false;
  app.add_option("-c,--config", config_path,
                 "configuration file (JSON, comments allowed); without it an embedded default "
                 "runs a pass-through B2BUA on 0.0.0.0:5060 with the API on 127.0.0.1:8080");
  app.add_flag("--check", check_only, "validate the configuration, print nothing, and exit");
  app.add_flag("--print-default-config", print_default, "print the embedded default config");
  app.set_version_flag("-V,--version", std::string("b2buad ") + B2BUA_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail(std::string(e.what()) + " (see --help)");
  }
  if (print_default) {
    std::cout << b2bua::api::default_config_text();
    return 0;
  }

  auto loaded = config_path.empty() ? b2bua::api::parse_config(b2bua::api::default_config_text())
                                    : b2bua::api::load_config_file(config_path);
  if (auto* err = std::get_if<std::string>(&loaded)) {
    return fail(*err);
  }
  auto cfg = std::get<b2bua::api::Config>(std::move(loaded));
  if (check_only) {
    return 0;
  }
  setup_logging(cfg.log_level);

  // Only the sigwait below receives the stop signals: block them before any thread starts.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  b2bua::api::Engine engine(cfg);
  engine.on_sip_stall(exit_on_stall);
  if (std::string err = engine.start(); !err.empty()) {
    return fail(err);
  }
  jemalloc_background(true);
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) {
      continue;
    }
    if (sig == SIGHUP) {
      reload(engine, config_path);
      continue;
    }
    spdlog::info("b2buad: {} received, draining {} call(s)", sig == SIGTERM ? "SIGTERM" : "SIGINT",
                 engine.call_count());
    break;
  }
  engine.stop();
  jemalloc_background(false);  // joins the purging thread: nothing of jemalloc runs during exit
  spdlog::info("b2buad: stopped");
  return 0;
}
