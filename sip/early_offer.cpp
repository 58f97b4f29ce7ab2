// Early offers (see early_offer.hpp).
#include "sip/early_offer.hpp"

namespace b2bua::sip {

EarlyDialog early_dialog(const ReliableLeg& rel, bool is_a) {
  EarlyDialog d;
  d.is_a = is_a;
  d.caller_knows_100rel = rel.caller.knows_100rel();
  d.unreliable_answer = !rel.unreliable_early_sdp.empty();
  d.answer_reliable = rel.early_answer_reliable;
  d.answer_pracked = rel.early_answer_pracked;
  return d;
}

std::optional<Refusal> incoming_early_offer(const EarlyDialog& d) {
  if (d.answer_reliable) {
    return std::nullopt;
  }
  if (d.is_a) {
    return table_refusal(b2bua::Refusal::offer_early_pending);
  }
  return table_refusal(b2bua::Refusal::offer_glare);
}

std::optional<Refusal> outgoing_early_offer(const EarlyDialog& d, std::string_view method) {
  if (d.is_a && (!d.caller_knows_100rel || d.unreliable_answer)) {
    return table_refusal(b2bua::Refusal::offer_early_unreliable);
  }
  if (method == "UPDATE" && d.answer_reliable && (!d.is_a || d.answer_pracked)) {
    return std::nullopt;
  }
  return table_refusal(b2bua::Refusal::offer_early_pending);
}

}  // namespace b2bua::sip
