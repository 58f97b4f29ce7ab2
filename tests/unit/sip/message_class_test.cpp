// The message class b2buad's NTA parses with: the second message of one TCP read is bounded too.
#include "sip/message_class.hpp"

#include <cstring>
#include <string>

#include <doctest/doctest.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/msg_mclass.h>
#include <sofia-sip/msg_parser.h>
#include <sofia-sip/sip_header.h>

using namespace b2bua::sip;

namespace {

std::string options(const std::string& content_length, const std::string& body) {
  return "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK1\r\n"
         "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\nCall-ID: x@127.0.0.1\r\n"
         "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: " + content_length +
         "\r\n\r\n" + body;
}

struct Parsed {
  int first = 0;          // msg_extract() of the first message
  int second = 0;         // ... of the second
  bool second_too_large = false;
};

// What tport does with one read off a TCP stream: parse a message made the way NTA makes it
// (bounded), then go on in msg_next() with what is left of the read.
Parsed parse_one_read(msg_mclass_t const* mclass, const std::string& data) {
  Parsed out;
  msg_t* msg = msg_create(mclass, 0);
  REQUIRE(msg != nullptr);
  msg_maxsize(msg, kMaxMessageBytes);
  msg_iovec_t vec[2] = {};
  REQUIRE(msg_recv_iovec(msg, vec, 2, data.size(), 0) == 1);
  std::memcpy(vec[0].mv_base, data.data(), data.size());
  msg_recv_commit(msg, data.size(), 0);
  out.first = msg_extract(msg);
  msg_t* next = msg_next(msg);
  REQUIRE(next != nullptr);
  out.second = msg_extract(next);
  out.second_too_large = msg_get_flags(next, MSG_FLG_TOOLARGE) != 0;
  msg_destroy(next);
  msg_destroy(msg);
  return out;
}

}  // namespace

TEST_CASE("the second message of one TCP read is bounded like the first") {
  REQUIRE(bounded_sip_mclass() != nullptr);
  // 3 MiB: over the bound, under the 2 GiB at which sofia's allocator aborts (which a test cannot
  // survive); the integration test test_hostile sends that one.
  const std::string data = options("0", "") + options("3145728", "abc");
  SUBCASE("sofia's own class leaves it unbounded: the body would be allocated") {
    Parsed p = parse_one_read(sip_default_mclass(), data);
    CHECK(p.first > 0);
    CHECK(p.second == 0);  // waits for the rest of 3 MiB
    CHECK_FALSE(p.second_too_large);
  }
  SUBCASE("b2buad's class refuses it as too large") {
    Parsed p = parse_one_read(bounded_sip_mclass(), data);
    CHECK(p.first > 0);
    CHECK(p.second == -1);
    CHECK(p.second_too_large);
  }
  SUBCASE("a body within the bound still parses") {
    Parsed p = parse_one_read(bounded_sip_mclass(), options("0", "") + options("3", "abc"));
    CHECK(p.first > 0);
    CHECK(p.second > 0);
    CHECK_FALSE(p.second_too_large);
  }
}

TEST_CASE("b2buad's message class is sofia's SIP class otherwise") {
  msg_mclass_t const* mc = bounded_sip_mclass();
  msg_mclass_t const* sip = sip_default_mclass();
  REQUIRE(mc != nullptr);
  CHECK(mc != sip);
  CHECK(mc->mc_msize == sip->mc_msize);
  CHECK(mc->mc_hash_used == sip->mc_hash_used);
  CHECK(reinterpret_cast<void*>(mc->mc_extract_body) !=
        reinterpret_cast<void*>(sip->mc_extract_body));
}
