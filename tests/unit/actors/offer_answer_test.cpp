// The mid-call offer/answer state machine, the hold detection and the DTMF INFO parser: pure logic.
#include <doctest/doctest.h>

#include <set>

#include "actors/dtmf_info.hpp"
#include "actors/offer_answer.hpp"

using namespace b2bua;
using Outcome = OfferAnswer::Outcome;
using Stage = OfferAnswer::Stage;

namespace {

std::string sdp_with(const std::string& media_lines, const std::string& conn = "10.0.0.1") {
  return "v=0\r\no=x 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 " + conn + "\r\nt=0 0\r\n" + media_lines;
}

}  // namespace

TEST_CASE("an offer from either side is forwarded when none is open, and its 2xx closes it") {
  for (Party from : {Party::a, Party::b}) {
    OfferAnswer oa(1);
    REQUIRE(oa.offer(from, 11, "INVITE", "v=0"));
    CHECK(oa.stage() == Stage::forwarded);
    CHECK(oa.open()->from == from);
    CHECK(oa.open()->txn == 11);
    CHECK(oa.on_response(other(from), 200) == Outcome::relay_answer);
    CHECK(oa.idle());
    CHECK_FALSE(oa.open());
  }
}

TEST_CASE("glare: every second offer gets 491 whoever sent it, and the first one is unaffected") {
  // Each ordering: (first offerer, second offerer).
  for (Party first : {Party::a, Party::b}) {
    for (Party second : {Party::a, Party::b}) {
      OfferAnswer oa(2);
      REQUIRE(oa.offer(first, 1, "INVITE", "v=0"));
      CHECK_FALSE(oa.offer(second, 2, "UPDATE", "v=0"));
      REQUIRE(oa.open());
      CHECK(oa.open()->txn == 1);
      CHECK(oa.open()->from == first);
      CHECK(oa.on_response(other(first), 200) == Outcome::relay_answer);
      CHECK(oa.offer(second, 3, "INVITE", "v=0"));  // after the answer the next one goes through
    }
  }
}

TEST_CASE("glare while the retry of a 491 waits, and while an offerless re-INVITE awaits its ACK") {
  OfferAnswer oa(3);
  REQUIRE(oa.offer(Party::a, 1, "INVITE", "v=0"));
  REQUIRE(oa.on_response(Party::b, 491) == Outcome::retry);
  CHECK_FALSE(oa.offer(Party::b, 2, "INVITE", "v=0"));
  CHECK_FALSE(oa.offer(Party::a, 3, "INVITE", "v=0"));
  OfferAnswer nosdp(3);
  REQUIRE(nosdp.offer(Party::b, 4, "INVITE", ""));
  CHECK(nosdp.open()->offerless);
  REQUIRE(nosdp.on_response(Party::a, 200) == Outcome::relay_answer);
  CHECK(nosdp.stage() == Stage::awaiting_ack);
  CHECK_FALSE(nosdp.offer(Party::a, 5, "INVITE", "v=0"));
  CHECK_FALSE(nosdp.on_ack(Party::a));  // the ACK must come from the offerer's side
  CHECK(nosdp.on_ack(Party::b));
  CHECK(nosdp.idle());
}

TEST_CASE("a 491 from the B leg is retried after 2.1-4 s, from the A leg after 0-2 s") {
  std::set<std::uint32_t> seen_b;
  std::set<std::uint32_t> seen_a;
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    OfferAnswer to_b(seed);
    REQUIRE(to_b.offer(Party::a, 1, "INVITE", "v=0"));
    REQUIRE(to_b.on_response(Party::b, 491) == Outcome::retry);
    CHECK(to_b.retry_delay_ms() >= 2100);
    CHECK(to_b.retry_delay_ms() <= 4000);
    CHECK(to_b.retry_delay_ms() % 10 == 0);
    seen_b.insert(to_b.retry_delay_ms());
    OfferAnswer to_a(seed);
    REQUIRE(to_a.offer(Party::b, 1, "UPDATE", "v=0"));
    REQUIRE(to_a.on_response(Party::a, 491) == Outcome::retry);
    CHECK(to_a.retry_delay_ms() <= 2000);
    seen_a.insert(to_a.retry_delay_ms());
  }
  CHECK(seen_b.size() > 50);  // random, not a constant
  CHECK(seen_a.size() > 50);
}

TEST_CASE("the retry timer resends once; a stale timer or a closed offer does nothing") {
  OfferAnswer oa(4, 2);
  REQUIRE(oa.offer(Party::a, 1, "INVITE", "offer"));
  REQUIRE(oa.on_response(Party::b, 491) == Outcome::retry);
  const auto gen = oa.retry_generation();
  CHECK_FALSE(oa.on_retry_timer(gen + 1));
  CHECK(oa.on_retry_timer(gen));
  CHECK_FALSE(oa.on_retry_timer(gen));  // already resent
  CHECK(oa.stage() == Stage::forwarded);
  CHECK(oa.open()->offer == "offer");
  REQUIRE(oa.on_response(Party::b, 491) == Outcome::retry);
  const auto gen2 = oa.retry_generation();
  CHECK(gen2 != gen);
  oa.reset();  // the call ends while the timer runs
  CHECK_FALSE(oa.on_retry_timer(gen2));
}

TEST_CASE("after max_retries 491s the error goes back to the offerer; other errors at once") {
  OfferAnswer oa(5, 1);
  REQUIRE(oa.offer(Party::a, 1, "INVITE", "v=0"));
  REQUIRE(oa.on_response(Party::b, 491) == Outcome::retry);
  REQUIRE(oa.on_retry_timer(oa.retry_generation()));
  CHECK(oa.on_response(Party::b, 491) == Outcome::relay_failure);
  CHECK(oa.idle());
  REQUIRE(oa.offer(Party::b, 2, "INVITE", "v=0"));
  CHECK(oa.on_response(Party::a, 488) == Outcome::relay_failure);
  CHECK(oa.idle());
}

TEST_CASE("responses that are not for the open offer are ignored") {
  OfferAnswer oa(6);
  CHECK(oa.on_response(Party::b, 200) == Outcome::ignore);  // nothing open
  REQUIRE(oa.offer(Party::a, 1, "INVITE", "v=0"));
  CHECK(oa.on_response(Party::a, 200) == Outcome::ignore);  // from the offerer's own side
  CHECK(oa.on_response(Party::b, 180) == Outcome::ignore);  // provisional
  CHECK(oa.stage() == Stage::forwarded);
  REQUIRE(oa.on_response(Party::b, 491) == Outcome::retry);
  CHECK(oa.on_response(Party::b, 200) == Outcome::ignore);  // waiting for the timer
}

TEST_CASE("hold is sendonly, inactive or c=0.0.0.0 on every live stream (RFC 6337)") {
  const std::string m = "m=audio 4000 RTP/AVP 0\r\n";
  CHECK(sdp_holds(sdp_with(m + "a=sendonly\r\n")) == std::optional<bool>(true));
  CHECK(sdp_holds(sdp_with(m + "a=inactive\r\n")) == std::optional<bool>(true));
  CHECK(sdp_holds(sdp_with(m, "0.0.0.0")) == std::optional<bool>(true));
  CHECK(sdp_holds(sdp_with(m + "a=sendrecv\r\n")) == std::optional<bool>(false));
  CHECK(sdp_holds(sdp_with(m)) == std::optional<bool>(false));
  CHECK(sdp_holds(sdp_with(m + "a=recvonly\r\n")) == std::optional<bool>(false));
  // One stream still sending: not a hold. A disabled stream does not count.
  CHECK(sdp_holds(sdp_with(m + "a=sendonly\r\nm=video 5000 RTP/AVP 96\r\n")) ==
        std::optional<bool>(false));
  CHECK(sdp_holds(sdp_with(m + "a=sendonly\r\nm=video 0 RTP/AVP 96\r\n")) ==
        std::optional<bool>(true));
  CHECK_FALSE(sdp_holds("not sdp").has_value());
}

TEST_CASE("DTMF in INFO: dtmf-relay and dtmf bodies, and what is not a digit") {
  auto d = parse_dtmf_info("application/dtmf-relay", "Signal=5\r\nDuration=160\r\n");
  REQUIRE(d);
  CHECK(d->digit == "5");
  CHECK(d->duration == 160);
  d = parse_dtmf_info("Application/DTMF-Relay; charset=x", "signal = #\nduration=250");
  REQUIRE(d);
  CHECK(d->digit == "#");
  CHECK(d->duration == 250);
  d = parse_dtmf_info("application/dtmf-relay", "Signal=10\r\n");
  REQUIRE(d);
  CHECK(d->digit == "*");
  CHECK(d->duration == 0);
  d = parse_dtmf_info("application/dtmf", " b\r\n");
  REQUIRE(d);
  CHECK(d->digit == "B");
  CHECK_FALSE(parse_dtmf_info("application/dtmf-relay", "Duration=160"));
  CHECK_FALSE(parse_dtmf_info("application/dtmf-relay", "Signal=55"));
  CHECK_FALSE(parse_dtmf_info("application/dtmf", "x"));
  CHECK_FALSE(parse_dtmf_info("text/plain", "5"));
  CHECK_FALSE(parse_dtmf_info("application/dtmf-relay", std::string(2000, 'S')));
  d = parse_dtmf_info("application/dtmf-relay", "Signal=1\r\nDuration=99999999999\r\n");
  REQUIRE(d);
  CHECK(d->duration == 0);  // absurd durations are dropped, not trusted
}
