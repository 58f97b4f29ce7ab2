// CdrStore: call detail records in SQLite (WAL). Producers push finished calls, and the calls in
// progress for the journal, into a queue; one writer thread ("b2b-cdr") commits them in batched
// transactions; the API reads with its own connection. Nothing here runs on the SIP thread or
// blocks an actor. Journal rows left by a process that died become records at the next open.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_set>
#include <variant>
#include <vector>

#include "actors/protocol/call_types.hpp"

struct sqlite3;

namespace b2bua::api {

/// One finished call (answered, failed, cancelled, refused by the router, or still up when b2buad
/// stopped: "restart").
struct CdrRecord {
  std::int64_t id = 0;            ///< row id, assigned by the store (0 before it is written)
  CallId call = 0;                ///< b2buad's call id (restarts with the process)
  std::string a_call_id;          ///< the caller's SIP Call-ID
  std::string b_call_id;          ///< the B leg's SIP Call-ID, "" when no B leg was created
  std::string from;
  std::string to;
  std::string route;              ///< the rule that matched, "" when none
  std::string backend;            ///< the backend of the last B leg (as in /v1/backends), or ""
  std::string target;             ///< the B leg's Request-URI, "" when none
  std::int64_t start_ms = 0;      ///< INVITE received (ms since the epoch, UTC)
  std::int64_t answer_ms = 0;     ///< 0 when never answered
  std::int64_t end_ms = 0;
  std::int64_t duration_ms = 0;   ///< answer to end; 0 when never answered
  std::string hangup_by;          ///< "caller", "callee", "b2bua" or "operator"
  int final_status = 0;           ///< final SIP status the caller got; 0 when none
  std::string disconnect_reason;  ///< e.g. caller_bye, failed, restart (schemas/cdr.schema.json)
  std::string media_mode;         ///< "relay" or "bypass"
  std::int64_t run = 0;           ///< the store's open count when written (0 before it is);
                                  ///< with `call` it names a call across restarts
};

/// The CDR of a finished call, from the last snapshot of its bridge (or the router's refusal).
/// Of a live call, what the journal keeps (ids, parties, route, backend, start and answer).
CdrRecord make_cdr(const CallInfo& call);

/// Who ended the call, from its end reason (and, for "failed", whether the callee's status was
/// relayed): "caller", "callee", "b2bua" or "operator".
std::string hangup_by(const CallInfo& call);

/// A filter over the records: start time in [since_ms, until_ms) (0 = open), From/To containing
/// a text, one page.
struct CdrQuery {
  std::int64_t since_ms = 0;
  std::int64_t until_ms = 0;
  std::string from;
  std::string to;
  std::uint32_t limit = 100;
  std::uint64_t offset = 0;
};

struct CdrPage {
  std::vector<CdrRecord> records;  ///< oldest first (by id)
  std::uint64_t total = 0;         ///< records matching the filter, all pages
};

class CdrStore {
 public:
  struct Options {
    std::string path;                  ///< SQLite file
    std::uint32_t flush_ms = 200;      ///< longest wait to gather a batch
    std::size_t max_queue = 100000;    ///< beyond this, records are dropped and counted
    std::uint32_t heartbeat_ms = 5000;  ///< while calls are in the journal, the longest time
                                        ///< between two commits (the end time of a crash)
  };

  explicit CdrStore(Options opts);
  /// Commits what is queued, stops the writer thread, turns the journal rows of calls whose end
  /// never came into "restart" records ended now, closes the database. Owner's thread.
  ~CdrStore();
  CdrStore(const CdrStore&) = delete;
  CdrStore& operator=(const CdrStore&) = delete;

  /// Opens (creates) the database in WAL mode, turns the journal rows a previous process left
  /// into "restart" records (ended at its last heartbeat), counts a new run and starts the
  /// writer. "" on success, else one line naming the key and the file, e.g. "cdr.path
  /// /x/y.sqlite: unable to open database file". Owner's thread, once, before any call.
  std::string open();

  /// Queues a finished call's record; its journal row (if any) goes in the same transaction. Any
  /// thread; never blocks beyond a short lock, never throws.
  void push(CdrRecord record) noexcept;

  /// Queues a call in progress for the journal (make_cdr of a live snapshot), replacing what the
  /// journal had for `record.call`. A live entry and the end of the same call in one batch cost
  /// no journal write. Skipped (not counted) when the queue is full. Any thread, like push().
  void live(CdrRecord record) noexcept;

  /// Waits (at most `timeout_ms`) until every record pushed before the call is committed. True when
  /// they are. Any thread but the writer.
  bool flush(std::uint32_t timeout_ms = 5000);

  /// One page of records. Blocks the calling thread for the SQLite read (the API thread); readers
  /// never block the writer (WAL). Error text on a database failure.
  std::variant<CdrPage, std::string> query(const CdrQuery& q);

  /// One record by row id; nullopt when there is none (or on error, then `error` is set).
  std::optional<CdrRecord> get(std::int64_t id, std::string* error);

  /// This process's run number (1 for a new file, +1 at each open); 0 before open().
  std::int64_t run_number() const { return run_; }
  /// Records open() recovered from a previous process's journal.
  std::uint64_t recovered() const { return recovered_; }
  std::uint64_t written() const { return written_.load(); }
  std::uint64_t dropped() const { return dropped_.load(); }
  std::uint64_t errors() const { return errors_.load(); }
  std::size_t queued() const;

 private:
  struct Item {
    CdrRecord record;
    bool live = false;  // a journal entry, else a finished call
  };
  void run();
  void write_batch(std::vector<Item>& batch);
  void heartbeat();

  Options opts_;
  sqlite3* writer_db_ = nullptr;  // used by the writer thread only (after open)
  sqlite3* reader_db_ = nullptr;  // guarded by read_mutex_
  std::mutex read_mutex_;
  mutable std::mutex mutex_;      // guards queue_, stop_, accepting_, pushed_, committed_
  std::condition_variable cv_;
  std::condition_variable done_cv_;
  std::vector<Item> queue_;
  std::uint64_t pushed_ = 0;      // records accepted into the queue so far
  std::uint64_t committed_ = 0;   // of those, written or given up on
  bool stop_ = false;
  bool accepting_ = false;        // open() succeeded
  std::int64_t run_ = 0;             // set by open()
  std::uint64_t recovered_ = 0;      // set by open()
  // Writer thread only: calls whose journal row is committed, and when it last committed.
  std::unordered_set<CallId> journaled_;
  std::chrono::steady_clock::time_point last_commit_{};
  std::atomic<std::uint64_t> written_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> errors_{0};
  std::thread thread_;
};

}  // namespace b2bua::api
