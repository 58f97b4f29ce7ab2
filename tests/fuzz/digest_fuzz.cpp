// Fuzzes the header text b2buad reads for digest authentication: a caller's Authorization (parsed
// and verified, also with a nonce b2buad issued so that the nonce-count checks are reached), the
// source address checks, and a backend's challenge (the credential for a target URI and NUA's auth
// string). Input, one field per line: Authorization value, method, target URI, challenge scheme,
// challenge realm parameter, source address or network.
#include <cstddef>
#include <cstdint>
#include <string>

#include "sip/auth_guard.hpp"
#include "sip/backend_auth.hpp"
#include "sip/digest_auth.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace {

using namespace b2bua::sip;

DigestAuth& auth() {
  static DigestAuth a = [] {
    AuthSettings s;
    s.enabled = true;
    s.realm = "b2bua.test";
    s.users["alice"] = AuthSecret{"secret", "", ""};
    s.users["bob"] = AuthSecret{"", digest_ha1(false, "bob", "b2bua.test", "pw"),
                                digest_ha1(true, "bob", "b2bua.test", "pw")};
    s.algorithms = {"SHA-256", "MD5"};
    return DigestAuth(s, "fuzz-secret");
  }();
  return a;
}

void verify(const DigestCredentials& c, const std::string& method) {
  constexpr std::int64_t now = 1'700'000'000;
  (void)auth().verify(c, method, true, now);
  // With a nonce b2buad issued, the response checked and the count recorded; twice = a replay.
  // A response "*" is replaced by the right one for the user's password, so that the fuzzer gets
  // past the hash to the nonce-count checks.
  DigestCredentials fresh = c;
  fresh.nonce = auth().make_nonce(now);
  if (fresh.response == "*") {
    const bool sha = fresh.algorithm == "SHA-256";
    const auto ha1 = digest_ha1(sha, fresh.username, fresh.realm, fresh.username == "bob" ? "pw" : "secret");
    fresh.response = digest_response(sha, ha1, fresh, method);
  }
  const auto r = auth().verify(fresh, method, c.uri.size() % 2 == 0, now + 1);
  if (r.verdict == DigestVerdict::ok && auth().verify(fresh, method, true, now + 2).verdict ==
                                            DigestVerdict::ok) {
    b2bua::fuzz::broken("the same nonce count was accepted twice");
  }
  (void)to_string(r.verdict);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto f = b2bua::fuzz::fields(b2bua::fuzz::as_text(data, size), 6);
  const std::string method{f[1]};
  if (const auto c = parse_digest(f[0])) {
    verify(*c, method);
  }
  // A backend's challenge: the credential for the B leg's target, then NUA's auth string.
  static const std::vector<BackendCredential> creds = {
      {"sip:pbx.example.com", "u", "p", ""},
      {"sips:[2001:db8::1]:5071;transport=tls", "v", "q", "corp"},
  };
  const std::string target{f[2]};
  const std::string scheme{f[3]};
  const std::string realm{f[4]};
  if (const auto* cred = find_credential(creds, target)) {
    (void)auth_string(*cred, scheme.c_str(), realm.empty() ? nullptr : realm.c_str());
  }
  (void)auth_string(creds[1], scheme.c_str(), realm.c_str());
  // Source checks: a trusted network and the failure limiter (a tiny table, to reach pruning).
  const auto cidr = parse_cidr(f[5]);
  const auto ip = parse_ip(f[5].substr(0, f[5].find('/')));
  if (cidr && ip && !cidr->contains(*ip)) {
    b2bua::fuzz::broken("a network does not contain its own address");
  }
  if (ip) {
    FailureLimiter limiter(2, 60, 60, 2);
    for (std::int64_t t = 0; t < 4; ++t) {
      (void)limiter.record_failure(*ip, t);
    }
    (void)limiter.blocked(*ip, 5);
  }
  return 0;
}
