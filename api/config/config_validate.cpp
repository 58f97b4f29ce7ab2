// validate(Config): the rules on a whole Config, however it was made - read from a file by
// parse_config, or built in code (SimpleB2bua) and handed to Engine::start. The reader checks each
// JSON value's type and range as it reads it; the forms and cross-key rules below are checked
// here, once, for both.
#include "api/config/config.hpp"
#include "api/config/detail/config_read.hpp"

namespace b2bua::api {

std::string validate(const Config& c) {
  using detail::fail;
  if (!split_host_port(c.sip_listen)) {
    return fail("sip.listen", detail::listen_rule);
  }
  if (!split_host_port(c.api_listen)) {  // even when api.enabled is false, as the file says it
    return fail("api.listen", detail::listen_rule);
  }
  if (c.auth.enabled && c.auth.realm.empty()) {
    return fail("auth.realm", "is required when auth is enabled");
  }
  if (auto err = detail::check_group_refs(c.routes, c.groups); !err.empty()) {
    return err;
  }
  const std::uint64_t unanswered = std::uint64_t{c.no_answer_ms} + c.route_timeout_ms;
  if (c.setup_deadline_ms <= unanswered) {
    return "timers.setup_deadline_ms: must be larger than timers.no_answer_ms + "
           "timers.route_timeout_ms (" +
           std::to_string(unanswered) + ")";
  }
  return {};
}

}  // namespace b2bua::api
