// RouteTable: the configured routing rules and the policy that applies them to a new call.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "actors/protocol/call_types.hpp"

namespace b2bua {

/// One routing rule from the config (`routes[]`). Patterns use `*` wildcards (any run of characters).
/// A pattern that starts with a scheme ("sip:", "sips:", "tel:") is matched against the URI without
/// parameters (`sip:user@host[:port]`); any other pattern is matched against the user part alone.
/// `source` patterns match "ip:port" of the sender. An empty pattern matches everything.
struct RouteRule {
  std::string name;
  std::string match_from;
  std::string match_to;
  std::string match_ruri;
  std::string match_source;
  std::string action = "route";       ///< "route" or "reject"
  std::vector<std::string> targets;   ///< with "route": tried in order (failover comes later)
  int reject_status = 403;            ///< with "reject"
  std::string reject_reason = "Forbidden";
  std::string media;                  ///< "relay", "bypass", or "" for media.mode
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

/// True when the rule matches the call.
bool rule_matches(const RouteRule& rule, const IncomingCall& call);

/// First matching rule decides; none matching gives 404 (`b2bua.route.no_match`).
/// With no rules at all, every call goes to its own Request-URI (pass-through).
RouteDecision decide(const std::vector<RouteRule>& rules, const IncomingCall& call);

/// A policy over a fixed rule list (see `decide`).
RoutePolicy make_table_policy(std::vector<RouteRule> rules);

/// Applies a route target to a call: a target with a user part is used as is; a target without
/// one keeps the called user of the Request-URI, as a dispatcher does.
std::string apply_target(std::string_view target, std::string_view ruri_user);

/// The URI with its user part set to `user` (replacing any), e.g. for the B leg's To header:
/// ("sip:carol@10.0.0.2:5080", "bob") -> "sip:bob@10.0.0.2:5080". Empty user: the URI unchanged.
std::string with_user(std::string_view uri, std::string_view user);

}  // namespace b2bua
