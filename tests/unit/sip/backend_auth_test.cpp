// Outbound credentials: which configured credential answers a B leg's challenge, and NUA's string.
#include "sip/backend_auth.hpp"

#include <doctest/doctest.h>

using namespace b2bua::sip;

namespace {

// The user of the credential found for `target`, "" for none.
std::string user_for(const std::vector<BackendCredential>& creds, const std::string& target) {
  const BackendCredential* c = find_credential(creds, target);
  return c ? c->user : "";
}

}  // namespace

TEST_CASE("a credential is found by the target's host and port") {
  std::vector<BackendCredential> creds = {{"sip:10.0.0.5:5070", "a", "pa", ""},
                                          {"sip:PBX.example.com", "b", "pb", ""}};
  CHECK(user_for(creds, "sip:bob@10.0.0.5:5070") == "a");
  CHECK(user_for(creds, "sip:10.0.0.5:5070;transport=udp") == "a");
  CHECK(user_for(creds, "sip:bob@10.0.0.5:5071").empty());
  CHECK(user_for(creds, "sip:bob@10.0.0.5").empty());
  CHECK(user_for(creds, "sip:carol@pbx.example.com:5060") == "b");  // default port
  CHECK(user_for(creds, "not a uri at all").empty());
  CHECK(user_for({}, "sip:10.0.0.5:5070").empty());
}

TEST_CASE("the NUA auth string names the challenge's realm, and only a configured one") {
  BackendCredential any{"sip:h", "b2b", "p:w", ""};
  CHECK(*auth_string(any, "Digest", "\"backend.test\"") == "Digest:\"backend.test\":b2b:p:w");
  CHECK(*auth_string(any, "Digest", "bare") == "Digest:\"bare\":b2b:p:w");
  BackendCredential pinned{"sip:h", "b2b", "pw", "backend.test"};
  CHECK(auth_string(pinned, "Digest", "\"backend.test\""));
  CHECK_FALSE(auth_string(pinned, "Digest", "\"other\""));
  CHECK_FALSE(auth_string(any, "Digest", nullptr));
  CHECK_FALSE(auth_string(any, nullptr, "\"r\""));
  CHECK_FALSE(auth_string(any, "Digest", "\"\""));
}

TEST_CASE("a leg answers one challenge per request, each mid-call request again") {
  ChallengeBudget budget;
  CHECK(budget.take());        // the INVITE's 401: credentials go out
  budget.settle(401);          // ... and the retry is challenged again
  CHECK_FALSE(budget.take());  // refused credentials: the INVITE fails, no loop
  budget.settle(200);          // a later request of the leg succeeds (or fails otherwise)
  CHECK(budget.take());        // the re-INVITE's 407 is answered
  budget.settle(200);
  budget.settle(180);          // provisional responses change nothing
  CHECK(budget.take());        // the INFO's challenge too
  budget.settle(407);
  CHECK_FALSE(budget.take());
  budget.settle(488);          // an error that is not a challenge also ends the round
  CHECK(budget.take());
}
