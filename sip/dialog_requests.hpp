// Mid-call request bookkeeping of one leg, both ways: the peer's re-INVITE, UPDATE and INFO waiting
// for the bridge's answer (by txn id), b2buad's own re-INVITE or UPDATE waiting for its final
// response (one at a time), its INFOs waiting for theirs (in order), and the ACK that may carry an
// answer. Pure state; sip_midcall.cpp keeps one per leg (LegRec) and does the NUA calls. The
// messages it holds are references the adapter took (msg_ref_create) and must destroy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string_view>
#include <unordered_map>

#include <sofia-sip/msg.h>

#include "sip/refusal.hpp"

namespace b2bua::sip {

/// What to do with a peer's re-INVITE or UPDATE whose Contact passed (dialog_target.hpp).
enum class OfferStep {
  forward,     ///< keep it under a new txn and report it to the bridge (reoffer)
  answer_200,  ///< an UPDATE without an offer only refreshes the dialog: 200 from the SIP thread
  refuse,      ///< answer `OfferIntake::refusal`
};

struct OfferIntake {
  OfferStep step = OfferStep::forward;
  std::optional<Refusal> refusal;
};

class DialogRequests {
 public:
  /// Peer requests waiting for the bridge: more are refused at once (500 + Retry-After), so a
  /// peer cannot pile up held messages.
  static constexpr std::size_t max_pending = 16;

  /// The peer's offer: a body that is not SDP -> 415 (b2bua.offer.unsupported_body, Accept: SDP);
  /// an UPDATE without SDP -> 200; `early_refusal` (early_offer.hpp, early dialogs only); too many
  /// pending -> 500 b2bua.request.too_many_pending; else forward.
  OfferIntake intake_offer(bool has_body, bool has_sdp, bool update,
                           const std::optional<Refusal>& early_refusal) const;

  /// The peer's INFO: too many pending -> 500 b2bua.request.too_many_pending.
  std::optional<Refusal> intake_info() const;

  /// Keeps the peer's request `msg` under `txn` until its final response. `offerless_invite`: a
  /// re-INVITE without SDP, so our 200 carries the offer and its ACK the answer.
  void add(std::uint64_t txn, msg_t* msg, bool offerless_invite);

  /// The request kept under `txn`, nullptr when none (answered already, or never ours).
  msg_t* request(std::uint64_t txn) const;

  /// The bridge's response `status` to `txn` went out (`with_sdp`: it carried SDP). A final one
  /// closes the request and returns its message for the adapter to destroy (else nullptr).
  msg_t* answered(std::uint64_t txn, int status, bool with_sdp);

  /// Every message still kept, cleared (the leg is released).
  template <class F>
  void release_all(F&& destroy) {
    for (auto& [txn, r] : requests_) {
      destroy(r.msg);
    }
    requests_.clear();
  }

  std::size_t pending() const { return requests_.size(); }

  /// The peer's ACK: true once if it answers the offer our 200 carried (answer_in_ack).
  bool take_answer_in_ack();

  /// b2buad's offer (`method` INVITE or UPDATE) may go: nullopt, and it is now outstanding (a
  /// re-INVITE without SDP leaves our ACK to carry the answer). Else the refusal the bridge gets
  /// as its reanswer: one offer at a time (500 b2bua.offer.overlap; the bridge never asks for
  /// two), then `early_refusal` (early_offer.hpp, early dialogs only), then a re-INVITE while an
  /// INFO of ours or our BYE (`bye_sent`) is open: 491 b2bua.offer.leg_busy, as from a busy peer.
  /// NUA would queue that INVITE and start it from the next ACK it gets, and a start that fails
  /// there (the session is ending) frees the ACKed server request under NUA's feet (issue 17, F7:
  /// a use-after-free in nua_session.c process_ack). An UPDATE is never started from an ACK.
  std::optional<Refusal> start_offer(std::string_view method, bool with_sdp,
                                     const std::optional<Refusal>& early_refusal,
                                     bool bye_sent = false);

  /// Our re-INVITE (`update` false) or UPDATE (`update` true) awaits its final response.
  bool offer_out(bool update) const { return offer_out_ && offer_update_ == update; }

  /// Its final response came (NTA ACKs a non-2xx itself: no ACK of ours then).
  void offer_answered(int status);

  /// The bridge's ACK with the answer may go: true once after our offerless re-INVITE's 2xx.
  bool take_ack();

  /// Our INFO `tag` went out; its final response is matched in order.
  void info_sent(std::uint64_t tag) { infos_out_.push_back(tag); }

  /// The tag of the oldest INFO without a final response, now answered (nullopt: none).
  std::optional<std::uint64_t> info_answered();

 private:
  struct Kept {
    msg_t* msg = nullptr;
    bool offerless_invite = false;
  };
  std::unordered_map<std::uint64_t, Kept> requests_;
  std::deque<std::uint64_t> infos_out_;
  bool offer_out_ = false;
  bool offer_update_ = false;
  bool ack_pending_ = false;
  bool answer_in_ack_ = false;
};

}  // namespace b2bua::sip
