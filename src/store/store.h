// Store: the storage backend interface, and the embedded implementation's factory.
//
// A Store keeps rows (spans, span events, links) durably and answers reads. The embedded
// store (OpenEmbeddedStore) is a WAL + in-memory columnar head + immutable columnar segment
// files with background flush, compaction and retention; a ClickHouse backend will implement
// the same contract. Reads are whole operations (get a trace, list recent traces, and later
// execute a query) so a backend can run them where the data is.
//
// Durability contract: when Append returns OK, the rows survive a crash (under the default
// WAL policy) and are visible to every read that starts afterwards.
//
// Thread-safety: every method is thread-safe. Append calls from many threads are group-committed.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "env/env.h"
#include "model/span.h"
#include "query/bubbleup.h"
#include "query/query_spec.h"
#include "query/search.h"
#include "wal/wal.h"

namespace waggle {

struct StoreOptions {
  std::string data_dir;                 // required; created if missing
  Env* env = nullptr;                   // null = DefaultEnv()
  WalSyncPolicy wal_sync = WalSyncPolicy::kFsync;
  // Freeze and flush the head beyond this many rows. Memory: ~250 bytes per row, up to three
  // heads (active + kMaxFrozenHeads frozen) at once.
  uint64_t head_max_rows = 500'000;
  int64_t head_max_age_ms = 60'000;     // ... or when its oldest row is older than this
  uint64_t compact_below_rows = 250'000;  // segments smaller than this are compacted together
  int64_t retention_seconds = 0;        // 0 = keep forever; else drop segments older than this
  uint64_t max_disk_bytes = 0;          // 0 = unlimited; else drop oldest segments beyond this
  bool background_threads = true;       // false: flush/compact/retention only when called
  int query_threads = 0;                // 0 = every core
  size_t query_memory_budget_bytes = size_t{2} << 30;  // per query
};

struct StoreStats {
  uint64_t rows_appended = 0;      // since open
  uint64_t head_rows = 0;          // in memory (active + frozen heads)
  uint64_t head_memory_bytes = 0;  // estimated heap bytes held by those heads
  uint64_t segments = 0;
  uint64_t segment_rows = 0;
  uint64_t segment_bytes = 0;      // on disk
  uint64_t wal_bytes_written = 0;
  uint64_t wal_disk_bytes = 0;
  uint64_t wal_syncs = 0;
  uint64_t wal_last_sync_nanos = 0;
  uint64_t wal_sync_nanos_total = 0;
  uint64_t flushes = 0;
  uint64_t compactions = 0;
  uint64_t segments_dropped_by_retention = 0;
  uint64_t segments_quarantined = 0;
  uint64_t replayed_records = 0;   // WAL records replayed at open
};

// A trace's root (or earliest) span with counts, for trace lists.
struct TraceSummary {
  TraceId trace_id{};
  std::string root_service;
  std::string root_name;
  int64_t start_ns = 0;
  int64_t duration_ns = 0;
  uint32_t span_count = 0;
  bool has_error = false;
  std::vector<std::string> services;
};

// Where a page of RecentTraces ended: the last trace returned. Traces are ordered newest
// first by (root start, trace id), both descending.
struct TraceCursor {
  int64_t start_ns = 0;
  TraceId trace_id{};
};

struct RecentTracesRequest {
  size_t limit = 20;     // at most 10,000
  std::string service;   // empty = any
  int64_t start_ns = 0;  // inclusive lower bound on span start; 0 = unbounded
  int64_t end_ns = 0;    // exclusive upper bound; 0 = unbounded
  // Only traces strictly after this cursor in the order above (the next page).
  std::optional<TraceCursor> after;
  // Fill only trace_id and start_ns (the root's start), reading no trace: for callers that
  // read the traces themselves.
  bool ids_only = false;
};

// A column seen by the store (fixed or attribute), Honeycomb's /1/columns.
struct ColumnInfo {
  std::string name;
  ValueType type = ValueType::kString;
  int64_t last_written_ns = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Makes every row of `batch` durable and visible, then returns. Reads may see the rows a
  // little before they are durable. On error nothing of the batch is acknowledged (some rows
  // may still be stored and visible, as after a lost acknowledgement).
  virtual Status Append(const SpanBatch& batch) = 0;

  // Every row (spans, events, links) of the trace, from the head and the segments, ordered
  // by start time. Empty vector if unknown.
  virtual StatusOr<std::vector<Span>> GetTrace(const TraceId& trace_id) = 0;

  // Every row of each trace, as GetTrace returns it: one vector per id, in the order given
  // (empty for an unknown id). Backends read what the traces share (blocks, parts) once. The
  // default implementation calls GetTrace per id.
  virtual StatusOr<std::vector<std::vector<Span>>> GetTraces(const std::vector<TraceId>& ids) {
    std::vector<std::vector<Span>> out;
    for (const TraceId& id : ids) {
      ASSIGN_OR_RETURN(std::vector<Span> rows, GetTrace(id));
      out.push_back(std::move(rows));
    }
    return out;
  }

  // The most recent traces (by root span start, then trace id, both descending), newest first.
  virtual StatusOr<std::vector<TraceSummary>> RecentTraces(const RecentTracesRequest& req) = 0;

  virtual StatusOr<std::vector<ColumnInfo>> Columns() = 0;

  // Runs a whole query (query/query_spec.h) where the data is. InvalidArgument for a bad
  // spec, ResourceExhausted past the query memory budget.
  virtual StatusOr<query::QueryResult> Query(const query::QueryRequest& request) = 0;

  // Trace search: the best `search.limit` rows (query/search.h), each with its whole trace's
  // span count, services and error flag.
  virtual StatusOr<std::vector<TraceSummary>> SearchTraces(const query::RowSearch& search) = 0;

  // BubbleUp (query/bubbleup.h): how the selection's rows differ from the rest of the query's
  // rows, column by column; an empty request.columns compares every column the store has seen.
  // InvalidArgument for a bad request, ResourceExhausted past the query memory budget. The
  // default implementation (backends that cannot run it yet) returns Unimplemented.
  virtual StatusOr<query::BubbleUpResult> BubbleUp(const query::BubbleUpRequest& request) {
    (void)request;
    return absl::UnimplementedError("this store backend does not run BubbleUp");
  }

  // Writes the whole head to segments now and deletes the WAL files it covered.
  virtual Status Flush() = 0;
  // Runs one round of compaction and retention now.
  virtual Status Maintain() = 0;

  virtual StoreStats Stats() = 0;

  // Stops background work and flushes; further calls fail. Idempotent.
  virtual Status Close() = 0;
};

// Opens the embedded store in options.data_dir: replays the WAL into the head, opens every
// segment (checking format versions; a corrupt segment is quarantined, not fatal).
StatusOr<std::unique_ptr<Store>> OpenEmbeddedStore(const StoreOptions& options);

}  // namespace waggle
