// Route matching primitives: `~regex` patterns (POSIX ERE, compiled once and cached) and
// time-of-day windows in IANA time zones (cctz, reading the system's zoneinfo).
#include "actors/route_table.hpp"

#include <regex.h>

#include <memory>
#include <mutex>
#include <unordered_map>

#include <cctz/civil_time.h>
#include <cctz/time_zone.h>

namespace b2bua {

namespace {

struct Regex {
  regex_t re{};
  bool ok = false;
  std::string error;
  // `pattern` is the rule's text with its leading '~' (the cache key, so that a match looks it up
  // without building a substring first).
  explicit Regex(const std::string& pattern) {
    int rc = regcomp(&re, pattern.c_str() + 1, REG_EXTENDED | REG_NOSUB);
    ok = rc == 0;
    if (!ok) {
      char buf[256];
      regerror(rc, &re, buf, sizeof buf);
      error = buf;
    }
  }
  ~Regex() {
    if (ok) {
      regfree(&re);
    }
  }
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;
};

// Patterns come from the config, reloads and PUT /v1/routes, so the caches stay small. Repeated
// route replacements with ever new patterns cannot grow them without bound: past `max_entries`
// the cache starts afresh (entries in use live on in their shared_ptr; the rules in force are
// compiled again on their next match). A compiled regex_t is safe to use from several threads.
template <class T>
class Cache {
public:
  static constexpr std::size_t max_entries = 4096;

  std::shared_ptr<const T> get(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto i = map_.find(key); i != map_.end()) {
      return i->second;
    }
    if (map_.size() >= max_entries) {
      map_.clear();
    }
    auto made = std::make_shared<const T>(key);
    map_.emplace(key, made);
    return made;
  }

  std::size_t size() {
    std::lock_guard<std::mutex> lock(mu_);
    return map_.size();
  }

private:
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const T>> map_;
};

Cache<Regex>& regex_cache() {
  static Cache<Regex> cache;
  return cache;
}

struct Zone {
  cctz::time_zone tz;
  bool ok = false;
  explicit Zone(const std::string& name) {
    if (name.empty()) {
      tz = cctz::local_time_zone();
      ok = true;
    } else {
      ok = cctz::load_time_zone(name, &tz);
    }
  }
};

Cache<Zone>& zone_cache() {
  static Cache<Zone> cache;
  return cache;
}

// cctz weekday -> bit index with Monday = 0.
int day_bit(cctz::weekday d) {
  switch (d) {
    case cctz::weekday::monday: return 0;
    case cctz::weekday::tuesday: return 1;
    case cctz::weekday::wednesday: return 2;
    case cctz::weekday::thursday: return 3;
    case cctz::weekday::friday: return 4;
    case cctz::weekday::saturday: return 5;
    case cctz::weekday::sunday: return 6;
  }
  return 0;
}

}  // namespace

std::string check_pattern(const std::string& pattern) {
  if (pattern.empty() || pattern.front() != '~') {
    return {};
  }
  if (pattern.size() == 1) {
    return "empty regular expression after '~'";
  }
  auto re = regex_cache().get(pattern);
  return re->ok ? std::string() : "bad regular expression: " + re->error;
}

bool pattern_matches(const std::string& pattern, std::string_view text) {
  if (pattern.empty()) {
    return true;
  }
  if (pattern.front() != '~') {
    return wildcard_match(pattern, text);
  }
  auto re = regex_cache().get(pattern);
  if (!re->ok) {
    return false;
  }
  std::string subject{text};  // regexec needs a NUL-terminated string
  return regexec(&re->re, subject.c_str(), 0, nullptr, 0) == 0;
}

std::size_t pattern_cache_size() { return regex_cache().size(); }

std::string check_time_zone(const std::string& tz) {
  return zone_cache().get(tz)->ok ? std::string() : "unknown time zone \"" + tz + "\"";
}

bool in_window(const TimeWindow& w, std::chrono::system_clock::time_point now) {
  auto zone = zone_cache().get(w.tz);
  if (!zone->ok) {
    return false;
  }
  const auto civil = cctz::convert(std::chrono::time_point_cast<cctz::seconds>(now), zone->tz);
  const int minute = static_cast<int>(civil.hour()) * 60 + static_cast<int>(civil.minute());
  const cctz::civil_day today(civil);
  auto day_ok = [&w](const cctz::civil_day& d) {
    return (w.days >> day_bit(cctz::get_weekday(d))) & 1;
  };
  if (w.start_min <= w.end_min) {
    return day_ok(today) && minute >= w.start_min && minute < w.end_min;
  }
  // Crossing midnight: the evening part belongs to today, the morning part to yesterday.
  if (minute >= w.start_min) {
    return day_ok(today);
  }
  return minute < w.end_min && day_ok(today - 1);
}

}  // namespace b2bua
