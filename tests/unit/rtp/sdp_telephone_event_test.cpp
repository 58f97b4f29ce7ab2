// telephone-event (RFC 4733) in SDP: what parse_sdp reads of it, and rewrite_sdp adding and
// stripping it per m= line.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "rtp/sdp_rewriter.hpp"

using namespace b2bua::rtp;

namespace {

const std::string head = "v=0\r\no=x 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n";

std::string with_media(const std::string& media) {
  return head + media;
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find(line + "\r\n") != std::string::npos;
}

}  // namespace

TEST_CASE("parse_sdp reads the payload types and telephone-event of each m= line") {
  struct Row {
    std::string media;
    std::vector<std::uint8_t> pts;
    std::uint32_t clock;
    int te;
    std::uint32_t te_clock;
    std::string events;
  };
  const Row rows[] = {
      {"m=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n",
       {0, 101},
       8000,
       101,
       8000,
       "0-15"},
      {"m=audio 4000 RTP/AVP 111 96\r\na=rtpmap:111 opus/48000/2\r\n"
       "a=rtpmap:96 telephone-event/48000\r\n",
       {111, 96},
       48000,
       96,
       48000,
       ""},
      {"m=audio 4000 RTP/AVP 8 97\r\na=rtpmap:97 TELEPHONE-EVENT/8000\r\n",
       {8, 97},
       8000,
       97,
       8000,
       ""},
      {"m=audio 4000 RTP/AVP 8 0\r\n", {8, 0}, 8000, -1, 0, ""},
      {"m=image 5000 udptl t38\r\n", {}, 0, -1, 0, ""},
  };
  for (const auto& r : rows) {
    CAPTURE(r.media);
    std::string error;
    auto info = parse_sdp(with_media(r.media), &error);
    REQUIRE_MESSAGE(info, error);
    REQUIRE(info->streams.size() == 1);
    const auto& s = info->streams[0];
    CHECK(s.payload_types == r.pts);
    CHECK(s.clock_rate == r.clock);
    CHECK(s.te_payload_type == r.te);
    CHECK(s.te_clock_rate == r.te_clock);
    CHECK(s.te_events == r.events);
  }
}

TEST_CASE("rewrite_sdp adds and strips telephone-event as each line's edit says") {
  using Kind = TelephoneEventEdit::Kind;
  struct Row {
    const char* what;
    std::string media;
    Kind kind;
    std::uint8_t pt;
    std::uint16_t port;  // the local port (0: the stream is disabled)
    std::string m_line;  // expected m= line
    std::vector<std::string> present;
    std::vector<std::string> absent;
  };
  const std::string pcmu_te =
      "m=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n";
  const Row rows[] = {
      {"add to a line without it",
       "m=audio 4000 RTP/AVP 0 8\r\n",
       Kind::add,
       101,
       30000,
       "m=audio 30000 RTP/AVP 0 8 101",
       {"a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16"},
       {}},
      {"add where it is declared already",
       "m=audio 4000 RTP/AVP 0 96\r\n"
       "a=rtpmap:96 telephone-event/8000\r\n",
       Kind::add,
       101,
       30000,
       "m=audio 30000 RTP/AVP 0 96",
       {"a=rtpmap:96 telephone-event/8000"},
       {"a=rtpmap:101 telephone-event/8000"}},
      {"add with a payload type taken",
       "m=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 foo/8000\r\n",
       Kind::add,
       101,
       30000,
       "m=audio 30000 RTP/AVP 0 101",
       {"a=rtpmap:101 foo/8000"},
       {"a=rtpmap:101 telephone-event/8000"}},
      {"strip with its a=fmtp",
       pcmu_te,
       Kind::strip,
       0,
       30000,
       "m=audio 30000 RTP/AVP 0",
       {},
       {"a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15"}},
      {"strip the only format: kept",
       "m=audio 4000 RTP/AVP 101\r\n"
       "a=rtpmap:101 telephone-event/8000\r\n",
       Kind::strip,
       0,
       30000,
       "m=audio 30000 RTP/AVP 101",
       {"a=rtpmap:101 telephone-event/8000"},
       {}},
      {"a disabled stream is left alone",
       pcmu_te,
       Kind::strip,
       0,
       0,
       "m=audio 0 RTP/AVP 0 101",
       {"a=rtpmap:101 telephone-event/8000"},
       {}},
      {"not RTP",
       "m=image 5000 udptl t38\r\n",
       Kind::add,
       101,
       30000,
       "m=image 30000 udptl t38",
       {},
       {"a=rtpmap:101 telephone-event/8000"}},
      {"keep",
       pcmu_te,
       Kind::keep,
       0,
       30000,
       "m=audio 30000 RTP/AVP 0 101",
       {"a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15"},
       {}},
  };
  for (const auto& r : rows) {
    CAPTURE(r.what);
    LocalStream local{r.port, 0};
    local.te.kind = r.kind;
    local.te.payload_type = r.pt;
    SdpOriginState state;
    std::string error;
    auto out = rewrite_sdp(with_media(r.media), "192.0.2.1", {local}, state, &error);
    REQUIRE_MESSAGE(out, error);
    CHECK_MESSAGE(has_line(*out, r.m_line), *out);
    for (const auto& line : r.present) {
      CHECK_MESSAGE(has_line(*out, line), line << " missing in\n" << *out);
    }
    for (const auto& line : r.absent) {
      CHECK_MESSAGE(!has_line(*out, line), line << " present in\n" << *out);
    }
    // What was printed reads back as what the edit meant.
    auto back = parse_sdp(*out, &error);
    REQUIRE_MESSAGE(back, error);
  }
}

TEST_CASE("an added telephone-event follows the clock it is given") {
  LocalStream local{30000, 0};
  local.te.kind = TelephoneEventEdit::Kind::add;
  local.te.payload_type = 100;
  local.te.clock_rate = 48000;
  local.te.events = "";
  SdpOriginState state;
  auto out = rewrite_sdp(with_media("m=audio 4000 RTP/AVP 111\r\na=rtpmap:111 opus/48000/2\r\n"),
                         "192.0.2.1", {local}, state, nullptr);
  REQUIRE(out);
  CHECK(has_line(*out, "m=audio 30000 RTP/AVP 111 100"));
  CHECK(has_line(*out, "a=rtpmap:100 telephone-event/48000"));
  CHECK(out->find("a=fmtp:100") == std::string::npos);
}
