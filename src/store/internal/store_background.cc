// EmbeddedStore background work: freezing heads, flushing them to segments, compaction,
// retention and the threads that run them. See embedded_store.h for the protocol.
#include <malloc.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "store/internal/embedded_store.h"
#include "store/internal/segment_writer.h"

namespace waggle::store_internal {

std::string EmbeddedStore::SegmentName(uint64_t id) const {
  char buf[40];
  std::snprintf(buf, sizeof buf, "seg-%016" PRIx64 ".wseg", id);
  return buf;
}

void EmbeddedStore::InsertSegmentLocked(std::shared_ptr<Segment> segment) {
  auto pos = std::upper_bound(segments_.begin(), segments_.end(), segment->id(),
                              [](uint64_t id, const auto& s) { return id < s->id(); });
  segments_.insert(pos, std::move(segment));
}

uint64_t EmbeddedStore::NextSegmentId() {
  absl::MutexLock lock(&mu_);
  return next_segment_id_++;
}

Status EmbeddedStore::Freeze(bool force) {
  absl::WriterMutexLock freeze_lock(&freeze_mu_);
  {
    absl::ReaderMutexLock lock(&mu_);
    if (active_->empty()) return OkStatus();
    const bool full = active_->rows() >= options_.head_max_rows;
    const bool old = options_.head_max_age_ms > 0 &&
                     env_->MonotonicNanos() - active_since_mono_ns_ >=
                         options_.head_max_age_ms * 1'000'000;
    if (!force && !full && !old) return OkStatus();
  }
  // No Append is between its WAL write and its head insert now (freeze_mu_ is exclusive).
  ASSIGN_OR_RETURN(uint64_t rotated, wal_->Rotate());
  std::shared_ptr<Head> unused_spare;  // freed after unlocking
  absl::MutexLock lock(&mu_);
  // A busy store (the head is full) reuses the spare; a quiet one lets it go.
  const bool busy = active_->rows() >= options_.head_max_rows;
  frozen_.push_back(FrozenHead{active_, rotated});
  if (busy && spare_head_ != nullptr) {
    active_ = std::move(spare_head_);
  } else {
    unused_spare = std::move(spare_head_);
    active_ = std::make_shared<Head>(ExpectedHeadRows(options_));
  }
  flush_cv_.Signal();
  return OkStatus();
}

Status EmbeddedStore::FlushOneFrozen(bool* did) {
  absl::MutexLock flush_lock(&flush_mu_);
  FrozenHead job;
  {
    absl::ReaderMutexLock lock(&mu_);
    *did = !frozen_.empty();
    if (!*did) return OkStatus();
    job = frozen_.front();
  }
  SegmentWriteOptions o;
  o.segment_id = NextSegmentId();
  o.wal_seq_end = job.wal_seq_end;
  o.created_ns = env_->NowUnixNanos();
  const std::string name = SegmentName(o.segment_id);
  RETURN_IF_ERROR(WriteSegmentFile(*job.head, o, env_, segment_dir_, name).status());
  ASSIGN_OR_RETURN(std::shared_ptr<Segment> seg,
                   Segment::Open(env_, JoinPath(segment_dir_, name)));
  {
    absl::MutexLock lock(&mu_);
    InsertSegmentLocked(std::move(seg));
    frozen_.pop_front();
    ++stats_.flushes;
    frozen_done_cv_.SignalAll();
  }
  // A head frozen full (the store is busy) is recycled, unless a running read still holds it:
  // the next active head fills its memory again (out of frozen_, no new reference to it can be
  // taken). One frozen by age or on demand is freed, so an idle store gives its memory back.
  if (job.head.use_count() == 1 && job.head->rows() >= options_.head_max_rows) {
    job.head->Clear();
    absl::MutexLock lock(&mu_);
    spare_head_ = std::move(job.head);
  }
  job.head.reset();
  // Give the pages of freed memory back (flush scratch, the previous head when it was not
  // recycled): malloc arenas otherwise keep them as free-but-resident memory.
  malloc_trim(0);
  // The segment is durable and carries wal_seq_end, so a crash from here on replays nothing
  // twice; the manifest keeps the floor even if retention later drops this segment.
  RETURN_IF_ERROR(WriteManifest(job.wal_seq_end));
  return wal_->DeleteFilesBefore(job.wal_seq_end);
}

Status EmbeddedStore::CompactOnce(bool* did) {
  *did = false;
  std::vector<std::shared_ptr<Segment>> group;
  {
    absl::ReaderMutexLock lock(&mu_);
    uint64_t rows = 0;
    for (const auto& seg : segments_) {
      if (seg->rows() >= options_.compact_below_rows) {
        if (group.size() >= 2) break;
        group.clear();
        rows = 0;
        continue;
      }
      group.push_back(seg);
      rows += seg->rows();
      if (rows >= options_.compact_below_rows && group.size() >= 2) break;
    }
  }
  if (group.size() < 2) return OkStatus();

  Head merged;
  SegmentWriteOptions o;
  for (const auto& seg : group) {
    int64_t written = seg->footer().created_ns;
    for (const ColumnMeta& c : seg->footer().columns) written = std::max(written, c.last_written_ns);
    const uint64_t step = seg->footer().block_rows;
    for (uint64_t lo = 0; lo < seg->rows(); lo += step) {
      StatusOr<std::vector<Span>> rows = seg->ReadRows(lo, std::min(seg->rows(), lo + step));
      if (!rows.ok()) {
        QuarantineLive(seg, rows.status());
        return rows.status();
      }
      for (const Span& s : *rows) merged.AddSpan(s, written);
    }
    o.replaces.push_back(seg->id());
    o.wal_seq_end = std::max(o.wal_seq_end, seg->footer().wal_seq_end);
  }
  o.segment_id = NextSegmentId();
  o.created_ns = env_->NowUnixNanos();
  const std::string name = SegmentName(o.segment_id);
  RETURN_IF_ERROR(WriteSegmentFile(merged, o, env_, segment_dir_, name).status());
  ASSIGN_OR_RETURN(std::shared_ptr<Segment> out,
                   Segment::Open(env_, JoinPath(segment_dir_, name)));
  absl::MutexLock lock(&mu_);
  for (const auto& seg : group) {
    auto it = std::find(segments_.begin(), segments_.end(), seg);
    if (it != segments_.end()) segments_.erase(it);
    seg->MarkObsolete();  // the file goes when the last reader lets go
  }
  InsertSegmentLocked(std::move(out));
  ++stats_.compactions;
  *did = true;
  return OkStatus();
}

Status EmbeddedStore::ApplyRetention() {
  const int64_t now = env_->NowUnixNanos();
  absl::MutexLock lock(&mu_);
  auto drop = [&](size_t i) {
    segments_[i]->MarkObsolete();
    segments_.erase(segments_.begin() + static_cast<ptrdiff_t>(i));
    ++stats_.segments_dropped_by_retention;
  };
  if (options_.retention_seconds > 0) {
    const int64_t cutoff = now - options_.retention_seconds * 1'000'000'000;
    for (size_t i = segments_.size(); i-- > 0;) {
      if (segments_[i]->footer().max_start_ns < cutoff) drop(i);
    }
  }
  if (options_.max_disk_bytes > 0) {
    uint64_t total = 0;
    for (const auto& seg : segments_) total += seg->file_bytes();
    while (total > options_.max_disk_bytes && !segments_.empty()) {
      size_t oldest = 0;
      for (size_t i = 1; i < segments_.size(); ++i) {
        if (segments_[i]->footer().max_start_ns < segments_[oldest]->footer().max_start_ns) {
          oldest = i;
        }
      }
      total -= segments_[oldest]->file_bytes();
      drop(oldest);
    }
  }
  return OkStatus();
}

void EmbeddedStore::QuarantineLive(const std::shared_ptr<Segment>& segment, const Status& why) {
  {
    absl::MutexLock lock(&mu_);
    auto it = std::find(segments_.begin(), segments_.end(), segment);
    if (it == segments_.end()) return;  // already handled
    segments_.erase(it);
  }
  const std::string path = segment->path();
  Quarantine(path.substr(path.find_last_of('/') + 1), why);
}

void EmbeddedStore::FlushLoop() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      while (frozen_.empty() && !stopping_) flush_cv_.Wait(&mu_);
      if (stopping_) return;  // Close() flushes what is left
    }
    bool did = false;
    Status s = FlushOneFrozen(&did);
    if (!s.ok()) {
      RecordBackgroundError(s);
      absl::MutexLock lock(&mu_);
      flush_cv_.WaitWithTimeout(&mu_, absl::Seconds(1));  // retry later
    }
  }
}

void EmbeddedStore::MaintenanceLoop() {
  const int64_t period_ms =
      std::clamp<int64_t>(options_.head_max_age_ms > 0 ? options_.head_max_age_ms / 4 : 1000,
                          10, 1000);
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (!stopping_) maintenance_cv_.WaitWithTimeout(&mu_, absl::Milliseconds(period_ms));
      if (stopping_) return;
    }
    RecordBackgroundError(Freeze(false));
    absl::MutexLock lock(&maintain_mu_);
    RecordBackgroundError(ApplyRetention());
    bool did = false;
    RecordBackgroundError(CompactOnce(&did));
  }
}

}  // namespace waggle::store_internal
