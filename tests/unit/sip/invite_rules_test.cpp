// The rules a caller's INVITE must meet, on requests parsed by sofia-sip.
#include "sip/invite_rules.hpp"

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

std::string invite(const std::string& ruri, const std::string& extra, const std::string& body) {
  return "INVITE " + ruri + " SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n"
         "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\nCall-ID: x@127.0.0.1\r\n"
         "CSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContact: <sip:a@127.0.0.1:5070>\r\n" + extra +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

struct Row {
  std::string ruri;
  std::string extra;
  std::string body;
  int status;  // 0: accepted
  const char* warning;
};

}  // namespace

TEST_CASE("an INVITE is refused for a Request-URI with headers, a body that is not SDP, an Accept "
          "without SDP") {
  const std::string sdp_type = "Content-Type: application/sdp\r\n";
  const std::vector<Row> rows = {
      {"sip:b@127.0.0.1", sdp_type, sdp, 0, ""},
      {"sip:b@127.0.0.1", "", "", 0, ""},
      {"sip:b@127.0.0.1", "Content-Type: APPLICATION/SDP\r\n", sdp, 0, ""},
      {"sip:b@127.0.0.1", sdp_type + "Accept: application/sdp, text/plain\r\n", sdp, 0, ""},
      {"sip:b@127.0.0.1", sdp_type + "Accept: application/*\r\n", sdp, 0, ""},
      {"sip:b@127.0.0.1", sdp_type + "Accept: */*\r\n", sdp, 0, ""},
      {"sip:b@127.0.0.1?Route=%3Csip:127.0.0.9%3E", sdp_type, sdp, 400,
       "b2bua.sip.bad_request_uri"},
      {"sip:b@127.0.0.1", "Content-Type: application/unknownformat\r\n", "<audio/>", 415,
       "b2bua.offer.unsupported_body"},
      {"sip:b@127.0.0.1", "Content-Type: multipart/mixed;boundary=x\r\n", "--x\r\n\r\n--x--",
       415, "b2bua.offer.unsupported_body"},
      {"sip:b@127.0.0.1", sdp_type + "Accept: text/nobodyKnowsThis\r\n", sdp, 406,
       "b2bua.sdp.not_acceptable"},
      {"sip:b@127.0.0.1", "Accept: text/plain\r\n", "", 406, "b2bua.sdp.not_acceptable"},
  };
  for (const auto& row : rows) {
    const std::string text = invite(row.ruri, row.extra, row.body);
    CAPTURE(text);
    msg_t* msg = msg_make(sip_default_mclass(), 0, text.data(), static_cast<isize_t>(text.size()));
    REQUIRE(msg != nullptr);
    const sip_t* sip = sip_object(msg);
    REQUIRE(sip != nullptr);
    auto refusal = check_invite(sip);
    if (row.status == 0) {
      CHECK_FALSE(refusal.has_value());
    } else {
      REQUIRE(refusal.has_value());
      CHECK(refusal->status == row.status);
      CHECK(std::string(refusal->warning) == row.warning);
      CHECK(refusal->accept_sdp == (row.status != 400));
    }
    msg_destroy(msg);
  }
}
