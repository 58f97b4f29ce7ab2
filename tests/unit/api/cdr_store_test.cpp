// CdrStore on a real SQLite file in a temp dir: batching writer, durability across reopen, WAL,
// filters and paging, errors; and the mapping of a finished call to its record.
#include "api/cdr_store.hpp"

#include <cstdlib>
#include <filesystem>
#include <string>
#include <variant>

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
