// CdrStore on a real SQLite file in a temp dir: batching writer, durability across reopen, WAL,
// filters and paging, errors, the journal of calls in progress and its recovery after a killed
// process (a forked child), runs; and the mapping of a finished call to its record.
#include "api/records/cdr_store.hpp"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <variant>

#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>
#include <sqlite3.h>

namespace {

using b2bua::CallInfo;
using b2bua::LegInfo;
using b2bua::api::CdrPage;
using b2bua::api::CdrQuery;
using b2bua::api::CdrRecord;
using b2bua::api::CdrStore;

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/b2bua-cdr-test-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name) const { return path + "/" + name; }
  std::string path;
};

CdrRecord record(std::int64_t start_ms, const std::string& from, const std::string& to) {
  CdrRecord r;
  r.call = 7;
  r.a_call_id = "a@h";
  r.from = from;
  r.to = to;
  r.start_ms = start_ms;
  r.end_ms = start_ms + 5000;
  r.hangup_by = "caller";
  r.final_status = 200;
  r.disconnect_reason = "caller_bye";
  r.media_mode = "relay";
  return r;
}

CdrPage page_of(CdrStore& s, const CdrQuery& q) {
  auto p = s.query(q);
  REQUIRE(std::holds_alternative<CdrPage>(p));
  return std::get<CdrPage>(p);
}

CallInfo finished_call(const std::string& reason, int status, int b_status) {
  CallInfo c;
  c.id = 3;
  c.from = "sip:alice@h";
  c.to = "sip:bob@h";
  c.target = "sip:bob@10.0.0.2:5080;transport=udp";
  c.backend = "sip:10.0.0.2:5080;transport=udp";
  c.route = "r";
  c.start_ms = 1000;
  c.answer_ms = status == 200 ? 3000 : 0;
  c.end_ms = 9500;
  c.final_status = status;
  c.end_reason = reason;
  c.legs.resize(2);
  c.legs[0].call_id = "a-id";
  c.legs[1].call_id = "b-id";
  c.legs[1].last_status = b_status;
  return c;
}

}  // namespace

TEST_CASE("records pushed from another thread are committed, survive a reopen, and are in WAL") {
  TempDir dir;
  const auto path = dir.file("cdr.sqlite");
  {
    CdrStore s{{path, 20, 1000}};
    REQUIRE(s.open() == "");
    for (int i = 0; i < 250; ++i) {
      s.push(record(1000 + i, "sip:alice@h", i % 2 ? "sip:bob@h" : "sip:carol@h"));
    }
    REQUIRE(s.flush());
    CHECK(s.written() == 250);
    CHECK(s.dropped() == 0);
    CHECK(s.queued() == 0);
  }
  CdrStore again{{path, 20, 1000}};
  REQUIRE(again.open() == "");
  CHECK(page_of(again, {}).total == 250);
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))) == "wal");
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST_CASE("queries filter by start time and From/To text, and page in id order") {
  TempDir dir;
  CdrStore s{{dir.file("c.sqlite"), 10, 1000}};
  REQUIRE(s.open() == "");
  for (int i = 0; i < 10; ++i) {
    s.push(record(1000 * (i + 1), "sip:alice@h", i < 4 ? "sip:bob@h" : "sip:carol@h"));
  }
  REQUIRE(s.flush());
  CdrQuery q;
  q.to = "bob";
  CHECK(page_of(s, q).total == 4);
  q = {};
  q.since_ms = 3000;
  q.until_ms = 6000;  // [3000, 6000): three records
  auto p = page_of(s, q);
  CHECK(p.total == 3);
  REQUIRE(p.records.size() == 3);
  CHECK(p.records[0].start_ms == 3000);
  CHECK(p.records[2].start_ms == 5000);
  q = {};
  q.limit = 3;
  q.offset = 8;
  p = page_of(s, q);
  CHECK(p.total == 10);
  REQUIRE(p.records.size() == 2);
  CHECK(p.records[0].id == 9);
  CHECK(p.records[1].id == 10);
  q = {};
  q.from = "nobody";
  CHECK(page_of(s, q).total == 0);
  std::string error;
  auto one = s.get(4, &error);
  REQUIRE(one);
  CHECK(one->start_ms == 4000);
  CHECK(one->media_mode == "relay");
  CHECK(one->a_call_id == "a@h");
  CHECK(!s.get(99, &error));
  CHECK(error.empty());
}

TEST_CASE("an unopenable path is one line naming the key and the file") {
  CdrStore s{{"/nonexistent-dir/x/cdr.sqlite", 10, 10}};
  const auto err = s.open();
  CHECK(err.rfind("cdr.path /nonexistent-dir/x/cdr.sqlite: ", 0) == 0);
  s.push(record(1, "a", "b"));  // not open: dropped and counted, no crash
  CHECK(s.dropped() == 1);
}

TEST_CASE("a full queue drops and counts instead of blocking") {
  TempDir dir;
  CdrStore s{{dir.file("q.sqlite"), 500, 3}};
  REQUIRE(s.open() == "");
  for (int i = 0; i < 50; ++i) {
    s.push(record(i + 1, "a", "b"));
  }
  REQUIRE(s.flush());
  CHECK(s.written() + s.dropped() == 50);
  CHECK(s.dropped() >= 40);
}

TEST_CASE("make_cdr: parties, legs, times, backend and who hung up") {
  auto r = b2bua::api::make_cdr(finished_call("callee_bye", 200, 200));
  CHECK(r.call == 3);
  CHECK(r.a_call_id == "a-id");
  CHECK(r.b_call_id == "b-id");
  CHECK(r.backend == "sip:10.0.0.2:5080;transport=udp");
  CHECK(r.duration_ms == 6500);
  CHECK(r.hangup_by == "callee");
  CHECK(b2bua::api::make_cdr(finished_call("failed", 486, 486)).hangup_by == "callee");
  CHECK(b2bua::api::make_cdr(finished_call("failed", 488, 200)).hangup_by == "b2bua");
  CHECK(b2bua::api::make_cdr(finished_call("cancelled", 487, 0)).hangup_by == "caller");
  CHECK(b2bua::api::make_cdr(finished_call("operator_hangup", 480, 0)).hangup_by == "operator");
  CHECK(b2bua::api::make_cdr(finished_call("no_answer", 480, 0)).hangup_by == "b2bua");
  auto unanswered = b2bua::api::make_cdr(finished_call("route_no_match", 404, 0));
  CHECK(unanswered.duration_ms == 0);
  CHECK(unanswered.answer_ms == 0);
}

namespace {

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// One integer from a SQL query on a connection of the test's own; -1 on error.
std::int64_t scalar(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  std::int64_t v = -1;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_open(path.c_str(), &db) == SQLITE_OK &&
      sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW) {
    v = sqlite3_column_int64(st, 0);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

std::int64_t journal_rows(const std::string& path) {
  return scalar(path, "SELECT count(*) FROM cdr_journal");
}

// A call in progress as the journal gets it: answered (answer_ms > 0) or still ringing.
CdrRecord live_call(b2bua::CallId id, std::int64_t answer_ms) {
  CallInfo c = finished_call("", answer_ms > 0 ? 200 : 0, answer_ms > 0 ? 200 : 180);
  c.id = id;
  c.answer_ms = answer_ms;
  c.end_ms = 0;
  c.legs[0].call_id = "a-" + std::to_string(id);
  c.media_mode = "relay";
  return b2bua::api::make_cdr(c);
}

CdrRecord ended_call(b2bua::CallId id) {
  CdrRecord r = record(1000, "sip:alice@h", "sip:bob@h");
  r.call = id;
  return r;
}

std::map<b2bua::CallId, CdrRecord> by_call(const CdrPage& page) {
  std::map<b2bua::CallId, CdrRecord> out;
  for (const auto& r : page.records) {
    out[r.call] = r;
  }
  return out;
}

// Runs `body` with a store on `path` in a child process that is then killed with SIGKILL, as
// kill -9 would: no destructor runs, the writer thread dies wherever it is. `body` returns a time
// (ms, > 0) or 0 on failure. Returns that time and the time the child was seen dead.
struct Killed {
  std::int64_t reported_ms = 0;
  std::int64_t dead_ms = 0;
};

template <class F>
Killed in_killed_process(const std::string& path, F body) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    CdrStore::Options o{path, 10, 1000};
    o.heartbeat_ms = 20;
    auto* s = new CdrStore{o};  // never deleted: the process dies
    const std::int64_t t = s->open() == "" ? body(*s) : 0;
    if (t <= 0 || ::write(fds[1], &t, sizeof t) != static_cast<ssize_t>(sizeof t)) {
      ::_exit(3);
    }
    std::raise(SIGKILL);
    ::_exit(4);
  }
  ::close(fds[1]);
  Killed k;
  const bool reported = ::read(fds[0], &k.reported_ms, sizeof k.reported_ms) ==
                        static_cast<ssize_t>(sizeof k.reported_ms);
  ::close(fds[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  k.dead_ms = now_ms();
  REQUIRE(reported);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  return k;
}

}  // namespace

TEST_CASE("a call in progress is in the journal until its record replaces it in one commit") {
  TempDir dir;
  const auto path = dir.file("j.sqlite");
  CdrStore s{{path, 10, 1000}};
  REQUIRE(s.open() == "");
  s.live(live_call(5, 0));
  REQUIRE(s.flush());
  CHECK(journal_rows(path) == 1);
  s.live(live_call(5, 3000));  // answered: the same row, now with its answer
  REQUIRE(s.flush());
  CHECK(journal_rows(path) == 1);
  CHECK(scalar(path, "SELECT answer_ms FROM cdr_journal WHERE call = 5") == 3000);
  CHECK(s.written() == 0);  // journal entries are not records
  s.push(ended_call(5));
  REQUIRE(s.flush());
  CHECK(journal_rows(path) == 0);
  CHECK(s.written() == 1);
  auto page = page_of(s, {});
  REQUIRE(page.records.size() == 1);
  CHECK(page.records[0].disconnect_reason == "caller_bye");
  CHECK(page.records[0].run == 1);
}

TEST_CASE("journal rows of a killed process become restart records at the next open") {
  TempDir dir;
  const auto path = dir.file("k.sqlite");
  const Killed killed = in_killed_process(path, [](CdrStore& s) -> std::int64_t {
    s.live(live_call(1, 3000));  // answered
    s.live(live_call(2, 0));     // ringing
    s.live(live_call(3, 3000));  // ended: its record, no journal row
    s.push(ended_call(3));
    s.push(ended_call(4));  // refused by the router: never live
    if (!s.flush()) {
      return 0;
    }
    const std::int64_t committed = now_ms();
    // Idle with calls up: only the heartbeat commits from here on.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    return committed;
  });
  CHECK(journal_rows(path) == 2);
  const std::int64_t alive = scalar(path, "SELECT value FROM cdr_meta WHERE key = 'alive_ms'");
  CHECK(alive <= killed.dead_ms);
  CHECK(alive > killed.reported_ms + 100);  // the heartbeat ran after the last batch

  CdrStore again{{path, 10, 1000}};
  REQUIRE(again.open() == "");
  CHECK(again.recovered() == 2);
  CHECK(again.run_number() == 2);
  CHECK(journal_rows(path) == 0);
  auto calls = by_call(page_of(again, {}));
  REQUIRE(calls.size() == 4);
  CHECK(calls[3].disconnect_reason == "caller_bye");
  CHECK(calls[4].disconnect_reason == "caller_bye");
  const auto& up = calls[1];
  CHECK(up.disconnect_reason == "restart");
  CHECK(up.hangup_by == "b2bua");
  CHECK(up.final_status == 200);
  CHECK(up.a_call_id == "a-1");
  CHECK(up.b_call_id == "b-id");
  CHECK(up.backend == "sip:10.0.0.2:5080;transport=udp");
  CHECK(up.start_ms == 1000);
  CHECK(up.answer_ms == 3000);
  CHECK(up.end_ms == alive);  // the last time the killed process was known alive
  CHECK(up.duration_ms == alive - 3000);
  CHECK(up.media_mode == "relay");
  CHECK(up.run == 1);
  const auto& ringing = calls[2];
  CHECK(ringing.disconnect_reason == "restart");
  CHECK(ringing.answer_ms == 0);
  CHECK(ringing.duration_ms == 0);
  CHECK(ringing.final_status == 0);
  CHECK(ringing.end_ms == alive);
}

TEST_CASE("after recovery nothing is left: the next open adds no record") {
  TempDir dir;
  const auto path = dir.file("r.sqlite");
  in_killed_process(path, [](CdrStore& s) -> std::int64_t {
    s.live(live_call(9, 3000));
    return s.flush() ? now_ms() : 0;
  });
  {
    CdrStore second{{path, 10, 1000}};
    REQUIRE(second.open() == "");
    CHECK(second.recovered() == 1);
  }
  CdrStore third{{path, 10, 1000}};
  REQUIRE(third.open() == "");
  CHECK(third.recovered() == 0);
  CHECK(third.run_number() == 3);
  CHECK(page_of(third, {}).total == 1);
  CHECK(journal_rows(path) == 0);
}

TEST_CASE("a clean stop leaves no journal rows: a call whose end never came is recorded at once") {
  TempDir dir;
  const auto path = dir.file("c.sqlite");
  const std::int64_t before = now_ms();
  {
    CdrStore s{{path, 10, 1000}};
    REQUIRE(s.open() == "");
    s.live(live_call(1, 3000));
    s.live(live_call(2, 3000));
    REQUIRE(s.flush());
    s.push(ended_call(1));
  }  // call 2 still up
  const std::int64_t after = now_ms();
  CHECK(journal_rows(path) == 0);
  CdrStore again{{path, 10, 1000}};
  REQUIRE(again.open() == "");
  CHECK(again.recovered() == 0);
  auto calls = by_call(page_of(again, {}));
  REQUIRE(calls.size() == 2);
  CHECK(calls[1].disconnect_reason == "caller_bye");
  CHECK(calls[2].disconnect_reason == "restart");
  CHECK(calls[2].end_ms >= before);
  CHECK(calls[2].end_ms <= after);
}

TEST_CASE("the same call id in two runs gives two records told apart by run") {
  TempDir dir;
  const auto path = dir.file("runs.sqlite");
  for (int i = 0; i < 2; ++i) {
    CdrStore s{{path, 10, 1000}};
    REQUIRE(s.open() == "");
    CHECK(s.run_number() == i + 1);
    s.push(ended_call(1));
  }
  CdrStore s{{path, 10, 1000}};
  REQUIRE(s.open() == "");
  auto page = page_of(s, {});
  REQUIRE(page.records.size() == 2);
  CHECK(page.records[0].call == page.records[1].call);
  CHECK(page.records[0].run == 1);
  CHECK(page.records[1].run == 2);
}

TEST_CASE("a database written before runs and the journal existed is upgraded in place") {
  TempDir dir;
  const auto path = dir.file("old.sqlite");
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db,
                       "CREATE TABLE cdr (id INTEGER PRIMARY KEY AUTOINCREMENT, call INTEGER NOT "
                       "NULL, a_call_id TEXT NOT NULL, b_call_id TEXT NOT NULL, from_uri TEXT NOT "
                       "NULL, to_uri TEXT NOT NULL, route TEXT NOT NULL, backend TEXT NOT NULL, "
                       "target TEXT NOT NULL, start_ms INTEGER NOT NULL, answer_ms INTEGER NOT "
                       "NULL, end_ms INTEGER NOT NULL, duration_ms INTEGER NOT NULL, hangup_by "
                       "TEXT NOT NULL, final_status INTEGER NOT NULL, disconnect_reason TEXT NOT "
                       "NULL, media_mode TEXT NOT NULL);"
                       "INSERT INTO cdr VALUES (NULL, 1, 'a', '', 'f', 't', '', '', '', 1, 0, 2, "
                       "0, 'caller', 487, 'cancelled', 'bypass');",
                       nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  CdrStore s{{path, 10, 1000}};
  REQUIRE(s.open() == "");
  s.push(ended_call(1));
  REQUIRE(s.flush());
  auto page = page_of(s, {});
  REQUIRE(page.records.size() == 2);
  CHECK(page.records[0].run == 0);
  CHECK(page.records[0].disconnect_reason == "cancelled");
  CHECK(page.records[1].run == 1);
}
