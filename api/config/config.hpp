// Config: the b2buad configuration (JSON with comments), its defaults, loading and validation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "actors/backend_spec.hpp"
#include "actors/dtmf_policy.hpp"
#include "actors/route_table.hpp"
#include "sip/digest_auth.hpp"

namespace b2bua::api {

/// `media`: how calls' RTP is handled (see schemas/config.schema.json).
struct MediaConfig {
  std::string mode = "relay";          ///< "relay" (anchored) or "bypass" (SDP untouched)
  std::string listen_ip = "0.0.0.0";   ///< numeric IP the RTP sockets bind
  std::string advertise;               ///< address in SDP; "" = sip.advertise, listen host, 127.0.0.1
  std::uint16_t port_min = 20000;      ///< media.ports "20000-29999": even RTP ports, RTCP +1
  std::uint16_t port_max = 29999;
  std::uint32_t workers = 1;           ///< relay threads
  std::vector<int> cpus;               ///< CPU pinning of relay threads; empty = none
  std::uint32_t rt_priority = 0;       ///< 1-99: relay threads run SCHED_FIFO at it; 0 = normal
  std::string latch = "latch";         ///< "latch" (learn the peer's real address) or "sdp"
  std::uint32_t timeout_s = 60;        ///< no RTP either way this long after the answer ends the call
};

/// `cdr`: call detail records in SQLite (see api/records/cdr_store.hpp).
struct CdrConfig {
  std::string path = "b2bua-cdr.sqlite";  ///< SQLite file, relative to the working dir; "" = off
  std::uint32_t flush_ms = 200;           ///< the writer commits queued records at least this often
  std::uint32_t max_queue = 100000;       ///< records waiting beyond this are dropped and counted
};

struct Config {
  // sip
  std::string sip_listen = "0.0.0.0:5060";  ///< "host:port"; port 0 picks a free port
  std::string sip_advertise;                ///< host for Contact/From when listen is 0.0.0.0; "" = auto
  std::string user_agent = "b2bua";
  std::uint32_t sip_watchdog_ms = 5000;     ///< SIP loop silent this long: stall, exit 70; 0 = off
  // api
  std::string api_listen = "127.0.0.1:8080";  ///< "host:port"; port 0 picks a free port
  bool api_enabled = true;
  std::string api_token;                      ///< bearer token required by the API; "" = none
  // limits
  std::uint32_t max_calls = 10000;
  std::uint32_t retry_after_s = 5;          ///< Retry-After on 503 when over max_calls or draining
  // timers
  std::uint32_t no_answer_ms = 60000;       ///< ringing longer than this is ended (480 to the caller)
  std::uint32_t sip_t1_ms = 500;            ///< SIP T1; INVITE transaction timeout is 64*T1
  std::uint32_t route_timeout_ms = 2000;    ///< a routing decision slower than this: 500 to the caller
  std::uint32_t drain_ms = 5000;            ///< on SIGTERM, how long active calls get to end
  std::uint32_t session_expires_s = 1800;   ///< RFC 4028 session interval each leg asks for; 0 = off
  std::uint32_t min_se_s = 90;              ///< Min-SE: shorter Session-Expires get 422
  std::uint32_t setup_deadline_ms = 300000; ///< no leg stays without a final response longer
  std::uint32_t tcp_idle_ms = 120000;       ///< unused SIP TCP connections are closed after it
  std::uint32_t failover_timeout_ms = 2000; ///< no response at all from a backend: try the next
  // routes: empty = pass-through (each call to its own Request-URI)
  std::vector<RouteRule> routes;
  std::string routes_json = "[]";           ///< the `routes` array as written (GET /v1/routes)
  // groups: backend groups that routes name (`"group": "pbx"`)
  std::vector<GroupSpec> groups;
  // breaker: one circuit breaker per backend, these settings for all
  BreakerConfig breaker;
  // cdr
  CdrConfig cdr;
  // media
  MediaConfig media;
  // dtmf: how each leg wants digits ("auto", "rfc4733", "info"); converted in relay mode only
  DtmfModes dtmf;
  // auth: digest authentication of callers (off unless the section is given)
  sip::AuthSettings auth;
  // log
  std::string log_level = "info";           ///< trace, debug, info, warn, error, off
  // actors
  std::uint32_t workers = 0;                ///< CAF scheduler threads; 0 = number of cores
};

/// The embedded default configuration text (pass-through on 0.0.0.0:5060, API on 127.0.0.1:8080).
const char* default_config_text();

/// Parses and validates config text. On error, returns one line naming the key and the rule,
/// e.g. "limits.max_calls: must be an integer >= 1".
std::variant<Config, std::string> parse_config(const std::string& text);

/// The rules on a whole Config, however it was made: `sip.listen` and `api.listen` are host:port,
/// auth has a realm, every route's group exists, `timers.setup_deadline_ms` exceeds no_answer_ms +
/// route_timeout_ms. parse_config applies them after reading; Engine::start applies them to every
/// config it is given (SimpleB2bua builds one in code). Returns "" or one line naming the key and
/// the rule, e.g. "auth.realm: is required when auth is enabled". Any thread.
std::string validate(const Config& c);

/// Reads and parses a config file. On error, one line as above (or naming the file).
std::variant<Config, std::string> load_config_file(const std::string& path);

/// Parses and validates a `routes` array alone (PUT /v1/routes), with the config file's rules and
/// messages; a `group` must name one of `groups`. On error, one line naming the rule and the
/// field, e.g. "routes[2].match.from: must be a string". Any thread.
std::variant<std::vector<RouteRule>, std::string> parse_routes(
    const nlohmann::json& routes, const std::vector<GroupSpec>& groups = {});

/// Splits "host:port" ("[v6]:port" too). Returns nullopt when malformed or the port is out of range.
std::optional<std::pair<std::string, std::uint16_t>> split_host_port(const std::string& text);

}  // namespace b2bua::api
