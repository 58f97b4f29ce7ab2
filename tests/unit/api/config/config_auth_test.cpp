// Unit tests of the `auth` config section, the htdigest users file, group target credentials and
// routes[].match.auth_user: what parses, and the one-line message of each bad value.
#include "api/config/config.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <variant>

#include <unistd.h>

#include <doctest/doctest.h>

using namespace b2bua;
using namespace b2bua::api;

namespace {

Config parse_ok(const std::string& text) {
  auto result = parse_config(text);
  if (auto* err = std::get_if<std::string>(&result)) {
    FAIL_CHECK("unexpected config error: " << *err);
    return Config{};
  }
  return std::get<Config>(result);
}

std::string parse_error(const std::string& text) {
  auto result = parse_config(text);
  auto* err = std::get_if<std::string>(&result);
  if (err == nullptr) {
    FAIL_CHECK("config was accepted but should not be: " << text);
    return {};
  }
  CHECK(err->find('\n') == std::string::npos);
  return *err;
}

// A users file in a fresh temp dir, removed at the end.
struct UsersFile {
  std::filesystem::path dir;
  std::filesystem::path path;
  explicit UsersFile(const std::string& text) {
    std::string pattern = (std::filesystem::temp_directory_path() / "b2bua-auth-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    dir = pattern;
    path = dir / "users.htdigest";
    std::ofstream(path) << text;
  }
  ~UsersFile() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string config(const std::string& extra = "") const {
    return R"({"auth": {"realm": "b2b.test", "users_file": ")" + path.string() + "\"" + extra +
           "}}";
  }
};

const std::string md5_ha1(32, 'a');
const std::string sha_ha1(64, 'b');

}  // namespace

TEST_CASE("auth is off by default and on with its documented defaults when given") {
  CHECK_FALSE(parse_ok("{}").auth.enabled);
  Config c = parse_ok(R"({"auth": {"realm": "b2b.test", "users": {"alice": {"password": "pw"}}}})");
  CHECK(c.auth.enabled);
  CHECK(c.auth.realm == "b2b.test");
  CHECK(c.auth.users.at("alice").password == "pw");
  CHECK(c.auth.methods == std::vector<std::string>{"INVITE"});
  CHECK(c.auth.algorithms == std::vector<std::string>{"MD5"});
  CHECK(c.auth.challenge == "www");
  CHECK(c.auth.nonce_ttl_s == 300);
  CHECK(c.auth.max_failures == 5);
  CHECK(c.auth.failure_window_s == 60);
  CHECK(c.auth.block_s == 60);
  CHECK(c.auth.trusted.empty());
  CHECK_FALSE(parse_ok(R"({"auth": {"enabled": false}})").auth.enabled);  // no realm needed then
}

TEST_CASE("every auth key parses") {
  Config c = parse_ok(R"({"auth": {"realm": "r", "challenge": "proxy",
      "users": {"a": {"ha1": ")" +
                      std::string(32, 'A') + R"("}, "b": {"ha1_sha256": ")" + sha_ha1 +
                      R"("}},
      "methods": ["OPTIONS", "INVITE"], "trusted": ["127.0.0.2/32", "10.0.0.0/8", "::1"],
      "algorithms": ["SHA-256", "MD5"], "nonce_ttl_s": 60, "max_failures": 3,
      "failure_window_s": 30, "block_s": 0, "max_sources": 500}})");
  CHECK(c.auth.challenge == "proxy");
  CHECK(c.auth.methods == std::vector<std::string>{"OPTIONS", "INVITE"});
  CHECK(c.auth.users.at("a").ha1_md5 == std::string(32, 'a'));  // stored in lower case
  CHECK(c.auth.users.at("b").ha1_sha256 == sha_ha1);
  CHECK(c.auth.trusted.size() == 3);
  CHECK(c.auth.algorithms == std::vector<std::string>{"SHA-256", "MD5"});
  CHECK(c.auth.nonce_ttl_s == 60);
  CHECK(c.auth.max_failures == 3);
  CHECK(c.auth.failure_window_s == 30);
  CHECK(c.auth.block_s == 0);
  CHECK(c.auth.max_sources == 500);
}

TEST_CASE("each bad auth value names its key") {
  CHECK(parse_error(R"({"auth": {}})") == "auth.realm: is required when auth is enabled");
  CHECK(parse_error(R"({"auth": {"realm": "a\"b"}})").rfind("auth.realm: must be", 0) == 0);
  CHECK(parse_error(R"({"auth": {"realm": ""}})").rfind("auth.realm: must be", 0) == 0);
  CHECK(parse_error(R"({"auth": {"realm": "r", "users": {"a:b": {"password": "x"}}}})")
            .rfind("auth.users.a:b: must be", 0) == 0);
  CHECK(parse_error(R"({"auth": {"realm": "r", "users": {"a": {}}}})").rfind("auth.users.a: ", 0) ==
        0);
  CHECK(parse_error(R"({"auth": {"realm": "r", "users": {"a": {"ha1": "xyz"}}}})") ==
        "auth.users.a.ha1: must be 32 hex digits");
  CHECK(parse_error(R"({"auth": {"realm": "r", "users": {"a": {"pass": "x"}}}})")
            .rfind("auth.users.a.pass: must be", 0) == 0);
  CHECK(parse_error(R"({"auth": {"realm": "r", "methods": ["REGISTER"]}})")
            .rfind("auth.methods: must be", 0) == 0);
  CHECK(parse_error(R"({"auth": {"realm": "r", "methods": ["INVITE", "INVITE"]}})")
            .rfind("auth.methods: must be", 0) == 0);
  CHECK(
      parse_error(R"({"auth": {"realm": "r", "methods": []}})").rfind("auth.methods: must be", 0) ==
      0);
  CHECK(parse_error(R"({"auth": {"realm": "r", "trusted": ["10.0.0.0/33"]}})") ==
        "auth.trusted[0]: must be an IPv4 or IPv6 address with an optional /prefix");
  CHECK(parse_error(R"({"auth": {"realm": "r", "trusted": "10.0.0.0/8"}})")
            .rfind("auth.trusted: must be an array", 0) == 0);
  CHECK(parse_error(R"({"auth": {"realm": "r", "challenge": "basic"}})") ==
        "auth.challenge: must be one of \"www\", \"proxy\"");
  CHECK(parse_error(R"({"auth": {"realm": "r", "algorithms": ["MD5", "MD5"]}})")
            .rfind("auth.algorithms: must be", 0) == 0);
  CHECK(parse_error(R"({"auth": {"realm": "r", "algorithms": ["SHA-512"]}})")
            .rfind("auth.algorithms: must be", 0) == 0);
  CHECK(parse_error(R"({"auth": {"realm": "r", "nonce_ttl_s": 5}})") ==
        "auth.nonce_ttl_s: must be an integer 10-86400");
  CHECK(parse_error(R"({"auth": {"realm": "r", "max_failures": 0}})") ==
        "auth.max_failures: must be an integer 1-1000");
  CHECK(parse_error(R"({"auth": {"realm": "r", "colour": 1}})") == "auth.colour: unknown key");
}

TEST_CASE("an htdigest users file adds the users of the realm; inline users win") {
  UsersFile f("# comment\n\nalice:b2b.test:" + md5_ha1 + "\r\nbob:other.realm:" + md5_ha1 +
              "\ncarol:b2b.test:" + sha_ha1 + "\n");
  Config c = parse_ok(f.config(R"(, "users": {"alice": {"password": "inline"}})"));
  CHECK(c.auth.users.size() == 2);
  CHECK(c.auth.users.at("alice").password == "inline");
  CHECK(c.auth.users.at("alice").ha1_md5.empty());
  CHECK(c.auth.users.at("carol").ha1_sha256 == sha_ha1);
  CHECK(c.auth.users.count("bob") == 0);
}

TEST_CASE("a bad users file names the key, the file and the line") {
  UsersFile f("alice:b2b.test:" + md5_ha1 + "\nbroken line\n");
  CHECK(parse_error(f.config()) == "auth.users_file: " + f.path.string() +
                                       " line 2: must be user:realm:HA1 (32 or 64 hex digits)");
  UsersFile g("alice:b2b.test:" + std::string(31, 'a') + "\n");
  CHECK(parse_error(g.config()).find("line 1: must be user:realm:HA1") != std::string::npos);
  std::string missing = R"({"auth": {"realm": "r", "users_file": "/nonexistent/b2bua/users"}})";
  CHECK(parse_error(missing).rfind("auth.users_file: cannot read /nonexistent/b2bua/users: ", 0) ==
        0);
}

TEST_CASE("group targets take outbound credentials; bad ones name the key") {
  Config c = parse_ok(R"({"groups": {"pbx": {"targets": [
      {"uri": "sip:10.0.0.5:5060", "auth": {"user": "b2b", "password": "pw", "realm": "pbx"}},
      "sip:10.0.0.6:5060"]}}})");
  REQUIRE(c.groups.size() == 1);
  CHECK(c.groups[0].targets[0].auth.user == "b2b");
  CHECK(c.groups[0].targets[0].auth.password == "pw");
  CHECK(c.groups[0].targets[0].auth.realm == "pbx");
  CHECK(c.groups[0].targets[1].auth.user.empty());
  CHECK(parse_error(
            R"({"groups": {"g": {"targets": [{"uri": "sip:h", "auth": {"password": "x"}}]}}})") ==
        "groups.g.targets[0].auth.user: is required");
  CHECK(
      parse_error(R"({"groups": {"g": {"targets": [{"uri": "sip:h", "auth": {"user": "a:b"}}]}}})")
          .rfind("groups.g.targets[0].auth.user: must be", 0) == 0);
  CHECK(
      parse_error(
          R"({"groups": {"g": {"targets": [{"uri": "sip:h", "auth": {"user": "a", "x": 1}}]}}})") ==
      "groups.g.targets[0].auth.x: unknown key");
}

TEST_CASE("routes match the authenticated user") {
  Config c = parse_ok(R"({"routes": [{"name": "a", "match": {"auth_user": "alice"},
                                       "action": "route", "targets": ["sip:h"]}]})");
  REQUIRE(c.routes.size() == 1);
  CHECK(c.routes[0].match_auth_user == "alice");
  CHECK(parse_error(R"({"routes": [{"match": {"auth_user": 5}, "action": "route",
                                      "targets": ["sip:h"]}]})")
            .rfind("routes[0].match.auth_user: ", 0) == 0);
}
