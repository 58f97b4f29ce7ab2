// Mid-call request bookkeeping (see dialog_requests.hpp).
#include "sip/dialog_requests.hpp"

namespace b2bua::sip {

namespace {

constexpr Refusal too_many = table_refusal(b2bua::Refusal::request_too_many_pending);

}  // namespace

OfferIntake DialogRequests::intake_offer(bool has_body, bool has_sdp, bool update,
                                         const std::optional<Refusal>& early_refusal) const {
  OfferIntake out;
  if (has_body && !has_sdp) {
    out.step = OfferStep::refuse;
    out.refusal = table_refusal(b2bua::Refusal::offer_unsupported_body, /*accept_sdp=*/true);
  } else if (!has_sdp && update) {
    out.step = OfferStep::answer_200;
  } else if (early_refusal) {
    out.step = OfferStep::refuse;
    out.refusal = early_refusal;
  } else if (auto full = intake_info()) {
    out.step = OfferStep::refuse;
    out.refusal = full;
  }
  return out;
}

std::optional<Refusal> DialogRequests::intake_info() const {
  if (requests_.size() >= max_pending) {
    return too_many;
  }
  return std::nullopt;
}

void DialogRequests::add(std::uint64_t txn, msg_t* msg, bool offerless_invite) {
  requests_[txn] = Kept{msg, offerless_invite};
}

msg_t* DialogRequests::request(std::uint64_t txn) const {
  auto it = requests_.find(txn);
  return it == requests_.end() ? nullptr : it->second.msg;
}

msg_t* DialogRequests::answered(std::uint64_t txn, int status, bool with_sdp) {
  auto it = requests_.find(txn);
  if (it == requests_.end() || status < 200) {
    return nullptr;
  }
  if (status < 300 && it->second.offerless_invite && with_sdp) {
    answer_in_ack_ = true;
  }
  msg_t* msg = it->second.msg;
  requests_.erase(it);
  return msg;
}

bool DialogRequests::take_answer_in_ack() {
  const bool was = answer_in_ack_;
  answer_in_ack_ = false;
  return was;
}

std::optional<Refusal> DialogRequests::start_offer(std::string_view method, bool with_sdp,
                                                   const std::optional<Refusal>& early_refusal,
                                                   bool bye_sent) {
  if (offer_out_) {
    return table_refusal(b2bua::Refusal::offer_overlap);
  }
  if (early_refusal) {
    return early_refusal;
  }
  if (method != "UPDATE" && (!infos_out_.empty() || bye_sent)) {
    return table_refusal(b2bua::Refusal::offer_leg_busy);
  }
  offer_out_ = true;
  offer_update_ = method == "UPDATE";
  if (!offer_update_) {
    // Without an offer the 2xx brings one, and our ACK must carry the answer.
    ack_pending_ = !with_sdp;
  }
  return std::nullopt;
}

void DialogRequests::offer_answered(int status) {
  offer_out_ = false;
  if (status >= 300) {
    ack_pending_ = false;
  }
}

bool DialogRequests::take_ack() {
  const bool was = ack_pending_;
  ack_pending_ = false;
  return was;
}

std::optional<std::uint64_t> DialogRequests::info_answered() {
  if (infos_out_.empty()) {
    return std::nullopt;
  }
  const std::uint64_t tag = infos_out_.front();
  infos_out_.pop_front();
  return tag;
}

}  // namespace b2bua::sip
