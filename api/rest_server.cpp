// The REST server: Beast HTTP/1.1 sessions on one io_context run by the "b2b-api" thread, routed
// to RestBackend, plus the JSON forms of calls, stats and errors. The only file that uses Beast.
#include "api/rest_server.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <exception>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>

#include <pthread.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace b2bua::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using json = nlohmann::json;

constexpr auto io_timeout = std::chrono::seconds(30);      // idle keep-alive, slow reads and writes
constexpr auto backend_timeout = std::chrono::seconds(3);  // then 503 backend_timeout
constexpr auto linger_timeout = std::chrono::seconds(2);   // draining input before a close
constexpr std::uint32_t header_limit = 8 * 1024;
constexpr std::uint64_t body_limit = 64 * 1024;
constexpr std::size_t linger_limit = 1024 * 1024;

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

/// "2026-11-24T01:02:03.456Z"; clamped to years 1970..9999.
std::string iso8601(std::int64_t ms) {
  using namespace std::chrono;
  ms = std::clamp<std::int64_t>(ms, 0, 253402300799999);
  const sys_time<milliseconds> tp{milliseconds{ms}};
  const auto day = floor<days>(tp);
  const year_month_day ymd{day};
  const hh_mm_ss hms{tp - day};
  std::array<char, 64> buf{};
  std::snprintf(buf.data(), buf.size(), "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                static_cast<int>(hms.subseconds().count()));
  return buf.data();
}

json time_or_null(std::int64_t ms) { return ms > 0 ? json(iso8601(ms)) : json(nullptr); }
json status_or_null(int status) { return status != 0 ? json(status) : json(nullptr); }

json leg_json(const LegInfo& leg) {
  json j = json::object();
  j["id"] = leg.id;
  j["role"] = leg.role;
  j["state"] = leg.state;
  j["call_id"] = leg.call_id;
  j["remote"] = leg.remote;
  j["last_status"] = status_or_null(leg.last_status);
  j["created_time"] = iso8601(leg.created_ms);
  j["answered_time"] = time_or_null(leg.answered_ms);
  j["ended_time"] = time_or_null(leg.ended_ms);
  if (leg.media_local.empty()) {
    j["media"] = nullptr;
  } else {
    j["media"] = json{{"local", leg.media_local},
                      {"remote", leg.media_remote.empty() ? json(nullptr) : json(leg.media_remote)},
                      {"packets", leg.media_packets},
                      {"bytes", leg.media_bytes},
                      {"lost", leg.media_lost},
                      {"jitter_us", leg.media_jitter_us}};
  }
  return j;
}

std::string dump(const json& j) {
  // SIP strings may hold any bytes: replace invalid UTF-8 instead of throwing.
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

/// Parses a call id: a decimal integer in [1, 2^64), nothing else.
std::optional<CallId> parse_id(std::string_view text) {
  CallId id = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, id);
  if (text.empty() || ec != std::errc{} || ptr != end || id == 0) {
    return std::nullopt;
  }
  return id;
}

/// Lets backend callbacks on any thread post onto the io_context for as long as it runs.
class Gate {
 public:
  explicit Gate(asio::io_context& ioc) : ioc_(&ioc) {}

  template <class F>
  void post(F&& f) noexcept {
    try {
      std::lock_guard<std::mutex> lock{mutex_};
      if (ioc_ != nullptr) {
        asio::post(*ioc_, std::forward<F>(f));
      }
    } catch (...) {  // bad_alloc on a foreign thread: the request times out instead
    }
  }

  void close() {
    std::lock_guard<std::mutex> lock{mutex_};
    ioc_ = nullptr;
  }

 private:
  std::mutex mutex_;
  asio::io_context* ioc_;
};

/// One HTTP connection: read, route, answer, repeat while keep-alive. Lives in the b2b-api thread.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const RestBackend& backend, std::shared_ptr<Gate> gate)
      : stream_(std::move(socket)),
        timer_(stream_.get_executor()),
        backend_(backend),
        gate_(std::move(gate)) {}

  void run() { read_request(); }

 private:
  using Request = http::request<http::string_body>;

  void read_request();
  void on_read(beast::error_code ec);
  void route(const Request& req);
  void get_calls();
  void get_call(std::string_view id_text);
  void on_calls(std::uint64_t seq, std::optional<std::vector<CallInfo>> calls);
  void on_call(std::uint64_t seq, std::optional<CallInfo> call, bool timed_out);
  std::uint64_t begin_wait();
  bool end_wait(std::uint64_t seq);
  void reply(http::status status, const json& body, bool close = false,
             std::string_view allow = {});
  void error(http::status status, const std::string& code, const std::string& message,
             bool close = false) {
    spdlog::debug("api.error {} {} {}", static_cast<int>(status), code, path_);
    reply(status, error_body(code, message), close);
  }
  void on_write(beast::error_code ec);
  void linger();
  void drain();
  void close_now();
  void internal_error(const char* what);

  /// Runs `f`, turning any exception into a 500: nothing escapes a handler.
  template <class F>
  void guarded(F&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      internal_error(e.what());
    } catch (...) {
      internal_error("unknown exception");
    }
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  asio::steady_timer timer_;  // the backend deadline
  const RestBackend& backend_;
  std::shared_ptr<Gate> gate_;
  std::string path_;    // of the request being answered, for messages and logs
  CallId call_id_ = 0;  // of the GET /v1/calls/{id} being answered
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool writing_ = false;
  bool waiting_ = false;
  std::uint64_t seq_ = 0;  // numbers backend requests; a late or repeated answer is dropped
  std::array<char, 4096> drain_{};
  std::size_t drained_ = 0;
};

void Session::read_request() {
  parser_.emplace();
  parser_->header_limit(header_limit);
  parser_->body_limit(body_limit);
  stream_.expires_after(io_timeout);
  http::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
}

void Session::on_read(beast::error_code ec) {
  path_.clear();
  version_ = 11;
  keep_alive_ = false;
  if (ec == http::error::header_limit || ec == http::error::body_limit) {
    return guarded([&] {
      error(http::status::payload_too_large, "too_large",
            "request exceeds 8 KiB of headers or 64 KiB of body", true);
    });
  }
  const bool parse_error =
      ec.category() == http::make_error_code(http::error::bad_target).category();
  if (parse_error && ec != http::error::end_of_stream && ec != http::error::partial_message) {
    return guarded([&] {
      error(http::status::bad_request, "bad_request", "malformed HTTP request: " + ec.message(),
            true);
    });
  }
  if (ec) {
    return close_now();  // peer closed, reset or idle timeout
  }
  const Request req = parser_->release();
  version_ = req.version();
  keep_alive_ = req.keep_alive();
  guarded([&] { route(req); });
}

void Session::route(const Request& req) {
  const std::string_view target{req.target().data(), req.target().size()};
  const std::string_view path = target.substr(0, target.find('?'));
  path_ = std::string{path};
  constexpr std::string_view calls_prefix = "/v1/calls/";
  const bool is_call = path.substr(0, calls_prefix.size()) == calls_prefix &&
                       path.find('/', calls_prefix.size()) == std::string_view::npos;
  const bool known = path == "/health" || path == "/ready" || path == "/v1/stats" ||
                     path == "/v1/calls" || path == "/v1/backends" || is_call;
  if (!known) {
    return error(http::status::not_found, "not_found", "no such resource: " + path_);
  }
  if (req.method() != http::verb::get) {
    const std::string method{req.method_string()};
    return reply(http::status::method_not_allowed,
                 error_body("method_not_allowed", "method " + method + " not allowed on " + path_),
                 false, "GET");
  }
  if (path == "/health") {
    return reply(http::status::ok, json{{"status", "ok"}});
  }
  if (path == "/ready") {
    if (backend_.ready && backend_.ready()) {
      return reply(http::status::ok, json{{"status", "ready"}});
    }
    return error(http::status::service_unavailable, "not_ready", "starting or draining");
  }
  if (path == "/v1/stats") {
    if (!backend_.stats) {
      return error(http::status::service_unavailable, "backend_unavailable", "no stats source");
    }
    return reply(http::status::ok, to_json(backend_.stats()));
  }
  if (path == "/v1/calls") {
    return get_calls();
  }
  if (path == "/v1/backends") {
    return reply(http::status::ok, backend_.backends ? backend_.backends()
                                                     : json{{"backends", json::array()}});
  }
  get_call(path.substr(calls_prefix.size()));
}

void Session::get_calls() {
  if (!backend_.list_calls) {
    return error(http::status::service_unavailable, "backend_unavailable", "no call table");
  }
  const auto seq = begin_wait();
  // The callback may run on any thread, even after the server stopped: it only holds the gate
  // and a weak reference, and the session is looked up again on the io thread.
  backend_.list_calls(
      [gate = gate_, weak = weak_from_this(), seq](std::optional<std::vector<CallInfo>> calls) {
        gate->post([weak, seq, calls = std::move(calls)]() mutable {
          if (auto self = weak.lock()) {
            self->on_calls(seq, std::move(calls));
          }
        });
      });
}

void Session::get_call(std::string_view id_text) {
  const auto id = parse_id(id_text);
  if (!id) {
    return error(http::status::bad_request, "bad_id",
                 "call id must be a positive decimal integer below 2^64: " + std::string{id_text});
  }
  if (!backend_.get_call) {
    return error(http::status::service_unavailable, "backend_unavailable", "no call table");
  }
  call_id_ = *id;
  const auto seq = begin_wait();
  backend_.get_call(*id, [gate = gate_, weak = weak_from_this(), seq](std::optional<CallInfo> call,
                                                                      bool timed_out) {
    gate->post([weak, seq, call = std::move(call), timed_out]() mutable {
      if (auto self = weak.lock()) {
        self->on_call(seq, std::move(call), timed_out);
      }
    });
  });
}

void Session::on_calls(std::uint64_t seq, std::optional<std::vector<CallInfo>> calls) {
  if (!end_wait(seq)) {
    return;
  }
  guarded([&] {
    if (!calls) {
      spdlog::warn("api.backend_timeout GET {}: the engine reported a timeout", path_);
      return error(http::status::service_unavailable, "backend_timeout",
                   "the engine did not answer in time");
    }
    json list = json::array();
    for (const auto& call : *calls) {
      list.push_back(to_json(call));
    }
    reply(http::status::ok, json{{"calls", std::move(list)}, {"count", calls->size()}});
  });
}

void Session::on_call(std::uint64_t seq, std::optional<CallInfo> call, bool timed_out) {
  if (!end_wait(seq)) {
    return;
  }
  guarded([&] {
    if (call) {
      return reply(http::status::ok, to_json(*call));
    }
    if (timed_out) {
      spdlog::warn("api.backend_timeout GET {}: the engine reported a timeout", path_);
      return error(http::status::service_unavailable, "backend_timeout",
                   "the engine did not answer in time");
    }
    error(http::status::not_found, "call_not_found", "no such call: " + std::to_string(call_id_));
  });
}

std::uint64_t Session::begin_wait() {
  waiting_ = true;
  const auto seq = ++seq_;
  timer_.expires_after(backend_timeout);
  timer_.async_wait([self = shared_from_this(), seq](beast::error_code ec) {
    if (ec || !self->end_wait(seq)) {
      return;
    }
    spdlog::warn("api.backend_timeout GET {}: no answer within 3 s", self->path_);
    self->guarded([&] {
      self->error(http::status::service_unavailable, "backend_timeout",
                  "the engine did not answer within 3 s");
    });
  });
  return seq;
}

bool Session::end_wait(std::uint64_t seq) {
  if (!waiting_ || seq != seq_) {
    return false;
  }
  waiting_ = false;
  timer_.cancel();
  return true;
}

void Session::reply(http::status status, const json& body, bool close, std::string_view allow) {
  std::string text = dump(body);
  res_ = {};
  res_.version(version_);
  res_.result(status);
  res_.set(http::field::server, "b2bua");
  res_.set(http::field::content_type, "application/json");
  if (!allow.empty()) {
    res_.set(http::field::allow, beast::string_view{allow.data(), allow.size()});
  }
  res_.body() = std::move(text);
  res_.keep_alive(keep_alive_ && !close);
  res_.prepare_payload();
  stream_.expires_after(io_timeout);
  writing_ = true;
  http::async_write(stream_, res_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
    self->on_write(ec);
  });
}

void Session::on_write(beast::error_code ec) {
  writing_ = false;
  if (ec) {
    return close_now();
  }
  if (!res_.keep_alive()) {
    return linger();
  }
  read_request();
}

void Session::linger() {
  // Read and discard what the client still sends (e.g. the rest of a 413 body) before closing, so
  // that the kernel does not answer it with a RST that could destroy our response in flight.
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec) {
    return close_now();
  }
  stream_.expires_after(linger_timeout);  // one deadline for the whole drain
  drain();
}

void Session::drain() {
  stream_.async_read_some(asio::buffer(drain_),
                          [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                            self->drained_ += n;
                            if (ec || self->drained_ > linger_limit) {
                              return self->close_now();
                            }
                            self->drain();
                          });
}

void Session::close_now() {
  beast::error_code ec;
  stream_.socket().close(ec);
}

void Session::internal_error(const char* what) {
  spdlog::warn("api.internal {}: {}", path_, what);
  waiting_ = false;
  timer_.cancel();
  if (writing_) {
    return close_now();
  }
  try {
    error(http::status::internal_server_error, "internal", "internal error", true);
  } catch (...) {
    close_now();
  }
}

std::string host_port(const std::string& host, std::uint16_t port) {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  std::replace_if(
      h.begin(), h.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; }, '?');
  return h + ":" + std::to_string(port);
}

}  // namespace

struct RestServer::Impl {
  explicit Impl(const RestBackend& b) : backend(b) {}

  const RestBackend& backend;
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  asio::steady_timer retry{ioc};
  std::shared_ptr<Gate> gate = std::make_shared<Gate>(ioc);
  std::thread thread;
  std::uint16_t port = 0;

  std::string listen(const std::string& host, std::uint16_t wanted);
  void accept();
  void run();
};

std::string RestServer::Impl::listen(const std::string& host, std::uint16_t wanted) {
  const auto fail = [&](const beast::error_code& ec) {
    return "api.listen " + host_port(host, wanted) + ": " + ec.message();
  };
  beast::error_code ec;
  tcp::endpoint ep;
  const auto addr = asio::ip::make_address(host, ec);
  if (!ec) {
    ep = tcp::endpoint{addr, wanted};
  } else {
    tcp::resolver resolver{ioc};
    const auto found = resolver.resolve(host, std::to_string(wanted), ec);
    if (ec || found.empty()) {
      return fail(ec ? ec : beast::error_code{asio::error::host_not_found});
    }
    ep = found.begin()->endpoint();
  }
  acceptor.open(ep.protocol(), ec);
  if (!ec) {
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor.bind(ep, ec);
  }
  if (!ec) {
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (!ec) {
    port = acceptor.local_endpoint(ec).port();
  }
  return ec ? fail(ec) : std::string{};
}

void RestServer::Impl::accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) {
      return;
    }
    if (ec) {
      // e.g. EMFILE: retry a little later instead of spinning.
      spdlog::warn("api.accept: {}", ec.message());
      retry.expires_after(std::chrono::milliseconds(100));
      retry.async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec) {
          accept();
        }
      });
      return;
    }
    try {
      std::make_shared<Session>(std::move(socket), backend, gate)->run();
    } catch (const std::exception& e) {
      spdlog::warn("api.accept: {}", e.what());
    }
    accept();
  });
}

void RestServer::Impl::run() {
  pthread_setname_np(pthread_self(), "b2b-api");
  for (;;) {
    try {
      ioc.run();
      return;
    } catch (const std::exception& e) {
      spdlog::error("api.loop: {}", e.what());
    } catch (...) {
      spdlog::error("api.loop: unknown exception");
    }
  }
}

RestServer::RestServer(RestBackend backend, std::string token)
    : backend_(std::move(backend)), token_(std::move(token)) {}

RestServer::~RestServer() { stop(); }

std::string RestServer::start(const std::string& host, std::uint16_t port) {
  if (impl_) {
    return "api.listen " + host_port(host, port) + ": already running";
  }
  try {
    auto impl = std::make_unique<Impl>(backend_);
    if (auto err = impl->listen(host, port); !err.empty()) {
      return err;
    }
    impl->accept();
    impl->thread = std::thread([p = impl.get()] { p->run(); });
    impl_ = std::move(impl);
    return {};
  } catch (const std::exception& e) {
    return "api.listen " + host_port(host, port) + ": " + e.what();
  }
}

std::uint16_t RestServer::port() const { return impl_ ? impl_->port : 0; }

void RestServer::stop() {
  if (!impl_) {
    return;
  }
  impl_->gate->close();
  impl_->ioc.stop();
  if (impl_->thread.joinable()) {
    impl_->thread.join();
  }
  // Destroying the io_context destroys the pending handlers, hence the sessions and their sockets.
  impl_.reset();
}

json to_json(const CallInfo& call) {
  json j = json::object();
  j["id"] = call.id;
  j["from"] = call.from;
  j["to"] = call.to;
  j["target"] = call.target;
  j["route"] = call.route;
  j["state"] = call.state;
  j["start_time"] = iso8601(call.start_ms);
  j["answer_time"] = time_or_null(call.answer_ms);
  j["end_time"] = time_or_null(call.end_ms);
  double duration = 0;
  if (call.answer_ms > 0) {
    const std::int64_t end = call.end_ms > 0 ? call.end_ms : now_ms();
    duration = static_cast<double>(std::max<std::int64_t>(0, end - call.answer_ms)) / 1000.0;
  }
  j["duration_s"] = duration;
  j["final_status"] = status_or_null(call.final_status);
  j["end_reason"] = call.end_reason.empty() ? json(nullptr) : json(call.end_reason);
  j["media_mode"] = call.media_mode.empty() ? std::string("bypass") : call.media_mode;
  json legs = json::array();
  for (const auto& leg : call.legs) {
    legs.push_back(leg_json(leg));
  }
  j["legs"] = std::move(legs);
  return j;
}

json to_json(const StatsSnapshot& stats) {
  json responses = json::object();
  for (const auto& [status, count] : stats.final_responses) {
    responses[std::to_string(status)] = count;
  }
  return json{{"active_calls", stats.active_calls},
              {"total_calls", stats.total_calls},
              {"answered_calls", stats.answered_calls},
              {"failed_calls", stats.failed_calls},
              {"cancelled_calls", stats.cancelled_calls},
              {"uptime_s", stats.uptime_s},
              {"draining", stats.draining},
              {"final_responses", std::move(responses)},
              {"media", {{"packets", stats.media.packets},
                         {"bytes", stats.media.bytes},
                         {"forwarded", stats.media.forwarded},
                         {"dropped", stats.media.dropped},
                         {"relays_active", stats.media.relays_active},
                         {"ports_available", stats.media.ports_available}}}};
}

json error_body(const std::string& code, const std::string& message) {
  return error_body(code, message, nullptr);
}

json error_body(const std::string& code, const std::string& message, json details) {
  return json{{"error", {{"code", code}, {"message", message}, {"details", std::move(details)}}}};
}

}  // namespace b2bua::api
