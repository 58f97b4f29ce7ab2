// CdrStore: the SQLite side of call detail records - schema, the batching writer thread, queries.
#include "api/cdr_store.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

#include <pthread.h>
#include <sqlite3.h>

#include <spdlog/spdlog.h>

namespace b2bua::api {

namespace {

constexpr std::size_t batch_max = 1000;  // records per transaction

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
  media_mode TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cdr_start ON cdr(start_ms);
)sql";

constexpr const char* columns =
    "id, call, a_call_id, b_call_id, from_uri, to_uri, route, backend, target, start_ms, "
    "answer_ms, end_ms, duration_ms, hangup_by, final_status, disconnect_reason, media_mode";

/// A prepared statement, finalized on scope exit.
class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK) {
      stmt_ = nullptr;
    }
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  sqlite3_stmt* get() const { return stmt_; }
  explicit operator bool() const { return stmt_ != nullptr; }

  void text(int i, const std::string& s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  }
  void int64(int i, std::int64_t v) { sqlite3_bind_int64(stmt_, i, v); }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

std::string column_text(sqlite3_stmt* s, int i) {
  const auto* p = sqlite3_column_text(s, i);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<std::size_t>(sqlite3_column_bytes(s, i)))
           : std::string{};
}

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
  return r;
}

}  // namespace


namespace {

bool exec(sqlite3* db, const char* sql, std::string* error = nullptr) {
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

}  // namespace

std::string hangup_by(const CallInfo& call) {
  const std::string& r = call.end_reason;
  if (r == "cancelled" || r == "caller_bye" || r == "caller_gone") {
    return "caller";
  }
  if (r == "callee_bye" || r == "callee_gone") {
    return "callee";
  }
  if (r == "operator_hangup") {
    return "operator";
  }
  if (r == "failed" && call.legs.size() > 1 && call.legs[1].last_status == call.final_status &&
      call.final_status >= 300) {
    return "callee";  // the callee's error relayed to the caller
  }
  return "b2bua";  // no_answer, rtp_timeout, hangup (shutdown), SDP or media failures, refusals
}

CdrRecord make_cdr(const CallInfo& call) {
  CdrRecord r;
  r.call = call.id;
  if (!call.legs.empty()) {
    r.a_call_id = call.legs[0].call_id;
  }
  if (call.legs.size() > 1) {
    r.b_call_id = call.legs[1].call_id;
  }
  r.from = call.from;
  r.to = call.to;
  r.route = call.route;
  r.target = call.target;
  r.backend = call.backend;
  r.start_ms = call.start_ms;
  r.answer_ms = call.answer_ms;
  r.end_ms = call.end_ms > 0 ? call.end_ms : call.start_ms;
  r.duration_ms = call.answer_ms > 0 ? std::max<std::int64_t>(0, r.end_ms - call.answer_ms) : 0;
  r.hangup_by = hangup_by(call);
  r.final_status = call.final_status;
  r.disconnect_reason = call.end_reason.empty() ? "unknown" : call.end_reason;
  r.media_mode = call.media_mode.empty() ? "bypass" : call.media_mode;
  return r;
}

CdrStore::CdrStore(Options opts) : opts_(std::move(opts)) {}

CdrStore::~CdrStore() {
  {
    std::lock_guard<std::mutex> lock{mutex_};
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
  sqlite3_close(writer_db_);
  sqlite3_close(reader_db_);
}

std::string CdrStore::open() {
  const auto fail = [this](sqlite3* db, const std::string& what) {
    return "cdr.path " + opts_.path + ": " + (what.empty() ? sqlite3_errmsg(db) : what);
  };
  if (sqlite3_open_v2(opts_.path.c_str(), &writer_db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    return fail(writer_db_, "");
  }
  sqlite3_busy_timeout(writer_db_, 2000);
  std::string error;
  // WAL with synchronous=NORMAL: a committed transaction survives the process being killed (it
  // is in the OS's page cache); only a power loss may cost the last commits.
  if (!exec(writer_db_, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", &error) ||
      !exec(writer_db_, schema_sql, &error)) {
    return fail(writer_db_, error);
  }
  if (sqlite3_open_v2(opts_.path.c_str(), &reader_db_,
                      SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    return fail(reader_db_, "");
  }
  sqlite3_busy_timeout(reader_db_, 2000);
  thread_ = std::thread([this] { run(); });
  std::lock_guard<std::mutex> lock{mutex_};
  accepting_ = true;
  return {};
}

void CdrStore::push(CdrRecord record) noexcept {
  try {
    {
      std::lock_guard<std::mutex> lock{mutex_};
      if (stop_ || !accepting_ || queue_.size() >= opts_.max_queue) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      queue_.push_back(std::move(record));
      ++pushed_;
    }
    cv_.notify_one();
  } catch (...) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
  }
}

std::size_t CdrStore::queued() const {
  std::lock_guard<std::mutex> lock{mutex_};
  return queue_.size();
}

bool CdrStore::flush(std::uint32_t timeout_ms) {
  std::unique_lock<std::mutex> lock{mutex_};
  const std::uint64_t target = pushed_;
  cv_.notify_one();
  return done_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                           [&] { return committed_ >= target; });
}

void CdrStore::run() {
  pthread_setname_np(pthread_self(), "b2b-cdr");
  std::vector<CdrRecord> batch;
  std::unique_lock<std::mutex> lock{mutex_};
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty() && stop_) {
      return;
    }
    // Gather a batch: wait up to flush_ms for more records, unless stopping or already full.
    cv_.wait_for(lock, std::chrono::milliseconds(opts_.flush_ms),
                 [&] { return stop_ || queue_.size() >= batch_max; });
    const std::size_t n = std::min(queue_.size(), batch_max);
    batch.assign(std::make_move_iterator(queue_.begin()),
                 std::make_move_iterator(queue_.begin() + static_cast<std::ptrdiff_t>(n)));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    lock.unlock();
    if (!write_batch(batch)) {
      errors_.fetch_add(1, std::memory_order_relaxed);
      dropped_.fetch_add(batch.size(), std::memory_order_relaxed);
    } else {
      written_.fetch_add(batch.size(), std::memory_order_relaxed);
    }
    lock.lock();
    committed_ += batch.size();
    batch.clear();
    done_cv_.notify_all();
  }
}

bool CdrStore::write_batch(std::vector<CdrRecord>& batch) {
  std::string error;
  if (!exec(writer_db_, "BEGIN IMMEDIATE", &error)) {
    spdlog::warn("b2bua.cdr.write_failed: {} record(s) lost: {}", batch.size(), error);
    return false;
  }
  Stmt st{writer_db_,
          "INSERT INTO cdr (call, a_call_id, b_call_id, from_uri, to_uri, route, backend, target, "
          "start_ms, answer_ms, end_ms, duration_ms, hangup_by, final_status, disconnect_reason, "
          "media_mode) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"};
  bool ok = static_cast<bool>(st);
  for (std::size_t i = 0; ok && i < batch.size(); ++i) {
    const auto& r = batch[i];
    sqlite3_reset(st.get());
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
    ok = sqlite3_step(st.get()) == SQLITE_DONE;
  }
  if (ok && exec(writer_db_, "COMMIT", &error)) {
    return true;
  }
  spdlog::warn("b2bua.cdr.write_failed: {} record(s) lost: {}", batch.size(),
               error.empty() ? sqlite3_errmsg(writer_db_) : error);
  exec(writer_db_, "ROLLBACK");
  return false;
}

std::variant<CdrPage, std::string> CdrStore::query(const CdrQuery& q) {
  std::string where = " WHERE 1";
  if (q.since_ms > 0) {
    where += " AND start_ms >= :since";
  }
  if (q.until_ms > 0) {
    where += " AND start_ms < :until";
  }
  if (!q.from.empty()) {
    where += " AND instr(from_uri, :from) > 0";
  }
  if (!q.to.empty()) {
    where += " AND instr(to_uri, :to) > 0";
  }
  const auto bind = [&q](Stmt& st) {
    auto* s = st.get();
    auto named = [s](const char* name) { return sqlite3_bind_parameter_index(s, name); };
    if (q.since_ms > 0) {
      st.int64(named(":since"), q.since_ms);
    }
    if (q.until_ms > 0) {
      st.int64(named(":until"), q.until_ms);
    }
    if (!q.from.empty()) {
      st.text(named(":from"), q.from);
    }
    if (!q.to.empty()) {
      st.text(named(":to"), q.to);
    }
  };
  std::lock_guard<std::mutex> lock{read_mutex_};
  if (!reader_db_) {
    return std::string{"the CDR store is not open"};
  }
  CdrPage page;
  Stmt count{reader_db_, "SELECT count(*) FROM cdr" + where};
  if (!count) {
    return std::string{sqlite3_errmsg(reader_db_)};
  }
  bind(count);
  if (sqlite3_step(count.get()) != SQLITE_ROW) {
    return std::string{sqlite3_errmsg(reader_db_)};
  }
  page.total = static_cast<std::uint64_t>(sqlite3_column_int64(count.get(), 0));
  Stmt rows{reader_db_, std::string("SELECT ") + columns + " FROM cdr" + where +
                            " ORDER BY id LIMIT :limit OFFSET :offset"};
  if (!rows) {
    return std::string{sqlite3_errmsg(reader_db_)};
  }
  bind(rows);
  rows.int64(sqlite3_bind_parameter_index(rows.get(), ":limit"), q.limit);
  rows.int64(sqlite3_bind_parameter_index(rows.get(), ":offset"),
             static_cast<std::int64_t>(std::min<std::uint64_t>(q.offset, INT64_MAX)));
  int rc = 0;
  while ((rc = sqlite3_step(rows.get())) == SQLITE_ROW) {
    page.records.push_back(read_row(rows.get()));
  }
  if (rc != SQLITE_DONE) {
    return std::string{sqlite3_errmsg(reader_db_)};
  }
  return page;
}

std::optional<CdrRecord> CdrStore::get(std::int64_t id, std::string* error) {
  std::lock_guard<std::mutex> lock{read_mutex_};
  if (!reader_db_) {
    *error = "the CDR store is not open";
    return std::nullopt;
  }
  Stmt st{reader_db_, std::string("SELECT ") + columns + " FROM cdr WHERE id = ?"};
  if (!st) {
    *error = sqlite3_errmsg(reader_db_);
    return std::nullopt;
  }
  st.int64(1, id);
  const int rc = sqlite3_step(st.get());
  if (rc == SQLITE_ROW) {
    return read_row(st.get());
  }
  if (rc != SQLITE_DONE) {
    *error = sqlite3_errmsg(reader_db_);
  }
  return std::nullopt;
}

}  // namespace b2bua::api
