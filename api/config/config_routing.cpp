// The routing part of the config: `routes` (rules), `groups` (backend groups) and `breaker`.
// Every error is one line naming the exact rule and field, e.g. `routes[2].match.from: ...`.
#include <algorithm>
#include <cctype>
#include <set>

#include "api/config/detail/config_read.hpp"

namespace b2bua::api::detail {

namespace {

Error read_pattern(const json& v, const std::string& path, std::string& out) {
  if (auto err = read_string(v, path, out); !err.empty()) {
    return err;
  }
  if (auto why = check_pattern(out); !why.empty()) {
    return fail(path, why);
  }
  return {};
}

// A header name: an RFC 3261 token (letters, digits, -.!%*_+`'~).
bool valid_header_name(const std::string& s, bool allow_star) {
  if (s.empty()) {
    return false;
  }
  static constexpr std::string_view extra = "-.!%_+`'~";
  return std::all_of(s.begin(), s.end(), [allow_star](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || extra.find(c) != std::string_view::npos ||
           (allow_star && c == '*');
  });
}

Error read_match(const json& v, const std::string& path, RouteRule& r) {
  return for_each_key(v, path, [&r](const std::string& key, const json& x, const std::string& p) {
    if (key == "from") {
      return read_pattern(x, p, r.match_from);
    }
    if (key == "to") {
      return read_pattern(x, p, r.match_to);
    }
    if (key == "ruri") {
      return read_pattern(x, p, r.match_ruri);
    }
    if (key == "source") {
      return read_pattern(x, p, r.match_source);
    }
    if (key == "auth_user") {
      return read_pattern(x, p, r.match_auth_user);
    }
    if (key == "headers") {
      return for_each_key(x, p, [&r](const std::string& name, const json& y, const std::string& q) {
        if (!valid_header_name(name, false)) {
          return fail(q, "must be a header name (letters, digits, -.!%_+`'~)");
        }
        HeaderField h{name, {}};
        auto err = read_pattern(y, q, h.value);
        if (err.empty()) {
          r.match_headers.push_back(std::move(h));
        }
        return err;
      });
    }
    return fail(p, "unknown key");
  });
}

// "HH:MM" -> minutes after midnight; "24:00" is allowed as an end.
bool parse_clock(const std::string& s, int& out) {
  if (s.size() != 5 || s[2] != ':' || !std::isdigit(static_cast<unsigned char>(s[0])) ||
      !std::isdigit(static_cast<unsigned char>(s[1])) ||
      !std::isdigit(static_cast<unsigned char>(s[3])) ||
      !std::isdigit(static_cast<unsigned char>(s[4]))) {
    return false;
  }
  int h = (s[0] - '0') * 10 + (s[1] - '0');
  int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (m > 59 || h > 24 || (h == 24 && m != 0)) {
    return false;
  }
  out = h * 60 + m;
  return true;
}

Error read_days(const json& v, const std::string& path, std::uint8_t& out) {
  static constexpr const char* names[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  const char* rule = "must be a non-empty array of \"mon\" ... \"sun\"";
  if (!v.is_array() || v.empty()) {
    return fail(path, rule);
  }
  out = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const auto* s = v[i].is_string() ? &v[i].get_ref<const std::string&>() : nullptr;
    auto it = s ? std::find(std::begin(names), std::end(names), *s) : std::end(names);
    if (it == std::end(names)) {
      return fail(index_path(path, i), rule);
    }
    out = static_cast<std::uint8_t>(out | (1u << (it - std::begin(names))));
  }
  return {};
}

Error read_time(const json& v, const std::string& path, TimeWindow& w) {
  auto err = for_each_key(v, path, [&w](const std::string& key, const json& x, const std::string& p) {
    if (key == "days") {
      return read_days(x, p, w.days);
    }
    if (key == "start" || key == "end") {
      int& out = key == "start" ? w.start_min : w.end_min;
      if (!x.is_string() || !parse_clock(x.get<std::string>(), out) ||
          (key == "start" && out == 24 * 60)) {
        return fail(p, "must be a time \"HH:MM\" (00:00-23:59, or 24:00 as an end)");
      }
      return Error{};
    }
    if (key == "tz") {
      auto e = read_clean_string(x, p, true, w.tz);
      if (e.empty() && !check_time_zone(w.tz).empty()) {
        return fail(p, "must be an IANA time zone known to this machine (e.g. \"Europe/Berlin\")");
      }
      return e;
    }
    return fail(p, "unknown key");
  });
  if (err.empty() && w.start_min == w.end_min) {
    return fail(path + ".end", "must differ from start");
  }
  return err;
}

Error read_targets(const json& v, const std::string& path, std::vector<std::string>& out) {
  if (!v.is_array() || v.empty()) {
    return fail(path, "must be a non-empty array of sip: or sips: URIs");
  }
  for (std::size_t i = 0; i < v.size(); ++i) {
    const auto& t = v[i];
    if (!t.is_string() || !valid_sip_target(t.get_ref<const std::string&>())) {
      return fail(index_path(path, i), "must be a sip: or sips: URI with a host");
    }
    out.push_back(t.get<std::string>());
  }
  return {};
}

Error read_status(const json& v, const std::string& path, int lo, int hi, int& out) {
  const std::string rule = "must be a SIP status " + std::to_string(lo) + "-" + std::to_string(hi);
  std::uint32_t status = 0;
  auto err = read_int(v, path, IntRule{lo, hi, rule, rule}, status);
  if (err.empty()) {
    out = static_cast<int>(status);
  }
  return err;
}

Error read_name_list(const json& v, const std::string& path, std::vector<std::string>& out) {
  if (!v.is_array()) {
    return fail(path, "must be an array of header names");
  }
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string() || !valid_header_name(v[i].get<std::string>(), true)) {
      return fail(index_path(path, i), "must be a header name (`*` wildcards allowed)");
    }
    out.push_back(v[i].get<std::string>());
  }
  return {};
}

Error read_header_policy(const json& v, const std::string& path, HeaderPolicy& h) {
  return for_each_key(v, path, [&h](const std::string& key, const json& x, const std::string& p) {
    if (key == "copy") {
      return read_name_list(x, p, h.copy);
    }
    if (key == "remove") {
      return read_name_list(x, p, h.remove);
    }
    if (key == "add") {
      return for_each_key(x, p, [&h](const std::string& name, const json& y, const std::string& q) {
        if (!valid_header_name(name, false)) {
          return fail(q, "must be a header name (letters, digits, -.!%_+`'~)");
        }
        HeaderField f{name, {}};
        auto err = read_clean_string(y, q, false, f.value);
        if (err.empty()) {
          h.add.push_back(std::move(f));
        }
        return err;
      });
    }
    return fail(p, "unknown key");
  });
}

Error read_queue(const json& v, const std::string& path, RouteRule& r) {
  return for_each_key(v, path, [&r](const std::string& key, const json& x, const std::string& p) {
    if (key == "priority") {
      std::uint32_t n = 0;
      auto err = read_int(x, p, range(0, 1000), n);
      r.queue_priority = static_cast<int>(n);
      return err;
    }
    if (key == "timeout_ms") {
      return read_int(x, p, range(100, 3600000), r.queue_timeout_ms);
    }
    return fail(p, "unknown key");
  });
}

// Which keys a route must or must not have depends on its action, so they are checked after all
// keys have been read.
Error check_route(const json& v, const std::string& path, RouteRule& r) {
  auto only = [&](const char* key, const char* actions) -> Error {
    return v.contains(key) ? fail(path + "." + key, std::string("only allowed with action ") + actions)
                           : Error{};
  };
  const bool routes = r.action == "route" || r.action == "queue";
  if (routes) {
    const bool t = v.contains("targets");
    const bool g = v.contains("group");
    if (t == g) {
      return fail(path + (t ? ".group" : ".targets"),
                  t ? "cannot be combined with targets: give one of them"
                    : "must be a non-empty array of sip: or sips: URIs");
    }
    if (v.contains("status") || v.contains("reason")) {
      return fail(path + (v.contains("reason") ? ".reason" : ".status"),
                  "only allowed with action \"reject\" or \"redirect\"");
    }
    if (auto e = only("contact", "\"redirect\""); !e.empty()) {
      return e;
    }
    return r.action == "route" ? only("queue", "\"queue\"") : Error{};
  }
  for (const char* key : {"targets", "group", "media", "headers"}) {
    if (auto e = only(key, "\"route\" or \"queue\""); !e.empty()) {
      return e;
    }
  }
  if (auto e = only("queue", "\"queue\""); !e.empty()) {
    return e;
  }
  if (r.action == "redirect") {
    if (!v.contains("contact")) {
      return fail(path + ".contact", "must be a sip: or sips: URI with a host");
    }
    if (!v.contains("status")) {
      r.reject_status = 302;
    } else if (r.reject_status < 300 || r.reject_status > 399) {
      return fail(path + ".status", "must be a SIP status 300-399");
    }
  } else if (v.contains("contact")) {
    return fail(path + ".contact", "only allowed with action \"redirect\"");
  }
  if (!v.contains("reason")) {
    r.reject_reason = standard_reason(r.reject_status);
  }
  return {};
}

Error read_route(const json& v, const std::string& path, std::size_t index, RouteRule& r) {
  r.name = "route" + std::to_string(index);
  auto err =
      for_each_key(v, path, [&r](const std::string& key, const json& x, const std::string& p) {
        if (key == "name") {
          return read_clean_string(x, p, false, r.name);
        }
        if (key == "priority") {
          std::uint32_t n = 0;
          auto e = read_int(x, p, range(0, 1000000), n);
          r.priority = static_cast<int>(n);
          return e;
        }
        if (key == "default") {
          return read_bool(x, p, r.is_default);
        }
        if (key == "match") {
          return read_match(x, p, r);
        }
        if (key == "time") {
          r.when.emplace();
          return read_time(x, p, *r.when);
        }
        if (key == "action") {
          return read_choice(x, p, {"route", "reject", "redirect", "queue"}, r.action);
        }
        if (key == "targets") {
          return read_targets(x, p, r.targets);
        }
        if (key == "group") {
          return read_clean_string(x, p, false, r.group);
        }
        if (key == "status") {
          return read_status(x, p, 300, 699, r.reject_status);
        }
        if (key == "reason") {
          return read_clean_string(x, p, false, r.reject_reason);
        }
        if (key == "contact") {
          if (!x.is_string() || !valid_sip_target(x.get_ref<const std::string&>())) {
            return fail(p, "must be a sip: or sips: URI with a host");
          }
          r.contact = x.get<std::string>();
          return Error{};
        }
        if (key == "queue") {
          return read_queue(x, p, r);
        }
        if (key == "media") {
          return read_choice(x, p, {"relay", "bypass"}, r.media);
        }
        if (key == "headers") {
          return read_header_policy(x, p, r.headers);
        }
        return fail(p, "unknown key");
      });
  return err.empty() ? check_route(v, path, r) : err;
}

Error read_alive(const json& v, const std::string& path, std::vector<int>& out) {
  const char* rule = "must be a non-empty array of SIP statuses (200) or classes (\"2xx\")";
  if (!v.is_array() || v.empty()) {
    return fail(path, rule);
  }
  out.clear();
  for (std::size_t i = 0; i < v.size(); ++i) {
    const auto& x = v[i];
    if (x.is_number_integer() && x.get<std::int64_t>() >= 100 && x.get<std::int64_t>() <= 699) {
      out.push_back(static_cast<int>(x.get<std::int64_t>()));
    } else if (x.is_string() && x.get<std::string>().size() == 3 &&
               x.get<std::string>().substr(1) == "xx" && x.get<std::string>()[0] >= '1' &&
               x.get<std::string>()[0] <= '6') {
      out.push_back(x.get<std::string>()[0] - '0');
    } else {
      return fail(index_path(path, i), rule);
    }
  }
  return {};
}

Error read_probe(const json& v, const std::string& path, ProbeConfig& pc) {
  pc.enabled = true;  // a probe object turns probing on unless it says otherwise
  return for_each_key(v, path, [&pc](const std::string& key, const json& x, const std::string& p) {
    if (key == "enabled") {
      return read_bool(x, p, pc.enabled);
    }
    if (key == "interval_ms") {
      return read_int(x, p, range(100, 3600000), pc.interval_ms);
    }
    if (key == "timeout_ms") {
      return read_int(x, p, range(50, 60000), pc.timeout_ms);
    }
    if (key == "alive") {
      return read_alive(x, p, pc.alive);
    }
    return fail(p, "unknown key");
  });
}

Error read_group_target(const json& v, const std::string& path, GroupSpec::Target& t) {
  const char* uri_rule = "must be a sip: or sips: URI with a host";
  if (v.is_string()) {
    if (!valid_sip_target(v.get_ref<const std::string&>())) {
      return fail(path, uri_rule);
    }
    t.uri = v.get<std::string>();
    return {};
  }
  auto err = for_each_key(v, path, [&](const std::string& key, const json& x, const std::string& p) {
    if (key == "uri") {
      if (!x.is_string() || !valid_sip_target(x.get_ref<const std::string&>())) {
        return fail(p, uri_rule);
      }
      t.uri = x.get<std::string>();
      return Error{};
    }
    if (key == "weight") {
      return read_int(x, p, range(1, 1000), t.weight);
    }
    if (key == "max_calls") {
      return read_int(x, p, range(0, 1000000), t.max_calls);
    }
    if (key == "auth") {
      return read_backend_auth(x, p, t);
    }
    if (key == "disabled") {
      return read_bool(x, p, t.disabled);
    }
    return fail(p, "unknown key");
  });
  if (err.empty() && t.uri.empty()) {
    return fail(path + ".uri", uri_rule);
  }
  return err;
}

Error read_group(const json& v, const std::string& path, GroupSpec& g) {
  auto err = for_each_key(v, path, [&g](const std::string& key, const json& x, const std::string& p) {
    if (key == "strategy") {
      std::string s;
      auto e = read_choice(x, p, {"round_robin", "weighted", "least_calls", "hash", "failover"}, s);
      for (auto k : {LbStrategy::round_robin, LbStrategy::weighted, LbStrategy::least_calls,
                     LbStrategy::hash, LbStrategy::failover}) {
        if (s == to_string(k)) {
          g.strategy = k;
        }
      }
      return e;
    }
    if (key == "hash_key") {
      return read_choice(x, p, {"call_id", "from_user"}, g.hash_key);
    }
    if (key == "targets") {
      if (!x.is_array() || x.empty()) {
        return fail(p, "must be a non-empty array of URIs or {\"uri\", \"weight\", \"max_calls\"}");
      }
      std::set<std::string> seen;
      for (std::size_t i = 0; i < x.size(); ++i) {
        GroupSpec::Target t;
        if (auto e = read_group_target(x[i], index_path(p, i), t); !e.empty()) {
          return e;
        }
        if (!seen.insert(t.uri).second) {
          return fail(index_path(p, i), "names a target already in this group");
        }
        g.targets.push_back(std::move(t));
      }
      return Error{};
    }
    if (key == "max_attempts") {
      return read_int(x, p, range(1, 16), g.max_attempts);
    }
    if (key == "probe") {
      return read_probe(x, p, g.probe);
    }
    return fail(p, "unknown key");
  });
  if (err.empty() && g.targets.empty()) {
    return fail(path + ".targets", "must be a non-empty array of URIs or {\"uri\", ...}");
  }
  return err;
}

}  // namespace

Error read_routes(const json& v, const std::string& path, std::vector<RouteRule>& out) {
  if (!v.is_array()) {
    return fail(path, "must be an array");
  }
  out.clear();
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    RouteRule rule;
    if (auto err = read_route(v[i], index_path(path, i), i, rule); !err.empty()) {
      return err;
    }
    out.push_back(std::move(rule));
  }
  return {};
}

Error read_groups(const json& v, const std::string& path, std::vector<GroupSpec>& out) {
  out.clear();
  return for_each_key(v, path, [&out](const std::string& name, const json& x, const std::string& p) {
    if (name.empty() || has_control(name)) {
      return fail(p, "a group name must be a non-empty string without control characters");
    }
    GroupSpec g;
    g.name = name;
    auto err = read_group(x, p, g);
    if (err.empty()) {
      out.push_back(std::move(g));
    }
    return err;
  });
}

Error read_breaker(const json& v, const std::string& path, BreakerConfig& b) {
  auto err = for_each_key(v, path, [&b](const std::string& key, const json& x, const std::string& p) {
    if (key == "failure_threshold") {
      return read_int(x, p, range(1, 1000), b.failure_threshold);
    }
    if (key == "cooldown_ms") {
      return read_int(x, p, range(100, 3600000), b.cooldown_ms);
    }
    if (key == "max_cooldown_ms") {
      return read_int(x, p, range(100, 3600000), b.max_cooldown_ms);
    }
    if (key == "half_open_trials") {
      return read_int(x, p, range(1, 100), b.half_open_trials);
    }
    return fail(p, "unknown key");
  });
  if (err.empty() && b.max_cooldown_ms < b.cooldown_ms) {
    return fail(path + ".max_cooldown_ms", "must be >= cooldown_ms");
  }
  return err;
}

Error check_group_refs(const std::vector<RouteRule>& routes, const std::vector<GroupSpec>& groups) {
  for (std::size_t i = 0; i < routes.size(); ++i) {
    const auto& g = routes[i].group;
    if (g.empty()) {
      continue;
    }
    bool found = std::any_of(groups.begin(), groups.end(),
                             [&g](const GroupSpec& s) { return s.name == g; });
    if (!found) {
      return fail(index_path("routes", i) + ".group", "names no group in \"groups\"");
    }
  }
  return {};
}

}  // namespace b2bua::api::detail
