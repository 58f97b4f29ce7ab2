// RouteTable: the configured routing rules and the policy that applies them to a new call.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "actors/protocol/call_types.hpp"

namespace b2bua {

/// A time-of-day window: the rule applies on `days` between `start_min` and `end_min` (minutes
/// after midnight, local time in `tz`). A window whose end is before its start crosses midnight;
/// its part after midnight belongs to the day it started on (Friday 22:00-06:00 matches Saturday
/// 03:00). `tz` is an IANA name ("Europe/Berlin"); "" means the machine's local zone.
struct TimeWindow {
  std::uint8_t days = 0x7f;  ///< bit 0 = Monday ... bit 6 = Sunday
  int start_min = 0;
  int end_min = 24 * 60;
  std::string tz;
};

/// One routing rule (`routes[]` in the config). Patterns use `*` wildcards (any run of characters),
/// or, when they start with `~`, a POSIX extended regular expression (searched, so anchor it with
/// `^...$` to match the whole text). A wildcard pattern that starts with a scheme ("sip:", "sips:",
/// "tel:") is matched against the URI without parameters (`sip:user@host[:port]`); any other
/// wildcard pattern against the user part alone; a regex always against the URI without
/// parameters. `source` patterns match "ip:port" of the sender; header patterns the header value
/// (names case-insensitive; the header must be present); `auth_user` the user that passed digest
/// authentication (`~.` matches any authenticated user). An empty pattern matches everything.
struct RouteRule {
  std::string name;
  int priority = 0;          ///< higher is tried first; equal priorities keep their order
  bool is_default = false;   ///< applies only when no other rule matches
  std::string match_from;
  std::string match_to;
  std::string match_ruri;
  std::string match_source;
  std::vector<HeaderField> match_headers;  ///< name -> value pattern
  std::string match_auth_user;  ///< the digest-authenticated user ("" when not authenticated)
  std::optional<TimeWindow> when;
  std::string action = "route";       ///< "route", "reject", "redirect" or "queue"
  std::vector<std::string> targets;   ///< route/queue: tried in order (failover)
  std::string group;                  ///< route/queue: a backend group instead of targets
  int reject_status = 403;            ///< with "reject"
  std::string reject_reason = "Forbidden";
  std::string contact;                ///< with "redirect": the Contact of the 302
  int queue_priority = 0;             ///< with "queue"
  std::uint32_t queue_timeout_ms = 30000;
  std::string media;                  ///< "relay", "bypass", or "" for media.mode
  HeaderPolicy headers;               ///< headers for the B leg
};

/// Replies to a routing question. Callable exactly once, from any thread.
using RouteReply = std::function<void(RouteDecision)>;

/// Decides where a call goes. Called on a CAF worker (the router actor): it must not block. It may
/// call `reply` at once or later from another thread.
using RoutePolicy = std::function<void(const IncomingCall&, RouteReply)>;

/// True when `text` matches the wildcard `pattern` (`*` = any run, possibly empty). Case-sensitive.
bool wildcard_match(std::string_view pattern, std::string_view text);

/// The URI without parameters or headers, e.g. "sip:alice@example.com:5070".
std::string strip_uri_params(std::string_view uri);

/// "" when `pattern` is usable, else why not (a regex that does not compile).
std::string check_pattern(const std::string& pattern);

/// True when the pattern (wildcard or `~regex`) matches `text` as a whole (wildcard) or
/// anywhere (regex). An invalid regex never matches.
bool pattern_matches(const std::string& pattern, std::string_view text);

/// Compiled `~regex` patterns held (at most 4096: then the cache starts afresh). For tests.
std::size_t pattern_cache_size();

/// "" when `tz` names a time zone this machine knows ("" = local), else why not.
std::string check_time_zone(const std::string& tz);

/// True when `now` falls inside the window.
bool in_window(const TimeWindow& w, std::chrono::system_clock::time_point now);

/// True when the rule matches the call at time `now`.
bool rule_matches(const RouteRule& rule, const IncomingCall& call,
                  std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

/// Rules in the order they are tried: by priority, highest first, stable; default rules last.
std::vector<RouteRule> sort_rules(std::vector<RouteRule> rules);

/// The decision a rule makes for a call it matched.
RouteDecision decision_of(const RouteRule& rule);

/// The first matching rule of `rules` (in `sort_rules` order) decides; none matching gives 404
/// (`b2bua.route.no_match`). With no rules at all, every call goes to its own Request-URI.
RouteDecision decide(const std::vector<RouteRule>& rules, const IncomingCall& call,
                     std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

/// The extra headers of a B leg: the caller's headers named by `copy` (wildcards, names
/// case-insensitive) and not by `remove`, then every `add` not named by `remove`, then every
/// `add` (an explicit add wins over `remove`: `remove: ["X-*"]` with an added X-Tenant sends it).
std::vector<HeaderField> apply_header_policy(const HeaderPolicy& policy,
                                             const std::vector<HeaderField>& caller);

/// A policy over a fixed rule list (see `decide`); sorts the rules itself.
RoutePolicy make_table_policy(std::vector<RouteRule> rules);

/// Rules that can be replaced while calls are routed (SIGHUP, REST): each call is decided by the
/// rule list current when its INVITE is routed; calls already routed are untouched. Thread-safe.
class RuleSet {
public:
  explicit RuleSet(std::vector<RouteRule> rules) { replace(std::move(rules)); }
  /// Any thread.
  void replace(std::vector<RouteRule> rules);
  /// The current list, sorted for `decide`. Any thread.
  std::shared_ptr<const std::vector<RouteRule>> current() const;
  /// A policy that decides with whatever list is current.
  RoutePolicy policy();

private:
  mutable std::mutex mu_;
  std::shared_ptr<const std::vector<RouteRule>> rules_;
  std::weak_ptr<RuleSet> self_;
  friend std::shared_ptr<RuleSet> make_rule_set(std::vector<RouteRule> rules);
};

/// A RuleSet owned by a shared_ptr (its policy keeps it alive).
std::shared_ptr<RuleSet> make_rule_set(std::vector<RouteRule> rules);

/// Applies a route target to a call: a target with a user part is used as is; a target without
/// one keeps the called user of the Request-URI, as a dispatcher does.
std::string apply_target(std::string_view target, std::string_view ruri_user);

/// The URI with its user part set to `user` (replacing any), e.g. for the B leg's To header:
/// ("sip:carol@10.0.0.2:5080", "bob") -> "sip:bob@10.0.0.2:5080". Empty user: the URI unchanged.
std::string with_user(std::string_view uri, std::string_view user);

}  // namespace b2bua
