// Response mapping: how a peer's response to one of b2buad's requests (the INVITE, a re-INVITE or
// UPDATE, an INFO) becomes the LegEvent its leg actor hears. Pure rules on a plain copy of the
// response (PeerResponse); sip_stack.cpp and sip_midcall.cpp make the copy from NUA's event.
#pragma once

#include <cstdint>
#include <string>

#include <sofia-sip/sip.h>

#include "actors/protocol/leg_event.hpp"

namespace b2bua::sip {

/// The SDP body of a message, or "" when it has none or its type is not application/sdp.
std::string sdp_body(const sip_t* sip);

/// A peer's Retry-After in seconds, at most an hour (0: none): the value goes on to the caller and
/// to the backend's breaker, and one damaged response must not ask for days.
std::uint32_t retry_after_of(const sip_t* sip);

/// What the mapping needs of one response as NUA reported it.
struct PeerResponse {
  int status = 0;
  std::string phrase;
  bool from_peer = false;  ///< a message came (NTA and NUA report some failures without one)
  bool rseq = false;       ///< it carries RSeq: a reliable 18x (NUA PRACKs it by itself)
  std::string sdp;
  std::uint32_t retry_after = 0;
  std::string from_tag;  ///< our tag (the From of our request)
  std::string to_tag;    ///< the peer's tag
};

/// The copy of NUA's (status, phrase, sip); `sip` may be null.
PeerResponse peer_response(int status, const char* phrase, const sip_t* sip);

/// The event for a callee's response (status >= 100) to b2buad's INVITE: 100 trying; 18x ringing,
/// or early_media with its SDP (reliable when it had RSeq); 2xx answered (its target is checked
/// before, see dialog_target.hpp); else failed, where a NUA-internal 7xx-9xx becomes 500, an
/// unanswered challenge 403 b2bua.target.auth_failed, and a failure no callee sent (no message, or
/// NTA's own 408 before any provisional response: `heard` false) gets b2bua.target.timeout (408)
/// or b2bua.target.unreachable.
LegEvent invite_response_event(LegId leg, const PeerResponse& r, bool heard);

/// An event for the final response to an in-dialog request of b2buad's, and whether that response
/// ended the dialog (see ends_dialog; the event then carries b2bua.dialog.ended).
struct DialogResponse {
  LegEvent event;
  bool dialog_ended = false;
};

/// Where b2buad's dialog with the peer stands when a response to its in-dialog request comes.
struct DialogUse {
  bool answered = false;  ///< the dialog is established
  bool bye_sent = false;  ///< b2buad asked NUA for a BYE already
};

/// The reanswer for the final response to b2buad's re-INVITE or UPDATE (`update`), with its SDP,
/// the same rules for 7xx-9xx, challenges and local failures as invite_response_event (a local 491
/// is NUA's own glare answer: no Warning), and Retry-After on failures.
DialogResponse reoffer_response_event(LegId leg, bool update, const PeerResponse& r, DialogUse use);

/// The info event for the final response to b2buad's INFO (7xx-9xx as 500, challenges as 403).
DialogResponse info_response_event(LegId leg, const PeerResponse& r, DialogUse use);

/// RFC 5057 (sofia's sip_response_terminates_dialog): a final response to b2buad's request in an
/// established dialog (`answered`, no BYE of ours yet) that ends the dialog or its session usage;
/// 491 and challenges are handled before this. Such a leg is over (b2bua.dialog.ended).
bool ends_dialog(bool answered, bool bye_sent, int status, sip_method_t method);

}  // namespace b2bua::sip
