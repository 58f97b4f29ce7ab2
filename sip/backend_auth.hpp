// Outbound digest credentials: which configured credential answers a backend's 401/407, the
// NUTAG_AUTH string for it, and how often a leg may answer. Sofia's URL parser, no NUA; any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace b2bua::sip {

/// Credentials b2buad answers a backend's 401/407 with (`groups.<g>.targets[].auth`).
struct BackendCredential {
  std::string uri;  ///< the backend target; matched on host and port
  std::string user;
  std::string password;
  std::string realm;  ///< "" = whatever realm the backend's challenge names
};

/// The credential for a B leg sent to `target` (a SIP URI): the first whose URI has the same host
/// (case-insensitive) and port (5060 when absent). nullptr when none or `target` is unreadable.
const BackendCredential* find_credential(const std::vector<BackendCredential>& creds,
                                         const std::string& target);

/// "Digest:\"realm\":user:password" for NUTAG_AUTH, from a challenge's scheme and realm parameter
/// (as sent, quoted or not). nullopt when the credential is for another realm or a part is missing.
std::optional<std::string> auth_string(const BackendCredential& cred, const char* scheme,
                                       const char* realm_param);

/// How often a B leg answers a backend's challenges: once per request (the INVITE, then each
/// re-INVITE, UPDATE or INFO). A second challenge in a row means the backend refused the
/// credentials: the request fails rather than loop. Any other final response on the leg ends the
/// round. One per leg, used by the SIP thread only.
class ChallengeBudget {
public:
  /// A 401/407 arrived. True (once per round): answer it with credentials.
  bool take() {
    if (spent_) {
      return false;
    }
    spent_ = true;
    return true;
  }
  /// A final response arrived on the leg; anything but a challenge ends the round.
  void settle(int status) {
    if (status >= 200 && status != 401 && status != 407) {
      spent_ = false;
    }
  }

private:
  bool spent_ = false;
};

}  // namespace b2bua::sip
