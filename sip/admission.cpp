// Admission of a caller's INVITE (see admission.hpp).
#include "sip/admission.hpp"

#include "sip/invite_rules.hpp"

namespace b2bua::sip {

Admission admit_invite(const sip_t* sip, bool draining,
                       const std::unordered_set<std::string>& our_call_ids) {
  Admission out;
  if (!sip || !sip->sip_from || !sip->sip_to || !sip->sip_request || !sip->sip_call_id) {
    out.refusal = Refusal{400, "Bad Request", "b2bua.sip.bad_request"};
    return out;
  }
  if (draining) {
    out.refusal = Refusal{503, "Service Unavailable", "b2bua.draining", true};
    return out;
  }
  if (sip->sip_max_forwards) {
    out.max_forwards = static_cast<int>(sip->sip_max_forwards->mf_count);
  }
  if (out.max_forwards <= 0) {
    out.refusal = Refusal{483, "Too Many Hops", "b2bua.sip.too_many_hops"};
    return out;
  }
  if (sip->sip_call_id->i_id && our_call_ids.count(sip->sip_call_id->i_id)) {
    out.refusal = Refusal{482, "Loop Detected", "b2bua.sip.loop"};
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
    out.refusal = Refusal{400,
                          out.target.problem == UriProblem::missing ? "Missing Contact"
                                                                    : "Bad Contact",
                          out.target.warning};
  }
  return out;
}

std::optional<Refusal> admit_capacity(std::uint64_t active, std::uint64_t max_calls) {
  if (active >= max_calls) {
    return Refusal{503, "Service Unavailable", "b2bua.limits.max_calls", true};
  }
  return std::nullopt;
}

}  // namespace b2bua::sip
