// Fuzzes the config reader: config text (JSON with comments) to a Config or one error line, and
// the routes reader parse_routes as PUT /v1/routes and a reload use it (the input as a routes
// array, or the `routes` member of an object). Also split_host_port on the first line.
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "api/config/config.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using b2bua::fuzz::broken;
using namespace b2bua::api;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = b2bua::fuzz::as_text(data, size);
  const std::string config{text};
  const auto parsed = parse_config(config);
  if (const auto* err = std::get_if<std::string>(&parsed);
      err && (err->empty() || err->find('\n') != std::string::npos)) {
    broken("parse_config's error is not one line");
  }
  (void)split_host_port(std::string{b2bua::fuzz::fields(text, 2)[0]});
  const auto j = nlohmann::json::parse(config, nullptr, false, true);
  if (j.is_discarded()) {
    return 0;
  }
  std::vector<b2bua::GroupSpec> groups(1);
  groups[0].name = "pbx";
  if (j.is_array()) {
    (void)parse_routes(j, groups);
  } else if (j.is_object() && j.contains("routes")) {
    (void)parse_routes(j["routes"], groups);
  }
  return 0;
}
