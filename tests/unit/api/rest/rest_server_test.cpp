// RestServer over a real loopback TCP socket: every endpoint, every error, keep-alive, limits, a
// slow or silent backend, and shutdown with open connections. The client is plain POSIX sockets.
#include "api/rest/rest_server.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

namespace {

using b2bua::CallInfo;
using b2bua::LegInfo;
using b2bua::api::RestBackend;
using b2bua::api::RestServer;
using b2bua::api::StatsSnapshot;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string{} : it->second;
  }
  json parsed() const { return json::parse(body, nullptr, false); }
};

/// A blocking HTTP/1.1 client on one connection; every receive gives up after 10 s.
class Client {
 public:
  explicit Client(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    REQUIRE(fd_ >= 0);
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// Sends everything it can; false when the peer closed early.
  bool send_all(const std::string& data) {
    for (std::size_t sent = 0; sent < data.size();) {
      const auto n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) {
        return false;
      }
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }

  void get(const std::string& target, bool keep_alive = true) {
    send_all("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
             (keep_alive ? "" : "Connection: close\r\n") + "\r\n");
  }

  /// Reads one response; status 0 when the connection ended first.
  Response read_response() {
    Response r;
    std::size_t end = 0;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) {
        return r;
      }
    }
    const std::string head = buf_.substr(0, end);
    buf_.erase(0, end + 4);
    std::size_t line_end = head.find("\r\n");
    const std::string status_line = head.substr(0, line_end);
    if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12) {
      return r;
    }
    r.status = std::stoi(status_line.substr(9, 3));
    while (line_end != std::string::npos) {
      const std::size_t start = line_end + 2;
      line_end = head.find("\r\n", start);
      const std::string line = head.substr(start, line_end - start);
      const auto colon = line.find(':');
      if (colon == std::string::npos) {
        continue;
      }
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      r.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
    }
    const std::size_t length = std::stoul(
        r.header("content-length").empty() ? std::string{"0"} : r.header("content-length"));
    while (buf_.size() < length) {
      if (!fill()) {
        r.status = 0;
        return r;
      }
    }
    r.body = buf_.substr(0, length);
    buf_.erase(0, length);
    return r;
  }

  /// True when the server closed the connection (EOF or reset) within the receive timeout.
  bool closed_by_peer() {
    char c = 0;
    const auto n = ::recv(fd_, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

 private:
  bool fill() {
    char chunk[4096];
    const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) {
      return false;
    }
    buf_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  int fd_;
  std::string buf_;
};

/// One request on a fresh connection.
Response fetch(std::uint16_t port, const std::string& method, const std::string& target) {
  Client c{port};
  c.send_all(method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  return c.read_response();
}

/// What every response must have: the JSON content type, our Server header, a body ending in \n.
void check_common(const Response& r) {
  CHECK(r.header("content-type") == "application/json");
  CHECK(r.header("server") == "b2bua");
  REQUIRE(!r.body.empty());
  CHECK(r.body.back() == '\n');
  CHECK(!r.parsed().is_discarded());
}

void check_error(const Response& r, int status, const std::string& code) {
  CHECK(r.status == status);
  check_common(r);
  const json j = r.parsed();
  REQUIRE(j.is_object());
  CHECK(j.size() == 1);
  REQUIRE(j.contains("error"));
  CHECK(j["error"].size() == 3);
  CHECK(j["error"]["code"] == code);
  CHECK(j["error"]["message"].is_string());
  CHECK(!j["error"]["message"].get<std::string>().empty());
  CHECK(j["error"]["details"].is_null());
}

CallInfo make_call(b2bua::CallId id, bool answered) {
  CallInfo c;
  c.id = id;
  c.from = "sip:alice@10.0.0.1";
  c.to = "sip:bob@example.com";
  c.target = "sip:bob@10.0.0.2:5060";
  c.route = "default";
  c.state = answered ? "answered" : "calling";
  c.start_ms = 1795482123456;  // 2026-11-24T01:02:03.456Z
  c.answer_ms = answered ? c.start_ms + 1000 : 0;
  LegInfo a;
  a.id = id;
  a.role = "a";
  a.state = answered ? "confirmed" : "incoming";
  a.call_id = "abc@10.0.0.1";
  a.local_tag = "ours";
  a.remote = "10.0.0.1:5060";
  a.last_status = answered ? 200 : 0;
  a.created_ms = c.start_ms;
  a.answered_ms = c.answer_ms;
  c.legs.push_back(a);
  LegInfo b = a;
  b.id = id + 1;
  b.role = "b";
  b.call_id = "b2b-1";
  b.remote = c.target;
  c.legs.push_back(b);
  return c;
}

/// A RestBackend whose call table answers at once, later from another thread, or never.
class FakeEngine {
 public:
  enum class Mode { immediate, other_thread, never };

  ~FakeEngine() {
    for (auto& t : threads_) {
      t.join();
    }
  }

  RestBackend backend() {
    RestBackend b;
    b.stats = [this] {
      if (stats_throw) {
        throw std::runtime_error("stats exploded");
      }
      return stats;
    };
    b.ready = [this] { return ready.load(); };
    b.sip_stalled = [this] { return sip_stalled.load(); };
    b.list_calls = [this](std::function<void(std::optional<std::vector<CallInfo>>)> done) {
      answer([done, list = calls] { done(list); });
    };
    b.get_call = [this](b2bua::CallId id, std::function<void(std::optional<CallInfo>, bool)> done) {
      std::optional<CallInfo> found;
      for (const auto& c : calls) {
        if (c.id == id) {
          found = c;
        }
      }
      answer([done, found] { done(found, false); });
    };
    return b;
  }

  /// Waits until `n` answers are held back (Mode::never).
  bool wait_pending(std::size_t n) {
    std::unique_lock<std::mutex> lock{mutex_};
    return cv_.wait_for(lock, std::chrono::seconds(5), [&] { return pending_.size() >= n; });
  }

  /// Delivers the held-back answers now, from this thread; returns how many.
  std::size_t release_pending() {
    std::vector<std::function<void()>> todo;
    {
      std::lock_guard<std::mutex> lock{mutex_};
      todo.swap(pending_);
    }
    for (auto& f : todo) {
      f();
    }
    return todo.size();
  }

  std::atomic<Mode> mode{Mode::immediate};
  std::vector<CallInfo> calls;
  StatsSnapshot stats;
  std::atomic<bool> ready{true};
  std::atomic<bool> sip_stalled{false};
  std::atomic<bool> stats_throw{false};

 private:
  void answer(std::function<void()> f) {
    if (mode == Mode::immediate) {
      return f();
    }
    std::lock_guard<std::mutex> lock{mutex_};
    if (mode == Mode::other_thread) {
      threads_.emplace_back([f] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        f();
      });
    } else {
      pending_.push_back(f);
      cv_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::function<void()>> pending_;
  std::vector<std::thread> threads_;
};

/// A started server on 127.0.0.1 and a free port, over a FakeEngine that outlives it.
struct Fixture {
  Fixture() {
    engine.calls = {make_call(12, true), make_call(40, false)};
    server = std::make_unique<RestServer>(engine.backend());
    REQUIRE(server->start("127.0.0.1", 0) == "");
    port = server->port();
    REQUIRE(port != 0);
  }

  FakeEngine engine;
  std::unique_ptr<RestServer> server;
  std::uint16_t port = 0;
};

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

TEST_CASE_FIXTURE(Fixture, "GET /health answers 200 with status ok") {
  const auto r = fetch(port, "GET", "/health");
  CHECK(r.status == 200);
  check_common(r);
  CHECK(r.parsed() == json{{"status", "ok"}});
}

TEST_CASE_FIXTURE(Fixture, "GET /ready answers 200 when ready and 503 not_ready otherwise") {
  auto r = fetch(port, "GET", "/ready");
  CHECK(r.status == 200);
  check_common(r);
  CHECK(r.parsed() == json{{"status", "ready"}});
  engine.ready = false;
  check_error(fetch(port, "GET", "/ready"), 503, "not_ready");
}

TEST_CASE_FIXTURE(Fixture, "a stalled SIP thread makes /health and /ready answer 503 sip_stalled") {
  engine.sip_stalled = true;
  for (const char* path : {"/health", "/ready"}) {
    const auto r = fetch(port, "GET", path);
    check_error(r, 503, "sip_stalled");
    check_common(r);
    CHECK(r.parsed()["error"]["message"].get<std::string>().find("SIP thread is stalled") !=
          std::string::npos);
  }
  engine.ready = false;  // stalled wins over draining
  check_error(fetch(port, "GET", "/ready"), 503, "sip_stalled");
  CHECK(fetch(port, "GET", "/v1/stats").status == 200);  // the rest of the API still answers
}

TEST_CASE_FIXTURE(Fixture, "GET /v1/stats answers every counter with its JSON type") {
  engine.stats.active_calls = 2;
  engine.stats.total_calls = 10;
  engine.stats.answered_calls = 6;
  engine.stats.failed_calls = 3;
  engine.stats.cancelled_calls = 1;
  engine.stats.uptime_s = 12.5;
  engine.stats.draining = true;
  engine.stats.final_responses = {{200, 6}, {486, 3}};
  engine.stats.failed_by_reason = {{"route_no_match", 2}, {"failed", 1}};
  engine.stats.setup = {6, 120.5, 100, 200, 300};
  engine.stats.calls_per_second = 0.25;
  const auto r = fetch(port, "GET", "/v1/stats");
  CHECK(r.status == 200);
  check_common(r);
  const json j = r.parsed();
  CHECK(j.size() == 12);
  CHECK(j["failed_by_reason"] == json{{"route_no_match", 2}, {"failed", 1}});
  CHECK(j["setup_time_ms"] ==
        json{{"count", 6}, {"avg", 120.5}, {"p50", 100.0}, {"p90", 200.0}, {"p99", 300.0}});
  CHECK(j["calls_per_second"] == 0.25);
  CHECK(j["media"].size() == 6);
  CHECK(j["media"]["packets"].is_number_integer());
  CHECK(j["active_calls"] == 2);
  CHECK(j["active_calls"].is_number_integer());
  CHECK(j["total_calls"] == 10);
  CHECK(j["answered_calls"] == 6);
  CHECK(j["failed_calls"] == 3);
  CHECK(j["cancelled_calls"] == 1);
  CHECK(j["uptime_s"] == 12.5);
  CHECK(j["draining"] == true);
  CHECK(j["final_responses"] == json{{"200", 6}, {"486", 3}});
}

TEST_CASE_FIXTURE(Fixture, "GET /v1/calls lists every call and the count") {
  const auto r = fetch(port, "GET", "/v1/calls");
  CHECK(r.status == 200);
  check_common(r);
  const json j = r.parsed();
  CHECK(j["count"] == 2);
  REQUIRE(j["calls"].is_array());
  REQUIRE(j["calls"].size() == 2);
  CHECK(j["calls"][0]["id"] == 12);
  CHECK(j["calls"][1]["id"] == 40);
  CHECK(j["calls"][1]["answer_time"].is_null());
  CHECK(j["calls"][1]["duration_s"] == 0);
}

TEST_CASE_FIXTURE(Fixture, "GET /v1/calls/{id} answers the call with its legs") {
  const auto r = fetch(port, "GET", "/v1/calls/12?verbose=1");
  CHECK(r.status == 200);
  check_common(r);
  const json j = r.parsed();
  CHECK(j.size() == 16);
  CHECK(j["media_mode"] == "bypass");
  CHECK(j["backend"] == "");
  CHECK(j["attempts"] == 0);
  CHECK(j["id"] == 12);
  CHECK(j["id"].is_number_integer());
  CHECK(j["from"] == "sip:alice@10.0.0.1");
  CHECK(j["to"] == "sip:bob@example.com");
  CHECK(j["target"] == "sip:bob@10.0.0.2:5060");
  CHECK(j["route"] == "default");
  CHECK(j["state"] == "answered");
  CHECK(j["start_time"] == "2026-11-24T01:02:03.456Z");
  CHECK(j["answer_time"] == "2026-11-24T01:02:04.456Z");
  CHECK(j["end_time"].is_null());
  CHECK(j["duration_s"].is_number());
  CHECK(j["final_status"].is_null());
  CHECK(j["end_reason"].is_null());
  REQUIRE(j["legs"].size() == 2);
  const json& a = j["legs"][0];
  CHECK(a.size() == 15);
  CHECK(a["on_hold"] == false);
  CHECK(a["dtmf"] == "");
  CHECK(a["ringing_time"].is_null());
  CHECK(a["local_tag"] == "ours");
  CHECK(a["remote_tag"].is_null());
  CHECK(a["media"].is_null());
  CHECK(a["id"] == 12);
  CHECK(a["role"] == "a");
  CHECK(a["state"] == "confirmed");
  CHECK(a["call_id"] == "abc@10.0.0.1");
  CHECK(a["remote"] == "10.0.0.1:5060");
  CHECK(a["last_status"] == 200);
  CHECK(a["created_time"] == "2026-11-24T01:02:03.456Z");
  CHECK(a["answered_time"] == "2026-11-24T01:02:04.456Z");
  CHECK(a["ended_time"].is_null());
  CHECK(j["legs"][1]["role"] == "b");
}

TEST_CASE_FIXTURE(Fixture, "the duration of a call still up runs from the answer to now") {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  engine.calls[1].answer_ms = now - 5000;
  const auto r = fetch(port, "GET", "/v1/calls/40");
  CHECK(r.status == 200);
  const double d = r.parsed()["duration_s"].get<double>();
  CHECK(d >= 4.9);
  CHECK(d < 30.0);
}

TEST_CASE_FIXTURE(Fixture, "GET /v1/calls/{id} of an unknown call answers 404 call_not_found") {
  check_error(fetch(port, "GET", "/v1/calls/13"), 404, "call_not_found");
  // 2^64 - 1 is still a valid id.
  check_error(fetch(port, "GET", "/v1/calls/18446744073709551615"), 404, "call_not_found");
}

TEST_CASE_FIXTURE(Fixture,
                  "GET /v1/calls/{id} with an id that is no positive 64-bit integer answers 400") {
  for (const std::string id : {"abc", "-1", "0", "99999999999999999999999", "18446744073709551616",
                               "+1", "1x", "1.5", ""}) {
    CAPTURE(id);
    check_error(fetch(port, "GET", "/v1/calls/" + id), 400, "bad_id");
  }
}

TEST_CASE_FIXTURE(Fixture, "an unknown path answers 404 not_found with the error body") {
  const auto r = fetch(port, "GET", "/v2/x");
  check_error(r, 404, "not_found");
  CHECK(r.parsed()["error"]["message"] == "no such resource: /v2/x");
  check_error(fetch(port, "GET", "/v1/calls/12/legs"), 404, "not_found");
}

TEST_CASE_FIXTURE(Fixture, "another method on a known path answers 405 with Allow") {
  const auto r = fetch(port, "POST", "/v1/calls");
  check_error(r, 405, "method_not_allowed");
  CHECK(r.header("allow") == "GET");
  check_error(fetch(port, "DELETE", "/health"), 405, "method_not_allowed");
}

TEST_CASE_FIXTURE(Fixture, "a request over the size limits answers 413 and closes") {
  Client c{port};
  SUBCASE("body over 64 KiB") {
    const std::string body(70000, 'x');
    c.send_all("GET /v1/calls HTTP/1.1\r\nHost: a\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body);
  }
  SUBCASE("headers over 8 KiB") {
    c.send_all("GET /health HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(9000, 'y') + "\r\n\r\n");
  }
  const auto r = c.read_response();
  check_error(r, 413, "too_large");
  CHECK(r.header("connection") == "close");
  CHECK(c.closed_by_peer());
}

TEST_CASE_FIXTURE(Fixture,
                  "a silent backend gets 503 within 3 to 4 s and its late answer is ignored") {
  engine.mode = FakeEngine::Mode::never;
  Client c{port};
  const auto t0 = Clock::now();
  c.get("/v1/calls");
  const auto r = c.read_response();
  const double waited = seconds_since(t0);
  check_error(r, 503, "backend_timeout");
  CHECK(waited >= 2.9);
  CHECK(waited < 4.0);
  REQUIRE(engine.wait_pending(1));
  CHECK(engine.release_pending() == 1);  // too late: must not produce a second response
  engine.mode = FakeEngine::Mode::immediate;
  c.get("/v1/calls/12");
  const auto next = c.read_response();
  CHECK(next.status == 200);
  CHECK(next.parsed()["id"] == 12);
}

TEST_CASE("a backend that reports a timeout itself answers 503 at once") {
  RestBackend b;
  b.list_calls = [](auto done) { done(std::nullopt); };
  b.get_call = [](b2bua::CallId, auto done) { done(std::nullopt, true); };
  RestServer s{b};
  REQUIRE(s.start("127.0.0.1", 0) == "");
  const auto t0 = Clock::now();
  check_error(fetch(s.port(), "GET", "/v1/calls"), 503, "backend_timeout");
  check_error(fetch(s.port(), "GET", "/v1/calls/7"), 503, "backend_timeout");
  CHECK(seconds_since(t0) < 1.0);
}

TEST_CASE_FIXTURE(Fixture, "a backend that answers later from another thread is served") {
  engine.mode = FakeEngine::Mode::other_thread;
  Client c{port};
  c.get("/v1/calls");
  const auto list = c.read_response();
  CHECK(list.status == 200);
  CHECK(list.parsed()["count"] == 2);
  c.get("/v1/calls/40");
  const auto one = c.read_response();
  CHECK(one.status == 200);
  CHECK(one.parsed()["state"] == "calling");
  c.get("/v1/calls/41");
  check_error(c.read_response(), 404, "call_not_found");
}

TEST_CASE_FIXTURE(Fixture, "two requests on one keep-alive connection are both answered") {
  Client c{port};
  // Both requests in one write: the second waits in the buffer while the first is answered.
  c.send_all("GET /health HTTP/1.1\r\nHost: a\r\n\r\nGET /v1/stats HTTP/1.1\r\nHost: a\r\n\r\n");
  const auto first = c.read_response();
  CHECK(first.status == 200);
  CHECK(first.header("connection") != "close");
  CHECK(first.parsed()["status"] == "ok");
  const auto second = c.read_response();
  CHECK(second.status == 200);
  CHECK(second.parsed().contains("total_calls"));
  c.get("/ready", false);
  const auto third = c.read_response();
  CHECK(third.status == 200);
  CHECK(third.header("connection") == "close");
  CHECK(c.closed_by_peer());
}

TEST_CASE_FIXTURE(Fixture, "a malformed request line answers 400 and closes") {
  Client c{port};
  c.send_all("this is not http\r\n\r\n");
  const auto r = c.read_response();
  check_error(r, 400, "bad_request");
  CHECK(r.header("connection") == "close");
  CHECK(c.closed_by_peer());
  CHECK(fetch(port, "GET", "/health").status == 200);  // the server is still fine
}

TEST_CASE_FIXTURE(Fixture, "a backend that throws answers 500 internal and the server goes on") {
  engine.stats_throw = true;
  check_error(fetch(port, "GET", "/v1/stats"), 500, "internal");
  CHECK(fetch(port, "GET", "/health").status == 200);
}

TEST_CASE_FIXTURE(Fixture, "stop() with an open connection returns promptly and closes it") {
  Client idle{port};
  idle.get("/health");
  REQUIRE(idle.read_response().status == 200);
  Client half{port};
  half.send_all("GET /heal");  // a request still being read
  const auto t0 = Clock::now();
  server->stop();
  CHECK(seconds_since(t0) < 1.0);
  CHECK(server->port() == 0);
  CHECK(idle.closed_by_peer());
  CHECK(half.closed_by_peer());
  server->stop();  // idempotent
  CHECK(server->port() == 0);
}

TEST_CASE_FIXTURE(Fixture, "an answer after stop() and destruction is dropped harmlessly") {
  engine.mode = FakeEngine::Mode::never;
  Client c{port};
  c.get("/v1/calls/12");
  REQUIRE(engine.wait_pending(1));
  const auto t0 = Clock::now();
  server.reset();
  CHECK(seconds_since(t0) < 1.0);
  CHECK(c.closed_by_peer());
  CHECK(engine.release_pending() == 1);  // posts nowhere: the io_context is gone
}

TEST_CASE_FIXTURE(Fixture, "start() on a port in use returns one line naming the address") {
  RestServer second{engine.backend()};
  const std::string err = second.start("127.0.0.1", port);
  CHECK(err.find("api.listen 127.0.0.1:" + std::to_string(port) + ": ") == 0);
  CHECK(err.find("in use") != std::string::npos);
  CHECK(err.find('\n') == std::string::npos);
  CHECK(second.port() == 0);
  CHECK(server->start("127.0.0.1", 0).find("already running") != std::string::npos);
}

TEST_CASE("to_json of a call: ended call, duration, nulls and invalid UTF-8") {
  CallInfo c = make_call(5, true);
  c.from = std::string("\"Al\xff\xfe\" <sip:a@b>");
  c.end_ms = c.answer_ms + 2500;
  c.final_status = 200;
  c.end_reason = "caller_bye";
  const json j = b2bua::api::to_json(c);
  CHECK(j["duration_s"] == 2.5);
  CHECK(j["end_time"] == "2026-11-24T01:02:06.956Z");
  CHECK(j["final_status"] == 200);
  CHECK(j["end_reason"] == "caller_bye");
  CHECK(j["legs"][1]["last_status"] == 200);
  const std::string text = j.dump(-1, ' ', false, json::error_handler_t::replace);
  CHECK(text.find("\xEF\xBF\xBD") != std::string::npos);  // U+FFFD in place of the bad bytes
  CHECK_THROWS(j.dump());                                 // and the strict dump would have thrown
  CHECK(b2bua::api::error_body("x", "y") ==
        json{{"error", {{"code", "x"}, {"message", "y"}, {"details", nullptr}}}});
  CHECK(b2bua::api::error_body("x", "y", json{{"k", 1}})["error"]["details"]["k"] == 1);
}

TEST_CASE_FIXTURE(Fixture, "a call with invalid UTF-8 from SIP is still served as valid JSON") {
  engine.calls[0].from = std::string("sip:\xc3\x28@x");
  const auto r = fetch(port, "GET", "/v1/calls/12");
  CHECK(r.status == 200);
  check_common(r);
  CHECK(r.parsed()["from"] == "sip:\xEF\xBF\xBD(@x");
}

// ---- management endpoints: token, DELETE, routes, backends, CDRs, metrics, the OpenAPI document

namespace {

/// One request with optional headers and body on a fresh connection.
Response send_request(std::uint16_t port, const std::string& method, const std::string& target,
                      const std::string& headers = {}, const std::string& body = {}) {
  Client c{port};
  c.send_all(method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
             headers + (body.empty() ? "" : "Content-Length: " + std::to_string(body.size()) +
                                                "\r\n") +
             "\r\n" + body);
  return c.read_response();
}

void check_error_details(const Response& r, int status, const std::string& code) {
  CHECK(r.status == status);
  check_common(r);
  const json j = r.parsed();
  REQUIRE(j.contains("error"));
  CHECK(j["error"]["code"] == code);
}

/// A server over a backend with every management callback, recording what it was asked.
struct ManagedFixture {
  ManagedFixture() : ManagedFixture("") {}
  explicit ManagedFixture(const std::string& token) {
    b2bua::api::RestBackend b = engine.backend();
    b.hangup_call = [this](b2bua::CallId id, std::function<void(std::optional<CallInfo>, bool)> done) {
      hung_up.push_back(id);
      if (id == 12) {
        CallInfo c = make_call(12, true);
        c.state = "ended";
        c.end_reason = "operator_hangup";
        c.end_ms = c.start_ms + 5000;
        return done(c, false);
      }
      done(std::nullopt, id == 13);  // 13: the legs never go
    };
    b.metrics = [] { return std::string("# TYPE b2bua_x gauge\nb2bua_x 1\n"); };
    b.routes = [this] { return routes; };
    b.replace_routes = [this](const json& j) -> std::string {
      if (!j.is_array()) {
        return "routes: must be an array";
      }
      if (!j.empty() && !j[0].contains("name")) {
        return "routes[0].name: must be a non-empty string";
      }
      routes = j;
      return "";
    };
    b.cdrs = [](const b2bua::api::CdrQuery& q) -> std::variant<b2bua::api::CdrPage, std::string> {
      b2bua::api::CdrPage p;
      p.total = 1;
      b2bua::api::CdrRecord r;
      r.id = 1;
      r.to = q.to;
      r.start_ms = 1795482123456;
      r.end_ms = r.start_ms;
      p.records.push_back(r);
      return p;
    };
    b.cdr = [](std::int64_t id, std::string* error) -> std::optional<b2bua::api::CdrRecord> {
      if (id == 666) {
        *error = "disk I/O error";
      }
      if (id != 1) {
        return std::nullopt;
      }
      b2bua::api::CdrRecord r;
      r.id = 1;
      return r;
    };
    server = std::make_unique<RestServer>(b, token);
    REQUIRE(server->start("127.0.0.1", 0) == "");
    port = server->port();
  }

  FakeEngine engine;
  std::vector<b2bua::CallId> hung_up;
  json routes = json::array();
  std::unique_ptr<RestServer> server;
  std::uint16_t port = 0;
};

struct TokenFixture : ManagedFixture {
  TokenFixture() : ManagedFixture("s3cret") {}
};

}  // namespace

TEST_CASE_FIXTURE(TokenFixture, "with a token, every path but /health and /ready needs it") {
  for (const char* path : {"/v1/stats", "/v1/calls", "/v1/calls/12", "/metrics", "/v1",
                           "/v1/routes", "/v1/backends", "/v1/cdrs", "/v1/cdrs/1", "/nope"}) {
    CAPTURE(path);
    for (const char* auth : {"", "Authorization: Bearer wrong\r\n", "Authorization: s3cret\r\n",
                             "Authorization: Bearer s3cre\r\n", "Authorization: Bearer \r\n",
                             "Authorization: Bearer s3cretX\r\n"}) {
      CAPTURE(auth);
      const auto r = send_request(port, "GET", path, auth);
      check_error(r, 401, "unauthorized");
      CHECK(r.header("www-authenticate") == "Bearer realm=\"b2bua\"");
    }
  }
  check_error(send_request(port, "DELETE", "/v1/calls/12"), 401, "unauthorized");
  CHECK(hung_up.empty());
  CHECK(send_request(port, "GET", "/health").status == 200);
  CHECK(send_request(port, "GET", "/ready").status == 200);
  CHECK(send_request(port, "GET", "/v1/stats", "Authorization: Bearer s3cret\r\n").status == 200);
}

TEST_CASE_FIXTURE(ManagedFixture, "DELETE /v1/calls/{id} answers the final call, 404 or 504") {
  auto r = send_request(port, "DELETE", "/v1/calls/12");
  CHECK(r.status == 200);
  check_common(r);
  CHECK(r.parsed()["end_reason"] == "operator_hangup");
  CHECK(r.parsed()["state"] == "ended");
  check_error(send_request(port, "DELETE", "/v1/calls/77"), 404, "call_not_found");
  check_error(send_request(port, "DELETE", "/v1/calls/13"), 504, "hangup_timeout");
  check_error(send_request(port, "DELETE", "/v1/calls/x"), 400, "bad_id");
  CHECK(hung_up == std::vector<b2bua::CallId>{12, 77, 13});
  const auto allow = send_request(port, "PUT", "/v1/calls/12");
  check_error(allow, 405, "method_not_allowed");
  CHECK(allow.header("allow") == "GET, DELETE");
}

TEST_CASE_FIXTURE(ManagedFixture, "PUT /v1/routes validates, swaps and answers the new rules") {
  const json rules = json::array({{{"name", "a"}}});
  auto r = send_request(port, "PUT", "/v1/routes", "", json{{"routes", rules}}.dump());
  CHECK(r.status == 200);
  CHECK(r.parsed() == json{{"routes", rules}});
  CHECK(routes == rules);
  CHECK(send_request(port, "GET", "/v1/routes").parsed() == json{{"routes", rules}});
  r = send_request(port, "PUT", "/v1/routes", "", R"({"routes":[{"x":1}]})");
  check_error_details(r, 400, "bad_routes");
  CHECK(r.parsed()["error"]["details"] ==
        json{{"path", "routes[0].name"}, {"rule", "must be a non-empty string"}});
  CHECK(routes == rules);
  check_error(send_request(port, "PUT", "/v1/routes", "", R"({"routes":[)"), 400, "bad_json");
  check_error(send_request(port, "PUT", "/v1/routes", "", "[]"), 400, "bad_request");
  check_error(send_request(port, "PUT", "/v1/routes", "", R"({"routes":[],"x":1})"), 400,
              "bad_request");
  check_error(send_request(port, "PUT", "/v1/routes", "", std::string(70000, ' ')), 413,
              "too_large");
  CHECK(send_request(port, "DELETE", "/v1/routes").header("allow") == "GET, PUT");
}

TEST_CASE_FIXTURE(Fixture, "without routes, CDR or backend callbacks: 503 or an empty table") {
  check_error(fetch(port, "GET", "/v1/routes"), 503, "backend_unavailable");
  check_error(send_request(port, "PUT", "/v1/routes", "", R"({"routes":[]})"), 503,
              "backend_unavailable");
  check_error(fetch(port, "GET", "/v1/cdrs"), 503, "backend_unavailable");
  check_error(fetch(port, "GET", "/v1/cdrs/1"), 503, "backend_unavailable");
  const auto r = fetch(port, "GET", "/v1/backends");
  CHECK(r.status == 200);
  CHECK(r.parsed() == json{{"backends", json::array()}});
}

TEST_CASE_FIXTURE(ManagedFixture, "CDRs, metrics and the OpenAPI document") {
  auto r = fetch(port, "GET", "/v1/cdrs?to=bob&limit=5");
  CHECK(r.status == 200);
  CHECK(r.parsed()["cdrs"][0]["to"] == "bob");
  CHECK(r.parsed()["limit"] == 5);
  check_error_details(fetch(port, "GET", "/v1/cdrs?limit=5000"), 400, "bad_query");
  CHECK(fetch(port, "GET", "/v1/cdrs/1").parsed()["id"] == 1);
  check_error(fetch(port, "GET", "/v1/cdrs/2"), 404, "cdr_not_found");
  check_error(fetch(port, "GET", "/v1/cdrs/666"), 500, "cdr_store");
  check_error(fetch(port, "GET", "/v1/cdrs/0"), 400, "bad_id");
  r = fetch(port, "GET", "/metrics");
  CHECK(r.status == 200);
  CHECK(r.header("content-type") == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(r.body == "# TYPE b2bua_x gauge\nb2bua_x 1\n");
  r = fetch(port, "GET", "/v1");
  CHECK(r.status == 200);
  CHECK(r.parsed()["openapi"] == "3.1.0");
  CHECK(r.parsed()["paths"].contains("/v1/calls/{id}"));
}

TEST_CASE_FIXTURE(Fixture, "GET /v1/calls filters and pages; bad parameters are 400 bad_query") {
  auto r = fetch(port, "GET", "/v1/calls?state=answered");
  CHECK(r.parsed()["total"] == 1);
  CHECK(r.parsed()["calls"][0]["id"] == 12);
  r = fetch(port, "GET", "/v1/calls?limit=1&offset=1");
  CHECK(r.parsed()["count"] == 1);
  CHECK(r.parsed()["total"] == 2);
  CHECK(r.parsed()["calls"][0]["id"] == 40);
  r = fetch(port, "GET", "/v1/calls?limit=abc");
  check_error_details(r, 400, "bad_query");
  CHECK(r.parsed()["error"]["details"]["parameter"] == "limit");
  check_error(fetch(port, "GET", "/v1/calls?a=%2"), 400, "bad_query");
}
