// Outbound digest credentials: matching a B leg's target and building NUA's auth string.
#include "sip/backend_auth.hpp"

#include <strings.h>

#include <sofia-sip/su_alloc.h>
#include <sofia-sip/url.h>

namespace b2bua::sip {

namespace {

// The port of a SIP URI, with the scheme's default when it has none (url_port gives "").
std::string port_of(const url_t* u) {
  const char* p = url_port(u);
  return p && *p ? p : (u->url_type == url_sips ? "5061" : "5060");
}

}  // namespace

const BackendCredential* find_credential(const std::vector<BackendCredential>& creds,
                                         const std::string& target) {
  su_home_t home[1] = {SU_HOME_INIT(home)};
  const BackendCredential* found = nullptr;
  url_t* t = url_make(home, target.c_str());
  for (const auto& cred : creds) {
    if (!t || !t->url_host) {
      break;
    }
    url_t* u = url_make(home, cred.uri.c_str());
    if (u && u->url_host && strcasecmp(u->url_host, t->url_host) == 0 && port_of(u) == port_of(t)) {
      found = &cred;
      break;
    }
  }
  su_home_deinit(home);
  return found;
}

std::optional<std::string> auth_string(const BackendCredential& cred, const char* scheme,
                                       const char* realm_param) {
  if (!scheme || !*scheme || !realm_param) {
    return std::nullopt;
  }
  std::string realm = realm_param;
  if (realm.size() >= 2 && realm.front() == '"' && realm.back() == '"') {
    realm = realm.substr(1, realm.size() - 2);
  }
  if (realm.empty() || (!cred.realm.empty() && cred.realm != realm)) {
    return std::nullopt;
  }
  return std::string(scheme) + ":\"" + realm + "\":" + cred.user + ":" + cred.password;
}

}  // namespace b2bua::sip
