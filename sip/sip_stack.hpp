// SipStack: the b2b-sofia thread. It owns su_root, NUA and every nua handle; actors reach it only through
// SipPort::execute (a closure posted with su_msg_send_to) and it answers with anon_send to the transport.
//
// Out: (incoming_atom, IncomingCall) and (leg_atom, LegEvent) to the transport actor. Every leg it
// reports eventually gets exactly one LegEvent `terminated`, after which its id is never used again.
// It answers by itself, without actors: new INVITEs while draining or over max_calls (503 with
// Retry-After), Max-Forwards 0 (483), an INVITE carrying one of our own B-leg Call-IDs (482, a loop),
// OPTIONS (200), requests in unknown dialogs (481, by NUA), INVITEs that fail digest authentication
// (401/407/403/400, see inbound_auth.hpp), UPDATEs without SDP (200), offers in an early dialog
// whose first offer/answer is not complete (500 with Retry-After from the caller, 491 from the
// callee; see ARCHITECTURE.md, "UPDATE in the early dialog"). A B leg's 401/407 is answered once with the backend's
// configured credentials (BackendCredential), else the leg fails with 403; so are its mid-call
// requests' (re-INVITE, UPDATE, INFO), once per request.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor.hpp>

#include "actors/protocol/sip_port.hpp"
#include "sip/backend_auth.hpp"

namespace b2bua::sip {

class InboundAuth;

struct SipStackConfig {
  std::string listen_host = "0.0.0.0";
  std::uint16_t listen_port = 5060;
  std::string advertise;            ///< host for From and Warning; "" = listen host (or 127.0.0.1)
  std::string user_agent = "b2bua";
  std::uint32_t max_calls = 10000;
  std::uint32_t retry_after_s = 5;
  std::uint32_t t1_ms = 500;
  /// Digest authentication of incoming requests (auth.methods); null = off. Used only in the
  /// sofia thread once the stack has started.
  std::shared_ptr<InboundAuth> auth;
  std::vector<BackendCredential> backend_credentials;
  std::uint32_t session_expires_s = 1800;  ///< RFC 4028 interval asked for on each leg; 0 = off
  std::uint32_t min_se_s = 90;             ///< Min-SE; shorter Session-Expires get 422
  /// No leg stays without a final response longer: the caller gets 500, a callee CANCEL.
  std::uint32_t setup_deadline_ms = 300000;
  /// TCP connections unused this long are closed (sofia's TPTAG_IDLE): those that sent garbage
  /// and closed too, which sofia stops reading.
  std::uint32_t tcp_idle_ms = 120000;
};

/// Counters kept by the SIP thread, readable from any thread without locks.
struct SipCounters {
  std::atomic<std::uint64_t> active_calls{0};
  std::atomic<std::uint64_t> total_calls{0};
  std::atomic<std::uint64_t> answered_calls{0};
  std::atomic<std::uint64_t> failed_calls{0};
  std::atomic<std::uint64_t> cancelled_calls{0};
  std::array<std::atomic<std::uint64_t>, 700> final_responses{};  ///< by status code, < 700
  /// Requests received, by method: index into sip_method_names.
  std::array<std::atomic<std::uint64_t>, 14> requests{};
  /// Responses to our own requests (B-leg INVITE, BYE, CANCEL, backend OPTIONS probes) by status,
  /// as NUA reports them (its local 408 and 503 included).
  std::array<std::atomic<std::uint64_t>, 700> responses_received{};
  /// Authentication outcomes of incoming requests, by index into auth_result_names.
  std::array<std::atomic<std::uint64_t>, 8> auth{};
  /// Legs that reached timers.setup_deadline_ms without a final response.
  std::atomic<std::uint64_t> deadline_legs{0};
  /// Leg records the SIP thread holds (each a NUA handle), sampled once a second.
  std::atomic<std::uint64_t> leg_records{0};
};

/// Method names of SipCounters::requests, by index.
inline constexpr const char* sip_method_names[14] = {
    "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO", "MESSAGE",
    "NOTIFY", "SUBSCRIBE", "REFER", "PUBLISH", "REGISTER", "UPDATE", "PRACK"};

/// Outcomes of digest authentication (SipCounters::auth), by index.
inline constexpr const char* auth_result_names[8] = {
    "ok", "trusted", "challenge", "stale", "failed", "replay", "malformed", "rate_limited"};

class SipStack final : public SipPort {
public:
  explicit SipStack(SipStackConfig cfg);
  ~SipStack() override;
  SipStack(const SipStack&) = delete;
  SipStack& operator=(const SipStack&) = delete;

  /// Starts the b2b-sofia thread and binds the SIP port. Returns "" on success, else one line
  /// naming the address. Events go to `transport`. Call once, from the owner's thread.
  std::string start(caf::actor transport);

  /// Refuses new INVITEs from now on (503, Warning b2bua.draining). Any thread.
  void set_draining(bool on) { draining_ = on; }
  bool draining() const { return draining_; }

  /// Ends every dialog (NUA sends BYE/CANCEL) and releases NUA; returns when NUA is gone or after
  /// `timeout_ms`. Then stops the thread. Call from the owner's thread after the actors have quit.
  void stop(std::uint32_t timeout_ms = 3000);

  const SipCounters& counters() const { return counters_; }
  std::uint16_t port() const { return bound_port_; }

  // SipPort
  void execute(SipAction action) override;
  LegId new_leg_id() override;
  std::string new_call_id() override;

  /// Replaces the digest authentication of incoming requests (SIGHUP); null turns it off. Nonces
  /// issued before are refused from then on (callers are challenged again). Any thread.
  void set_auth(std::shared_ptr<InboundAuth> auth);

  /// Replaces the credentials for backends' challenges (SIGHUP); B legs started later use them.
  /// Any thread.
  void set_backend_credentials(std::vector<BackendCredential> creds);

  /// Posts a closure into the sofia thread. Any thread; false when the thread is not running.
  bool post(std::function<void()> fn);

  /// The b2b-sofia thread's handle (a pthread_t), for the watchdog's backtrace signal. Valid from
  /// a successful start() until stop(). Owner's thread.
  std::thread::native_handle_type native_thread() { return thread_.native_handle(); }

  struct Impl;  // lives in the sofia thread; defined in sip_stack.cpp

private:
  void run(std::promise<std::string>* started);

  SipStackConfig cfg_;
  SipCounters counters_;
  std::atomic<bool> draining_{false};
  std::atomic<bool> running_{false};
  std::atomic<LegId> next_leg_{1};
  std::uint16_t bound_port_ = 0;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
};

}  // namespace b2bua::sip
