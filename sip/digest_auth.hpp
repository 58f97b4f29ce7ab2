// DigestAuth: server-side SIP digest authentication (RFC 7616 / RFC 2617 with qop=auth, MD5 and
// SHA-256) without sofia: stateless nonces (timestamp + random + HMAC, so they expire and cannot be
// forged), nonce-count tracking per nonce (a replayed nc is refused), and the settings the config
// gives it. Hashes come from OpenSSL's EVP. Owned and used by one thread (the SIP thread).
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace b2bua::sip {

/// One user's secret: a password, or HA1 hashes as in an htdigest file (hex, lower case).
struct AuthSecret {
  std::string password;    ///< "" when only HA1 hashes are known
  std::string ha1_md5;     ///< H(user:realm:password) with MD5, 32 hex digits
  std::string ha1_sha256;  ///< the same with SHA-256, 64 hex digits
};

/// `auth` in the config (see schemas/config.schema.json). Plain values, any thread.
struct AuthSettings {
  bool enabled = false;
  std::string realm;
  std::map<std::string, AuthSecret> users;
  std::vector<std::string> methods = {"INVITE"};  ///< requests that are challenged
  std::vector<std::string> trusted;               ///< networks "a.b.c.d/n" that skip the challenge
  std::string challenge = "www";                  ///< "www" (401) or "proxy" (407)
  std::vector<std::string> algorithms = {"MD5"};  ///< offered, in this order: "SHA-256", "MD5"
  std::uint32_t nonce_ttl_s = 300;
  std::uint32_t max_failures = 5;  ///< failures from one source IP within failure_window_s ...
  std::uint32_t failure_window_s = 60;
  std::uint32_t block_s = 60;         ///< ... answer 403 to it for this long
  std::uint32_t max_sources = 10000;  ///< sources tracked by the failure counter
};

/// The fields of a Digest Authorization / Proxy-Authorization header.
struct DigestCredentials {
  std::string username;
  std::string realm;
  std::string nonce;
  std::string uri;
  std::string response;
  std::string algorithm;  ///< "" = MD5
  std::string cnonce;
  std::string nc;
  std::string qop;
  std::string opaque;
};

/// Parses `Digest k=v, k="v", ...`. nullopt when it is not Digest, malformed, or too large
/// (4096 bytes, 32 parameters); a parameter given twice is malformed.
std::optional<DigestCredentials> parse_digest(std::string_view header_value);

/// Lower-case hex of MD5 / SHA-256 of `data` (OpenSSL EVP). "" only if OpenSSL fails.
std::string md5_hex(std::string_view data);
std::string sha256_hex(std::string_view data);

/// H(user:realm:password) with MD5 or SHA-256, hex.
std::string digest_ha1(bool sha256, std::string_view user, std::string_view realm,
                       std::string_view password);

/// The qop=auth response for credentials `c` (nonce, nc, cnonce, qop, uri) given HA1 and the
/// method.
std::string digest_response(bool sha256, std::string_view ha1, const DigestCredentials& c,
                            std::string_view method);

/// The verdict on one request's credentials.
enum class DigestVerdict : std::uint8_t {
  ok,           ///< authenticated: `user` is set
  stale,        ///< correct credentials on an expired nonce: challenge again with stale=true
  bad_nonce,    ///< a nonce we never issued (forged, or from before a restart): challenge again
  unsupported,  ///< an algorithm or qop we do not offer: challenge again
  wrong_realm,  ///< credentials for another realm: challenge again (RFC 3261 22.1)
  malformed,    ///< required fields missing or unreadable: 400
  failed,       ///< unknown user or wrong password: 403
  replay,       ///< a nonce count already used with this nonce: 403
};

const char* to_string(DigestVerdict v);

struct DigestResult {
  DigestVerdict verdict = DigestVerdict::failed;
  std::string user;
};

class DigestAuth {
 public:
  /// `secret` keys the nonce HMAC; empty = 32 random bytes (nonces die with the process).
  explicit DigestAuth(AuthSettings settings, std::string secret = {});

  const AuthSettings& settings() const { return settings_; }

  /// A fresh nonce issued at `now_s` (seconds since the epoch).
  std::string make_nonce(std::int64_t now_s);

  /// The challenge header values, one per offered algorithm, e.g.
  /// `Digest realm="r", nonce="...", algorithm=MD5, qop="auth"` (with `stale=true` when asked).
  std::vector<std::string> challenges(std::int64_t now_s, bool stale);

  /// Checks credentials for `method` at `now_s`. `uri_matches` says whether the digest uri names
  /// the Request-URI (the caller compares them as URIs). Records the nonce count on success.
  DigestResult verify(const DigestCredentials& c, std::string_view method, bool uri_matches,
                      std::int64_t now_s);

  /// Nonces whose counts are tracked now (bounded by max_tracked).
  std::size_t tracked_nonces() const { return counts_.size(); }
  static constexpr std::size_t max_tracked = 65536;

 private:
  enum class NonceState : std::uint8_t { fresh, expired, invalid };
  NonceState check_nonce(const std::string& nonce, std::int64_t now_s, std::int64_t& issued) const;
  std::string mac(std::string_view text) const;
  bool expected_response(const DigestCredentials& c, const AuthSecret& s, bool sha256,
                         std::string_view method, std::string& out) const;
  bool accept_count(const std::string& nonce, std::int64_t issued, std::uint32_t nc,
                    std::int64_t now_s);

  AuthSettings settings_;
  std::string secret_;
  std::unordered_map<std::string, std::uint32_t> counts_;   ///< nonce -> highest nc seen
  std::deque<std::pair<std::int64_t, std::string>> order_;  ///< (issued, nonce) in first-use order
  std::int64_t evicted_floor_ = -1;  ///< nonces issued at or before this may have been forgotten
};

}  // namespace b2bua::sip
