// Mid-call request bookkeeping of one leg: the peer's requests by txn, our one offer at a time,
// the ACK that carries an answer, our INFOs in order.
#include "sip/dialog_requests.hpp"

#include <array>
#include <string>
#include <vector>

#include <doctest/doctest.h>

using namespace b2bua::sip;

namespace {

// Stand-ins for the kept messages: the book never looks inside them.
std::array<int, DialogRequests::max_pending + 1> storage{};
msg_t* fake(std::size_t i) { return reinterpret_cast<msg_t*>(&storage[i]); }

}  // namespace

TEST_CASE("a peer's offer is refused for a body that is not SDP, answered when it only "
          "refreshes, refused early or when too many wait, else forwarded") {
  struct Row {
    const char* what;
    bool has_body;
    bool has_sdp;
    bool update;
    bool early_refused;
    std::size_t pending;
    OfferStep step;
    int status;
    const char* warning;
  };
  const std::size_t full = DialogRequests::max_pending;
  const std::vector<Row> rows = {
      {"re-INVITE with SDP", true, true, false, false, 0, OfferStep::forward, 0, ""},
      {"re-INVITE without SDP", false, false, false, false, 0, OfferStep::forward, 0, ""},
      {"UPDATE with SDP", true, true, true, false, 0, OfferStep::forward, 0, ""},
      {"UPDATE without SDP: a refresh", false, false, true, false, full, OfferStep::answer_200, 0,
       ""},
      {"a body that is not SDP", true, false, false, true, full, OfferStep::refuse, 415,
       "b2bua.offer.unsupported_body"},
      {"an UPDATE with a body that is not SDP", true, false, true, false, 0, OfferStep::refuse,
       415, "b2bua.offer.unsupported_body"},
      {"refused by the early-dialog rules", true, true, true, true, full, OfferStep::refuse, 491,
       "b2bua.offer.glare"},
      {"one below the limit", true, true, false, false, full - 1, OfferStep::forward, 0, ""},
      {"at the limit", true, true, false, false, full, OfferStep::refuse, 500,
       "b2bua.request.too_many_pending"},
  };
  const Refusal early{491, "Request Pending", "b2bua.offer.glare"};
  for (const auto& row : rows) {
    CAPTURE(row.what);
    DialogRequests book;
    for (std::size_t i = 0; i < row.pending; ++i) {
      book.add(i + 1, fake(i), false);
    }
    const OfferIntake got = book.intake_offer(row.has_body, row.has_sdp, row.update,
                                              row.early_refused ? std::optional(early)
                                                                : std::nullopt);
    CHECK(got.step == row.step);
    CHECK(got.refusal.has_value() == (row.status != 0));
    if (got.refusal) {
      CHECK(got.refusal->status == row.status);
      CHECK(std::string(got.refusal->warning) == row.warning);
      CHECK(got.refusal->accept_sdp == (row.status == 415));
      CHECK(got.refusal->retry_after == (row.status == 500));
    }
  }
}

TEST_CASE("a kept request lives until its final response; an offerless re-INVITE's 200 with SDP "
          "makes the ACK carry the answer") {
  DialogRequests book;
  CHECK_FALSE(book.intake_info().has_value());
  book.add(1, fake(1), /*offerless_invite=*/true);
  book.add(2, fake(2), false);
  CHECK(book.pending() == 2);
  CHECK(book.request(1) == fake(1));
  CHECK(book.request(9) == nullptr);
  CHECK(book.answered(1, 180, true) == nullptr);  // provisional: still kept
  CHECK(book.request(1) == fake(1));
  CHECK(book.answered(1, 200, true) == fake(1));
  CHECK(book.request(1) == nullptr);
  CHECK(book.answered(1, 200, true) == nullptr);  // answered already
  CHECK(book.take_answer_in_ack());
  CHECK_FALSE(book.take_answer_in_ack());  // once
  CHECK(book.answered(2, 488, false) == fake(2));
  CHECK_FALSE(book.take_answer_in_ack());
  CHECK(book.pending() == 0);

  struct Row {
    bool offerless;
    int status;
    bool with_sdp;
    bool answer_in_ack;
  };
  const std::vector<Row> rows = {{true, 200, true, true},   {true, 200, false, false},
                                 {true, 488, true, false},  {false, 200, true, false},
                                 {true, 299, true, true}};
  for (const auto& row : rows) {
    DialogRequests b;
    b.add(5, fake(5), row.offerless);
    b.answered(5, row.status, row.with_sdp);
    CHECK(b.take_answer_in_ack() == row.answer_in_ack);
  }
}

TEST_CASE("release_all hands back every kept message once") {
  DialogRequests book;
  for (std::size_t i = 0; i < 3; ++i) {
    book.add(i, fake(i), false);
  }
  std::vector<msg_t*> destroyed;
  book.release_all([&](msg_t* m) { destroyed.push_back(m); });
  CHECK(destroyed.size() == 3);
  CHECK(book.pending() == 0);
  book.release_all([&](msg_t* m) { destroyed.push_back(m); });
  CHECK(destroyed.size() == 3);
}

TEST_CASE("b2buad's offers go one at a time; an offerless re-INVITE's 2xx waits for our ACK") {
  struct Row {
    const char* what;
    const char* method;
    bool with_sdp;
    int final_status;
    bool ack;
  };
  const std::vector<Row> rows = {
      {"re-INVITE with SDP", "INVITE", true, 200, false},
      {"re-INVITE without SDP", "INVITE", false, 200, true},
      {"re-INVITE without SDP, refused: NTA ACKs it", "INVITE", false, 488, false},
      {"UPDATE", "UPDATE", true, 200, false},
  };
  for (const auto& row : rows) {
    CAPTURE(row.what);
    DialogRequests book;
    const bool update = std::string(row.method) == "UPDATE";
    CHECK_FALSE(book.start_offer(row.method, row.with_sdp, std::nullopt).has_value());
    CHECK(book.offer_out(update));
    CHECK_FALSE(book.offer_out(!update));
    auto overlap = book.start_offer("UPDATE", true, std::nullopt);
    REQUIRE(overlap.has_value());
    CHECK(overlap->status == 500);
    CHECK(std::string(overlap->warning) == "b2bua.offer.overlap");
    CHECK_FALSE(overlap->retry_after);
    CHECK(book.offer_out(update));  // the refused one changed nothing
    book.offer_answered(row.final_status);
    CHECK_FALSE(book.offer_out(update));
    CHECK(book.take_ack() == row.ack);
    CHECK_FALSE(book.take_ack());
  }
}

TEST_CASE("an early refusal keeps the offer from going out") {
  DialogRequests book;
  const Refusal early{488, "Not Acceptable Here", "b2bua.offer.early_unreliable"};
  auto got = book.start_offer("UPDATE", true, early);
  REQUIRE(got.has_value());
  CHECK(got->status == 488);
  CHECK_FALSE(book.offer_out(true));
  CHECK_FALSE(book.start_offer("UPDATE", true, std::nullopt).has_value());
}

TEST_CASE("no re-INVITE of ours goes to NUA while our INFO or BYE is open (F7)") {
  struct Row {
    const char* what;
    const char* method;
    int infos_open;
    bool bye_sent;
    bool refused;
  };
  const Row rows[] = {
      {"re-INVITE, nothing open", "INVITE", 0, false, false},
      {"re-INVITE, our INFO open", "INVITE", 1, false, true},
      {"re-INVITE, two INFOs open", "INVITE", 2, false, true},
      {"re-INVITE, our BYE sent", "INVITE", 0, true, true},
      {"UPDATE, our INFO open", "UPDATE", 1, false, false},
      {"UPDATE, our BYE sent", "UPDATE", 0, true, false},
  };
  for (const auto& row : rows) {
    CAPTURE(row.what);
    DialogRequests book;
    for (int i = 0; i < row.infos_open; ++i) {
      book.info_sent(static_cast<std::uint64_t>(i));
    }
    auto got = book.start_offer(row.method, true, std::nullopt, row.bye_sent);
    CHECK(got.has_value() == row.refused);
    if (got) {
      CHECK(got->status == 491);
      CHECK(std::string(got->warning) == "b2bua.offer.leg_busy");
      CHECK_FALSE(book.offer_out(false));  // nothing outstanding: the bridge may retry
    }
  }
  DialogRequests book;  // the INFO answered: the re-INVITE may go
  book.info_sent(1);
  CHECK(book.start_offer("INVITE", true, std::nullopt).has_value());
  CHECK(book.info_answered() == std::optional<std::uint64_t>(1));
  CHECK_FALSE(book.start_offer("INVITE", true, std::nullopt).has_value());
  CHECK(book.offer_out(false));
}

TEST_CASE("our INFOs are matched to their final responses in order") {
  DialogRequests book;
  CHECK_FALSE(book.info_answered().has_value());
  book.info_sent(7);
  book.info_sent(8);
  CHECK(book.info_answered() == std::optional<std::uint64_t>(7));
  CHECK(book.info_answered() == std::optional<std::uint64_t>(8));
  CHECK_FALSE(book.info_answered().has_value());
}
