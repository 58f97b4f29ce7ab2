// RouteBuilder: the same routing rules as the config's `routes`, written in C++:
//
//   b2b.routes()
//       .from("sip:alice@*").route_to("sip:priority@10.0.0.5")
//       .to("sip:emergency@*").route_to("sip:911@10.0.0.9")
//       .during_hours(9, 17).route_to("sip:office@10.0.0.6")
//       .fallback("sip:general@10.0.0.7")
//       .build();
//
// Conditions (from, to, ruri, source, header, during_hours, on_days) gather into the rule being
// written; an action (route_to, route_to_group, reject, redirect, queue_to) ends it. Rules are
// tried in the order written (then `priority` if given); `fallback` applies when none matches.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "actors/route_table.hpp"

namespace b2bua {

class SimpleB2bua;

class RouteBuilder {
public:
  /// A builder whose `build()` returns the rules (no facade to install them into).
  RouteBuilder() = default;
  explicit RouteBuilder(SimpleB2bua* owner) : owner_(owner) {}

  // -- conditions of the rule being written (patterns as in the config) --
  RouteBuilder& from(std::string pattern);
  RouteBuilder& to(std::string pattern);
  RouteBuilder& ruri(std::string pattern);
  RouteBuilder& source(std::string pattern);
  RouteBuilder& header(std::string name, std::string pattern);
  /// Hours [start_hour, end_hour) every day in `tz` ("" = local time); end < start crosses midnight.
  RouteBuilder& during_hours(int start_hour, int end_hour, std::string tz = {});
  /// Restricts the window to days: 0 = Monday ... 6 = Sunday.
  RouteBuilder& on_days(std::vector<int> days);
  RouteBuilder& priority(int p);
  RouteBuilder& name(std::string n);
  /// Headers for the B leg of the rule being written.
  RouteBuilder& add_header(std::string name, std::string value);
  RouteBuilder& copy_headers(std::vector<std::string> names);

  // -- actions: each ends the rule --
  RouteBuilder& route_to(std::string target);
  RouteBuilder& route_to(std::vector<std::string> targets);  ///< failover in order
  RouteBuilder& route_to_group(std::string group);
  RouteBuilder& reject(int status, std::string reason = {});
  RouteBuilder& redirect(std::string contact);
  RouteBuilder& queue_to(std::string target, int queue_priority, std::uint32_t timeout_ms = 30000);

  /// A default rule: where calls go when no rule matches.
  RouteBuilder& fallback(std::string target);

  /// The rules written so far. With a facade, also installs them as its routing (replacing
  /// on_route/on_route_async). Throws std::invalid_argument when a rule has conditions but no
  /// action, or a pattern or time zone is invalid.
  std::vector<RouteRule> build();

private:
  RouteRule& current();
  RouteBuilder& finish();

  SimpleB2bua* owner_ = nullptr;
  std::vector<RouteRule> rules_;
  RouteRule rule_;
  bool open_ = false;  ///< rule_ has conditions but no action yet
};

}  // namespace b2bua
