// CdrStore: call detail records - the queue, the batching writer thread (records, the journal of
// calls in progress, the heartbeat), recovery at open, queries. The SQL is in cdr_sql.cpp.
#include "api/records/cdr_store.hpp"

#include <algorithm>
#include <chrono>
#include <unordered_map>
#include <utility>

#include <pthread.h>
#include <sqlite3.h>

#include <spdlog/spdlog.h>

#include "api/records/detail/cdr_sql.hpp"

namespace b2bua::api {

namespace {

using cdr_sql::Stmt;
using cdr_sql::exec;

constexpr std::size_t batch_max = 1000;  // queue items per transaction

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
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
    // Calls whose end never came (the engine's drain deadline passed, or an embedding program
    // stopped with calls up): their records are written now rather than at the next start, with
    // the exact end time. A clean stop leaves the journal empty.
    std::string error;
    if (!journaled_.empty() && (!cdr_sql::commit(writer_db_, run_, {}, now_ms(), &error) ||
                                cdr_sql::recover(writer_db_, now_ms(), &error) < 0)) {
      spdlog::warn("b2bua.cdr.write_failed: {} call(s) in progress left in the journal: {}",
                   journaled_.size(), error);
    }
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
  if (!exec(writer_db_, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", &error)) {
    return fail(writer_db_, error);
  }
  run_ = cdr_sql::prepare(writer_db_, &error);
  const std::int64_t recovered = run_ == 0 ? -1 : cdr_sql::recover(writer_db_, now_ms(), &error);
  if (recovered < 0) {
    return fail(writer_db_, error);
  }
  recovered_ = static_cast<std::uint64_t>(recovered);
  if (recovered > 0) {
    spdlog::warn("b2bua.cdr.recovered: {} call(s) in progress when the previous b2buad stopped "
                 "recorded with disconnect reason restart",
                 recovered);
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
      queue_.push_back(Item{std::move(record), false});
      ++pushed_;
    }
    cv_.notify_one();
  } catch (...) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
  }
}

void CdrStore::live(CdrRecord record) noexcept {
  try {
    {
      std::lock_guard<std::mutex> lock{mutex_};
      if (stop_ || !accepting_ || queue_.size() >= opts_.max_queue) {
        return;  // the call may go without a record if b2buad dies; its end is still recorded
      }
      queue_.push_back(Item{std::move(record), true});
      ++pushed_;
    }
    cv_.notify_one();
  } catch (...) {
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
  std::vector<Item> batch;
  const auto beat = std::chrono::milliseconds(std::max<std::uint32_t>(1, opts_.heartbeat_ms));
  const auto ready = [&] { return stop_ || !queue_.empty(); };
  std::unique_lock<std::mutex> lock{mutex_};
  for (;;) {
    // With calls in the journal, wake up for the heartbeat; otherwise only for work.
    if (journaled_.empty()) {
      cv_.wait(lock, ready);
    } else {
      cv_.wait_until(lock, last_commit_ + beat, ready);
    }
    if (queue_.empty()) {
      if (stop_) {
        return;
      }
      if (!journaled_.empty() && std::chrono::steady_clock::now() >= last_commit_ + beat) {
        lock.unlock();
        heartbeat();
        lock.lock();
      }
      continue;
    }
    // Gather a batch: wait up to flush_ms for more records, unless stopping or already full.
    cv_.wait_for(lock, std::chrono::milliseconds(opts_.flush_ms),
                 [&] { return stop_ || queue_.size() >= batch_max; });
    const std::size_t n = std::min(queue_.size(), batch_max);
    batch.assign(std::make_move_iterator(queue_.begin()),
                 std::make_move_iterator(queue_.begin() + static_cast<std::ptrdiff_t>(n)));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    lock.unlock();
    write_batch(batch);
    lock.lock();
    committed_ += batch.size();
    batch.clear();
    done_cv_.notify_all();
  }
}

void CdrStore::heartbeat() {
  std::string error;
  last_commit_ = std::chrono::steady_clock::now();
  if (!cdr_sql::commit(writer_db_, run_, {}, now_ms(), &error)) {
    errors_.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("b2bua.cdr.write_failed: heartbeat: {}", error);
  }
}

void CdrStore::write_batch(std::vector<Item>& batch) {
  // The last item of each call wins: a live entry followed by a newer one or by the call's end in
  // the same batch is never written; an end deletes a journal row only if one was committed.
  std::unordered_map<CallId, std::size_t> last;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    last[batch[i].record.call] = i;
  }
  cdr_sql::Commit c;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto& item = batch[i];
    const CallId call = item.record.call;
    if (!item.live) {
      c.records.push_back(&item.record);
      if (journaled_.count(call)) {
        c.gone.push_back(call);
      }
    } else if (last[call] == i) {
      c.live.push_back(&item.record);
    }
  }
  std::string error;
  last_commit_ = std::chrono::steady_clock::now();
  if (!cdr_sql::commit(writer_db_, run_, c, now_ms(), &error)) {
    spdlog::warn("b2bua.cdr.write_failed: {} record(s) lost: {}", c.records.size(), error);
    errors_.fetch_add(1, std::memory_order_relaxed);
    dropped_.fetch_add(c.records.size(), std::memory_order_relaxed);
    return;
  }
  written_.fetch_add(c.records.size(), std::memory_order_relaxed);
  for (const auto* r : c.records) {
    journaled_.erase(r->call);
  }
  for (const auto* r : c.live) {
    journaled_.insert(r->call);
  }
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
  Stmt rows{reader_db_, std::string("SELECT ") + cdr_sql::record_columns + " FROM cdr" + where +
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
    page.records.push_back(cdr_sql::read_row(rows.get()));
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
  Stmt st{reader_db_, std::string("SELECT ") + cdr_sql::record_columns + " FROM cdr WHERE id = ?"};
  if (!st) {
    *error = sqlite3_errmsg(reader_db_);
    return std::nullopt;
  }
  st.int64(1, id);
  const int rc = sqlite3_step(st.get());
  if (rc == SQLITE_ROW) {
    return cdr_sql::read_row(st.get());
  }
  if (rc != SQLITE_DONE) {
    *error = sqlite3_errmsg(reader_db_);
  }
  return std::nullopt;
}

}  // namespace b2bua::api
