// Config: the `auth` section (digest authentication of callers, users inline or in an htdigest
// file) and the outbound credentials of group targets. Errors are one line naming the key.
#include "api/config/detail/config_read.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "sip/auth_guard.hpp"

namespace b2bua::api::detail {

namespace {

constexpr std::size_t max_users_file_bytes = 64 * 1024 * 1024;

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Realms and user names travel inside quoted strings of SIP headers (and users in htdigest lines).
bool digest_token(std::string_view s, std::size_t max) {
  return !s.empty() && s.size() <= max && !has_control(s) &&
         s.find_first_of("\"\\:") == std::string_view::npos;
}

Error read_secret(const json& v, const std::string& path, sip::AuthSecret& out) {
  const char* rule =
      "must be {\"password\": \"...\"}, {\"ha1\": \"<32 hex>\"} or "
      "{\"ha1_sha256\": \"<64 hex>\"}";
  if (!v.is_object() || v.empty()) {
    return fail(path, rule);
  }
  return for_each_key(v, path, [&](const std::string& key, const json& x, const std::string& p) {
    if (key == "password") {
      if (!x.is_string() || x.get_ref<const std::string&>().empty() ||
          x.get_ref<const std::string&>().size() > 1024) {
        return fail(p, "must be a non-empty string of at most 1024 bytes");
      }
      out.password = x.get<std::string>();
      return Error{};
    }
    if (key == "ha1" || key == "ha1_sha256") {
      const std::size_t want = key == "ha1" ? 32 : 64;
      if (!x.is_string() || x.get_ref<const std::string&>().size() != want ||
          !is_hex(x.get_ref<const std::string&>())) {
        return fail(p, "must be " + std::to_string(want) + " hex digits");
      }
      (key == "ha1" ? out.ha1_md5 : out.ha1_sha256) = lower(x.get<std::string>());
      return Error{};
    }
    return fail(p, rule);
  });
}

// An htdigest file: `user:realm:HA1` per line (MD5: 32 hex digits, SHA-256: 64); blank lines and
// lines starting with '#' are skipped, so are users of other realms.
Error read_users_file(const std::string& file, const std::string& path, sip::AuthSettings& out) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return fail(path, "cannot read " + file + ": " + std::strerror(errno));
  }
  std::string line;
  std::size_t number = 0;
  std::size_t bytes = 0;
  while (std::getline(in, line)) {
    ++number;
    bytes += line.size() + 1;
    if (bytes > max_users_file_bytes) {
      return fail(path, file + " is larger than 64 MiB");
    }
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (line.empty() || line.front() == '#') {
      continue;
    }
    auto a = line.find(':');
    auto b = a == std::string::npos ? a : line.find(':', a + 1);
    std::string user = line.substr(0, a);
    std::string realm = b == std::string::npos ? "" : line.substr(a + 1, b - a - 1);
    std::string ha1 = b == std::string::npos ? "" : line.substr(b + 1);
    if (!digest_token(user, 256) || realm.empty() || (ha1.size() != 32 && ha1.size() != 64) ||
        !is_hex(ha1)) {
      return fail(path, file + " line " + std::to_string(number) +
                            ": must be user:realm:HA1 (32 or 64 hex digits)");
    }
    if (realm != out.realm) {
      continue;
    }
    auto& secret = out.users[user];
    (ha1.size() == 32 ? secret.ha1_md5 : secret.ha1_sha256) = lower(ha1);
  }
  return {};
}

Error read_string_list(const json& v, const std::string& path, std::size_t max,
                       std::vector<std::string>& out) {
  if (!v.is_array() || v.size() > max) {
    return fail(path, "must be an array of at most " + std::to_string(max) + " strings");
  }
  out.clear();
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::string s;
    if (auto err = read_clean_string(v[i], index_path(path, i), false, s); !err.empty()) {
      return err;
    }
    out.push_back(std::move(s));
  }
  return {};
}

Error read_auth_lists(const std::string& key, const json& x, const std::string& p,
                      sip::AuthSettings& a) {
  if (key == "methods") {
    const char* rule = "must be a non-empty array of \"INVITE\" and/or \"OPTIONS\", each once";
    if (!x.is_array() || x.empty() || x.size() > 2) {
      return fail(p, rule);
    }
    a.methods.clear();
    for (const auto& y : x) {
      if (!y.is_string() || (y != "INVITE" && y != "OPTIONS") ||
          std::find(a.methods.begin(), a.methods.end(), y.get<std::string>()) != a.methods.end()) {
        return fail(p, rule);
      }
      a.methods.push_back(y.get<std::string>());
    }
    return {};
  }
  if (key == "algorithms") {
    const char* rule = "must be a non-empty array of \"SHA-256\" and/or \"MD5\", each once";
    if (!x.is_array() || x.empty() || x.size() > 2) {
      return fail(p, rule);
    }
    a.algorithms.clear();
    for (const auto& y : x) {
      if (!y.is_string() || (y != "SHA-256" && y != "MD5") ||
          std::find(a.algorithms.begin(), a.algorithms.end(), y.get<std::string>()) !=
              a.algorithms.end()) {
        return fail(p, rule);
      }
      a.algorithms.push_back(y.get<std::string>());
    }
    return {};
  }
  // trusted
  if (auto err = read_string_list(x, p, 1024, a.trusted); !err.empty()) {
    return err;
  }
  for (std::size_t i = 0; i < a.trusted.size(); ++i) {
    if (!sip::parse_cidr(a.trusted[i])) {
      return fail(index_path(p, i), "must be an IPv4 or IPv6 address with an optional /prefix");
    }
  }
  return {};
}

}  // namespace

Error read_backend_auth(const json& v, const std::string& path, GroupSpec::Target& t) {
  auto err =
      for_each_key(v, path, [&](const std::string& key, const json& x, const std::string& p) {
        if (key == "user") {
          return digest_token(x.is_string() ? x.get_ref<const std::string&>() : "", 256)
                     ? (t.auth.user = x.get<std::string>(), Error{})
                     : fail(p, "must be a non-empty user name without \", \\ or :");
        }
        if (key == "password") {
          return x.is_string() && !has_control(x.get_ref<const std::string&>()) &&
                         x.get_ref<const std::string&>().size() <= 1024
                     ? (t.auth.password = x.get<std::string>(), Error{})
                     : fail(p, "must be a string without control characters");
        }
        if (key == "realm") {
          return digest_token(x.is_string() ? x.get_ref<const std::string&>() : "", 256)
                     ? (t.auth.realm = x.get<std::string>(), Error{})
                     : fail(p, "must be a non-empty realm without \", \\ or :");
        }
        return fail(p, "unknown key");
      });
  if (err.empty() && t.auth.user.empty()) {
    return fail(key_path(path, "user"), "is required");
  }
  return err;
}

Error read_auth(const json& v, const std::string& path, sip::AuthSettings& a) {
  a.enabled = true;
  std::string users_file;
  auto err =
      for_each_key(v, path, [&](const std::string& key, const json& x, const std::string& p) {
        if (key == "enabled") {
          return read_bool(x, p, a.enabled);
        }
        if (key == "realm") {
          return digest_token(x.is_string() ? x.get_ref<const std::string&>() : "", 256)
                     ? (a.realm = x.get<std::string>(), Error{})
                     : fail(p,
                            "must be a non-empty string without \", \\, : or control characters");
        }
        if (key == "users") {
          return for_each_key(
              x, p, [&](const std::string& user, const json& y, const std::string& q) {
                if (!digest_token(user, 256)) {
                  return fail(q, "must be a user name without \", \\, : or control characters");
                }
                return read_secret(y, q, a.users[user]);
              });
        }
        if (key == "users_file") {
          return read_clean_string(x, p, false, users_file);
        }
        if (key == "methods" || key == "algorithms" || key == "trusted") {
          return read_auth_lists(key, x, p, a);
        }
        if (key == "challenge") {
          return read_choice(x, p, {"www", "proxy"}, a.challenge);
        }
        if (key == "nonce_ttl_s") {
          return read_int(x, p, range(10, 86400), a.nonce_ttl_s);
        }
        if (key == "max_failures") {
          return read_int(x, p, range(1, 1000), a.max_failures);
        }
        if (key == "failure_window_s") {
          return read_int(x, p, range(1, 86400), a.failure_window_s);
        }
        if (key == "block_s") {
          return read_int(x, p, range(0, 86400), a.block_s);
        }
        if (key == "max_sources") {
          return read_int(x, p, range(100, 10000000), a.max_sources);
        }
        return fail(p, "unknown key");
      });
  // Without a realm no file line can match: validate() names the missing realm.
  if (!err.empty() || !a.enabled || a.realm.empty()) {
    return err;
  }
  // Inline users win over the file's (read after them, only filling users not given inline).
  if (!users_file.empty()) {
    sip::AuthSettings from_file;
    from_file.realm = a.realm;
    if (auto e = read_users_file(users_file, key_path(path, "users_file"), from_file); !e.empty()) {
      return e;
    }
    for (auto& [user, secret] : from_file.users) {
      a.users.emplace(user, std::move(secret));
    }
  }
  return {};
}

}  // namespace b2bua::api::detail
