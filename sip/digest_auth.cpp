// DigestAuth: nonce issue and check, Digest header parsing and response verification.
#include "sip/digest_auth.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <memory>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

namespace b2bua::sip {

namespace {

constexpr std::size_t max_header = 4096;
constexpr std::size_t max_params = 32;
constexpr std::size_t nonce_hex = 64;  // 8 bytes time, 8 random, 16 of MAC

std::string hex(const unsigned char* p, std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[p[i] >> 4];
    out[2 * i + 1] = digits[p[i] & 0xf];
  }
  return out;
}

std::string digest_hex(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) != 1) {
    return {};
  }
  return hex(out, len);
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

bool same(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void skip_space(std::string_view s, std::size_t& i) {
  while (i < s.size() && is_space(s[i])) {
    ++i;
  }
}

// One `name=value` or `name="quoted"`; false when malformed.
bool read_param(std::string_view s, std::size_t& i, std::string& name, std::string& value) {
  std::size_t start = i;
  while (i < s.size() &&
         (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '-' || s[i] == '_')) {
    ++i;
  }
  if (i == start) {
    return false;
  }
  name.assign(s.substr(start, i - start));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  skip_space(s, i);
  if (i >= s.size() || s[i] != '=') {
    return false;
  }
  ++i;
  skip_space(s, i);
  value.clear();
  if (i < s.size() && s[i] == '"') {
    for (++i; i < s.size() && s[i] != '"'; ++i) {
      if (s[i] == '\\' && i + 1 < s.size()) {
        ++i;
      }
      value += s[i];
    }
    if (i >= s.size()) {
      return false;  // unterminated quote
    }
    ++i;
  } else {
    start = i;
    while (i < s.size() && s[i] != ',' && !is_space(s[i])) {
      ++i;
    }
    value.assign(s.substr(start, i - start));
  }
  return true;
}

std::string* field(DigestCredentials& c, const std::string& name) {
  static const std::pair<const char*, std::string DigestCredentials::*> fields[] = {
      {"username", &DigestCredentials::username}, {"realm", &DigestCredentials::realm},
      {"nonce", &DigestCredentials::nonce},       {"uri", &DigestCredentials::uri},
      {"response", &DigestCredentials::response}, {"algorithm", &DigestCredentials::algorithm},
      {"cnonce", &DigestCredentials::cnonce},     {"nc", &DigestCredentials::nc},
      {"qop", &DigestCredentials::qop},           {"opaque", &DigestCredentials::opaque}};
  for (const auto& [key, member] : fields) {
    if (name == key) {
      return &(c.*member);
    }
  }
  return nullptr;  // a parameter we do not use (e.g. auth-param extensions)
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    // RAND_bytes fails only without an entropy source; refuse to run with predictable nonces.
    throw std::runtime_error("auth: no random source for nonces");
  }
  return out;
}

}  // namespace

std::string md5_hex(std::string_view data) {
  return digest_hex(EVP_md5(), data);
}
std::string sha256_hex(std::string_view data) {
  return digest_hex(EVP_sha256(), data);
}

std::optional<DigestCredentials> parse_digest(std::string_view s) {
  if (s.size() > max_header) {
    return std::nullopt;
  }
  std::size_t i = 0;
  skip_space(s, i);
  if (s.size() - i < 7 || !iequals(s.substr(i, 6), "Digest") || !is_space(s[i + 6])) {
    return std::nullopt;
  }
  i += 6;
  DigestCredentials c;
  std::vector<std::string> seen;
  std::string name;
  std::string value;
  while (true) {
    skip_space(s, i);
    if (!read_param(s, i, name, value) || seen.size() >= max_params ||
        std::find(seen.begin(), seen.end(), name) != seen.end()) {
      return std::nullopt;
    }
    seen.push_back(name);
    if (std::string* f = field(c, name)) {
      *f = std::move(value);
    }
    skip_space(s, i);
    if (i >= s.size()) {
      return c;
    }
    if (s[i] != ',') {
      return std::nullopt;
    }
    ++i;
  }
}

std::string digest_ha1(bool sha256, std::string_view user, std::string_view realm,
                       std::string_view password) {
  std::string text = std::string(user) + ":" + std::string(realm) + ":" + std::string(password);
  return sha256 ? sha256_hex(text) : md5_hex(text);
}

std::string digest_response(bool sha256, std::string_view ha1, const DigestCredentials& c,
                            std::string_view method) {
  auto h = [sha256](const std::string& x) { return sha256 ? sha256_hex(x) : md5_hex(x); };
  const std::string ha2 = h(std::string(method) + ":" + c.uri);
  return h(std::string(ha1) + ":" + c.nonce + ":" + c.nc + ":" + c.cnonce + ":" + c.qop + ":" +
           ha2);
}

const char* to_string(DigestVerdict v) {
  switch (v) {
    case DigestVerdict::ok:
      return "ok";
    case DigestVerdict::stale:
      return "stale";
    case DigestVerdict::bad_nonce:
      return "bad_nonce";
    case DigestVerdict::unsupported:
      return "unsupported";
    case DigestVerdict::wrong_realm:
      return "wrong_realm";
    case DigestVerdict::malformed:
      return "malformed";
    case DigestVerdict::failed:
      return "failed";
    case DigestVerdict::replay:
      return "replay";
  }
  return "?";
}

DigestAuth::DigestAuth(AuthSettings settings, std::string secret)
    : settings_(std::move(settings)),
      secret_(secret.empty() ? random_bytes(32) : std::move(secret)) {}

std::string DigestAuth::mac(std::string_view text) const {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(text.data()), text.size(), out, &len);
  return hex(out, std::min<unsigned int>(len, 16));
}

std::string DigestAuth::make_nonce(std::int64_t now_s) {
  unsigned char t[8];
  auto u = static_cast<std::uint64_t>(now_s);
  for (int i = 7; i >= 0; --i, u >>= 8) {
    t[i] = static_cast<unsigned char>(u & 0xff);
  }
  std::string r = random_bytes(8);
  std::string head = hex(t, 8) + hex(reinterpret_cast<const unsigned char*>(r.data()), 8);
  return head + mac(head + ":" + settings_.realm);
}

DigestAuth::NonceState DigestAuth::check_nonce(const std::string& nonce, std::int64_t now_s,
                                               std::int64_t& issued) const {
  if (nonce.size() != nonce_hex || !is_hex(nonce)) {
    return NonceState::invalid;
  }
  std::string_view head(nonce.data(), 32);
  if (!same(mac(std::string(head) + ":" + settings_.realm), std::string_view(nonce).substr(32))) {
    return NonceState::invalid;
  }
  std::uint64_t t = 0;
  std::from_chars(nonce.data(), nonce.data() + 16, t, 16);
  issued = static_cast<std::int64_t>(t);
  if (issued > now_s + 5) {
    return NonceState::invalid;  // from the future: our clock went back, or a bug
  }
  return now_s - issued > static_cast<std::int64_t>(settings_.nonce_ttl_s) ? NonceState::expired
                                                                           : NonceState::fresh;
}

std::vector<std::string> DigestAuth::challenges(std::int64_t now_s, bool stale) {
  std::vector<std::string> out;
  for (const auto& algorithm : settings_.algorithms) {
    out.push_back("Digest realm=\"" + settings_.realm + "\", nonce=\"" + make_nonce(now_s) +
                  "\", algorithm=" + algorithm + ", qop=\"auth\"" + (stale ? ", stale=true" : ""));
  }
  return out;
}

bool DigestAuth::expected_response(const DigestCredentials& c, const AuthSecret& s, bool sha256,
                                   std::string_view method, std::string& out) const {
  std::string ha1 = sha256 ? s.ha1_sha256 : s.ha1_md5;
  if (ha1.empty() && !s.password.empty()) {
    ha1 = digest_ha1(sha256, c.username, settings_.realm, s.password);
  }
  if (ha1.empty()) {
    return false;
  }
  out = digest_response(sha256, ha1, c, method);
  return !out.empty();
}

bool DigestAuth::accept_count(const std::string& nonce, std::int64_t issued, std::uint32_t nc,
                              std::int64_t now_s) {
  auto it = counts_.find(nonce);
  if (it != counts_.end()) {
    if (nc <= it->second) {
      return false;
    }
    it->second = nc;
    return true;
  }
  if (issued <= evicted_floor_) {
    return false;  // it may have been used and forgotten: treated as a replay, never accepted
  }
  // Forget expired nonces first, then the oldest while over the bound.
  const auto ttl = static_cast<std::int64_t>(settings_.nonce_ttl_s);
  while (!order_.empty() && (now_s - order_.front().first > ttl || counts_.size() >= max_tracked)) {
    evicted_floor_ = std::max(evicted_floor_, order_.front().first);
    counts_.erase(order_.front().second);
    order_.pop_front();
  }
  if (issued <= evicted_floor_) {
    return false;
  }
  counts_.emplace(nonce, nc);
  order_.emplace_back(issued, nonce);
  return true;
}

DigestResult DigestAuth::verify(const DigestCredentials& c, std::string_view method,
                                bool uri_matches, std::int64_t now_s) {
  DigestResult r;
  if (c.username.empty() || c.nonce.empty() || c.uri.empty() || c.response.empty()) {
    r.verdict = DigestVerdict::malformed;
    return r;
  }
  if (c.realm != settings_.realm) {
    r.verdict = DigestVerdict::wrong_realm;
    return r;
  }
  const std::string algorithm = c.algorithm.empty() ? "MD5" : c.algorithm;
  const bool offered = std::any_of(settings_.algorithms.begin(), settings_.algorithms.end(),
                                   [&](const std::string& a) { return iequals(a, algorithm); });
  if (!offered || !iequals(c.qop, "auth")) {
    r.verdict = DigestVerdict::unsupported;  // also RFC 2069 answers without qop: no nc to check
    return r;
  }
  std::uint32_t nc = 0;
  auto [end, ec] = std::from_chars(c.nc.data(), c.nc.data() + c.nc.size(), nc, 16);
  if (c.nc.size() != 8 || ec != std::errc{} || end != c.nc.data() + c.nc.size() || nc == 0 ||
      c.cnonce.empty() || !uri_matches) {
    r.verdict = DigestVerdict::malformed;
    return r;
  }
  std::int64_t issued = 0;
  NonceState ns = check_nonce(c.nonce, now_s, issued);
  if (ns == NonceState::invalid) {
    r.verdict = DigestVerdict::bad_nonce;
    return r;
  }
  auto user = settings_.users.find(c.username);
  std::string want;
  if (user == settings_.users.end() ||
      !expected_response(c, user->second, iequals(algorithm, "SHA-256"), method, want) ||
      !same(want, lower(c.response))) {
    r.verdict = DigestVerdict::failed;
    return r;
  }
  if (ns == NonceState::expired) {
    r.verdict = DigestVerdict::stale;
    return r;
  }
  if (!accept_count(c.nonce, issued, nc, now_s)) {
    r.verdict = DigestVerdict::replay;
    return r;
  }
  r.verdict = DigestVerdict::ok;
  r.user = c.username;
  return r;
}

}  // namespace b2bua::sip
