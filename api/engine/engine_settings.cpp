// Config -> each part's settings (detail/engine_settings.hpp). Pure: no part is started here.
#include "api/engine/detail/engine_settings.hpp"

#include <algorithm>
#include <chrono>
#include <memory>

#include <arpa/inet.h>

#include "sip/inbound_auth.hpp"

namespace b2bua::api {

namespace {

bool any_interface(const std::string& host) {
  return host == "0.0.0.0" || host == "::" || host == "*";
}

bool numeric_ip(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

}  // namespace

std::string media_address(const Config& cfg) {
  if (!cfg.media.advertise.empty()) {
    return cfg.media.advertise;
  }
  if (!cfg.sip_advertise.empty()) {
    return cfg.sip_advertise;
  }
  const std::string host = split_host_port(cfg.sip_listen).value().first;
  return any_interface(host) ? "127.0.0.1" : host;
}

bool relays_any_call(const Config& cfg) {
  return cfg.media.mode == "relay" ||
         std::any_of(cfg.routes.begin(), cfg.routes.end(),
                     [](const RouteRule& r) { return r.media == "relay"; });
}

std::string check_media_address(const Config& cfg) {
  if (!relays_any_call(cfg)) {
    return {};
  }
  std::string address = media_address(cfg);
  if (numeric_ip(address)) {
    return {};
  }
  return "media.advertise: must be a numeric IP address (SDP carries " + address + ")";
}

std::size_t caf_workers(const Config& cfg, unsigned cores) {
  if (cfg.workers != 0) {
    return cfg.workers;
  }
  return std::max(1u, std::max(1u, cores) - 1);
}

sip::SipStackConfig sip_settings(const Config& cfg) {
  auto addr = split_host_port(cfg.sip_listen).value();
  sip::SipStackConfig sc;
  sc.listen_host = addr.first;
  sc.listen_port = addr.second;
  sc.advertise = cfg.sip_advertise;
  sc.user_agent = cfg.user_agent;
  sc.max_calls = cfg.max_calls;
  sc.retry_after_s = cfg.retry_after_s;
  sc.t1_ms = cfg.sip_t1_ms;
  if (cfg.auth.enabled) {
    sc.auth = std::make_shared<sip::InboundAuth>(cfg.auth);
  }
  sc.backend_credentials = backend_credentials(cfg.groups);
  sc.session_expires_s = cfg.session_expires_s;
  sc.min_se_s = cfg.min_se_s;
  sc.setup_deadline_ms = cfg.setup_deadline_ms;
  sc.tcp_idle_ms = cfg.tcp_idle_ms;
  return sc;
}

std::vector<std::string> own_addresses(const Config& cfg) {
  auto [host, port_number] = split_host_port(cfg.sip_listen).value();
  const std::string port = std::to_string(port_number);
  std::vector<std::string> out;
  if (any_interface(host)) {
    for (const char* h : {"127.0.0.1", "localhost", "[::1]"}) {
      out.push_back(std::string(h) + ":" + port);
    }
  } else {
    out.push_back((host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + port);
  }
  if (!cfg.sip_advertise.empty()) {
    out.push_back(cfg.sip_advertise + ":" + port);
  }
  return out;
}

RouterConfig router_settings(const Config& cfg) {
  RouterConfig rc;
  rc.route_timeout_ms = cfg.route_timeout_ms;
  rc.retry_after_s = cfg.retry_after_s;
  rc.own_addresses = own_addresses(cfg);
  rc.bridge.no_answer_ms = cfg.no_answer_ms;
  rc.bridge.retry_after_s = cfg.retry_after_s;
  rc.bridge.failover_timeout_ms = cfg.failover_timeout_ms;
  rc.bridge.media_mode = cfg.media.mode;
  rc.bridge.rtp_timeout_s = cfg.media.timeout_s;
  rc.bridge.dtmf = cfg.dtmf;
  rc.bridge.media_address = media_address(cfg);
  return rc;
}

std::optional<rtp::EngineConfig> media_settings(const Config& cfg) {
  if (!relays_any_call(cfg)) {
    return std::nullopt;
  }
  rtp::EngineConfig ec;
  ec.listen_ip = cfg.media.listen_ip;
  ec.port_min = cfg.media.port_min;
  ec.port_max = cfg.media.port_max;
  ec.workers = cfg.media.workers;
  ec.cpus = cfg.media.cpus;
  ec.rt_priority = static_cast<int>(cfg.media.rt_priority);
  ec.latch = cfg.media.latch == "sdp" ? rtp::LatchMode::sdp : rtp::LatchMode::latch;
  return ec;
}

std::optional<CdrStore::Options> cdr_settings(const Config& cfg) {
  if (cfg.cdr.path.empty()) {
    return std::nullopt;
  }
  CdrStore::Options o;
  o.path = cfg.cdr.path;
  o.flush_ms = cfg.cdr.flush_ms;
  o.max_queue = cfg.cdr.max_queue;
  return o;
}

std::optional<sip::WatchdogConfig> watchdog_settings(const Config& cfg) {
  if (cfg.sip_watchdog_ms == 0) {
    return std::nullopt;
  }
  sip::WatchdogConfig wc;
  wc.stall = std::chrono::milliseconds(cfg.sip_watchdog_ms);
  return wc;
}

std::optional<ApiSettings> api_settings(const Config& cfg) {
  if (!cfg.api_enabled) {
    return std::nullopt;
  }
  auto addr = split_host_port(cfg.api_listen).value();
  ApiSettings a;
  a.host = addr.first;
  a.port = addr.second;
  a.token = cfg.api_token;
  a.open_without_token = a.token.empty() && a.host != "127.0.0.1" && a.host != "::1" &&
                         a.host != "localhost";
  return a;
}

std::vector<sip::BackendCredential> backend_credentials(const std::vector<GroupSpec>& groups) {
  std::vector<sip::BackendCredential> out;
  for (const auto& g : groups) {
    for (const auto& t : g.targets) {
      if (!t.auth.user.empty()) {
        out.push_back({t.uri, t.auth.user, t.auth.password, t.auth.realm});
      }
    }
  }
  return out;
}

}  // namespace b2bua::api
