// RouteBuilder: rules written in C++ instead of the config.
#include "api/engine/route_builder.hpp"

#include <stdexcept>

#include "api/engine/simple_b2bua.hpp"

namespace b2bua {

RouteRule& RouteBuilder::current() {
  open_ = true;
  return rule_;
}

RouteBuilder& RouteBuilder::finish() {
  if (rule_.name.empty()) {
    rule_.name = "rule" + std::to_string(rules_.size());
  }
  rules_.push_back(std::move(rule_));
  rule_ = RouteRule{};
  open_ = false;
  return *this;
}

RouteBuilder& RouteBuilder::from(std::string p) {
  current().match_from = std::move(p);
  return *this;
}

RouteBuilder& RouteBuilder::to(std::string p) {
  current().match_to = std::move(p);
  return *this;
}

RouteBuilder& RouteBuilder::ruri(std::string p) {
  current().match_ruri = std::move(p);
  return *this;
}

RouteBuilder& RouteBuilder::source(std::string p) {
  current().match_source = std::move(p);
  return *this;
}

RouteBuilder& RouteBuilder::header(std::string name, std::string p) {
  current().match_headers.push_back({std::move(name), std::move(p)});
  return *this;
}

RouteBuilder& RouteBuilder::during_hours(int start_hour, int end_hour, std::string tz) {
  if (start_hour < 0 || start_hour > 23 || end_hour < 0 || end_hour > 24 ||
      start_hour == end_hour) {
    throw std::invalid_argument("during_hours: hours must be 0-23 (end 0-24) and differ");
  }
  auto& w = current().when;
  if (!w) {
    w.emplace();
  }
  w->start_min = start_hour * 60;
  w->end_min = end_hour * 60;
  w->tz = std::move(tz);
  return *this;
}

RouteBuilder& RouteBuilder::on_days(std::vector<int> days) {
  auto& w = current().when;
  if (!w) {
    w.emplace();
  }
  w->days = 0;
  for (int d : days) {
    if (d < 0 || d > 6) {
      throw std::invalid_argument("on_days: days are 0 (Monday) to 6 (Sunday)");
    }
    w->days = static_cast<std::uint8_t>(w->days | (1u << d));
  }
  return *this;
}

RouteBuilder& RouteBuilder::priority(int p) {
  current().priority = p;
  return *this;
}

RouteBuilder& RouteBuilder::name(std::string n) {
  current().name = std::move(n);
  return *this;
}

RouteBuilder& RouteBuilder::add_header(std::string name, std::string value) {
  current().headers.add.push_back({std::move(name), std::move(value)});
  return *this;
}

RouteBuilder& RouteBuilder::copy_headers(std::vector<std::string> names) {
  auto& copy = current().headers.copy;
  copy.insert(copy.end(), names.begin(), names.end());
  return *this;
}

RouteBuilder& RouteBuilder::route_to(std::string target) {
  return route_to(std::vector<std::string>{std::move(target)});
}

RouteBuilder& RouteBuilder::route_to(std::vector<std::string> targets) {
  if (targets.empty()) {
    throw std::invalid_argument("route_to: at least one target");
  }
  current().action = "route";
  rule_.targets = std::move(targets);
  return finish();
}

RouteBuilder& RouteBuilder::route_to_group(std::string group) {
  current().action = "route";
  rule_.group = std::move(group);
  return finish();
}

RouteBuilder& RouteBuilder::reject(int status, std::string reason) {
  if (status < 300 || status > 699) {
    throw std::invalid_argument("reject: status must be 300-699");
  }
  current().action = "reject";
  rule_.reject_status = status;
  rule_.reject_reason = reason.empty() ? "Rejected" : std::move(reason);
  return finish();
}

RouteBuilder& RouteBuilder::redirect(std::string contact) {
  current().action = "redirect";
  rule_.contact = std::move(contact);
  return finish();
}

RouteBuilder& RouteBuilder::queue_to(std::string target, int queue_priority,
                                     std::uint32_t timeout_ms) {
  current().action = "queue";
  rule_.targets = {std::move(target)};
  rule_.queue_priority = queue_priority;
  rule_.queue_timeout_ms = timeout_ms;
  return finish();
}

RouteBuilder& RouteBuilder::fallback(std::string target) {
  if (open_) {
    throw std::invalid_argument("fallback: the rule before it has conditions but no action");
  }
  rule_.name = "fallback";
  rule_.is_default = true;
  return route_to(std::move(target));
}

std::vector<RouteRule> RouteBuilder::build() {
  if (open_) {
    throw std::invalid_argument("routes: the last rule has conditions but no action");
  }
  for (const auto& r : rules_) {
    for (const auto* p : {&r.match_from, &r.match_to, &r.match_ruri, &r.match_source}) {
      if (auto why = check_pattern(*p); !why.empty()) {
        throw std::invalid_argument("routes: rule " + r.name + ": " + why);
      }
    }
    if (r.when) {
      if (auto why = check_time_zone(r.when->tz); !why.empty()) {
        throw std::invalid_argument("routes: rule " + r.name + ": " + why);
      }
    }
  }
  if (owner_) {
    owner_->use_rules(rules_);
  }
  return rules_;
}

}  // namespace b2bua
