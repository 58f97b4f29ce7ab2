// Outbound digest credentials: which configured credential answers a backend's 401/407, and the
// NUTAG_AUTH string for it. Sofia's URL parser, no NUA; any thread.
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

}  // namespace b2bua::sip
