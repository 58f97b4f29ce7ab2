// SimpleB2bua: a thin shell around Engine with a routing callback.
#include "api/engine/simple_b2bua.hpp"

#include <algorithm>
#include <csignal>
#include <stdexcept>

#include <pthread.h>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "api/engine/engine.hpp"

namespace b2bua {

SimpleB2bua::SimpleB2bua(std::string name, std::uint16_t port)
    : SimpleB2bua(std::move(name), "0.0.0.0:" + std::to_string(port)) {}

SimpleB2bua::SimpleB2bua(std::string name, std::string address) : name_(std::move(name)) {
  cfg_.sip_listen = std::move(address);
  cfg_.user_agent = name_;
  cfg_.api_enabled = false;
  cfg_.cdr.path.clear();  // an embedding program writes no CDR file unless it asks for one
}

SimpleB2bua::~SimpleB2bua() { stop(); }

SimpleB2bua& SimpleB2bua::on_route(RouteFn fn) {
  policy_ = [fn = std::move(fn)](const IncomingCall& call, RouteReply reply) {
    std::string target = fn(call.from_uri, call.to_uri);
    if (target.empty()) {
      reply(RouteDecision::reject(Refusal::route_no_match));
    } else {
      reply(RouteDecision::route_to(std::move(target), "on_route"));
    }
  };
  return *this;
}

SimpleB2bua& SimpleB2bua::on_route_async(AsyncRouteFn fn) {
  policy_ = std::move(fn);
  return *this;
}

SimpleB2bua& SimpleB2bua::use_rules(std::vector<RouteRule> rules) {
  policy_ = make_table_policy(std::move(rules));
  return *this;
}

SimpleB2bua& SimpleB2bua::add_header(std::string name, std::string value) {
  headers_.push_back({std::move(name), std::move(value)});
  return *this;
}

SimpleB2bua& SimpleB2bua::add_failover(std::string primary, std::string backup) {
  failovers_.emplace_back(std::move(primary), std::move(backup));
  return *this;
}

SimpleB2bua& SimpleB2bua::on_dtmf(DtmfFn fn) {
  on_dtmf_ = std::move(fn);
  return *this;
}

SimpleB2bua& SimpleB2bua::on_event(std::function<void(const CallEvent&)> fn) {
  on_event_ = std::move(fn);
  return *this;
}

// The application's policy (or pass-through), with the facade's headers and failovers applied to
// every route decision.
RoutePolicy SimpleB2bua::wrapped_policy() const {
  RoutePolicy inner = policy_ ? policy_ : make_table_policy({});
  if (headers_.empty() && failovers_.empty()) {
    return inner;
  }
  auto headers = headers_;
  auto failovers = failovers_;
  return [inner, headers, failovers](const IncomingCall& call, RouteReply reply) {
    inner(call, [reply, headers, failovers](RouteDecision d) {
      const bool routes = d.kind == RouteDecision::Kind::route ||
                          d.kind == RouteDecision::Kind::queue;
      if (routes) {
        d.headers.add.insert(d.headers.add.end(), headers.begin(), headers.end());
        if (d.targets.empty() && !d.target.empty()) {
          d.targets = {d.target};
        }
        for (const auto& [primary, backup] : failovers) {
          if (!d.targets.empty() && d.targets.front() == primary &&
              std::find(d.targets.begin(), d.targets.end(), backup) == d.targets.end()) {
            d.targets.push_back(backup);
          }
        }
      }
      reply(std::move(d));
    });
  };
}

SimpleB2bua& SimpleB2bua::require_auth(std::string realm) {
  cfg_.auth.enabled = true;
  cfg_.auth.realm = std::move(realm);
  return *this;
}

SimpleB2bua& SimpleB2bua::add_user(std::string user, std::string password) {
  cfg_.auth.users[std::move(user)].password = std::move(password);
  return *this;
}

SimpleB2bua& SimpleB2bua::api(std::string address) {
  cfg_.api_listen = std::move(address);
  cfg_.api_enabled = true;
  return *this;
}

void SimpleB2bua::start() {
  if (engine_) {
    return;
  }
  // Logs go to stderr under the facade's name unless the application set up its own logger:
  // spdlog's built-in default would write to stdout, which belongs to the application.
  if (spdlog::default_logger()->name().empty()) {
    auto logger = spdlog::get(name_);
    spdlog::set_default_logger(logger ? logger : spdlog::stderr_color_mt(name_));
  }
  auto engine = std::make_unique<api::Engine>(cfg_, wrapped_policy());
  if (on_dtmf_ || on_event_) {
    engine->on_event([dtmf = on_dtmf_, any = on_event_](const CallEvent& ev) {
      if (dtmf && ev.event.kind == LegEventKind::dtmf) {
        dtmf(ev.call, ev.role, ev.event.digit, ev.event.duration);
      }
      if (any) {
        any(ev);
      }
    });
  }
  if (std::string err = engine->start(); !err.empty()) {
    throw std::runtime_error(name_ + ": " + err);
  }
  engine_ = std::move(engine);
}

void SimpleB2bua::run() {
  // Block the stop signals before any thread starts, so that only sigwait below sees them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  start();
  int sig = 0;
  sigwait(&set, &sig);
  stop();
}

void SimpleB2bua::stop() {
  if (engine_) {
    engine_->stop();
    engine_.reset();
  }
}

std::size_t SimpleB2bua::call_count() const { return engine_ ? engine_->call_count() : 0; }

std::vector<CallInfo> SimpleB2bua::list_calls() {
  return engine_ ? engine_->list_calls() : std::vector<CallInfo>{};
}

std::uint16_t SimpleB2bua::sip_port() const { return engine_ ? engine_->sip_port() : 0; }

}  // namespace b2bua
