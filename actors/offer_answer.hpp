// OfferAnswer: the bridge's mid-call offer/answer state machine. It serialises the offers of both
// legs (re-INVITE and UPDATE, RFC 3261 14, RFC 3311) so that at most one is open across the bridge,
// answers glare with 491 and schedules the retry of a 491 the far side sent (RFC 3261 14.1).
// Pure logic: no messaging, no SIP; the bridge actor drives it and owns the timer.
//
//   idle --offer(X)--> forwarded(X) --2xx from Y--> idle             (answer relayed to X)
//                        |   |  \--2xx (offerless)--> awaiting_ack(X) --ACK from X--> idle
//                        |   \--491 from Y--> retry_wait(X) --timer--> forwarded(X)
//                        \--other final from Y--> idle               (error relayed to X)
//   any other offer while not idle -> 491 (glare).
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>

namespace b2bua {

enum class Party : std::uint8_t { a, b };

inline Party other(Party p) { return p == Party::a ? Party::b : Party::a; }

/// The open offer: who made it and in which request.
struct OpenOffer {
  Party from = Party::a;
  std::uint64_t txn = 0;   ///< the offerer's in-dialog request, answered when this closes
  std::string method;      ///< "INVITE" or "UPDATE"
  std::string offer;       ///< as sent to the other party ("" for a re-INVITE without offer)
  bool offerless = false;  ///< re-INVITE without SDP: the offer comes in the 200, the answer in the ACK
  int retries = 0;         ///< 491s from the far side retried so far
};

class OfferAnswer {
public:
  enum class Stage : std::uint8_t { idle, forwarded, retry_wait, awaiting_ack };

  /// What the bridge must do with a final response from the far party.
  enum class Outcome : std::uint8_t {
    ignore,         ///< not a response to the open offer
    relay_answer,   ///< 2xx: relay it (with its SDP) to the offerer; closed (or awaiting the ACK)
    retry,          ///< 491: resend the offer after `retry_delay_ms()`
    relay_failure,  ///< any other final (or too many 491s): relay the error; closed
  };

  /// `seed` makes the retry delays reproducible in tests. `max_retries`: 491s retried per offer.
  explicit OfferAnswer(std::uint64_t seed = fresh_seed(), int max_retries = 3);

  /// A seed for one call: drawn from a generator per thread that a std::random_device seeded once
  /// (a std::random_device per call opened the kernel's entropy source each time: 16 % of the CAF
  /// worker's time at 1,000 calls/s).
  static std::uint64_t fresh_seed();

  /// An offer from `from` in request `txn`. True: it is now open, send it to the other party.
  /// False: glare (another offer is open), answer it 491.
  bool offer(Party from, std::uint64_t txn, std::string method, std::string offer_sdp);

  /// The far party's final response to the open offer (`from` is the party that responded).
  Outcome on_response(Party from, int status);

  /// The retry timer `generation` fired. True: resend `open()->offer` to the far party.
  bool on_retry_timer(std::uint64_t generation);

  /// The offerer's ACK (offerless re-INVITE) arrived. True: the answer goes to the far party.
  bool on_ack(Party from);

  /// The call is ending: forget the open offer.
  void reset();

  Stage stage() const { return stage_; }
  bool idle() const { return stage_ == Stage::idle; }
  const std::optional<OpenOffer>& open() const { return open_; }
  /// The delay chosen by the last `retry` outcome, and the generation its timer must carry.
  std::uint32_t retry_delay_ms() const { return retry_delay_ms_; }
  std::uint64_t retry_generation() const { return generation_; }

  /// RFC 3261 14.1: 2100-4000 ms when b2buad owns the Call-ID of the dialog that got the 491 (the
  /// B leg), else 0-2000 ms; in 10 ms steps.
  std::uint32_t pick_delay(Party responder);

  /// RFC 3311 5.2 / RFC 3261 14.2: the Retry-After of a 500 to an offer that overlaps one in
  /// progress, 1-10 s (0 would mean none).
  std::uint32_t pick_retry_after();

private:
  Stage stage_ = Stage::idle;
  std::optional<OpenOffer> open_;
  std::mt19937_64 rng_;
  int max_retries_;
  std::uint32_t retry_delay_ms_ = 0;
  std::uint64_t generation_ = 0;
};

/// Whether an SDP puts the call on hold (RFC 6337 5.3: every live stream sendonly or inactive, or an
/// RFC 2543 c=0.0.0.0), resumes it (false), or cannot be read (nullopt).
std::optional<bool> sdp_holds(const std::string& sdp);

}  // namespace b2bua
