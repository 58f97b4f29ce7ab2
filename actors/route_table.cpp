// RouteTable: wildcard matching of calls against the configured rules, and the static table policy.
#include "actors/route_table.hpp"

#include <algorithm>
#include <cctype>
#include <memory>
#include <string_view>
#include <utility>

namespace b2bua {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && is_space(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) {
    return false;
  }
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    auto a = static_cast<unsigned char>(s[i]);
    auto b = static_cast<unsigned char>(prefix[i]);
    if (std::tolower(a) != std::tolower(b)) {
      return false;
    }
  }
  return true;
}

bool has_uri_scheme(std::string_view pattern) {
  return starts_with_nocase(pattern, "sip:") || starts_with_nocase(pattern, "sips:") ||
         starts_with_nocase(pattern, "tel:");
}

// From a header value such as `"Alice" <sip:alice@h>;tag=1`, the part between the angle brackets.
// A quoted display name may itself contain '<', so quoted strings are skipped.
std::string_view addr_spec(std::string_view value) {
  bool quoted = false;
  for (std::size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (quoted) {
      if (c == '\\') {
        ++i;  // skip the escaped character
      } else if (c == '"') {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == '<') {
      auto rest = value.substr(i + 1);
      auto close = rest.find('>');
      return trim(close == std::string_view::npos ? rest : rest.substr(0, close));
    }
  }
  return value;
}

// Escapes what may not appear literally in the user part of a SIP URI (RFC 3261, 25.1).
// '%' is kept: a user taken from a parsed Request-URI is already escaped.
std::string escape_user(std::string_view user) {
  static constexpr std::string_view allowed = "-_.!~*'()&=+$,;?/%";
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(user.size());
  for (char c : user) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || allowed.find(c) != std::string_view::npos) {
      out += c;
    } else {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 0x0F];
    }
  }
  return out;
}

bool field_matches(const std::string& pattern, const std::string& uri, const std::string& user) {
  if (pattern.empty()) {
    return true;
  }
  if (pattern.front() == '~' || has_uri_scheme(pattern)) {
    return pattern_matches(pattern, strip_uri_params(uri));
  }
  return wildcard_match(pattern, user);
}

bool equals_nocase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && starts_with_nocase(a, b);
}

bool headers_match(const std::vector<HeaderField>& wanted, const std::vector<HeaderField>& have) {
  for (const auto& w : wanted) {
    bool found = false;
    for (const auto& h : have) {
      if (equals_nocase(h.name, w.name) && pattern_matches(w.value, h.value)) {
        found = true;
        break;
      }
    }
    if (!found) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool wildcard_match(std::string_view pattern, std::string_view text) {
  // Greedy scan that backtracks only to the most recent '*': each backtrack advances the text
  // position that star covers, so the worst case is O(n*m) with no recursion.
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star = std::string_view::npos;
  std::size_t star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_text = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_text;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') {
    ++p;
  }
  return p == pattern.size();
}

std::string strip_uri_params(std::string_view uri) {
  auto spec = addr_spec(trim(uri));
  // The user part may contain ';' and '?' (RFC 3261 user-unreserved) but never a literal '@',
  // so parameters and headers are looked for after the '@' when there is one.
  auto at = spec.find('@');
  auto from = at == std::string_view::npos ? 0 : at + 1;
  auto cut = spec.find_first_of(";?", from);
  return std::string{trim(spec.substr(0, cut))};
}

bool rule_matches(const RouteRule& rule, const IncomingCall& call,
                  std::chrono::system_clock::time_point now) {
  return field_matches(rule.match_from, call.from_uri, call.from_user) &&
         field_matches(rule.match_to, call.to_uri, call.to_user) &&
         field_matches(rule.match_ruri, call.request_uri, call.ruri_user) &&
         pattern_matches(rule.match_source, call.source) &&
         headers_match(rule.match_headers, call.headers) &&
         pattern_matches(rule.match_auth_user, call.auth_user) &&
         (!rule.when || in_window(*rule.when, now));
}

std::vector<RouteRule> sort_rules(std::vector<RouteRule> rules) {
  std::stable_sort(rules.begin(), rules.end(), [](const RouteRule& a, const RouteRule& b) {
    if (a.is_default != b.is_default) {
      return !a.is_default;
    }
    return a.priority > b.priority;
  });
  return rules;
}

RouteDecision decision_of(const RouteRule& rule) {
  if (rule.action == "reject") {
    auto d = RouteDecision::reject(Refusal::route_rejected,
                                   {.status = rule.reject_status, .reason = rule.reject_reason});
    d.route_name = rule.name;
    return d;
  }
  if (rule.action == "redirect" && !rule.contact.empty()) {
    return RouteDecision::redirect(rule.contact, rule.name);
  }
  // A config that passed parse_config never gets here without a destination or with another
  // action; a rule list built by code might, and that is our fault, not the caller's.
  const bool routes = rule.action == "route" || rule.action == "queue";
  if (!routes || (rule.targets.empty() && rule.group.empty())) {
    return RouteDecision::reject(Refusal::route_bad_rule);
  }
  auto d = rule.group.empty() ? RouteDecision::route_to(rule.targets.front(), rule.name)
                              : RouteDecision::route_to_group(rule.group, rule.name);
  if (rule.action == "queue") {
    d.kind = RouteDecision::Kind::queue;
  }
  d.targets = rule.targets;
  d.media = rule.media;
  d.queue_priority = rule.queue_priority;
  d.queue_timeout_ms = rule.queue_timeout_ms;
  d.headers = rule.headers;
  return d;
}

RouteDecision decide(const std::vector<RouteRule>& rules, const IncomingCall& call,
                     std::chrono::system_clock::time_point now) {
  if (rules.empty()) {
    return RouteDecision::route_to(call.request_uri, "pass-through");
  }
  for (const auto& rule : rules) {
    if (rule_matches(rule, call, now)) {
      return decision_of(rule);
    }
  }
  return RouteDecision::reject(Refusal::route_no_match);
}

std::vector<HeaderField> apply_header_policy(const HeaderPolicy& policy,
                                             const std::vector<HeaderField>& caller) {
  auto lower = [](std::string_view s) {
    std::string out{s};
    for (auto& c : out) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
  };
  auto named = [&lower](const std::vector<std::string>& patterns, const std::string& name) {
    const std::string n = lower(name);
    for (const auto& p : patterns) {
      if (wildcard_match(lower(p), n)) {
        return true;
      }
    }
    return false;
  };
  std::vector<HeaderField> out;
  for (const auto& h : caller) {
    if (named(policy.copy, h.name) && !named(policy.remove, h.name)) {
      out.push_back(h);
    }
  }
  for (const auto& h : policy.add) {
    out.push_back(h);
  }
  return out;
}

RoutePolicy make_table_policy(std::vector<RouteRule> rules) {
  // Shared and immutable: copies of the policy (std::function copies) do not copy the table.
  auto table = std::make_shared<const std::vector<RouteRule>>(sort_rules(std::move(rules)));
  return [table](const IncomingCall& call, RouteReply reply) {
    if (reply) {
      reply(decide(*table, call));
    }
  };
}

void RuleSet::replace(std::vector<RouteRule> rules) {
  auto sorted = std::make_shared<const std::vector<RouteRule>>(sort_rules(std::move(rules)));
  std::lock_guard<std::mutex> lock(mu_);
  rules_ = std::move(sorted);
}

std::shared_ptr<const std::vector<RouteRule>> RuleSet::current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rules_;
}

RoutePolicy RuleSet::policy() {
  auto self = self_.lock();
  return [self](const IncomingCall& call, RouteReply reply) {
    if (reply) {
      auto rules = self->current();
      reply(decide(*rules, call));
    }
  };
}

std::shared_ptr<RuleSet> make_rule_set(std::vector<RouteRule> rules) {
  auto set = std::make_shared<RuleSet>(std::move(rules));
  set->self_ = set;
  return set;
}

std::string apply_target(std::string_view target, std::string_view ruri_user) {
  const bool sip = starts_with_nocase(target, "sip:") || starts_with_nocase(target, "sips:");
  // Not a SIP URI, or already a user (a literal '@' only ever ends the user part): as given.
  if (!sip || target.find('@') != std::string_view::npos) {
    return std::string{target};
  }
  return with_user(target, ruri_user);
}

std::string with_user(std::string_view uri, std::string_view user) {
  std::size_t scheme_len = 0;
  if (starts_with_nocase(uri, "sip:")) {
    scheme_len = 4;
  } else if (starts_with_nocase(uri, "sips:")) {
    scheme_len = 5;
  }
  std::string_view rest = uri.substr(scheme_len);
  if (scheme_len == 0 || user.empty() || rest.empty()) {
    return std::string{uri};
  }
  if (auto at = rest.find('@'); at != std::string_view::npos) {
    rest = rest.substr(at + 1);
  }
  std::string out{uri.substr(0, scheme_len)};
  out += escape_user(user);
  out += '@';
  out += rest;
  return out;
}

}  // namespace b2bua
