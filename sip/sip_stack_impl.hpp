// The sofia-thread side of SipStack, shared by its translation units (sip_stack.cpp: calls,
// options, the thread; sip_midcall.cpp: re-INVITE, UPDATE, INFO). Only the b2b-sofia thread
// touches these objects. Not part of the SIP layer's interface: include sip_stack.hpp instead.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <strings.h>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <caf/actor.hpp>
#include <caf/send.hpp>

#include <sofia-sip/msg.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/su_wait.h>

#include "actors/protocol/atoms.hpp"
#include "actors/protocol/leg_event.hpp"
#include "sip/admission.hpp"
#include "sip/backend_auth.hpp"
#include "sip/dialog_requests.hpp"
#include "sip/dialog_target.hpp"
#include "sip/early_offer.hpp"
#include "sip/inbound_auth.hpp"
#include "sip/leg_end.hpp"
#include "sip/peer_response.hpp"
#include "sip/reliable_provisional.hpp"
#include "sip/sip_stack.hpp"

namespace b2bua::sip {

namespace detail {

inline std::string str(const char* s) { return s ? std::string(s) : std::string(); }

}  // namespace detail

/// Milliseconds of the steady clock (setup deadlines).
std::int64_t steady_ms();

// -- the part that lives in the sofia thread --------------------------------------------------------

struct LegRec {
  LegId id = 0;
  nua_handle_t* nh = nullptr;
  std::int64_t created_ms = 0;  // steady clock: the setup deadline counts from here
  std::int64_t cancelled_ms = 0;  // B: when we sent CANCEL (0: not sent); see sweep_deadlines
  bool is_a = false;
  bool final_sent = false;      // A: a final response went out (or NUA sent 487 on CANCEL)
  bool answered = false;        // A: 2xx sent; B: 2xx received
  bool final_received = false;  // B: a final response arrived
  bool cancelled = false;       // A: the caller cancelled
  bool heard = false;           // B: a provisional response came from the target
  std::string call_id;          // B: our Call-ID (for loop detection)
  std::string target;           // B: the Request-URI (whose credentials answer a challenge)
  ChallengeBudget auth;         // B: one answer to a challenge per request (INVITE, mid-call)
  caf::actor probe_to;          // an OPTIONS probe: who gets (probe_atom, tag, status)
  std::uint64_t probe_tag = 0;
  DialogRequests dialog;  // mid-call requests both ways (sip/dialog_requests.hpp)
  // 100rel (RFC 3262) towards the caller, planned by sip/reliable_provisional.hpp (A legs); the
  // early dialog's first offer/answer is complete once its answer travelled reliably
  // (rel.early_answer_reliable: A, a reliable 18x with SDP went out; B, one came in).
  ReliableLeg rel;
  std::optional<SipAction> held_final;  // a 2xx waiting for the PRACKs (see respond)
  std::int64_t held_since_ms = 0;       // ... since then (504 instead after 64*T1)
  bool bye_sent = false;          // we asked NUA for a BYE (others are its session timer's)
  bool via_source = false;        // A: requests go to the caller's source address (NUTAG_PROXY)
};

/// What ending a leg depends on (sip/leg_end.hpp).
inline LegState leg_state(const LegRec& rec) {
  LegState s;
  s.is_a = rec.is_a;
  s.final_sent = rec.final_sent;
  s.final_received = rec.final_received;
  s.answered = rec.answered;
  s.bye_sent = rec.bye_sent;
  return s;
}

struct SipStack::Impl {
  SipStack* owner = nullptr;
  su_home_t home[1] = {SU_HOME_INIT(home)};
  su_root_t* root = nullptr;
  nua_t* nua = nullptr;
  su_task_r task = {};
  su_timer_t* sweep = nullptr;  // once a second: legs past the setup deadline (sip_deadline.cpp)
  caf::actor transport;
  std::unordered_map<LegId, std::unique_ptr<LegRec>> legs;
  std::unordered_set<std::string> our_call_ids;
  std::string warning_host;
  std::string from_host;
  std::vector<BackendCredential> credentials;
  bool shut_down = false;
  bool options_by_app = false;  // NUTAG_APPL_METHOD("OPTIONS"): auth.methods has OPTIONS
  std::uint64_t next_txn = 0;  // in-dialog request ids, unique for the process
  std::minstd_rand rng{std::random_device{}()};  // Retry-After values

  // -- helpers --
  void emit(LegEvent ev) { caf::anon_send(transport, leg_atom::value, std::move(ev)); }

  std::string warning(const std::string& id) const {
    return "399 " + warning_host + " \"" + id + "\"";
  }

  void count_final(LegRec* rec, int status) {
    if (!rec || !rec->is_a || rec->final_sent || status < 200) {
      return;
    }
    rec->final_sent = true;
    auto& c = owner->counters_;
    if (status < 700) {
      c.final_responses[status].fetch_add(1, std::memory_order_relaxed);
    }
    if (status < 300) {
      rec->answered = true;
      c.answered_calls.fetch_add(1, std::memory_order_relaxed);
    } else if (rec->cancelled) {
      c.cancelled_calls.fetch_add(1, std::memory_order_relaxed);
    } else {
      c.failed_calls.fetch_add(1, std::memory_order_relaxed);
    }
  }

  // A refusal of an INVITE that never became a call (no leg id, no actor).
  void reject_early(nua_handle_t* nh, const Refusal& r) {
    auto& c = owner->counters_;
    c.total_calls.fetch_add(1, std::memory_order_relaxed);
    c.failed_calls.fetch_add(1, std::memory_order_relaxed);
    c.final_responses[static_cast<std::size_t>(r.status)].fetch_add(1, std::memory_order_relaxed);
    std::string ra = std::to_string(owner->cfg_.retry_after_s);
    nua_respond(nh, r.status, r.phrase, SIPTAG_WARNING_STR(warning(std::string(r.warning)).c_str()),
                TAG_IF(r.retry_after, SIPTAG_RETRY_AFTER_STR(ra.c_str())),
                TAG_IF(r.accept_sdp, SIPTAG_ACCEPT_STR("application/sdp")), TAG_END());
  }

  // A request that failed authentication (or is being challenged): never became a call.
  void reject_auth(nua_handle_t* nh, const AuthOutcome& out, bool invite = true) {
    if (invite) {
      owner->counters_.final_responses[static_cast<std::size_t>(out.status)].fetch_add(
          1, std::memory_order_relaxed);
    }
    std::string extra;
    for (const auto& ch : out.challenges) {
      extra += (extra.empty() ? "" : "\r\n") + std::string(owner->cfg_.auth->challenge_header()) +
               ": " + ch;
    }
    // Called inside NUA's callback: WITH_THIS names the request (needed for non-INVITEs).
    nua_respond(nh, out.status, out.phrase, NUTAG_WITH_THIS(nua),
                SIPTAG_WARNING_STR(warning(out.warning).c_str()),
                TAG_IF(!extra.empty(), SIPTAG_HEADER_STR(extra.c_str())), TAG_END());
  }

  // RFC 3311 5.2 / RFC 3261 14.2: Retry-After on a 500 to an overlapping offer, 0-10 s (>= 1 here:
  // 0 means "none" to the actors).
  std::uint32_t retry_after_s() { return 1 + static_cast<std::uint32_t>(rng() % 10); }

  LegRec* find(LegId id) {
    auto i = legs.find(id);
    return i == legs.end() ? nullptr : i->second.get();
  }

  void release_handle(LegRec* rec) {
    LegId id = rec->id;
    nua_handle_t* nh = rec->nh;
    if (rec->is_a) {
      owner->counters_.active_calls.fetch_sub(1, std::memory_order_relaxed);
    } else if (!rec->call_id.empty()) {
      our_call_ids.erase(rec->call_id);
    }
    rec->dialog.release_all([](msg_t* msg) { msg_destroy(msg); });
    legs.erase(id);
    if (nh) {
      nua_handle_bind(nh, nullptr);
      nua_handle_destroy(nh);
    }
    emit(make_event(id, LegEventKind::terminated));
  }

  // -- NUA events --
  void on_event(nua_event_t event, int status, const char* phrase, nua_handle_t* nh,
                LegRec* rec, const sip_t* sip, tagi_t tags[]);
  void on_invite(nua_handle_t* nh, LegRec* rec, const sip_t* sip);
  void on_invite_response(LegRec* rec, int status, const char* phrase, const sip_t* sip);
  void on_state(nua_handle_t* nh, LegRec* rec, tagi_t tags[]);
  bool authenticate(LegRec* rec, int status, const sip_t* sip);
  void on_options(nua_handle_t* nh, LegRec* rec, const sip_t* sip);
  void on_in_dialog_offer(nua_handle_t* nh, LegRec* rec, const sip_t* sip, const char* method);
  void refuse_request(nua_handle_t* nh, const Refusal& r);
  void refuse_offer(LegRec* rec, const std::string& method, const Refusal& r);
  void on_reoffer_response(LegRec* rec, int status, const char* phrase, const sip_t* sip);
  void on_info(nua_handle_t* nh, LegRec* rec, const sip_t* sip);
  void on_ack(LegRec* rec, const sip_t* sip);
  void on_refresh_failed(LegRec* rec, int status);
  void on_dialog_ended(LegRec* rec, int status);
  bool check_target_refresh(nua_handle_t* nh, LegRec* rec, const sip_t* sip, bool refuse);
  void send_to_source(LegRec* rec);
  void on_unknown_method(nua_handle_t* nh, LegRec* rec, const sip_t* sip);
  void on_bad_answer_target(LegRec* rec, const TargetCheck& check);
  void start_sweep();
  void sweep_deadlines();

  // -- actions --
  void execute(const SipAction& a);
  void send_invite(const SipAction& a);
  void send_options(const SipAction& a);
  void respond(LegRec* rec, const SipAction& a);
  void respond_request(LegRec* rec, const SipAction& a);
  void send_reoffer(LegRec* rec, const SipAction& a);
};

}  // namespace b2bua::sip
