// The config parser's building blocks, shared by config.cpp and config_routing.cpp: readers that
// check one JSON value against one rule and answer "" or one error line naming the path.
// Internal to b2bua_config.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/config/config.hpp"

namespace b2bua::api::detail {

using json = nlohmann::json;

/// An empty string means "no error".
using Error = std::string;

/// The rule of `sip.listen` and `api.listen` (the reader checks the type, validate() the form).
inline constexpr const char* listen_rule = "must be host:port with a port 0-65535";

Error fail(const std::string& path, std::string_view rule);
std::string key_path(const std::string& path, const std::string& key);
std::string index_path(const std::string& path, std::size_t i);
bool has_control(std::string_view s);

/// "sip:" or "sips:", an optional user, a host, an optional port 1-65535, optional parameters.
bool valid_sip_target(std::string_view uri);

struct IntRule {
  std::int64_t lo;
  std::int64_t hi;
  std::string too_low;  ///< also for values that are not integers
  std::string too_high;
};

IntRule range(std::int64_t lo, std::int64_t hi);
Error read_int(const json& v, const std::string& path, const IntRule& rule, std::uint32_t& out);
Error read_bool(const json& v, const std::string& path, bool& out);
Error read_string(const json& v, const std::string& path, std::string& out);
Error read_clean_string(const json& v, const std::string& path, bool allow_empty,
                        std::string& out);
Error read_choice(const json& v, const std::string& path, std::initializer_list<const char*> allowed,
                  std::string& out);
const char* standard_reason(int status);

/// Calls `read(key, value, path_of_key)` for each member of an object, stopping at the first error.
/// `read` answers "unknown key" for keys it does not know.
template <class Read>
Error for_each_key(const json& obj, const std::string& path, Read read) {
  if (!obj.is_object()) {
    return fail(path, "must be an object");
  }
  for (const auto& [key, value] : obj.items()) {
    if (auto err = read(key, value, key_path(path, key)); !err.empty()) {
      return err;
    }
  }
  return {};
}

// config_routing.cpp
Error read_routes(const json& v, const std::string& path, std::vector<RouteRule>& out);
Error read_groups(const json& v, const std::string& path, std::vector<GroupSpec>& out);
Error read_breaker(const json& v, const std::string& path, BreakerConfig& out);
/// `{"user", "password", "realm"}` of a group target (config_auth.cpp).
Error read_backend_auth(const json& v, const std::string& path, GroupSpec::Target& t);
/// The `auth` section, users_file included (config_auth.cpp).
Error read_auth(const json& v, const std::string& path, sip::AuthSettings& out);
/// After the whole config is read: every route's group exists.
Error check_group_refs(const std::vector<RouteRule>& routes, const std::vector<GroupSpec>& groups);

}  // namespace b2bua::api::detail
