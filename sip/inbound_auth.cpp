// InboundAuth: trusted networks, rate limiting, and the digest check of one request.
#include "sip/inbound_auth.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <strings.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include <spdlog/spdlog.h>

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/url.h>

namespace b2bua::sip {

namespace {

// The transport's peer address of a received message (what the socket saw, not Via).
std::optional<IpBytes> source_ip(msg_t* msg) {
  su_addrinfo_t* ai = msg ? msg_addrinfo(msg) : nullptr;
  if (!ai || !ai->ai_addr) {
    return std::nullopt;
  }
  IpBytes out{};
  if (ai->ai_addr->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(ai->ai_addr);
    out[10] = 0xff;
    out[11] = 0xff;
    std::memcpy(out.data() + 12, &in->sin_addr, 4);
    return out;
  }
  if (ai->ai_addr->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(ai->ai_addr);
    std::memcpy(out.data(), &in6->sin6_addr, 16);
    return out;
  }
  return std::nullopt;
}

// True when the digest uri names the Request-URI (compared as SIP URIs: scheme, user, host, port).
bool uri_matches(const std::string& digest_uri, const sip_t* sip) {
  su_home_t home[1] = {SU_HOME_INIT(home)};
  url_t* u = url_make(home, digest_uri.c_str());
  bool same = u && sip->sip_request && url_cmp(u, sip->sip_request->rq_url) == 0;
  su_home_deinit(home);
  return same;
}

}  // namespace

InboundAuth::InboundAuth(AuthSettings settings, std::string secret)
    : digest_(settings, std::move(secret)),
      limiter_(settings.max_failures, settings.failure_window_s, settings.block_s,
               settings.max_sources),
      proxy_(settings.challenge == "proxy") {
  for (const auto& net : settings.trusted) {
    if (auto c = parse_cidr(net)) {  // the config checked them; a bad one is skipped, not trusted
      trusted_.push_back(*c);
    }
  }
}

bool InboundAuth::applies(const char* method) const {
  for (const auto& m : digest_.settings().methods) {
    if (method && strcasecmp(m.c_str(), method) == 0) {
      return true;
    }
  }
  return false;
}

AuthOutcome InboundAuth::challenge(std::int64_t now_s, bool stale) {
  using R = b2bua::Refusal;
  const R r = stale ? (proxy_ ? R::auth_proxy_stale : R::auth_stale)
                    : (proxy_ ? R::auth_proxy_challenge : R::auth_challenge);
  AuthOutcome out = refuse(r, stale ? 3 : 2);
  out.challenges = digest_.challenges(now_s, stale);
  return out;
}

AuthOutcome InboundAuth::refuse(b2bua::Refusal r, std::size_t result) {
  const RefusalRow& row = row_of(r);
  AuthOutcome out;
  out.status = row.status;
  out.phrase = row.reason;
  out.warning = row.warning;
  out.result = result;
  return out;
}

void InboundAuth::count_failure(const IpBytes* src, std::int64_t now_s) {
  if (src && limiter_.record_failure(*src, now_s)) {
    char text[INET6_ADDRSTRLEN] = "?";
    const bool v4 = (*src)[10] == 0xff && (*src)[11] == 0xff &&
                    std::all_of(src->begin(), src->begin() + 10, [](auto b) { return b == 0; });
    inet_ntop(v4 ? AF_INET : AF_INET6, src->data() + (v4 ? 12 : 0), text, sizeof text);
    spdlog::warn("{}: source {} blocked for {} s after {} failures",
                 warning_id(b2bua::Refusal::auth_rate_limited), text,
                 digest_.settings().block_s, digest_.settings().max_failures);
  }
}

AuthOutcome InboundAuth::check(msg_t* msg, const sip_t* sip, std::int64_t now_s) {
  const auto src = source_ip(msg);
  for (const auto& net : trusted_) {
    if (src && net.contains(*src)) {
      AuthOutcome out;
      out.result = 1;
      return out;
    }
  }
  if (src && limiter_.blocked(*src, now_s)) {
    return refuse(b2bua::Refusal::auth_rate_limited, 7);
  }
  const msg_auth_t* list = proxy_ ? sip->sip_proxy_authorization : sip->sip_authorization;
  std::optional<DigestCredentials> mine;
  bool malformed = false;
  char buf[4097];
  for (const msg_auth_t* h = list; h && !mine; h = h->au_next) {
    if (!h->au_scheme || strcasecmp(h->au_scheme, "Digest") != 0) {
      continue;  // another scheme (Basic...): not for us, as credentials of another realm
    }
    issize_t n = msg_header_field_e(buf, sizeof buf, reinterpret_cast<const msg_header_t*>(h), 0);
    auto creds = n > 0 && static_cast<std::size_t>(n) < sizeof buf
                     ? parse_digest(std::string_view(buf, static_cast<std::size_t>(n)))
                     : std::nullopt;
    if (!creds) {
      malformed = true;
    } else if (creds->realm == digest_.settings().realm) {
      mine = std::move(creds);
    }
  }
  const IpBytes* from = src ? &*src : nullptr;
  if (!mine) {
    if (malformed) {
      count_failure(from, now_s);
      return refuse(b2bua::Refusal::auth_malformed, 6);
    }
    return challenge(now_s, false);
  }
  const char* method = sip->sip_request ? sip->sip_request->rq_method_name : "";
  DigestResult r = digest_.verify(*mine, method ? method : "", uri_matches(mine->uri, sip), now_s);
  spdlog::debug("auth: user '{}' {}", mine->username, to_string(r.verdict));
  switch (r.verdict) {
    case DigestVerdict::ok: {
      if (src) {
        limiter_.record_success(*src);
      }
      AuthOutcome out;
      out.user = r.user;
      return out;
    }
    case DigestVerdict::stale:
      return challenge(now_s, true);
    case DigestVerdict::wrong_realm:
      return challenge(now_s, false);
    case DigestVerdict::bad_nonce:
    case DigestVerdict::unsupported:
      count_failure(from, now_s);
      return challenge(now_s, false);
    case DigestVerdict::malformed:
      count_failure(from, now_s);
      return refuse(b2bua::Refusal::auth_malformed, 6);
    case DigestVerdict::replay:
      count_failure(from, now_s);
      return refuse(b2bua::Refusal::auth_replay, 5);
    case DigestVerdict::failed:
      break;
  }
  count_failure(from, now_s);
  return refuse(b2bua::Refusal::auth_failed, 4);
}

}  // namespace b2bua::sip
