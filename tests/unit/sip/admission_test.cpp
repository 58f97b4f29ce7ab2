// Admission of a caller's INVITE: the checks before authentication, in their order, and the
// capacity check after it, on requests parsed by sofia-sip.
#include "sip/admission.hpp"

#include <string>
#include <vector>

#include <doctest/doctest.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_parser.h>

using namespace b2bua::sip;

namespace {

const std::string sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                        "m=audio 4000 RTP/AVP 0\r\n";

// An INVITE whose header lines are `headers` (each with its CRLF); "" for the default set.
std::string invite(const std::string& ruri, const std::string& headers, const std::string& body) {
  return "INVITE " + ruri + " SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n" +
         headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

const std::string from = "From: <sip:a@127.0.0.1>;tag=1\r\n";
const std::string to = "To: <sip:b@127.0.0.1>\r\n";
const std::string call_id = "Call-ID: x@127.0.0.1\r\n";
const std::string cseq = "CSeq: 1 INVITE\r\n";
const std::string contact = "Contact: <sip:a@127.0.0.1:5070>\r\n";
const std::string sdp_type = "Content-Type: application/sdp\r\n";
const std::string base = from + to + call_id + cseq + contact + sdp_type;

struct Row {
  const char* what;
  std::string ruri;
  std::string headers;
  std::string body;
  bool draining;
  int status;  // 0: admitted
  const char* warning;
  bool retry_after;
  int max_forwards;
  bool needs_lookup;
};

}  // namespace

TEST_CASE("a caller's INVITE is checked for form, draining, hops, loops, content and target, in "
          "that order") {
  const std::string ruri = "sip:b@127.0.0.1";
  const std::vector<Row> rows = {
      {"a good INVITE", ruri, base, sdp, false, 0, "", false, 70, false},
      {"Max-Forwards is read", ruri, base + "Max-Forwards: 12\r\n", sdp, false, 0, "", false, 12,
       false},
      {"a Contact host name needs a lookup", ruri,
       from + to + call_id + cseq + "Contact: <sip:a@caller.example.com>\r\n", "", false, 0, "",
       false, 70, true},
      {"no From", ruri, to + call_id + cseq + contact, "", false, 400, "b2bua.sip.bad_request",
       false, 70, false},
      {"no To", ruri, from + call_id + cseq + contact, "", false, 400, "b2bua.sip.bad_request",
       false, 70, false},
      {"no Call-ID", ruri, from + to + cseq + contact, "", false, 400, "b2bua.sip.bad_request",
       false, 70, false},
      {"no From, while draining: form first", ruri, to + call_id + cseq + contact, "", true, 400,
       "b2bua.sip.bad_request", false, 70, false},
      {"draining", ruri, base, sdp, true, 503, "b2bua.draining", true, 70, false},
      {"draining wins over Max-Forwards 0", ruri, base + "Max-Forwards: 0\r\n", sdp, true, 503,
       "b2bua.draining", true, 70, false},
      {"Max-Forwards 0", ruri, base + "Max-Forwards: 0\r\n", sdp, false, 483,
       "b2bua.sip.too_many_hops", false, 0, false},
      {"Max-Forwards 0 wins over a loop", ruri,
       from + to + "Call-ID: ours-1\r\n" + cseq + contact + "Max-Forwards: 0\r\n", "", false, 483,
       "b2bua.sip.too_many_hops", false, 0, false},
      {"a Call-ID of ours", ruri, from + to + "Call-ID: ours-1\r\n" + cseq + contact, "", false,
       482, "b2bua.sip.loop", false, 70, false},
      {"a Request-URI with headers", "sip:b@127.0.0.1?Route=%3Csip:127.0.0.9%3E", base, sdp,
       false, 400, "b2bua.sip.bad_request_uri", false, 70, false},
      {"a body that is not SDP", ruri,
       from + to + call_id + cseq + contact + "Content-Type: text/plain\r\n", "hello", false, 415,
       "b2bua.offer.unsupported_body", false, 70, false},
      {"an Accept without SDP", ruri, base + "Accept: text/plain\r\n", sdp, false, 406,
       "b2bua.sdp.not_acceptable", false, 70, false},
      {"no Contact", ruri, from + to + call_id + cseq, "", false, 400, "b2bua.sip.bad_contact",
       false, 70, false},
      {"a tel: Contact", ruri, from + to + call_id + cseq + "Contact: <tel:+123>\r\n", "", false,
       400, "b2bua.sip.bad_contact", false, 70, false},
      {"a Contact: *", ruri, from + to + call_id + cseq + "Contact: *\r\n", "", false, 400,
       "b2bua.sip.bad_contact", false, 70, false},
      {"a Record-Route to nowhere", ruri, base + "Record-Route: <tel:+1>\r\n", sdp, false, 400,
       "b2bua.sip.bad_record_route", false, 70, false},
  };
  const std::unordered_set<std::string> ours = {"ours-1"};
  for (const auto& row : rows) {
    CAPTURE(row.what);
    const std::string text = invite(row.ruri, row.headers, row.body);
    msg_t* msg = msg_make(sip_default_mclass(), 0, text.data(), static_cast<isize_t>(text.size()));
    REQUIRE(msg != nullptr);
    const Admission got = admit_invite(sip_object(msg), row.draining, ours);
    if (row.status == 0) {
      CHECK_FALSE(got.refusal.has_value());
      CHECK(got.max_forwards == row.max_forwards);
      CHECK(got.target.ok());
      CHECK(got.target.needs_lookup == row.needs_lookup);
    } else {
      REQUIRE(got.refusal.has_value());
      CHECK(got.refusal->status == row.status);
      CHECK(std::string(got.refusal->warning) == row.warning);
      CHECK(got.refusal->retry_after == row.retry_after);
      CHECK(got.refusal->accept_sdp == (row.status == 415 || row.status == 406));
    }
    msg_destroy(msg);
  }
  CHECK(admit_invite(nullptr, false, ours).refusal->status == 400);
}

TEST_CASE("the contact refusals name what is wrong") {
  const std::unordered_set<std::string> none;
  const std::string missing = invite("sip:b@127.0.0.1", from + to + call_id + cseq, "");
  msg_t* msg = msg_make(sip_default_mclass(), 0, missing.data(),
                        static_cast<isize_t>(missing.size()));
  REQUIRE(msg != nullptr);
  CHECK(std::string(admit_invite(sip_object(msg), false, none).refusal->phrase) ==
        "Missing Contact");
  msg_destroy(msg);
  const std::string bad =
      invite("sip:b@127.0.0.1", from + to + call_id + cseq + "Contact: <tel:+1>\r\n", "");
  msg = msg_make(sip_default_mclass(), 0, bad.data(), static_cast<isize_t>(bad.size()));
  REQUIRE(msg != nullptr);
  CHECK(std::string(admit_invite(sip_object(msg), false, none).refusal->phrase) == "Bad Contact");
  msg_destroy(msg);
}

TEST_CASE("capacity: at max_calls a new call gets 503 with Retry-After") {
  struct Row {
    std::uint64_t active;
    std::uint64_t max;
    bool refused;
  };
  const std::vector<Row> rows = {{0, 1, false}, {9, 10, false}, {10, 10, true}, {11, 10, true},
                                 {0, 0, true}};
  for (const auto& row : rows) {
    CAPTURE(row.active);
    CAPTURE(row.max);
    auto got = admit_capacity(row.active, row.max);
    CHECK(got.has_value() == row.refused);
    if (got) {
      CHECK(got->status == 503);
      CHECK(std::string(got->warning) == "b2bua.limits.max_calls");
      CHECK(got->retry_after);
    }
  }
}
