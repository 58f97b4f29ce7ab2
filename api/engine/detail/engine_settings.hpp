// The settings of each part an Engine starts, built from a valid Config (validate() passed) by
// pure functions: what engine.cpp wires, and what tests/unit/api/engine/ checks without starting
// anything. Private to api/engine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "actors/router.hpp"
#include "api/config/config.hpp"
#include "api/records/cdr_store.hpp"
#include "rtp/relay_engine.hpp"
#include "sip/backend_auth.hpp"
#include "sip/sip_stack.hpp"
#include "sip/watchdog.hpp"

namespace b2bua::api {

/// CAF scheduler threads: `actors.workers`, else every core but the one the sofia thread needs
/// (at least 1).
std::size_t caf_workers(const Config& cfg, unsigned cores);

/// The SIP stack's settings (sip, limits, timers, auth, the groups' backend credentials). With
/// auth on, `auth` is a fresh InboundAuth over `cfg.auth`.
sip::SipStackConfig sip_settings(const Config& cfg);

/// The router's and its bridges' settings. `bridge.relay_engine` stays null: the wiring sets it
/// once the relay engine runs.
RouterConfig router_settings(const Config& cfg);

/// b2buad's own SIP addresses ("host:port"): a route to one of them is a loop.
std::vector<std::string> own_addresses(const Config& cfg);

/// The address b2buad puts into SDP: media.advertise, else sip.advertise, else the SIP listen
/// host, else 127.0.0.1 (when listening on every interface).
std::string media_address(const Config& cfg);

/// True when some call may be relayed: media.mode "relay", or a route that asks for it.
bool relays_any_call(const Config& cfg);

/// When some call may be relayed, SDP needs a number: "" when media_address() is a numeric IP
/// (or nothing is relayed), else "media.advertise: must be a numeric IP address (SDP carries
/// <address>)". Checked at start only, not by validate(): a config file may name a host for SIP
/// (sip.advertise) and pass `--check`.
std::string check_media_address(const Config& cfg);

/// The relay engine's settings; nullopt when no call can be relayed (bypass everywhere).
std::optional<rtp::EngineConfig> media_settings(const Config& cfg);

/// The CDR store's options; nullopt when `cdr.path` is "" (records off).
std::optional<CdrStore::Options> cdr_settings(const Config& cfg);

/// The SIP watchdog's settings; nullopt when `sip.watchdog_ms` is 0.
std::optional<sip::WatchdogConfig> watchdog_settings(const Config& cfg);

/// Where the REST server listens and the token it asks for.
struct ApiSettings {
  std::string host;
  std::uint16_t port = 0;
  std::string token;
  bool open_without_token = false;  ///< no token on an address other than loopback: a warning
};

/// nullopt when `api.enabled` is false.
std::optional<ApiSettings> api_settings(const Config& cfg);

/// The outbound credentials of every group target that has some (also on reload).
std::vector<sip::BackendCredential> backend_credentials(const std::vector<GroupSpec>& groups);

}  // namespace b2bua::api
