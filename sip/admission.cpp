// Admission of a caller's INVITE (see admission.hpp).
#include "sip/admission.hpp"

#include "sip/invite_rules.hpp"

namespace b2bua::sip {

Admission admit_invite(const sip_t* sip, bool draining,
                       const std::unordered_set<std::string>& our_call_ids) {
  Admission out;
  if (!sip || !sip->sip_from || !sip->sip_to || !sip->sip_request || !sip->sip_call_id) {
    out.refusal = table_refusal(b2bua::Refusal::sip_bad_request);
    return out;
  }
  if (draining) {
    out.refusal = table_refusal(b2bua::Refusal::draining);
    return out;
  }
  if (sip->sip_max_forwards) {
    out.max_forwards = static_cast<int>(sip->sip_max_forwards->mf_count);
  }
  if (out.max_forwards <= 0) {
    out.refusal = table_refusal(b2bua::Refusal::sip_too_many_hops);
    return out;
  }
  if (sip->sip_call_id->i_id && our_call_ids.count(sip->sip_call_id->i_id)) {
    out.refusal = table_refusal(b2bua::Refusal::sip_loop);
    return out;
  }
  if (auto refusal = check_invite(sip)) {
    out.refusal = refusal;
    return out;
  }
  // NUA cannot send to a target that is not a SIP URI (sofia aborts or recurses when it must):
  // such an INVITE never becomes a dialog (RFC 3261 8.1.1.8: exactly one SIP or SIPS Contact).
  out.target = check_dialog_target(sip->sip_contact, sip->sip_record_route, /*uac=*/false,
                                   /*contact_required=*/true);
  if (!out.target.ok()) {
    out.refusal = table_refusal(out.target.refusal.value_or(b2bua::Refusal::sip_bad_contact));
  }
  return out;
}

std::optional<Refusal> admit_capacity(std::uint64_t active, std::uint64_t max_calls) {
  if (active >= max_calls) {
    return table_refusal(b2bua::Refusal::limits_max_calls);
  }
  return std::nullopt;
}

}  // namespace b2bua::sip
