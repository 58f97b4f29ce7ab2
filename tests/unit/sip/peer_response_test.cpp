// Response mapping: a peer's response to b2buad's INVITE, re-INVITE/UPDATE or INFO as the
// LegEvent its leg actor hears, and the copy made of sofia's parsed response.
#include "sip/peer_response.hpp"

#include <string>
#include <vector>

#include <doctest/doctest.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_parser.h>

using namespace b2bua;
using namespace b2bua::sip;

namespace {

const std::string sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                        "m=audio 4000 RTP/AVP 0\r\n";

PeerResponse response(int status, bool from_peer = true, std::string body = {}, bool rseq = false,
                      std::uint32_t retry_after = 0) {
  PeerResponse r;
  r.status = status;
  r.phrase = "Phrase";
  r.from_peer = from_peer;
  r.sdp = std::move(body);
  r.rseq = rseq;
  r.retry_after = retry_after;
  if (from_peer) {
    r.from_tag = "ours";
    r.to_tag = "theirs";
  }
  return r;
}

struct InviteRow {
  const char* what;
  PeerResponse r;
  bool heard;
  LegEventKind kind;
  int status;
  const char* reason;
  const char* warning;
  bool reliable;
  bool with_sdp;
  std::uint32_t retry_after;
};

}  // namespace

TEST_CASE("a callee's response to the INVITE becomes trying, ringing, early_media, answered or "
          "failed") {
  using K = LegEventKind;
  const std::vector<InviteRow> rows = {
      {"100", response(100), false, K::trying, 100, "Phrase", "", false, false, 0},
      {"180", response(180), false, K::ringing, 180, "Phrase", "", false, false, 0},
      {"183 with SDP", response(183, true, sdp), false, K::early_media, 183, "Phrase", "", false,
       true, 0},
      {"reliable 180", response(180, true, "", true), false, K::ringing, 180, "Phrase", "", true,
       false, 0},
      {"reliable 183 with SDP", response(183, true, sdp, true), true, K::early_media, 183,
       "Phrase", "", true, true, 0},
      {"200 with SDP", response(200, true, sdp), true, K::answered, 200, "Phrase", "", false, true,
       0},
      {"486 with Retry-After", response(486, true, "", false, 30), true, K::failed, 486, "Phrase",
       "", false, false, 30},
      {"a failure drops its SDP", response(488, true, sdp), true, K::failed, 488, "Phrase", "",
       false, false, 0},
      {"408 after a provisional: the callee's", response(408), true, K::failed, 408, "Phrase", "",
       false, false, 0},
      {"408 before any provisional: NTA's timeout", response(408), false, K::failed, 408,
       "Phrase", "b2bua.target.timeout", false, false, 0},
      {"408 without a message", response(408, false), true, K::failed, 408, "Phrase",
       "b2bua.target.timeout", false, false, 0},
      {"503 without a message: unreachable", response(503, false), true, K::failed, 503, "Phrase",
       "b2bua.target.unreachable", false, false, 0},
      {"NUA's 900", response(900, false), false, K::failed, 500, "Server Internal Error",
       "b2bua.target.unreachable", false, false, 0},
      {"a 7xx from a peer", response(799), true, K::failed, 500, "Server Internal Error", "",
       false, false, 0},
      {"401 not answered", response(401), true, K::failed, 403, "Forbidden",
       "b2bua.target.auth_failed", false, false, 0},
      {"407 not answered", response(407), true, K::failed, 403, "Forbidden",
       "b2bua.target.auth_failed", false, false, 0},
  };
  for (const auto& row : rows) {
    CAPTURE(row.what);
    const LegEvent ev = invite_response_event(7, row.r, row.heard);
    CHECK(ev.leg == 7);
    CHECK(ev.kind == row.kind);
    CHECK(ev.status == row.status);
    CHECK(ev.reason == row.reason);
    CHECK(ev.warning == row.warning);
    CHECK(ev.reliable == row.reliable);
    CHECK(ev.sdp == (row.with_sdp ? sdp : std::string()));
    CHECK(ev.retry_after == row.retry_after);
    CHECK(ev.local_tag == (row.r.from_peer ? "ours" : ""));
    CHECK(ev.remote_tag == (row.r.from_peer ? "theirs" : ""));
  }
}

TEST_CASE("the final response to our re-INVITE or UPDATE becomes a reanswer") {
  struct Row {
    const char* what;
    bool update;
    PeerResponse r;
    DialogUse use;
    int status;
    const char* warning;
    std::uint32_t retry_after;
    bool ended;
  };
  const DialogUse up{true, false};
  const std::vector<Row> rows = {
      {"200 with the answer", false, response(200, true, sdp), up, 200, "", 0, false},
      {"491 from the peer", false, response(491, true, "", false, 5), up, 491, "", 5, false},
      {"NUA's own 491", true, response(491, false), up, 491, "", 0, false},
      {"488 keeps the dialog", false, response(488), up, 488, "", 0, false},
      {"408 without a message", false, response(408, false), up, 408, "b2bua.dialog.ended", 0,
       true},
      {"503 without a message", true, response(503, false), up, 503, "b2bua.target.unreachable",
       0, false},
      {"481 ends the dialog", false, response(481), up, 481, "b2bua.dialog.ended", 0, true},
      {"481 to an UPDATE ends it too", true, response(481), up, 481, "b2bua.dialog.ended", 0,
       true},
      {"481 after our BYE: nothing to end", false, response(481), DialogUse{true, true}, 481, "",
       0, false},
      {"481 in an early dialog: not ended here", true, response(481), DialogUse{false, false},
       481, "", 0, false},
      {"407 not answered", false, response(407), up, 403, "b2bua.target.auth_failed", 0, false},
      {"NUA's 904", true, response(904, false), up, 500, "b2bua.target.unreachable", 0, false},
  };
  for (const auto& row : rows) {
    CAPTURE(row.what);
    const DialogResponse out = reoffer_response_event(3, row.update, row.r, row.use);
    CHECK(out.event.kind == LegEventKind::reanswer);
    CHECK(out.event.method == (row.update ? "UPDATE" : "INVITE"));
    CHECK(out.event.status == row.status);
    CHECK(out.event.warning == row.warning);
    CHECK(out.event.retry_after == row.retry_after);
    CHECK(out.event.sdp == row.r.sdp);
    CHECK(out.dialog_ended == row.ended);
  }
}

TEST_CASE("the final response to our INFO becomes an info event") {
  const DialogUse up{true, false};
  DialogResponse ok = info_response_event(4, response(200), up);
  CHECK(ok.event.kind == LegEventKind::info);
  CHECK(ok.event.status == 200);
  CHECK_FALSE(ok.dialog_ended);
  DialogResponse gone = info_response_event(4, response(481), up);
  CHECK(gone.dialog_ended);
  CHECK(gone.event.warning == "b2bua.dialog.ended");
  DialogResponse internal = info_response_event(4, response(903, false), up);
  CHECK(internal.event.status == 500);
  CHECK(internal.event.reason == "Phrase");  // the phrase NUA gave is kept
  CHECK_FALSE(internal.dialog_ended);
  DialogResponse challenged = info_response_event(4, response(401), up);
  CHECK(challenged.event.status == 403);
  CHECK(challenged.event.warning == "b2bua.target.auth_failed");
  CHECK(info_response_event(4, response(415), up).event.status == 415);
}

TEST_CASE("ends_dialog follows RFC 5057 only for an established dialog we have not ended") {
  struct Row {
    bool answered;
    bool bye_sent;
    int status;
    sip_method_t method;
    bool ended;
  };
  const std::vector<Row> rows = {
      {true, false, 200, sip_method_invite, false}, {true, false, 481, sip_method_invite, true},
      {true, false, 408, sip_method_info, true},    {true, false, 404, sip_method_update, true},
      {true, false, 491, sip_method_invite, false}, {true, false, 488, sip_method_invite, false},
      {true, false, 900, sip_method_invite, false}, {false, false, 481, sip_method_invite, false},
      {true, true, 481, sip_method_invite, false},  {true, false, 501, sip_method_info, false},
  };
  for (const auto& row : rows) {
    CAPTURE(row.status);
    CHECK(ends_dialog(row.answered, row.bye_sent, row.status, row.method) == row.ended);
  }
}

TEST_CASE("peer_response copies status, tags, RSeq, SDP and a capped Retry-After") {
  struct Row {
    std::string extra;
    std::string body;
    bool rseq;
    bool with_sdp;
    std::uint32_t retry_after;
  };
  const std::vector<Row> rows = {
      {"", "", false, false, 0},
      {"RSeq: 1\r\nContent-Type: application/sdp\r\n", sdp, true, true, 0},
      {"Content-Type: text/plain\r\n", "hello", false, false, 0},
      {"Retry-After: 120\r\n", "", false, false, 120},
      {"Retry-After: 86400\r\n", "", false, false, 3600},
  };
  for (const auto& row : rows) {
    const std::string text =
        "SIP/2.0 183 Session Progress\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\n"
        "From: <sip:a@127.0.0.1>;tag=ours\r\nTo: <sip:b@127.0.0.1>;tag=theirs\r\n"
        "Call-ID: x@127.0.0.1\r\nCSeq: 1 INVITE\r\n" +
        row.extra + "Content-Length: " + std::to_string(row.body.size()) + "\r\n\r\n" + row.body;
    CAPTURE(text);
    msg_t* msg = msg_make(sip_default_mclass(), 0, text.data(), static_cast<isize_t>(text.size()));
    REQUIRE(msg != nullptr);
    const PeerResponse r = peer_response(183, "Session Progress", sip_object(msg));
    CHECK(r.status == 183);
    CHECK(r.phrase == "Session Progress");
    CHECK(r.from_peer);
    CHECK(r.rseq == row.rseq);
    CHECK(r.sdp == (row.with_sdp ? sdp : std::string()));
    CHECK(r.retry_after == row.retry_after);
    CHECK(r.from_tag == "ours");
    CHECK(r.to_tag == "theirs");
    msg_destroy(msg);
  }
  const PeerResponse none = peer_response(408, nullptr, nullptr);
  CHECK_FALSE(none.from_peer);
  CHECK(none.phrase.empty());
}
