// Rules for the addresses NUA will send a dialog's requests to: the remote target (Contact) and the
// route set (Record-Route). Pure checks on sofia's parsed headers, no NUA: sofia-sip aborts or
// recurses without end when it has to create a request for a target it cannot send to (a
// `Contact: *`, a tel: or http: URI), so b2buad refuses such targets before NUA ever uses them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <sofia-sip/sip.h>
#include <sofia-sip/url.h>

#include "actors/protocol/refusal.hpp"

namespace b2bua::sip {

/// What makes a URI unusable as the destination of a request.
enum class UriProblem { none, missing, not_sip, no_host, bad_host, bad_port, headers };

/// Checks a URI that NUA may put in a Request-URI or use as the next hop: sip: or sips:, a host
/// name or IP literal, a numeric port 1-65535 if any, the same for a maddr parameter, and no
/// headers component (sofia would copy them into every request sent there).
UriProblem check_request_uri(const url_t* url);

/// True for an IPv4 dotted quad or an IPv6 literal (bracketed or not): no DNS lookup needed.
bool is_ip_literal(std::string_view host);

/// The verdict on a message that sets or refreshes a dialog's remote target and route set.
struct TargetCheck {
  UriProblem problem = UriProblem::none;
  /// The refusal (400) when the target is unusable: sip_missing_contact (no Contact at all),
  /// sip_bad_contact or sip_bad_record_route.
  std::optional<b2bua::Refusal> refusal;
  /// The first hop (first route entry, else the Contact) is a host name: sending there needs DNS.
  bool needs_lookup = false;

  bool ok() const { return problem == UriProblem::none; }
  /// The refusal's Warning id ("" when the target is usable).
  std::string_view warning() const { return refusal ? warning_id(*refusal) : ""; }
};

/// Checks the Contact (exactly one, RFC 3261 8.1.1.8 and 12.1) and every Record-Route entry of a
/// dialog-forming or target-refreshing message. `uac`: the message is a response to b2buad's own
/// request, whose route set is the Record-Route list reversed (RFC 3261 12.1.2), so its first hop
/// is the last entry. `contact_required`: a missing Contact is a problem (INVITE and its 2xx).
TargetCheck check_dialog_target(const sip_contact_t* contact, const sip_record_route_t* rr,
                                bool uac, bool contact_required);

/// "sip:HOST:PORT;transport=udp|tcp" for a packet's source address (an IPv6 host in brackets):
/// where NUA sends a leg's requests when its own target cannot be used or needs DNS.
std::string source_uri(std::string_view ip, unsigned port, bool tcp);

/// "sip[s]:host[:port][;transport=x][;maddr=y]" of a target, without user, password or other
/// parameters: the transport address of a request sent to `url` (empty if it has no host).
std::string next_hop_uri(const url_t* url);

}  // namespace b2bua::sip
