// DigestAuth: hashes against RFC vectors, header parsing of good and hostile input, and every
// verdict of verify() (replay, stale, forged nonce, wrong user/password/realm, unsupported).
#include "sip/digest_auth.hpp"

#include <string>

#include <doctest/doctest.h>

using namespace b2bua::sip;

namespace {

constexpr std::int64_t t0 = 1'700'000'000;

AuthSettings settings() {
  AuthSettings s;
  s.enabled = true;
  s.realm = "b2b.test";
  s.users["alice"].password = "secret";
  s.users["carol"].ha1_md5 = digest_ha1(false, "carol", "b2b.test", "pw-carol");
  s.algorithms = {"SHA-256", "MD5"};
  s.nonce_ttl_s = 300;
  return s;
}

// The nonce of a challenge header value.
std::string nonce_of(const std::string& challenge) {
  auto c = parse_digest(challenge);
  REQUIRE(c);
  return c->nonce;
}

// What a client sends for `user`/`password` on `nonce`.
DigestCredentials answer(const std::string& nonce, const std::string& user,
                         const std::string& password, std::uint32_t nc = 1,
                         const std::string& algorithm = "MD5") {
  DigestCredentials c;
  c.username = user;
  c.realm = "b2b.test";
  c.nonce = nonce;
  c.uri = "sip:bob@127.0.0.1:5060";
  c.algorithm = algorithm;
  c.cnonce = "0a4f113b";
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", nc);
  c.nc = buf;
  c.qop = "auth";
  const bool sha = algorithm == "SHA-256";
  c.response = digest_response(sha, digest_ha1(sha, user, "b2b.test", password), c, "INVITE");
  return c;
}

}  // namespace

TEST_CASE("hashes match the published test vectors") {
  CHECK(md5_hex("") == "d41d8cd98f00b204e9800998ecf8427e");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("responses match RFC 7616 section 3.9.1 for MD5 and SHA-256") {
  DigestCredentials c;
  c.nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
  c.uri = "/dir/index.html";
  c.cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
  c.nc = "00000001";
  c.qop = "auth";
  auto md5 = digest_ha1(false, "Mufasa", "http-auth@example.org", "Circle of Life");
  auto sha = digest_ha1(true, "Mufasa", "http-auth@example.org", "Circle of Life");
  CHECK(digest_response(false, md5, c, "GET") == "8ca523f5e9506fed4657c9700eebdbec");
  CHECK(digest_response(true, sha, c, "GET") ==
        "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

TEST_CASE("parse_digest reads quoted, unquoted and escaped parameters") {
  auto c = parse_digest(R"(Digest username="al\"ice", realm="b2b.test",nonce="n1, n2",)"
                        R"( uri="sip:bob@h", response="abc", algorithm=MD5, qop=auth,)"
                        R"( nc=00000001, cnonce="x", opaque="", other=1)");
  REQUIRE(c);
  CHECK(c->username == "al\"ice");
  CHECK(c->nonce == "n1, n2");
  CHECK(c->algorithm == "MD5");
  CHECK(c->qop == "auth");
  CHECK(c->nc == "00000001");
  CHECK(parse_digest("digest username=\"a\"")->username == "a");  // the scheme is case-insensitive
}

TEST_CASE("parse_digest refuses malformed and oversized headers") {
  CHECK_FALSE(parse_digest(""));
  CHECK_FALSE(parse_digest("Digest"));
  CHECK_FALSE(parse_digest("Basic dXNlcjpwYXNz"));
  CHECK_FALSE(parse_digest("Digestusername=\"a\""));
  CHECK_FALSE(parse_digest("Digest username=\"unterminated"));
  CHECK_FALSE(parse_digest("Digest username=\"a\" realm=\"b\""));  // no comma
  CHECK_FALSE(parse_digest("Digest username=\"a\", username=\"b\""));
  CHECK_FALSE(parse_digest("Digest =x"));
  CHECK_FALSE(parse_digest("Digest username"));
  CHECK_FALSE(parse_digest("Digest username=\"" + std::string(5000, 'a') + "\""));
  std::string many = "Digest p0=0";
  for (int i = 1; i < 40; ++i) {
    many += ", p" + std::to_string(i) + "=0";
  }
  CHECK_FALSE(parse_digest(many));
}

TEST_CASE("a correct answer is accepted once per nonce count and its replay refused") {
  DigestAuth auth(settings(), "fixed-secret");
  auto challenges = auth.challenges(t0, false);
  REQUIRE(challenges.size() == 2);
  CHECK(challenges[0].find("algorithm=SHA-256") != std::string::npos);
  CHECK(challenges[1].find("algorithm=MD5, qop=\"auth\"") != std::string::npos);
  CHECK(challenges[0].find("stale") == std::string::npos);
  const std::string nonce = nonce_of(challenges[1]);
  CHECK(nonce != nonce_of(challenges[0]));  // each challenge gets its own nonce

  auto first = auth.verify(answer(nonce, "alice", "secret"), "INVITE", true, t0 + 1);
  CHECK(first.verdict == DigestVerdict::ok);
  CHECK(first.user == "alice");
  CHECK(auth.verify(answer(nonce, "alice", "secret"), "INVITE", true, t0 + 2).verdict ==
        DigestVerdict::replay);
  CHECK(auth.verify(answer(nonce, "alice", "secret", 2), "INVITE", true, t0 + 2).verdict ==
        DigestVerdict::ok);
  CHECK(auth.verify(answer(nonce, "alice", "secret", 2), "INVITE", true, t0 + 3).verdict ==
        DigestVerdict::replay);
  CHECK(auth.verify(answer(nonce, "alice", "secret", 1), "INVITE", true, t0 + 3).verdict ==
        DigestVerdict::replay);
}

TEST_CASE("SHA-256 answers and HA1-only users are verified") {
  DigestAuth auth(settings(), "fixed-secret");
  auto sha =
      auth.verify(answer(auth.make_nonce(t0), "alice", "secret", 1, "SHA-256"), "INVITE", true, t0);
  CHECK(sha.verdict == DigestVerdict::ok);
  CHECK(auth.verify(answer(auth.make_nonce(t0), "carol", "pw-carol"), "INVITE", true, t0).verdict ==
        DigestVerdict::ok);
  // carol has only an MD5 HA1: a SHA-256 answer cannot be checked and fails
  CHECK(auth.verify(answer(auth.make_nonce(t0), "carol", "pw-carol", 1, "SHA-256"), "INVITE", true,
                    t0)
            .verdict == DigestVerdict::failed);
}

TEST_CASE("wrong password, unknown user, wrong method and wrong realm are refused") {
  DigestAuth auth(settings(), "fixed-secret");
  CHECK(auth.verify(answer(auth.make_nonce(t0), "alice", "guess"), "INVITE", true, t0).verdict ==
        DigestVerdict::failed);
  CHECK(auth.verify(answer(auth.make_nonce(t0), "mallory", "secret"), "INVITE", true, t0).verdict ==
        DigestVerdict::failed);
  CHECK(auth.verify(answer(auth.make_nonce(t0), "alice", "secret"), "BYE", true, t0).verdict ==
        DigestVerdict::failed);
  auto other = answer(auth.make_nonce(t0), "alice", "secret");
  other.realm = "elsewhere";
  CHECK(auth.verify(other, "INVITE", true, t0).verdict == DigestVerdict::wrong_realm);
}

TEST_CASE("an expired nonce is stale only when the answer is otherwise right") {
  DigestAuth auth(settings(), "fixed-secret");
  const std::string nonce = auth.make_nonce(t0);
  CHECK(auth.verify(answer(nonce, "alice", "secret"), "INVITE", true, t0 + 300).verdict ==
        DigestVerdict::ok);
  CHECK(auth.verify(answer(nonce, "alice", "secret", 2), "INVITE", true, t0 + 301).verdict ==
        DigestVerdict::stale);
  CHECK(auth.verify(answer(nonce, "alice", "guess", 3), "INVITE", true, t0 + 301).verdict ==
        DigestVerdict::failed);
  CHECK(auth.challenges(t0, true)[0].find(", stale=true") != std::string::npos);
}

TEST_CASE("nonces that were not issued here are refused") {
  DigestAuth auth(settings(), "fixed-secret");
  DigestAuth other(settings(), "another-secret");
  std::string nonce = auth.make_nonce(t0);
  std::string forged = nonce;
  forged[20] = forged[20] == 'a' ? 'b' : 'a';
  CHECK(auth.verify(answer(forged, "alice", "secret"), "INVITE", true, t0).verdict ==
        DigestVerdict::bad_nonce);
  CHECK(auth.verify(answer(other.make_nonce(t0), "alice", "secret"), "INVITE", true, t0).verdict ==
        DigestVerdict::bad_nonce);
  CHECK(auth.verify(answer("short", "alice", "secret"), "INVITE", true, t0).verdict ==
        DigestVerdict::bad_nonce);
  // issued "in the future" (the clock went back more than a few seconds)
  CHECK(auth.verify(answer(auth.make_nonce(t0 + 100), "alice", "secret"), "INVITE", true, t0)
            .verdict == DigestVerdict::bad_nonce);
}

TEST_CASE("answers without qop=auth, with other algorithms or broken fields are refused") {
  DigestAuth auth(settings(), "fixed-secret");
  auto c = answer(auth.make_nonce(t0), "alice", "secret");
  auto no_qop = c;
  no_qop.qop.clear();
  CHECK(auth.verify(no_qop, "INVITE", true, t0).verdict == DigestVerdict::unsupported);
  auto sha512 = c;
  sha512.algorithm = "SHA-512-256";
  CHECK(auth.verify(sha512, "INVITE", true, t0).verdict == DigestVerdict::unsupported);
  auto bad_nc = c;
  bad_nc.nc = "zz";
  CHECK(auth.verify(bad_nc, "INVITE", true, t0).verdict == DigestVerdict::malformed);
  auto zero_nc = c;
  zero_nc.nc = "00000000";
  CHECK(auth.verify(zero_nc, "INVITE", true, t0).verdict == DigestVerdict::malformed);
  auto no_response = c;
  no_response.response.clear();
  CHECK(auth.verify(no_response, "INVITE", true, t0).verdict == DigestVerdict::malformed);
  CHECK(auth.verify(c, "INVITE", /*uri_matches=*/false, t0).verdict == DigestVerdict::malformed);
  AuthSettings md5_only = settings();
  md5_only.algorithms = {"MD5"};
  DigestAuth strict(md5_only, "fixed-secret");
  CHECK(strict
            .verify(answer(strict.make_nonce(t0), "alice", "secret", 1, "SHA-256"), "INVITE", true,
                    t0)
            .verdict == DigestVerdict::unsupported);
}

TEST_CASE("nonce counts of expired nonces are forgotten and the table stays bounded") {
  DigestAuth auth(settings(), "fixed-secret");
  const std::string old_nonce = auth.make_nonce(t0);
  REQUIRE(auth.verify(answer(old_nonce, "alice", "secret"), "INVITE", true, t0).verdict ==
          DigestVerdict::ok);
  CHECK(auth.tracked_nonces() == 1);
  const std::int64_t later = t0 + 301;
  REQUIRE(auth.verify(answer(auth.make_nonce(later), "alice", "secret"), "INVITE", true, later)
              .verdict == DigestVerdict::ok);
  CHECK(auth.tracked_nonces() == 1);

  // Over the bound the oldest nonce is dropped, and it is never accepted again (no replay window).
  const std::int64_t t1 = later + 1;
  const std::string first = auth.make_nonce(later);
  REQUIRE(auth.verify(answer(first, "alice", "secret"), "INVITE", true, t1).verdict ==
          DigestVerdict::ok);
  for (std::size_t i = 0; i < DigestAuth::max_tracked; ++i) {
    DigestCredentials c = answer(auth.make_nonce(t1), "alice", "secret");
    REQUIRE(auth.verify(c, "INVITE", true, t1).verdict == DigestVerdict::ok);
  }
  CHECK(auth.tracked_nonces() <= DigestAuth::max_tracked);
  CHECK(auth.verify(answer(first, "alice", "secret", 2), "INVITE", true, t1).verdict ==
        DigestVerdict::replay);
}
