// Unit tests of the SDP module: what parse_sdp reads, what rewrite_sdp prints line by line, o=
// versions, and that malformed input of any kind is refused with one line instead of a crash.
#include "rtp/sdp_rewriter.hpp"

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <doctest/doctest.h>

using namespace b2bua::rtp;

namespace {

// SDP text from lines, each ended by CRLF.
std::string sdp(std::initializer_list<std::string> lines) {
  std::string out;
  for (const auto& line : lines) {
    out += line;
    out += "\r\n";
  }
  return out;
}

std::string describe(const SdpStream& s) {
  return s.media + " " + s.protocol + " addr=" + s.address + (s.ipv6 ? " v6" : " v4") +
         " port=" + std::to_string(s.port) + " rtcp=" + std::to_string(s.rtcp_port) +
         (s.rtcp_mux ? " mux" : "") + " " + s.direction + (s.hold_zero_address ? " hold0" : "");
}

std::string describe(const SdpInfo& info) {
  std::string out = "o=" + info.origin_session_id + "/" + std::to_string(info.origin_version);
  for (const auto& s : info.streams) {
    out += " | " + describe(s);
  }
  return out;
}

bool one_printable_line(const std::string& text) {
  if (text.empty()) {
    return false;
  }
  for (const char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return false;
    }
  }
  return true;
}

// Output is well-formed SDP text: every line ends with CRLF and there is no stray CR or LF.
bool crlf_lines(const std::string& text) {
  if (text.size() < 2 || text.substr(text.size() - 2) != "\r\n") {
    return false;
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && (i + 1 >= text.size() || text[i + 1] != '\n')) {
      return false;
    }
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) {
      return false;
    }
  }
  return true;
}

const std::string typical_offer = sdp({
    "v=0",
    "o=alice 2890844526 2890844527 IN IP4 198.51.100.7",
    "s=Talk",
    "c=IN IP4 198.51.100.7",
    "t=0 0",
    "m=audio 49170 RTP/AVP 0 8 101",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:101 telephone-event/8000",
    "a=fmtp:101 0-16",
    "a=ptime:20",
    "a=sendrecv",
});

const std::string ours = "203.0.113.5";

std::optional<std::string> rewrite_fresh(const std::string& text, const std::string& address,
                                         const std::vector<LocalStream>& local,
                                         std::string* error = nullptr) {
  SdpOriginState state;
  return rewrite_sdp(text, address, local, state, error);
}

}  // namespace

TEST_CASE("parse_sdp reads every shape of SDP that phones send") {
  struct Row {
    const char* name;
    std::string text;
    std::string expected;
  };
  const Row rows[] = {
      {"one audio stream with a session-level c=", typical_offer,
       "o=2890844526/2890844527 | audio RTP/AVP addr=198.51.100.7 v4 port=49170 rtcp=49171 "
       "sendrecv"},
      {"several m= lines, one rejected with port 0",
       sdp({"v=0", "o=- 1 2 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0",
            "m=audio 5004 RTP/AVP 0", "m=video 0 RTP/AVP 31", "m=audio 5008 RTP/AVP 8"}),
       "o=1/2 | audio RTP/AVP addr=192.0.2.1 v4 port=5004 rtcp=5005 sendrecv"
       " | video RTP/AVP addr=192.0.2.1 v4 port=0 rtcp=0 sendrecv"
       " | audio RTP/AVP addr=192.0.2.1 v4 port=5008 rtcp=5009 sendrecv"},
      {"a media-level c= overrides the session-level one",
       sdp({"v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0",
            "m=audio 5004 RTP/AVP 0", "c=IN IP4 192.0.2.2", "m=video 5006 RTP/AVP 31"}),
       "o=1/1 | audio RTP/AVP addr=192.0.2.2 v4 port=5004 rtcp=5005 sendrecv"
       " | video RTP/AVP addr=192.0.2.1 v4 port=5006 rtcp=5007 sendrecv"},
      {"media-level c= only, and a rejected stream without any c=",
       sdp({"v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "t=0 0", "m=audio 5004 RTP/AVP 0",
            "c=IN IP4 192.0.2.2", "m=video 0 RTP/AVP 31"}),
       "o=1/1 | audio RTP/AVP addr=192.0.2.2 v4 port=5004 rtcp=5005 sendrecv"
       " | video RTP/AVP addr= v4 port=0 rtcp=0 sendrecv"},
      {"IPv6 connection addresses",
       sdp({"v=0", "o=- 7 7 IN IP6 2001:db8::7", "s=-", "c=IN IP6 2001:db8::1", "t=0 0",
            "m=audio 5004 RTP/AVP 0"}),
       "o=7/7 | audio RTP/AVP addr=2001:db8::1 v6 port=5004 rtcp=5005 sendrecv"},
      {"a=rtcp-mux",
       sdp({"v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0",
            "m=audio 5004 RTP/SAVPF 111", "a=rtpmap:111 opus/48000/2", "a=rtcp-mux"}),
       "o=1/1 | audio RTP/SAVPF addr=192.0.2.1 v4 port=5004 rtcp=5005 mux sendrecv"},
      {"a=rtcp with a port and an address (RFC 3605)",
       sdp({"v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0",
            "m=audio 49170 RTP/AVP 0", "a=rtcp:53020 IN IP4 126.16.64.4"}),
       "o=1/1 | audio RTP/AVP addr=192.0.2.1 v4 port=49170 rtcp=53020 sendrecv"},
      {"a=rtcp with a port only",
       sdp({"v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0",
            "m=audio 49170 RTP/AVP 0", "a=rtcp:53020"}),
       "o=1/1 | audio RTP/AVP addr=192.0.2.1 v4 port=49170 rtcp=53020 sendrecv"},
      {"a malformed a=rtcp falls back to port+1",
       sdp({"v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0",
            "m=audio 49170 RTP/AVP 0", "a=rtcp:70000"}),
       "o=1/1 | audio RTP/AVP addr=192.0.2.1 v4 port=49170 rtcp=49171 sendrecv"},
      {"port 65535 has no port+1 for RTCP",
       sdp({"v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0",
            "m=audio 65535 RTP/AVP 0"}),
       "o=1/1 | audio RTP/AVP addr=192.0.2.1 v4 port=65535 rtcp=0 sendrecv"},
      {"bandwidth lines at session and media level",
       sdp({"v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "b=CT:384",
            "b=TIAS:64000", "t=0 0", "m=audio 5004 RTP/AVP 0", "b=AS:64", "b=RR:800"}),
       "o=1/1 | audio RTP/AVP addr=192.0.2.1 v4 port=5004 rtcp=5005 sendrecv"},
      {"o= numbers above 2^32",
       sdp({"v=0", "o=- 8589934592 9223372036854775807 IN IP4 192.0.2.1", "s=-",
            "c=IN IP4 192.0.2.1", "t=0 0", "m=audio 5004 RTP/AVP 0"}),
       "o=8589934592/9223372036854775807 | audio RTP/AVP addr=192.0.2.1 v4 port=5004 rtcp=5005 "
       "sendrecv"},
      {"missing s= and t= (sofia is lax, so are we)",
       sdp({"v=0", "o=- 1 1 IN IP4 192.0.2.1", "c=IN IP4 192.0.2.1", "m=audio 5004 RTP/AVP 0"}),
       "o=1/1 | audio RTP/AVP addr=192.0.2.1 v4 port=5004 rtcp=5005 sendrecv"},
      {"LF endings, blank and whitespace-only lines, surrounding blanks",
       "\nv=0\n  o=- 1 1 IN IP4 192.0.2.1  \n\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"
       "m=audio 5004 RTP/AVP 0\n \t \na=sendonly \n\n",
       "o=1/1 | audio RTP/AVP addr=192.0.2.1 v4 port=5004 rtcp=5005 sendonly"},
      {"a session-level direction applies unless the media says otherwise",
       sdp({"v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0", "a=sendonly",
            "m=audio 5004 RTP/AVP 0", "m=video 5006 RTP/AVP 31", "a=INACTIVE",
            "m=audio 5008 RTP/AVP 0", "a=recvonly"}),
       "o=1/1 | audio RTP/AVP addr=192.0.2.1 v4 port=5004 rtcp=5005 sendonly"
       " | video RTP/AVP addr=192.0.2.1 v4 port=5006 rtcp=5007 inactive"
       " | audio RTP/AVP addr=192.0.2.1 v4 port=5008 rtcp=5009 recvonly"},
      {"old-style hold with c=IN IP4 0.0.0.0",
       sdp({"v=0", "o=- 1 2 IN IP4 192.0.2.1", "s=-", "c=IN IP4 0.0.0.0", "t=0 0",
            "m=audio 5004 RTP/AVP 0"}),
       "o=1/2 | audio RTP/AVP addr=0.0.0.0 v4 port=5004 rtcp=5005 sendrecv hold0"},
      {"other media and transports pass through",
       sdp({"v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0",
            "m=image 6000 udptl t38", "m=application 9 UDP/DTLS/SCTP webrtc-datachannel"}),
       "o=1/1 | image udptl addr=192.0.2.1 v4 port=6000 rtcp=6001 sendrecv"
       " | application UDP/DTLS/SCTP addr=192.0.2.1 v4 port=9 rtcp=10 sendrecv"},
  };
  for (const auto& row : rows) {
    INFO(std::string(row.name));
    std::string error;
    const auto info = parse_sdp(row.text, &error);
    REQUIRE_MESSAGE(info.has_value(), error);
    CHECK(describe(*info) == row.expected);
    CHECK(error.empty());

    // Whatever parses also rewrites into SDP that parses again, on our address and ports.
    std::vector<LocalStream> local;
    for (std::size_t i = 0; i < info->streams.size(); ++i) {
      local.push_back({static_cast<std::uint16_t>(30000 + 2 * i), 0});
    }
    const auto out = rewrite_fresh(row.text, ours, local, &error);
    REQUIRE_MESSAGE(out.has_value(), error);
    CHECK(crlf_lines(*out));
    const auto again = parse_sdp(*out, &error);
    REQUIRE_MESSAGE(again.has_value(), error);
    REQUIRE(again->streams.size() == info->streams.size());
    for (std::size_t i = 0; i < info->streams.size(); ++i) {
      const auto& before = info->streams[i];
      const auto& after = again->streams[i];
      CHECK(after.port == (before.port == 0 ? 0 : local[i].port));
      if (before.port != 0) {
        CHECK(after.address == (before.hold_zero_address ? "0.0.0.0" : ours));
        CHECK(after.rtcp_port == local[i].port + 1);
      }
      CHECK(after.direction == before.direction);
      CHECK(after.media == before.media);
      CHECK(after.rtcp_mux == before.rtcp_mux);
    }
  }
}

TEST_CASE("parse_sdp and rewrite_sdp refuse unusable SDP with one line") {
  const std::string head =
      "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n";
  std::string with_nul = typical_offer;
  with_nul[30] = '\0';
  struct Row {
    const char* name;
    std::string text;
    const char* error_contains;
  };
  const Row rows[] = {
      {"empty body", "", "empty"},
      {"only v=0", "v=0\r\n", "o="},
      {"no m= line", head, "no m= line"},
      {"first line is not v=0", "o=- 1 1 IN IP4 192.0.2.1\r\nv=0\r\nm=audio 1 RTP/AVP 0\r\n",
       "bad SDP"},
      {"no connection address for a stream with a port",
       "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio 5004 RTP/AVP 0\r\n", "c="},
      {"port above 65535", head + "m=audio 70000 RTP/AVP 0\r\n", "out of range"},
      {"m= line without formats", head + "m=audio 5004 RTP/AVP\r\n", "m= line"},
      // sofia-sip 1.12 allocates in a loop until memory runs out on this one.
      {"m= format that is not a token", head + "m=application 9 TCP/MSRP /x\r\n", "m= line"},
      {"non-numeric RTP payload type", head + "m=audio 5004 RTP/AVP 0 abc\r\n", "m="},
      // sofia-sip 1.12 reads past the end of a one-character line.
      {"one-character line", head + "m=audio 5004 RTP/AVP 0\r\nx", "malformed line"},
      {"NUL byte inside the body", with_nul, "NUL"},
      {"unknown network type",
       "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\nc=ATM NSAP 47.0091\r\n"
       "m=audio 5004 RTP/AVP 0\r\n",
       "address"},
      {"truncated in the o= line", "v=0\r\no=alice 28908", "session version"},
      {"truncated in the m= line", head + "m=audio 5004", "m= line"},
      {"random words", "hello world\r\nthis is not sdp\r\n", "bad SDP"},
      {"1 MB of junk", std::string(1 << 20, 'x'), "larger than"},
      {"control characters in a bad line", std::string("v=0\r\n\x01\x02\x7f\xff=1\r\n"), ""},
  };
  for (const auto& row : rows) {
    INFO(std::string(row.name));
    std::string error;
    CHECK_FALSE(parse_sdp(row.text, &error).has_value());
    CHECK(one_printable_line(error));
    CHECK_MESSAGE(error.find(row.error_contains) != std::string::npos, error);

    SdpOriginState state;
    state.session_id = "42";
    const SdpOriginState before = state;
    error.clear();
    CHECK_FALSE(rewrite_sdp(row.text, ours, {{1000, 0}, {1002, 0}}, state, &error).has_value());
    CHECK(one_printable_line(error));
    CHECK(state.initialised == before.initialised);
    CHECK(state.session_id == before.session_id);
    CHECK(state.last_body.empty());
  }
  // A null error pointer is allowed.
  CHECK_FALSE(parse_sdp("", nullptr).has_value());
}

TEST_CASE("random and mutated bytes never crash and never yield broken SDP") {
  std::mt19937 rng(20240611);  // fixed seed: the run is the same every time
  std::uniform_int_distribution<int> byte(0, 255);
  int accepted = 0;
  int refused = 0;
  for (int round = 0; round < 4000; ++round) {
    std::string text;
    if (round % 4 == 0) {  // pure noise
      text.resize(std::uniform_int_distribution<std::size_t>(0, 600)(rng));
      for (auto& c : text) {
        c = static_cast<char>(byte(rng));
      }
    } else {  // a valid offer with a few bytes changed, cut or inserted
      text = typical_offer;
      const int edits = std::uniform_int_distribution<int>(1, 4)(rng);
      for (int e = 0; e < edits && !text.empty(); ++e) {
        const auto at = std::uniform_int_distribution<std::size_t>(0, text.size() - 1)(rng);
        switch (std::uniform_int_distribution<int>(0, 3)(rng)) {
          case 0:
            text[at] = static_cast<char>(byte(rng));
            break;
          case 1:
            text.resize(at);
            break;
          case 2:
            text.insert(at, 1, "\r\n =/: 0aAm"[byte(rng) % 11]);
            break;
          default:
            text.erase(at, std::uniform_int_distribution<std::size_t>(1, 8)(rng));
            break;
        }
      }
    }
    std::string error;
    SdpOriginState state;
    const auto out = rewrite_sdp(text, ours, {{4000, 0}, {4002, 0}, {4004, 0}}, state, &error);
    if (out) {
      ++accepted;
      CHECK(crlf_lines(*out));
      CHECK(parse_sdp(*out, nullptr).has_value());
      CHECK(state.last_body == *out);
    } else {
      ++refused;
      CHECK(one_printable_line(error));
    }
    error.clear();
    if (!parse_sdp(text, &error)) {
      CHECK(one_printable_line(error));
    }
  }
  // The mutations hit both sides, so the loop above checked both kinds of outcome.
  CHECK(accepted > 100);
  CHECK(refused > 100);
}

TEST_CASE("a typical PCMU/PCMA/telephone-event offer is rewritten line by line") {
  SdpOriginState state;
  std::string error;
  const auto out = rewrite_sdp(typical_offer, ours, {{40000, 40001}}, state, &error);
  REQUIRE_MESSAGE(out.has_value(), error);
  CHECK(*out == sdp({
                    "v=0",
                    "o=b2bua 2890844526 0 IN IP4 203.0.113.5",
                    "s=Talk",
                    "c=IN IP4 203.0.113.5",
                    "t=0 0",
                    "m=audio 40000 RTP/AVP 0 8 101",
                    "a=rtpmap:0 PCMU/8000",
                    "a=rtpmap:8 PCMA/8000",
                    "a=rtpmap:101 telephone-event/8000",
                    "a=fmtp:101 0-16",
                    "a=ptime:20",
                    "a=sendrecv",
                }));
  CHECK(state.initialised);
  CHECK(state.session_id == "2890844526");
  CHECK(state.version == 0);
  CHECK(state.last_body == *out);
}

TEST_CASE("several m= lines: each gets its local port, a rejected one stays at 0") {
  const std::string offer = sdp({
      "v=0",
      "o=- 1 1 IN IP4 192.0.2.1",
      "s=-",
      "c=IN IP4 192.0.2.1",
      "b=TIAS:128000",
      "t=0 0",
      "m=audio 5004 RTP/AVP 0 101",
      "i=voice",
      "b=RR:800",
      "a=rtpmap:101 telephone-event/8000",
      "m=video 5006 RTP/AVP 96",
      "c=IN IP4 192.0.2.2/127",
      "c=IN IP4 192.0.2.3/127",
      "b=AS:512",
      "a=rtpmap:96 H264/90000",
      "a=fmtp:96 profile-level-id=42e01f",
      "m=video 0 RTP/AVP 31",
      "a=rtpmap:31 H261/90000",
      "a=recvonly",
      "m=audio 5010/2 RTP/AVP 8",
  });
  std::string error;
  const auto out = rewrite_fresh(offer, ours, {{7000, 0}, {7002, 0}, {7004, 0}, {0, 0}}, &error);
  REQUIRE_MESSAGE(out.has_value(), error);
  CHECK(*out == sdp({
                    "v=0",
                    "o=b2bua 1 0 IN IP4 203.0.113.5",
                    "s=-",
                    "c=IN IP4 203.0.113.5",
                    "b=TIAS:128000",
                    "t=0 0",
                    "m=audio 7000 RTP/AVP 0 101",
                    "i=voice",
                    "b=RR:800",
                    "a=rtpmap:101 telephone-event/8000",
                    "m=video 7002 RTP/AVP 96",
                    "c=IN IP4 203.0.113.5",
                    "b=AS:512",
                    "a=rtpmap:96 H264/90000",
                    "a=fmtp:96 profile-level-id=42e01f",
                    "m=video 0 RTP/AVP 31",
                    "a=rtpmap:31 H261/90000",
                    "a=recvonly",
                    "m=audio 0 RTP/AVP 8",
                }));
}

TEST_CASE("a=rtcp follows the local RTCP port and rtcp-mux") {
  struct Row {
    const char* name;
    std::vector<std::string> attributes;
    LocalStream local;
    std::vector<std::string> expected;
  };
  const Row rows[] = {
      {"an a=rtcp with an address gets our port and address",
       {"a=rtcp:53020 IN IP4 126.16.64.4", "a=ptime:20"},
       {8000, 8001},
       {"a=rtcp:8001 IN IP4 203.0.113.5", "a=ptime:20"}},
      {"an a=rtcp with a port only gets our port only",
       {"a=rtcp:53020"},
       {8000, 9001},
       {"a=rtcp:9001"}},
      {"a zero local RTCP port means port+1", {"a=rtcp:53020"}, {8000, 0}, {"a=rtcp:8001"}},
      {"a=rtcp is removed when rtcp-mux is kept",
       {"a=rtcp:53020", "a=rtcp-mux", "a=mid:0"},
       {8000, 8001},
       {"a=rtcp-mux", "a=mid:0"}},
      {"a=rtcp is added when our RTCP port is not port+1",
       {"a=ptime:20"},
       {8000, 9001},
       {"a=ptime:20", "a=rtcp:9001"}},
      {"nothing is added when our RTCP port is port+1",
       {"a=ptime:20"},
       {8000, 8001},
       {"a=ptime:20"}},
      {"a stream we disable loses its a=rtcp",
       {"a=rtcp:53020", "a=ptime:20"},
       {0, 0},
       {"a=ptime:20"}},
      {"duplicate a=rtcp lines collapse into the first",
       {"a=rtcp:53020", "a=ptime:20", "a=rtcp:53022"},
       {8000, 8001},
       {"a=rtcp:8001", "a=ptime:20"}},
  };
  for (const auto& row : rows) {
    INFO(std::string(row.name));
    std::string text = sdp({"v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0",
                            "m=audio 5004 RTP/AVP 0"});
    std::string expected = "m=audio " + std::to_string(row.local.port) + " RTP/AVP 0\r\n";
    for (const auto& a : row.attributes) {
      text += a + "\r\n";
    }
    for (const auto& a : row.expected) {
      expected += a + "\r\n";
    }
    std::string error;
    const auto out = rewrite_fresh(text, ours, {row.local}, &error);
    REQUIRE_MESSAGE(out.has_value(), error);
    const auto m = out->find("m=");
    REQUIRE(m != std::string::npos);
    CHECK(out->substr(m) == expected);
  }
}

TEST_CASE("IPv6 on either side gives IN IP6 where the address is IPv6") {
  struct Row {
    const char* name;
    std::string offer;
    std::string address;
    std::string expected;
  };
  const Row rows[] = {
      {"our address is IPv6, the peer's IPv4",
       sdp({"v=0", "o=- 5 5 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0",
            "m=audio 5004 RTP/AVP 0", "a=rtcp:5005 IN IP4 192.0.2.1"}),
       "2001:db8::b2b",
       sdp({"v=0", "o=b2bua 5 0 IN IP6 2001:db8::b2b", "s=-", "c=IN IP6 2001:db8::b2b", "t=0 0",
            "m=audio 6000 RTP/AVP 0", "a=rtcp:6001 IN IP6 2001:db8::b2b"})},
      {"the peer's address is IPv6, ours IPv4",
       sdp({"v=0", "o=- 5 5 IN IP6 2001:db8::1", "s=-", "t=0 0", "m=audio 5004 RTP/AVP 0",
            "c=IN IP6 2001:db8::1"}),
       ours,
       sdp({"v=0", "o=b2bua 5 0 IN IP4 203.0.113.5", "s=-", "t=0 0", "m=audio 6000 RTP/AVP 0",
            "c=IN IP4 203.0.113.5"})},
  };
  for (const auto& row : rows) {
    INFO(std::string(row.name));
    std::string error;
    const auto out = rewrite_fresh(row.offer, row.address, {{6000, 6001}}, &error);
    REQUIRE_MESSAGE(out.has_value(), error);
    CHECK(*out == row.expected);
  }
}

TEST_CASE("ICE attributes are removed at session and media level, the rest is kept") {
  const std::string offer = sdp({
      "v=0",
      "o=- 1 1 IN IP4 192.0.2.1",
      "s=-",
      "c=IN IP4 192.0.2.1",
      "t=0 0",
      "a=ice-ufrag:F7gI",
      "a=ice-pwd:x9cml/YzichV2+XlhiMu8g",
      "a=ice-options:trickle",
      "a=ice-lite",
      "a=group:BUNDLE 0",
      "m=audio 5004 RTP/SAVPF 111",
      "a=mid:0",
      "a=candidate:1 1 UDP 2130706431 192.0.2.1 5004 typ host",
      "a=candidate:2 1 UDP 1694498815 198.51.100.9 41000 typ srflx raddr 192.0.2.1 rport 5004",
      "a=end-of-candidates",
      "a=remote-candidates:1 192.0.2.9 5000",
      "a=ICE-UFRAG:media",
      "a=rtpmap:111 opus/48000/2",
      "a=rtcp-mux",
      "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz",
  });
  std::string error;
  const auto out = rewrite_fresh(offer, ours, {{5500, 0}}, &error);
  REQUIRE_MESSAGE(out.has_value(), error);
  CHECK(*out == sdp({
                    "v=0",
                    "o=b2bua 1 0 IN IP4 203.0.113.5",
                    "s=-",
                    "c=IN IP4 203.0.113.5",
                    "t=0 0",
                    "a=group:BUNDLE 0",
                    "m=audio 5500 RTP/SAVPF 111",
                    "a=mid:0",
                    "a=rtpmap:111 opus/48000/2",
                    "a=rtcp-mux",
                    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
                    "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz",
                }));
}

TEST_CASE("the o= version moves by exactly one when, and only when, the body changes") {
  const std::string hold =
      sdp({"v=0", "o=alice 2890844526 2890844528 IN IP4 198.51.100.7", "s=Talk",
           "c=IN IP4 198.51.100.7", "t=0 0", "m=audio 49170 RTP/AVP 0", "a=sendonly"});
  const std::string resume =
      sdp({"v=0", "o=alice 2890844526 2890844529 IN IP4 198.51.100.7", "s=Talk",
           "c=IN IP4 198.51.100.7", "t=0 0", "m=audio 49170 RTP/AVP 0", "a=sendrecv"});
  // The peer's own version changes on every step; only our body decides ours.
  const std::string resume_again =
      sdp({"v=0", "o=alice 2890844526 2890844530 IN IP4 198.51.100.7", "s=Talk",
           "c=IN IP4 198.51.100.7", "t=0 0", "m=audio 49170 RTP/AVP 0", "a=sendrecv"});
  struct Step {
    const char* name;
    const std::string& offer;
    std::uint16_t port;
    std::uint64_t expected_version;
  };
  const Step steps[] = {
      {"first offer starts at the preset version", resume, 6000, 7},
      {"same content again keeps the version", resume, 6000, 7},
      {"peer bumped its version, our content unchanged", resume_again, 6000, 7},
      {"hold changes the content", hold, 6000, 8},
      {"hold again keeps it", hold, 6000, 8},
      {"resume changes it back", resume_again, 6000, 9},
      {"a new local port changes the content", resume_again, 6100, 10},
  };
  SdpOriginState state;
  state.session_id = "9000000000000000000";
  state.version = 7;
  for (const auto& step : steps) {
    INFO(std::string(step.name));
    std::string error;
    const auto out = rewrite_sdp(step.offer, ours, {{step.port, 0}}, state, &error);
    REQUIRE_MESSAGE(out.has_value(), error);
    CHECK(state.version == step.expected_version);
    CHECK(state.last_body == *out);
    CHECK(out->find("o=b2bua 9000000000000000000 " + std::to_string(step.expected_version) +
                    " IN IP4 203.0.113.5\r\n") != std::string::npos);
  }
}

TEST_CASE("hold is preserved: c=0.0.0.0 stays, direction attributes stay") {
  struct Row {
    const char* name;
    std::string offer;
    std::string expected;
  };
  const Row rows[] = {
      {"RFC 2543 hold with a session-level c=0.0.0.0",
       sdp({"v=0", "o=- 1 2 IN IP4 192.0.2.1", "s=-", "c=IN IP4 0.0.0.0", "t=0 0",
            "m=audio 5004 RTP/AVP 0", "a=sendonly"}),
       sdp({"v=0", "o=b2bua 1 0 IN IP4 203.0.113.5", "s=-", "c=IN IP4 0.0.0.0", "t=0 0",
            "m=audio 6000 RTP/AVP 0", "a=sendonly"})},
      {"media-level c=0.0.0.0 under a real session-level address",
       sdp({"v=0", "o=- 1 2 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0",
            "m=audio 5004 RTP/AVP 0", "c=IN IP4 0.0.0.0"}),
       sdp({"v=0", "o=b2bua 1 0 IN IP4 203.0.113.5", "s=-", "c=IN IP4 203.0.113.5", "t=0 0",
            "m=audio 6000 RTP/AVP 0", "c=IN IP4 0.0.0.0"})},
      {"RFC 3264 hold with a=sendonly",
       sdp({"v=0", "o=- 1 2 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0",
            "m=audio 5004 RTP/AVP 0", "a=sendonly"}),
       sdp({"v=0", "o=b2bua 1 0 IN IP4 203.0.113.5", "s=-", "c=IN IP4 203.0.113.5", "t=0 0",
            "m=audio 6000 RTP/AVP 0", "a=sendonly"})},
      {"session-level a=inactive",
       sdp({"v=0", "o=- 1 2 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0", "a=inactive",
            "m=audio 5004 RTP/AVP 0"}),
       sdp({"v=0", "o=b2bua 1 0 IN IP4 203.0.113.5", "s=-", "c=IN IP4 203.0.113.5", "t=0 0",
            "a=inactive", "m=audio 6000 RTP/AVP 0"})},
  };
  for (const auto& row : rows) {
    INFO(std::string(row.name));
    std::string error;
    const auto out = rewrite_fresh(row.offer, ours, {{6000, 0}}, &error);
    REQUIRE_MESSAGE(out.has_value(), error);
    CHECK(*out == row.expected);
  }
}

TEST_CASE("lines sofia-sip 1.12 would lose or corrupt are kept, missing s= and t= supplied") {
  const std::string offer =
      "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\nc=IN IP4 192.0.2.1\r\nb=TIAS:64000\r\nb=RS:0\r\n"
      "m=audio 5004 RTP/AVP 0 101\r\ni=the voice\r\nb=X-foo:5\r\n  \r\n"
      "a=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\n";
  std::string error;
  const auto out = rewrite_fresh(offer, ours, {{6000, 0}}, &error);
  REQUIRE_MESSAGE(out.has_value(), error);
  CHECK(*out == sdp({"v=0", "o=b2bua 1 0 IN IP4 203.0.113.5", "s=-", "c=IN IP4 203.0.113.5",
                     "b=TIAS:64000", "b=RS:0", "t=0 0", "m=audio 6000 RTP/AVP 0 101", "i=the voice",
                     "b=X-foo:5", "a=rtpmap:101 telephone-event/8000", "a=ptime:20"}));
}

TEST_CASE("rewrite_sdp refuses bad arguments and leaves the state alone") {
  struct Row {
    const char* name;
    std::string address;
    std::vector<LocalStream> local;
    std::string session_id;
    const char* error_contains;
  };
  const Row rows[] = {
      {"fewer local streams than m= lines", ours, {{6000, 0}}, "", "local streams"},
      {"no local streams at all", ours, {}, "", "local streams"},
      {"empty address", "", {{6000, 0}, {6002, 0}}, "", "local address"},
      {"host name instead of an address",
       "b2b.example.com",
       {{6000, 0}, {6002, 0}},
       "",
       "local address"},
      {"address with a line break in it",
       "203.0.113.5\r\na=x",
       {{6000, 0}, {6002, 0}},
       "",
       "local address"},
      {"malformed IPv6 address", "2001:db8::g", {{6000, 0}, {6002, 0}}, "", "local address"},
      {"session id that is not a number", ours, {{6000, 0}, {6002, 0}}, "12ab", "session id"},
      {"session id above 2^64", ours, {{6000, 0}, {6002, 0}}, "18446744073709551616", "session id"},
  };
  const std::string two_streams =
      sdp({"v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0",
           "m=audio 5004 RTP/AVP 0", "m=video 5006 RTP/AVP 31"});
  for (const auto& row : rows) {
    INFO(std::string(row.name));
    SdpOriginState state;
    state.session_id = row.session_id;
    std::string error;
    CHECK_FALSE(rewrite_sdp(two_streams, row.address, row.local, state, &error).has_value());
    CHECK(one_printable_line(error));
    CHECK_MESSAGE(error.find(row.error_contains) != std::string::npos, error);
    CHECK_FALSE(state.initialised);
    CHECK(state.session_id == row.session_id);
    CHECK(state.last_body.empty());
  }
  // More local streams than m= lines is fine: the extra ones are unused.
  std::string error;
  CHECK(rewrite_fresh(two_streams, ours, {{6000, 0}, {6002, 0}, {6004, 0}}, &error).has_value());
}

TEST_CASE("liberal SDP (RFC 4475): lines sofia cannot read are anchored and passed through untouched") {
  struct Row {
    const char* name;
    std::string offer;
    std::string expected;  // rewritten with port 6000
    std::uint32_t clock_rate;
  };
  const std::string head = "v=0\r\no=- 1 1 IN IP4 192.0.2.4\r\ns=-\r\nc=IN IP4 192.0.2.4\r\nt=0 0\r\n";
  const std::string out_head = "v=0\r\no=b2bua 1 0 IN IP4 203.0.113.5\r\ns=-\r\nc=IN IP4 203.0.113.5\r\nt=0 0\r\n";
  const Row rows[] = {
      {"RFC 4475 3.1.1.1: a=rtpmap:31 LPC without a clock rate",
       head + "m=video 3227 RTP/AVP 31\r\na=rtpmap:31 LPC\r\n",
       out_head + "m=video 6000 RTP/AVP 31\r\na=rtpmap:31 LPC\r\n", 8000},
      {"a dynamic payload type without a clock rate, among readable ones",
       head + "m=audio 5004 RTP/AVP 0 96\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:96 opus\r\n",
       out_head + "m=audio 6000 RTP/AVP 0 96\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:96 opus\r\n", 8000},
      {"an encoding name sofia does not take",
       head + "m=audio 5004 RTP/AVP 98\r\na=rtpmap:98 G.729.1/16000\r\n",
       out_head + "m=audio 6000 RTP/AVP 98\r\na=rtpmap:98 G.729.1/16000\r\n", 8000},
      {"an unknown session-level line",
       head + "y=whatever it is\r\nm=audio 5004 RTP/AVP 0\r\n",
       out_head + "y=whatever it is\r\nm=audio 6000 RTP/AVP 0\r\n", 8000},
      {"an unknown media-level line (sofia would drop it)",
       head + "m=audio 5004 RTP/AVP 0\r\nq=1 2 3\r\na=ptime:20\r\n",
       out_head + "m=audio 6000 RTP/AVP 0\r\nq=1 2 3\r\na=ptime:20\r\n", 8000},
      {"attribute names with characters outside letters, digits and '-'",
       head + "a=x_vendor.info:1\r\nm=audio 5004 RTP/AVP 0\r\na=X-Odd_Name\r\na=ptime:20\r\n",
       out_head + "a=x_vendor.info:1\r\nm=audio 6000 RTP/AVP 0\r\na=X-Odd_Name\r\na=ptime:20\r\n",
       8000},
      {"unknown attributes sofia reads are kept in order",
       head + "m=audio 5004 RTP/AVP 0\r\na=foo\r\na=bar:baz qux\r\n",
       out_head + "m=audio 6000 RTP/AVP 0\r\na=foo\r\na=bar:baz qux\r\n", 8000},
      {"a peer's line that looks like b2buad's stand-in is its own line",
       head + "m=audio 5004 RTP/AVP 0\r\na=x-b2bua-kept:0\r\n",
       out_head + "m=audio 6000 RTP/AVP 0\r\na=x-b2bua-kept:0\r\n", 8000},
      {"odd m= lines: an unknown media type and transport",
       head + "m=x-game 5004 x-proto/v2 fmt1 fmt2\r\n",
       out_head + "m=x-game 6000 x-proto/v2 fmt1 fmt2\r\n", 0},
  };
  for (const auto& row : rows) {
    INFO(std::string(row.name));
    std::string error;
    const auto info = parse_sdp(row.offer, &error);
    REQUIRE_MESSAGE(info.has_value(), error);
    REQUIRE(info->streams.size() == 1);
    CHECK(info->streams[0].clock_rate == row.clock_rate);
    CHECK(info->streams[0].address_kind == AddressKind::ip4);
    const auto out = rewrite_fresh(row.offer, ours, {{6000, 0}}, &error);
    REQUIRE_MESSAGE(out.has_value(), error);
    CHECK(*out == row.expected);
  }
}

TEST_CASE("telephone-event without a clock rate is read, and stripping it drops its line") {
  const std::string offer = sdp({"v=0", "o=- 1 1 IN IP4 192.0.2.4", "s=-", "c=IN IP4 192.0.2.4",
                                 "t=0 0", "m=audio 5004 RTP/AVP 0 101", "a=rtpmap:101 telephone-event",
                                 "a=fmtp:101 0-15"});
  const auto info = parse_sdp(offer, nullptr);
  REQUIRE(info.has_value());
  CHECK(info->streams[0].te_payload_type == 101);
  CHECK(info->streams[0].te_clock_rate == 8000);
  LocalStream local{6000, 0};
  local.te.kind = TelephoneEventEdit::Kind::strip;
  std::string error;
  const auto out = rewrite_fresh(offer, ours, {local}, &error);
  REQUIRE_MESSAGE(out.has_value(), error);
  CHECK(out->find("m=audio 6000 RTP/AVP 0\r\n") != std::string::npos);
  CHECK(out->find("telephone-event") == std::string::npos);
}

TEST_CASE("parse_sdp says what each stream's connection address is") {
  struct Row {
    const char* c;
    AddressKind kind;
  };
  const Row rows[] = {
      {"c=IN IP4 192.0.2.1", AddressKind::ip4},
      {"c=IN IP6 2001:db8::1", AddressKind::ip6},
      {"c=IN IP4 example.com", AddressKind::host_name},
      {"c=IN IP6 media.example.com.", AddressKind::host_name},
      {"c=IN IP4 ::1", AddressKind::invalid},
      {"c=IN IP6 192.0.2.1", AddressKind::invalid},
      {"c=IN IP4 300.1.2.3", AddressKind::invalid},
      {"c=IN IP4 -bad-.example", AddressKind::invalid},
      {"c=IN IP4 a..b", AddressKind::invalid},
  };
  for (const auto& row : rows) {
    INFO(std::string(row.c));
    std::string error;
    const auto info = parse_sdp(sdp({"v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", row.c, "t=0 0",
                                     "m=audio 5004 RTP/AVP 0"}),
                                &error);
    REQUIRE_MESSAGE(info.has_value(), error);
    CHECK(info->streams[0].address_kind == row.kind);
  }
}
