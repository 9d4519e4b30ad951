// EmbeddedStore: the Store of store.h on a WAL, in-memory heads and segment files.
//
// Data directory: LOCK (flock'd while open: one process per directory), wal/ (wal.h),
// segments/seg-<16 hex id>.wseg, quarantine/, MANIFEST.
//
// Write path: Append encodes the batch, inserts its rows into the active head (while the
// batch is still in cache) and appends the record to the WAL (group commit; returns once
// durable), all while holding freeze_mu_ shared.
// Freeze takes freeze_mu_ exclusively, rotates the WAL (new file seq R) and moves the active
// head to the frozen queue tagged with R: every record in WAL files < R is in a frozen head
// or a segment, every later record in the new active head.
//
// Flush (flush thread or Flush()): the oldest frozen head is written to a segment (temp file,
// sync, rename, dir sync) whose footer records wal_seq_end = R; the segment replaces the head
// in the read view atomically; MANIFEST's wal_floor is raised to R; WAL files < R are deleted.
// Open replays only WAL files >= max(wal_floor, every segment's wal_seq_end), so a crash at any
// step neither loses nor duplicates rows.
//
// Compaction writes the merged segment with `replaces` = the merged ids, then drops the old
// ones; Open deletes every segment that a present segment replaces. Retention drops whole
// segments. Dropped segments are deleted when the last running read releases them.
//
// Threads: the flush thread (drains the frozen queue, FIFO) and the maintenance thread (head
// age, compaction, retention, every ~second); both optional (StoreOptions::background_threads).
// Back-pressure: Append waits while kMaxFrozenHeads heads await flushing (Unavailable after
// kBackPressureWaitSeconds).
//
// Thread-safety: all public methods are thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "query/executor.h"
#include "store/internal/head.h"
#include "store/internal/segment_reader.h"
#include "store/store.h"

namespace waggle::store_internal {

// Rows to reserve in a new active head for `options` (head_max_rows plus slack, capped).
size_t ExpectedHeadRows(const StoreOptions& options);

class EmbeddedStore final : public Store {
 public:
  static constexpr size_t kMaxFrozenHeads = 3;
  static constexpr int kBackPressureWaitSeconds = 10;

  explicit EmbeddedStore(const StoreOptions& options);
  ~EmbeddedStore() override;

  Status Open();

  Status Append(const SpanBatch& batch) override;
  StatusOr<std::vector<Span>> GetTrace(const TraceId& trace_id) override;
  StatusOr<std::vector<std::vector<Span>>> GetTraces(const std::vector<TraceId>& ids) override;
  StatusOr<std::vector<TraceSummary>> RecentTraces(const RecentTracesRequest& req) override;
  StatusOr<std::vector<ColumnInfo>> Columns() override;
  StatusOr<query::QueryResult> Query(const query::QueryRequest& request) override;
  StatusOr<std::vector<TraceSummary>> SearchTraces(const query::RowSearch& search) override;
  StatusOr<query::BubbleUpResult> BubbleUp(const query::BubbleUpRequest& request) override;
  Status Flush() override;
  Status Maintain() override;
  StoreStats Stats() override;
  Status Close() override;

 private:
  struct FrozenHead {
    // Read-only while frozen; not const only so that, once flushed and unshared, it can be
    // recycled as the next active head (spare_head_).
    std::shared_ptr<Head> head;
    uint64_t wal_seq_end = 0;
  };
  // What a read sees: heads and segments, consistent with each other (no row twice).
  struct Snapshot {
    std::vector<std::shared_ptr<const Head>> frozen;
    std::vector<std::shared_ptr<Segment>> segments;
  };

  // Open helpers (store_open.cc).
  Status LoadSegments(uint64_t* wal_floor);
  void Quarantine(const std::string& name, const Status& why);
  // Removes a segment found corrupt while serving from the read view and quarantines it.
  void QuarantineLive(const std::shared_ptr<Segment>& segment, const Status& why);
  StatusOr<uint64_t> ReadManifestFloor();
  Status WriteManifest(uint64_t wal_floor);
  Status ReplayWal(uint64_t wal_floor);

  // Background work (store_background.cc).
  // Moves the active head to the frozen queue when `force` or it is full/old.
  Status Freeze(bool force);
  // Writes the oldest frozen head to a segment; false in *did when there was none.
  Status FlushOneFrozen(bool* did);
  Status CompactOnce(bool* did);
  Status ApplyRetention();
  void FlushLoop();
  void MaintenanceLoop();
  std::string SegmentName(uint64_t id) const;
  uint64_t NextSegmentId();
  void InsertSegmentLocked(std::shared_ptr<Segment> segment) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Snapshot TakeSnapshot() const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // A chunk source over the current read view (store_query.cc); *open_status reports a
  // closed store once the source has been planned.
  std::unique_ptr<query::ChunkSource> MakeChunkSource(Status* open_status);
  query::ExecOptions QueryOptions() const;
  // Appends the rows of trace ids[i] from `snapshot` (frozen heads, segments) to out[i].
  // REQUIRES: ids distinct; out.size() == ids.size().
  Status CollectTraces(const Snapshot& snapshot, std::span<const TraceId> ids,
                       Segment::RowDetail detail, std::span<std::vector<Span>> out);
  // CollectTraces of ascending ids, a large set split into contiguous runs read on up to
  // query_threads threads (the caller's among them); each run's traces lie in few blocks.
  Status CollectTracesInParallel(const Snapshot& snapshot, const std::vector<TraceId>& ids,
                                 Segment::RowDetail detail, std::vector<std::vector<Span>>* out);
  // GetTraces with the detail segments fill in (kSummary: what Summarize reads).
  StatusOr<std::vector<std::vector<Span>>> ReadTraces(const std::vector<TraceId>& ids,
                                                      Segment::RowDetail detail);
  void RecordBackgroundError(const Status& s);
  Status CheckOpen() const;

  const StoreOptions options_;
  Env* const env_;
  const std::string wal_dir_, segment_dir_, quarantine_dir_, manifest_path_;
  std::unique_ptr<FileLock> dir_lock_;  // data_dir/LOCK, held from Open until destruction
  std::unique_ptr<Wal> wal_;

  // Held shared by Append across WAL append + head insert; exclusively by Freeze.
  absl::Mutex freeze_mu_;
  // Serializes segment writers (flush and compaction output ids, manifest updates).
  absl::Mutex flush_mu_ ABSL_ACQUIRED_AFTER(freeze_mu_);
  // Serializes Maintain() rounds.
  absl::Mutex maintain_mu_;

  mutable absl::Mutex mu_ ABSL_ACQUIRED_AFTER(freeze_mu_, flush_mu_);
  std::shared_ptr<Head> active_ ABSL_GUARDED_BY(mu_);
  int64_t active_since_mono_ns_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<FrozenHead> frozen_ ABSL_GUARDED_BY(mu_);
  // A flushed head emptied by Head::Clear, which the next Freeze makes the active head: its
  // memory is reused as it is, not given back to the allocator and faulted in again.
  std::shared_ptr<Head> spare_head_ ABSL_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<Segment>> segments_ ABSL_GUARDED_BY(mu_);  // ascending id
  uint64_t next_segment_id_ ABSL_GUARDED_BY(mu_) = 1;
  absl::CondVar flush_cv_;       // frozen head queued, or stopping
  absl::CondVar frozen_done_cv_;  // frozen head flushed, or stopping
  absl::CondVar maintenance_cv_;  // stopping
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool opened_ = false;  // Open() succeeded; Close() flushes only then
  Status background_error_ ABSL_GUARDED_BY(mu_);
  StoreStats stats_ ABSL_GUARDED_BY(mu_);

  std::thread flush_thread_;
  std::thread maintenance_thread_;
};

}  // namespace waggle::store_internal
