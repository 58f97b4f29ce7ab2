// InboundAuth: the SIP thread's admission check for out-of-dialog requests that must be
// authenticated (auth.methods). Decides from the request and its real source address (not Via):
// trusted network -> through; blocked source -> 403; no or foreign-realm credentials -> challenge;
// otherwise DigestAuth's verdict. Sofia thread only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>

#include "actors/protocol/refusal.hpp"
#include "sip/auth_guard.hpp"
#include "sip/digest_auth.hpp"

namespace b2bua::sip {

struct AuthOutcome {
  // 0: let the request through; else the response to send (a row of the refusal table).
  int status = 0;
  const char* phrase = "";
  std::string warning;                  ///< Warning id, e.g. "b2bua.auth.challenge"
  std::vector<std::string> challenges;  ///< WWW-/Proxy-Authenticate values (401/407)
  std::string user;                     ///< the authenticated user ("" when trusted)
  std::size_t result = 0;               ///< index into auth_result_names (sip_stack.hpp)
};

class InboundAuth {
 public:
  explicit InboundAuth(AuthSettings settings, std::string secret = {});

  /// True when requests of `method` are challenged.
  bool applies(const char* method) const;

  /// The verdict on one request; `msg` gives the source address. `now_s`: seconds since the epoch.
  AuthOutcome check(msg_t* msg, const sip_t* sip, std::int64_t now_s);

  /// "Proxy-Authenticate" or "WWW-Authenticate".
  const char* challenge_header() const {
    return proxy_ ? "Proxy-Authenticate" : "WWW-Authenticate";
  }

 private:
  AuthOutcome challenge(std::int64_t now_s, bool stale);
  AuthOutcome refuse(b2bua::Refusal r, std::size_t result);
  void count_failure(const IpBytes* src, std::int64_t now_s);

  DigestAuth digest_;
  std::vector<Cidr> trusted_;
  FailureLimiter limiter_;
  bool proxy_ = false;
};

}  // namespace b2bua::sip
