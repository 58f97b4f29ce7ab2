// The SQL side of CdrStore: the tables (records, the journal of calls in progress, run number and
// heartbeat), the writer's transactions and the recovery of a previous process's journal.
// Private to api/records/cdr_store.cpp; each function runs on the connection its caller owns.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "api/records/cdr_store.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace b2bua::api::cdr_sql {

/// A prepared statement, finalized on scope exit. Empty (false) when the SQL did not prepare.
class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql);
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  sqlite3_stmt* get() const { return stmt_; }
  explicit operator bool() const { return stmt_ != nullptr; }

  void text(int i, const std::string& s);
  void int64(int i, std::int64_t v);

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

/// Runs SQL without results. False on failure, with the message in `error` when given.
bool exec(sqlite3* db, const char* sql, std::string* error = nullptr);

/// The columns of a record, in the order read_row expects.
extern const char* const record_columns;

/// The record on the current row of a statement selecting record_columns.
CdrRecord read_row(sqlite3_stmt* s);

/// Creates the tables, adds the run column to a database written before it existed, and counts
/// this open as a new run. Returns the run number (1 for a new file), 0 on error.
std::int64_t prepare(sqlite3* db, std::string* error);

/// Turns every journal row into a record ended by "restart" and empties the journal, in one
/// transaction. The end time is the last heartbeat, or `now_ms` when there is none; never before
/// the row's start or answer. Returns the number of records written, -1 on error.
std::int64_t recover(sqlite3* db, std::int64_t now_ms, std::string* error);

/// One writer transaction: `records` inserted (stamped with `run`), `live` put into the journal
/// (replacing the call's row), the journal rows of `gone` deleted, and the heartbeat set to
/// `now_ms`. Rolled back entirely on error.
struct Commit {
  std::vector<const CdrRecord*> records;
  std::vector<const CdrRecord*> live;
  std::vector<CallId> gone;
};
bool commit(sqlite3* db, std::int64_t run, const Commit& c, std::int64_t now_ms,
            std::string* error);

}  // namespace b2bua::api::cdr_sql
