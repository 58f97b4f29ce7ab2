// The REST server: Beast HTTP/1.1 sessions on one io_context run by the "b2b-api" thread: bearer
// token check, routing to RestBackend and the handlers of rest_handlers.cpp, waiting for the
// asynchronous call-table answers. The only file that uses Beast.
#include "api/rest/rest_server.hpp"

#include <functional>
#include <tuple>

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

#include "api/rest/detail/rest_handlers.hpp"
#include "api/rest/detail/rest_route.hpp"

namespace b2bua::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using json = nlohmann::json;

constexpr auto io_timeout = std::chrono::seconds(30);      // idle keep-alive, slow reads and writes
constexpr auto backend_timeout = std::chrono::seconds(3);  // then 503 backend_timeout
constexpr auto hangup_timeout = std::chrono::seconds(10);  // DELETE /v1/calls/{id}: then 504
constexpr auto linger_timeout = std::chrono::seconds(2);   // draining input before a close
constexpr std::uint32_t header_limit = 8 * 1024;
constexpr std::uint64_t body_limit = 64 * 1024;
constexpr std::size_t linger_limit = 1024 * 1024;

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

/// Compares without an early exit, so that timing does not tell how much of a token matched.
bool same_secret(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ (b.empty() ? 0 : b[i % b.size()]));
  }
  return diff == 0;
}

/// One HTTP connection: read, route, answer, repeat while keep-alive. Lives in the b2b-api thread.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const RestBackend& backend, const std::string& token,
          std::shared_ptr<Gate> gate)
      : stream_(std::move(socket)),
        timer_(stream_.get_executor()),
        backend_(backend),
        token_(token),
        gate_(std::move(gate)) {}

  void run() { read_request(); }

 private:
  using Request = http::request<http::string_body>;
  using CallDone = std::function<void(std::optional<CallInfo>, bool)>;

  void read_request();
  void on_read(beast::error_code ec);
  void route(const Request& req);
  bool authorized(const Request& req) const;
  void get_calls(std::string_view query);
  void call_request(std::string_view id_text, bool hangup);
  void on_calls(std::uint64_t seq, const CallFilter& filter,
                std::optional<std::vector<CallInfo>> calls);
  void on_call(std::uint64_t seq, std::optional<CallInfo> call, bool timed_out);
  std::uint64_t begin_wait(std::chrono::seconds timeout);
  bool end_wait(std::uint64_t seq);
  void send(const Answer& a, bool close = false, std::string_view allow = {});
  void reply(http::status status, const json& body, bool close = false,
             std::string_view allow = {}) {
    send(json_answer(static_cast<int>(status), body), close, allow);
  }
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

  /// Wraps a backend answer so that it is posted back to this session on the io thread. It may
  /// run on any thread, even after the server stopped: it holds only the gate and a weak
  /// reference, and the session is looked up again on the io thread.
  template <class... Args, class F>
  std::function<void(Args...)> back_home(F on_io) {
    return [gate = gate_, weak = weak_from_this(), on_io](Args... args) {
      gate->post([weak, on_io, tuple = std::make_tuple(std::move(args)...)]() mutable {
        if (auto self = weak.lock()) {
          std::apply([&](auto&&... xs) { on_io(*self, std::move(xs)...); }, std::move(tuple));
        }
      });
    };
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  asio::steady_timer timer_;  // the backend deadline
  const RestBackend& backend_;
  const std::string& token_;
  std::shared_ptr<Gate> gate_;
  std::string path_;    // of the request being answered, for messages and logs
  std::string method_;  // of the request being answered
  CallId call_id_ = 0;  // of the /v1/calls/{id} being answered
  bool hangup_ = false; // that request is a DELETE
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

bool Session::authorized(const Request& req) const {
  if (token_.empty()) {
    return true;
  }
  const auto h = req[http::field::authorization];
  const std::string_view value{h.data(), h.size()};
  constexpr std::string_view scheme = "Bearer ";
  return value.size() > scheme.size() && value.substr(0, scheme.size()) == scheme &&
         same_secret(value.substr(scheme.size()), token_);
}

void Session::route(const Request& req) {
  const std::string_view target{req.target().data(), req.target().size()};
  method_ = std::string{req.method_string()};
  const RestRoute r = route_rest(method_, target);
  path_ = std::string{r.path};
  if (r.guarded && !authorized(req)) {
    spdlog::debug("api.unauthorized {} {}", method_, path_);
    send(error_answer(401, "unauthorized", "a valid \"Authorization: Bearer <token>\" is required"));
    return;
  }
  if (r.resource == RestResource::not_found) {
    return error(http::status::not_found, "not_found", "no such resource: " + path_);
  }
  if (!r.method_ok) {
    return reply(http::status::method_not_allowed,
                 error_body("method_not_allowed", "method " + method_ + " not allowed on " + path_),
                 false, r.allow);
  }
  using R = RestResource;
  switch (r.resource) {
    case R::health:
      return send(get_health(backend_));
    case R::ready:
      return send(get_ready(backend_));
    case R::metrics:
      return send(get_metrics(backend_));
    case R::openapi:
      return send(get_openapi());
    case R::stats:
      return send(get_stats(backend_));
    case R::backends:
      return send(get_backends(backend_));
    case R::cdrs:
      return send(get_cdrs(backend_, r.query));
    case R::routes:
      return send(req.method() == http::verb::get ? get_routes(backend_)
                                                  : put_routes(backend_, req.body()));
    case R::calls:
      return get_calls(r.query);
    case R::call:
      return call_request(r.param, req.method() == http::verb::delete_);
    case R::backend:
      return send(put_backend(backend_, r.param, req.body()));
    case R::cdr:
      return send(get_cdr(backend_, r.param));
    case R::not_found:
      break;
  }
  error(http::status::not_found, "not_found", "no such resource: " + path_);
}

void Session::get_calls(std::string_view query) {
  auto params = parse_query(query);
  if (!params) {
    return send(error_answer(400, "bad_query", "malformed query string (bad escape or repeated name)"));
  }
  auto filter = read_call_filter(*params);
  if (auto* e = std::get_if<QueryError>(&filter)) {
    return send(error_answer(400, "bad_query", "query parameter " + e->parameter + ": " + e->rule,
                             json{{"parameter", e->parameter}, {"rule", e->rule}}));
  }
  if (!backend_.list_calls) {
    return error(http::status::service_unavailable, "backend_unavailable", "no call table");
  }
  const auto seq = begin_wait(backend_timeout);
  backend_.list_calls(back_home<std::optional<std::vector<CallInfo>>>(
      [seq, f = std::get<CallFilter>(filter)](Session& s, std::optional<std::vector<CallInfo>> c) {
        s.on_calls(seq, f, std::move(c));
      }));
}

void Session::call_request(std::string_view id_text, bool hangup) {
  const auto id = parse_id(id_text);
  if (!id) {
    return error(http::status::bad_request, "bad_id",
                 "call id must be a positive decimal integer below 2^64: " + std::string{id_text});
  }
  const auto& call = hangup ? backend_.hangup_call : backend_.get_call;
  if (!call) {
    return error(http::status::service_unavailable, "backend_unavailable", "no call table");
  }
  call_id_ = *id;
  hangup_ = hangup;
  const auto seq = begin_wait(hangup ? hangup_timeout : backend_timeout);
  call(*id, back_home<std::optional<CallInfo>, bool>(
                [seq](Session& s, std::optional<CallInfo> c, bool timed_out) {
                  s.on_call(seq, std::move(c), timed_out);
                }));
}

void Session::on_calls(std::uint64_t seq, const CallFilter& filter,
                       std::optional<std::vector<CallInfo>> calls) {
  if (!end_wait(seq)) {
    return;
  }
  guarded([&] {
    if (!calls) {
      spdlog::warn("api.backend_timeout GET {}: the engine reported a timeout", path_);
      return error(http::status::service_unavailable, "backend_timeout",
                   "the engine did not answer in time");
    }
    reply(http::status::ok, filter_calls(*calls, filter));
  });
}

void Session::on_call(std::uint64_t seq, std::optional<CallInfo> call, bool timed_out) {
  if (!end_wait(seq)) {
    return;
  }
  guarded([&] {
    if (call) {
      if (hangup_) {
        spdlog::info("call={} api.hangup: both legs gone ({})", call->id, call->end_reason);
      }
      return reply(http::status::ok, to_json(*call));
    }
    if (timed_out && hangup_) {
      return error(http::status::gateway_timeout, "hangup_timeout",
                   "the call was told to hang up but its legs were not gone in time");
    }
    if (timed_out) {
      spdlog::warn("api.backend_timeout {} {}: the engine reported a timeout", method_, path_);
      return error(http::status::service_unavailable, "backend_timeout",
                   "the engine did not answer in time");
    }
    error(http::status::not_found, "call_not_found", "no such call: " + std::to_string(call_id_));
  });
}

std::uint64_t Session::begin_wait(std::chrono::seconds timeout) {
  waiting_ = true;
  const auto seq = ++seq_;
  timer_.expires_after(timeout);
  timer_.async_wait([self = shared_from_this(), seq, timeout](beast::error_code ec) {
    if (ec || !self->end_wait(seq)) {
      return;
    }
    spdlog::warn("api.backend_timeout {} {}: no answer within {} s", self->method_, self->path_,
                 timeout.count());
    self->guarded([&] {
      if (self->hangup_) {
        return self->error(http::status::gateway_timeout, "hangup_timeout",
                           "the call was told to hang up but its legs were not gone in time");
      }
      self->error(http::status::service_unavailable, "backend_timeout",
                  "the engine did not answer within " + std::to_string(timeout.count()) + " s");
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

void Session::send(const Answer& a, bool close, std::string_view allow) {
  std::string text = a.text.empty() ? dump(a.body) : a.text;
  res_ = {};
  res_.version(version_);
  res_.result(static_cast<http::status>(a.status));
  res_.set(http::field::server, "b2bua");
  res_.set(http::field::content_type, a.content_type);
  if (a.status == 401) {
    res_.set(http::field::www_authenticate, "Bearer realm=\"b2bua\"");
  }
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
  Impl(const RestBackend& b, const std::string& t) : backend(b), token(t) {}

  const RestBackend& backend;
  const std::string& token;
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
      std::make_shared<Session>(std::move(socket), backend, token, gate)->run();
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
    auto impl = std::make_unique<Impl>(backend_, token_);
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

}  // namespace b2bua::api
