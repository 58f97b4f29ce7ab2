// OfferAnswer: the mid-call offer/answer state machine of one bridge.
#include "actors/offer_answer.hpp"

#include "rtp/sdp_rewriter.hpp"

namespace b2bua {

std::uint64_t OfferAnswer::fresh_seed() {
  thread_local std::mt19937_64 seeds{std::random_device{}()};
  return seeds();
}

OfferAnswer::OfferAnswer(std::uint64_t seed, int max_retries)
    : rng_(seed), max_retries_(max_retries) {}

bool OfferAnswer::offer(Party from, std::uint64_t txn, std::string method, std::string offer_sdp) {
  if (stage_ != Stage::idle) {
    return false;  // RFC 3261 14.1 / RFC 3311 5.2: an offer is open, whoever made it
  }
  OpenOffer o;
  o.from = from;
  o.txn = txn;
  o.offerless = offer_sdp.empty() && method == "INVITE";
  o.method = std::move(method);
  o.offer = std::move(offer_sdp);
  open_ = std::move(o);
  stage_ = Stage::forwarded;
  return true;
}

OfferAnswer::Outcome OfferAnswer::on_response(Party from, int status) {
  if (stage_ != Stage::forwarded || !open_ || from == open_->from || status < 200) {
    return Outcome::ignore;
  }
  if (status < 300) {
    if (open_->offerless) {
      stage_ = Stage::awaiting_ack;
    } else {
      reset();
    }
    return Outcome::relay_answer;
  }
  if (status == 491 && open_->retries < max_retries_) {
    ++open_->retries;
    retry_delay_ms_ = pick_delay(from);
    ++generation_;
    stage_ = Stage::retry_wait;
    return Outcome::retry;
  }
  reset();
  return Outcome::relay_failure;
}

bool OfferAnswer::on_retry_timer(std::uint64_t generation) {
  if (stage_ != Stage::retry_wait || generation != generation_) {
    return false;
  }
  stage_ = Stage::forwarded;
  return true;
}

bool OfferAnswer::on_ack(Party from) {
  if (stage_ != Stage::awaiting_ack || !open_ || open_->from != from) {
    return false;
  }
  reset();
  return true;
}

void OfferAnswer::reset() {
  stage_ = Stage::idle;
  open_.reset();
  ++generation_;  // a pending retry timer finds nothing to do
}

std::uint32_t OfferAnswer::pick_delay(Party responder) {
  // b2buad made the B leg's Call-ID; the caller made the A leg's.
  const bool own_call_id = responder == Party::b;
  std::uniform_int_distribution<std::uint32_t> steps(own_call_id ? 210 : 0,
                                                     own_call_id ? 400 : 200);
  return steps(rng_) * 10;
}

std::uint32_t OfferAnswer::pick_retry_after() {
  std::uniform_int_distribution<std::uint32_t> seconds(1, 10);
  return seconds(rng_);
}

std::optional<bool> sdp_holds(const std::string& sdp) {
  auto info = rtp::parse_sdp(sdp, nullptr);
  if (!info) {
    return std::nullopt;
  }
  bool any_live = false;
  for (const auto& s : info->streams) {
    if (s.port == 0) {
      continue;
    }
    any_live = true;
    const bool held = s.hold_zero_address || s.direction == "sendonly" || s.direction == "inactive";
    if (!held) {
      return false;
    }
  }
  return any_live;
}

}  // namespace b2bua
