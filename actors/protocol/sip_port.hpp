// SipPort: how actors make things happen in SIP without touching sofia. The production implementation
// posts each action into the sofia thread; tests record them.
#pragma once

#include <cstdint>
#include <string>

#include <caf/actor.hpp>

#include "actors/protocol/call_types.hpp"
#include "actors/protocol/ids.hpp"

namespace b2bua {

enum class SipActionKind : std::uint8_t {
  invite,   ///< send the B leg's INVITE (`invite` filled)
  respond,  ///< respond to the leg's pending INVITE (A leg): status, reason, sdp, warning
  bye,      ///< end an established dialog
  cancel,   ///< CANCEL the leg's outgoing INVITE (B leg)
  release,  ///< end the leg whatever its state (BYE, CANCEL or an error response), used on faults
  abandon,  ///< give up a B leg at once (failover): CANCEL if it may be ringing, then `terminated`
  redirect, ///< answer the A leg's INVITE with `status` (3xx) and a Contact (`contact`)
  options,  ///< send OPTIONS to `invite.request_uri`; (probe_atom, tag, status) goes to `reply_to`
  // Mid-call, on an established dialog (an UPDATE also on an early one):
  reoffer,  ///< send a re-INVITE or UPDATE (`method`) with `sdp` ("" = a re-INVITE without offer)
  respond_request,  ///< respond to in-dialog request `tag`: status, reason, sdp, warning,
                    ///< retry_after
  info,     ///< send INFO with `content_type` and `body`; its response comes back tagged `tag`
  ack,      ///< ACK the 2xx of our offerless re-INVITE, with the answer `sdp`
};

struct SipAction {
  LegId leg = 0;
  SipActionKind kind = SipActionKind::release;
  int status = 0;
  std::string reason;
  std::string sdp;
  std::string warning;           ///< stable id for a Warning header (respond with >= 300)
  std::uint32_t retry_after = 0; ///< Retry-After header on a response, 0 for none
  std::string why;               ///< Reason header text on BYE/CANCEL, may be empty
  OutboundInvite invite;         ///< with kind == invite (options: request_uri only)
  std::string contact;           ///< with kind == redirect
  caf::actor reply_to;           ///< with kind == options
  std::uint64_t tag = 0;         ///< with kind == options: echoed in the reply; mid-call: the txn
  std::string method;            ///< with kind == reoffer: "INVITE" or "UPDATE"
  std::string content_type;      ///< with kind == info
  std::string body;              ///< with kind == info
  bool reliable = false;         ///< respond with 18x: reliably (100rel) if the caller supports it
};

/// The actors' view of the SIP layer. Thread-safe: any actor may call it at any time.
class SipPort {
public:
  virtual ~SipPort() = default;
  /// Queues an action for the SIP thread. Never blocks. Actions on unknown legs are ignored.
  virtual void execute(SipAction action) = 0;
  /// A fresh leg id, unique for the process lifetime.
  virtual LegId new_leg_id() = 0;
  /// A fresh Call-ID for a B leg.
  virtual std::string new_call_id() = 0;
};

}  // namespace b2bua
