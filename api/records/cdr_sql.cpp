// The SQL side of CdrStore: schema and its upgrade, the writer's transactions, journal recovery.
#include "api/records/detail/cdr_sql.hpp"

#include <sqlite3.h>

namespace b2bua::api::cdr_sql {

namespace {

constexpr const char* schema_sql = R"sql(
CREATE TABLE IF NOT EXISTS cdr (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  call INTEGER NOT NULL,
  a_call_id TEXT NOT NULL,
  b_call_id TEXT NOT NULL,
  from_uri TEXT NOT NULL,
  to_uri TEXT NOT NULL,
  route TEXT NOT NULL,
  backend TEXT NOT NULL,
  target TEXT NOT NULL,
  start_ms INTEGER NOT NULL,
  answer_ms INTEGER NOT NULL,
  end_ms INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  hangup_by TEXT NOT NULL,
  final_status INTEGER NOT NULL,
  disconnect_reason TEXT NOT NULL,
  media_mode TEXT NOT NULL,
  run INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS cdr_start ON cdr(start_ms);
CREATE TABLE IF NOT EXISTS cdr_journal (
  call INTEGER PRIMARY KEY,
  run INTEGER NOT NULL,
  a_call_id TEXT NOT NULL,
  b_call_id TEXT NOT NULL,
  from_uri TEXT NOT NULL,
  to_uri TEXT NOT NULL,
  route TEXT NOT NULL,
  backend TEXT NOT NULL,
  target TEXT NOT NULL,
  start_ms INTEGER NOT NULL,
  answer_ms INTEGER NOT NULL,
  final_status INTEGER NOT NULL,
  media_mode TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cdr_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
)sql";

// A journal row becomes a record: b2buad ended it ("restart"), at :end but never before its start
// or answer. The caller got no final status unless it was answered.
constexpr const char* recover_sql = R"sql(
INSERT INTO cdr (call, a_call_id, b_call_id, from_uri, to_uri, route, backend, target,
  start_ms, answer_ms, end_ms, duration_ms, hangup_by, final_status, disconnect_reason,
  media_mode, run)
SELECT call, a_call_id, b_call_id, from_uri, to_uri, route, backend, target, start_ms, answer_ms,
  max(:end, start_ms, answer_ms),
  CASE WHEN answer_ms > 0 THEN max(:end, answer_ms) - answer_ms ELSE 0 END,
  'b2bua', final_status, 'restart', media_mode, run
FROM cdr_journal ORDER BY run, call
)sql";

bool step_done(Stmt& st) {
  const bool ok = sqlite3_step(st.get()) == SQLITE_DONE;
  sqlite3_reset(st.get());
  return ok;
}

// The integer under `key` in cdr_meta; 0 when there is none.
std::int64_t meta(sqlite3* db, const char* key) {
  Stmt st{db, "SELECT value FROM cdr_meta WHERE key = ?"};
  if (!st) {
    return 0;
  }
  st.text(1, key);
  return sqlite3_step(st.get()) == SQLITE_ROW ? sqlite3_column_int64(st.get(), 0) : 0;
}

bool set_meta(sqlite3* db, const char* key, std::int64_t value) {
  Stmt st{db, "INSERT OR REPLACE INTO cdr_meta (key, value) VALUES (?, ?)"};
  if (!st) {
    return false;
  }
  st.text(1, key);
  st.int64(2, value);
  return step_done(st);
}

bool insert_records(sqlite3* db, std::int64_t run, const std::vector<const CdrRecord*>& records) {
  if (records.empty()) {
    return true;
  }
  Stmt st{db,
          "INSERT INTO cdr (call, a_call_id, b_call_id, from_uri, to_uri, route, backend, target, "
          "start_ms, answer_ms, end_ms, duration_ms, hangup_by, final_status, disconnect_reason, "
          "media_mode, run) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"};
  bool ok = static_cast<bool>(st);
  for (std::size_t i = 0; ok && i < records.size(); ++i) {
    const auto& r = *records[i];
    st.int64(1, static_cast<std::int64_t>(r.call));
    st.text(2, r.a_call_id);
    st.text(3, r.b_call_id);
    st.text(4, r.from);
    st.text(5, r.to);
    st.text(6, r.route);
    st.text(7, r.backend);
    st.text(8, r.target);
    st.int64(9, r.start_ms);
    st.int64(10, r.answer_ms);
    st.int64(11, r.end_ms);
    st.int64(12, r.duration_ms);
    st.text(13, r.hangup_by);
    st.int64(14, r.final_status);
    st.text(15, r.disconnect_reason);
    st.text(16, r.media_mode);
    st.int64(17, run);
    ok = step_done(st);
  }
  return ok;
}

bool put_journal(sqlite3* db, std::int64_t run, const std::vector<const CdrRecord*>& live) {
  if (live.empty()) {
    return true;
  }
  Stmt st{db,
          "INSERT OR REPLACE INTO cdr_journal (call, run, a_call_id, b_call_id, from_uri, to_uri, "
          "route, backend, target, start_ms, answer_ms, final_status, media_mode) "
          "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"};
  bool ok = static_cast<bool>(st);
  for (std::size_t i = 0; ok && i < live.size(); ++i) {
    const auto& r = *live[i];
    st.int64(1, static_cast<std::int64_t>(r.call));
    st.int64(2, run);
    st.text(3, r.a_call_id);
    st.text(4, r.b_call_id);
    st.text(5, r.from);
    st.text(6, r.to);
    st.text(7, r.route);
    st.text(8, r.backend);
    st.text(9, r.target);
    st.int64(10, r.start_ms);
    st.int64(11, r.answer_ms);
    st.int64(12, r.final_status);
    st.text(13, r.media_mode);
    ok = step_done(st);
  }
  return ok;
}

bool remove_journal(sqlite3* db, const std::vector<CallId>& gone) {
  if (gone.empty()) {
    return true;
  }
  Stmt st{db, "DELETE FROM cdr_journal WHERE call = ?"};
  bool ok = static_cast<bool>(st);
  for (std::size_t i = 0; ok && i < gone.size(); ++i) {
    st.int64(1, static_cast<std::int64_t>(gone[i]));
    ok = step_done(st);
  }
  return ok;
}

// Ends a transaction: COMMIT when `ok`, else ROLLBACK with the reason in `error`.
bool finish(sqlite3* db, bool ok, std::string* error) {
  if (ok && exec(db, "COMMIT", error)) {
    return true;
  }
  if (error && error->empty()) {
    *error = sqlite3_errmsg(db);
  }
  exec(db, "ROLLBACK");
  return false;
}

}  // namespace

Stmt::Stmt(sqlite3* db, const std::string& sql) {
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK) {
    stmt_ = nullptr;
  }
}

Stmt::~Stmt() {
  sqlite3_finalize(stmt_);
}

void Stmt::text(int i, const std::string& s) {
  sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
}

void Stmt::int64(int i, std::int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
}

bool exec(sqlite3* db, const char* sql, std::string* error) {
  char* msg = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) == SQLITE_OK) {
    return true;
  }
  if (error) {
    *error = msg ? msg : sqlite3_errmsg(db);
  }
  sqlite3_free(msg);
  return false;
}

const char* const record_columns =
    "id, call, a_call_id, b_call_id, from_uri, to_uri, route, backend, target, start_ms, "
    "answer_ms, end_ms, duration_ms, hangup_by, final_status, disconnect_reason, media_mode, run";

namespace {

std::string column_text(sqlite3_stmt* s, int i) {
  const auto* p = sqlite3_column_text(s, i);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<std::size_t>(sqlite3_column_bytes(s, i)))
           : std::string{};
}

}  // namespace

CdrRecord read_row(sqlite3_stmt* s) {
  CdrRecord r;
  r.id = sqlite3_column_int64(s, 0);
  r.call = static_cast<CallId>(sqlite3_column_int64(s, 1));
  r.a_call_id = column_text(s, 2);
  r.b_call_id = column_text(s, 3);
  r.from = column_text(s, 4);
  r.to = column_text(s, 5);
  r.route = column_text(s, 6);
  r.backend = column_text(s, 7);
  r.target = column_text(s, 8);
  r.start_ms = sqlite3_column_int64(s, 9);
  r.answer_ms = sqlite3_column_int64(s, 10);
  r.end_ms = sqlite3_column_int64(s, 11);
  r.duration_ms = sqlite3_column_int64(s, 12);
  r.hangup_by = column_text(s, 13);
  r.final_status = sqlite3_column_int(s, 14);
  r.disconnect_reason = column_text(s, 15);
  r.media_mode = column_text(s, 16);
  r.run = sqlite3_column_int64(s, 17);
  return r;
}

std::int64_t prepare(sqlite3* db, std::string* error) {
  if (!exec(db, schema_sql, error)) {
    return 0;
  }
  // A database from before runs were counted: its records get run 0.
  if (!Stmt{db, "SELECT run FROM cdr LIMIT 0"} &&
      !exec(db, "ALTER TABLE cdr ADD COLUMN run INTEGER NOT NULL DEFAULT 0", error)) {
    return 0;
  }
  if (!exec(db, "BEGIN IMMEDIATE", error)) {
    return 0;
  }
  const std::int64_t run = meta(db, "run") + 1;
  return finish(db, set_meta(db, "run", run), error) ? run : 0;
}

std::int64_t recover(sqlite3* db, std::int64_t now_ms, std::string* error) {
  if (!exec(db, "BEGIN IMMEDIATE", error)) {
    return -1;
  }
  const std::int64_t alive = meta(db, "alive_ms");
  Stmt st{db, recover_sql};
  bool ok = static_cast<bool>(st);
  std::int64_t n = 0;
  if (ok) {
    st.int64(sqlite3_bind_parameter_index(st.get(), ":end"), alive > 0 ? alive : now_ms);
    ok = step_done(st);
    n = sqlite3_changes(db);
  }
  ok = ok && exec(db, "DELETE FROM cdr_journal", error);
  return finish(db, ok, error) ? n : -1;
}

bool commit(sqlite3* db, std::int64_t run, const Commit& c, std::int64_t now_ms,
            std::string* error) {
  if (!exec(db, "BEGIN IMMEDIATE", error)) {
    return false;
  }
  const bool ok = insert_records(db, run, c.records) && put_journal(db, run, c.live) &&
                  remove_journal(db, c.gone) && set_meta(db, "alive_ms", now_ms);
  return finish(db, ok, error);
}

}  // namespace b2bua::api::cdr_sql
