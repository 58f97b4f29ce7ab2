// Early offers (RFC 3311): which offers may cross a leg's early dialog, in either direction.
#include "sip/early_offer.hpp"

#include <string>
#include <vector>

#include <doctest/doctest.h>

using namespace b2bua::sip;

namespace {

// A leg in its early dialog: "a"/"b", whether the caller knows 100rel, whether our early answer
// went unreliably, whether the answer went (A) or came (B) reliably, whether the caller PRACKed it.
EarlyDialog dialog(bool is_a, bool knows, bool unreliable, bool reliable, bool pracked) {
  EarlyDialog d;
  d.is_a = is_a;
  d.caller_knows_100rel = knows;
  d.unreliable_answer = unreliable;
  d.answer_reliable = reliable;
  d.answer_pracked = pracked;
  return d;
}

struct Row {
  const char* what;
  EarlyDialog d;
  int status;  // 0: allowed
  const char* warning;
  bool retry_after;
};

void check(const std::optional<Refusal>& got, const Row& row) {
  CAPTURE(row.what);
  if (row.status == 0) {
    CHECK_FALSE(got.has_value());
    return;
  }
  REQUIRE(got.has_value());
  CHECK(got->status == row.status);
  CHECK(std::string(got->warning) == row.warning);
  CHECK(got->retry_after == row.retry_after);
}

}  // namespace

TEST_CASE("a peer's UPDATE in the early dialog waits for the dialog's reliable answer") {
  const std::vector<Row> rows = {
      {"caller, answer sent reliably", dialog(true, true, false, true, false), 0, "", false},
      {"caller, answer sent reliably and PRACKed", dialog(true, true, false, true, true), 0, "",
       false},
      {"caller, no reliable answer yet", dialog(true, true, false, false, false), 500,
       "b2bua.offer.early_pending", true},
      {"caller without 100rel", dialog(true, false, true, false, false), 500,
       "b2bua.offer.early_pending", true},
      {"callee, its answer came reliably", dialog(false, false, false, true, false), 0, "", false},
      {"callee before its reliable answer: our offer is open", dialog(false, false, false, false,
       false), 491, "b2bua.offer.glare", false},
  };
  for (const auto& row : rows) {
    check(incoming_early_offer(row.d), row);
  }
}

TEST_CASE("b2buad's offer into an early dialog: an UPDATE once the answer is reliable and "
          "PRACKed") {
  struct OutRow {
    Row row;
    const char* method;
  };
  const std::vector<OutRow> rows = {
      {{"caller PRACKed our reliable answer", dialog(true, true, false, true, true), 0, "", false},
       "UPDATE"},
      {{"caller has not PRACKed it yet", dialog(true, true, false, true, false), 500,
        "b2bua.offer.early_pending", true},
       "UPDATE"},
      {{"caller without 100rel never can", dialog(true, false, false, false, false), 488,
        "b2bua.offer.early_unreliable", false},
       "UPDATE"},
      {{"caller whose early answer went unreliably", dialog(true, true, true, false, false), 488,
        "b2bua.offer.early_unreliable", false},
       "UPDATE"},
      {{"a re-INVITE to a caller, even PRACKed", dialog(true, true, false, true, true), 500,
        "b2bua.offer.early_pending", true},
       "INVITE"},
      {{"a re-INVITE to a caller without 100rel", dialog(true, false, false, false, false), 488,
        "b2bua.offer.early_unreliable", false},
       "INVITE"},
      {{"callee whose answer came reliably", dialog(false, false, false, true, false), 0, "",
        false},
       "UPDATE"},
      {{"callee without a reliable answer", dialog(false, false, false, false, false), 500,
        "b2bua.offer.early_pending", true},
       "UPDATE"},
      {{"a re-INVITE to a callee", dialog(false, false, false, true, false), 500,
        "b2bua.offer.early_pending", true},
       "INVITE"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.method);
    check(outgoing_early_offer(r.row.d, r.method), r.row);
  }
}

TEST_CASE("early_dialog reads a leg's 100rel state") {
  ReliableLeg rel;
  rel.caller.supported_present = rel.caller.supported_100rel = true;
  rel.unreliable_early_sdp = "v=0";
  EarlyDialog a = early_dialog(rel, true);
  CHECK(a.is_a);
  CHECK(a.caller_knows_100rel);
  CHECK(a.unreliable_answer);
  CHECK_FALSE(a.answer_reliable);
  rel.unreliable_early_sdp.clear();
  rel.early_answer_reliable = rel.early_answer_pracked = true;
  EarlyDialog b = early_dialog(rel, false);
  CHECK_FALSE(b.is_a);
  CHECK_FALSE(b.unreliable_answer);
  CHECK(b.answer_reliable);
  CHECK(b.answer_pracked);
}
