#include "store/internal/embedded_store.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>
#include <new>
#include <queue>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "model/batch_codec.h"
#include "query/internal/parallel.h"

namespace waggle::store_internal {

size_t ExpectedHeadRows(const StoreOptions& options) {
  // Address space only (pages are touched as rows arrive); capped for huge limits.
  // Slack for the batch that crosses the limit.
  const uint64_t rows = options.head_max_rows + options.head_max_rows / 8 + 1024;
  return static_cast<size_t>(std::min<uint64_t>(rows, 4u << 20));
}

EmbeddedStore::EmbeddedStore(const StoreOptions& options)
    : options_(options),
      env_(options.env ? options.env : DefaultEnv()),
      wal_dir_(JoinPath(options.data_dir, "wal")),
      segment_dir_(JoinPath(options.data_dir, "segments")),
      quarantine_dir_(JoinPath(options.data_dir, "quarantine")),
      manifest_path_(JoinPath(options.data_dir, "MANIFEST")),
      active_(std::make_shared<Head>(ExpectedHeadRows(options))) {}

EmbeddedStore::~EmbeddedStore() { (void)Close(); }

Status EmbeddedStore::CheckOpen() const {
  if (closed_ || stopping_) return absl::FailedPreconditionError("store is closed");
  return OkStatus();
}

void EmbeddedStore::RecordBackgroundError(const Status& s) {
  if (s.ok()) return;
  spdlog::error("store: {}", std::string(s.ToString()));
  absl::MutexLock lock(&mu_);
  background_error_ = s;
}

namespace {

// The calling thread's buffer of at least `bytes` for a WAL record, valid until its next call.
// Uninitialized and reused (no zero-fill, no regrowth, no fresh pages per Append); a buffer
// grown past kMaxKeptEncodeBytes is freed by the next call that needs less.
char* EncodeScratch(size_t bytes) {
  constexpr size_t kMaxKeptEncodeBytes = size_t{64} << 20;
  thread_local std::unique_ptr<char[]> buffer;
  thread_local size_t capacity = 0;
  if (bytes > capacity || (capacity > kMaxKeptEncodeBytes && bytes <= kMaxKeptEncodeBytes)) {
    capacity = std::max(bytes, std::min(2 * capacity, kMaxKeptEncodeBytes));
    buffer = std::make_unique_for_overwrite<char[]>(capacity);
  }
  return buffer.get();
}

}  // namespace

Status EmbeddedStore::Append(const SpanBatch& batch) {
  if (batch.rows.empty()) return OkStatus();
  BatchHints hints;  // what the encoder learnt, so that the head does not compute it again
  char* const buf = EncodeScratch(EncodedSizeBound(batch));
  const std::string_view record(buf, EncodeBatchTo(batch, buf, &hints));
  {
    absl::MutexLock lock(&mu_);
    const absl::Time deadline = absl::Now() + absl::Seconds(kBackPressureWaitSeconds);
    while (options_.background_threads && frozen_.size() >= kMaxFrozenHeads && !stopping_) {
      // Back-pressure: the flush thread is behind. Give up after a while so callers can
      // answer 503 rather than hang (e.g. when the disk is full and flushes keep failing).
      if (frozen_done_cv_.WaitWithDeadline(&mu_, deadline)) {
        return absl::UnavailableError(absl::StrCat(
            "store: flushing is behind (", frozen_.size(), " heads waiting); last error: ",
            std::string(background_error_.message())));
      }
    }
    RETURN_IF_ERROR(CheckOpen());
  }
  bool full = false;
  {
    // Under the freeze lock the rows and their WAL record land on the same side of a freeze:
    // every WAL file below the rotation point is covered by frozen heads. The rows go into the
    // head first, while the batch the encoder just read is still in cache; they are
    // acknowledged only once the record is durable (a query may see them one group commit
    // earlier; if the WAL fails, the caller gets the error and its rows may still be stored).
    absl::ReaderMutexLock freeze_lock(&freeze_mu_);
    {
      absl::MutexLock lock(&mu_);
      if (active_->empty()) active_since_mono_ns_ = env_->MonotonicNanos();
      active_->AddBatch(batch, &hints, env_->NowUnixNanos());
      stats_.rows_appended += batch.rows.size();
      full = active_->rows() >= options_.head_max_rows;
    }
    ASSIGN_OR_RETURN(uint64_t seq, wal_->Append(record));
    (void)seq;
  }
  if (full) {
    // The rows are durable and visible: a failure from here on is background trouble, not a
    // failed Append (a client retry would duplicate them).
    RecordBackgroundError(Freeze(false));
    if (!options_.background_threads) {
      bool did = true;
      while (did) {
        Status s = FlushOneFrozen(&did);
        RecordBackgroundError(s);
        if (!s.ok()) break;
      }
    }
  }
  return OkStatus();
}

EmbeddedStore::Snapshot EmbeddedStore::TakeSnapshot() const {
  Snapshot snap;
  for (const FrozenHead& f : frozen_) snap.frozen.push_back(f.head);
  snap.segments = segments_;
  return snap;
}

Status EmbeddedStore::CollectTraces(const Snapshot& snap, std::span<const TraceId> ids,
                                    Segment::RowDetail detail, std::span<std::vector<Span>> out) {
  for (const auto& head : snap.frozen) {
    for (size_t i = 0; i < ids.size(); ++i) {
      for (uint32_t row : head->TraceRows(ids[i])) out[i].push_back(head->RowToSpan(row));
    }
  }
  for (const auto& seg : snap.segments) {
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    std::vector<size_t> owner;  // ranges[k] holds trace ids[owner[k]]
    for (size_t i = 0; i < ids.size(); ++i) {
      seg->FindTrace(ids[i], &ranges);
      owner.resize(ranges.size(), i);
    }
    if (ranges.empty()) continue;
    StatusOr<std::vector<std::vector<Span>>> rows = seg->ReadRowRanges(std::move(ranges), detail);
    if (!rows.ok()) {
      QuarantineLive(seg, rows.status());
      return rows.status();
    }
    for (size_t k = 0; k < owner.size(); ++k) {
      std::vector<Span>& dst = out[owner[k]];
      for (Span& s : (*rows)[k]) dst.push_back(std::move(s));
    }
  }
  return OkStatus();
}

Status EmbeddedStore::CollectTracesInParallel(const Snapshot& snap,
                                              const std::vector<TraceId>& ids,
                                              Segment::RowDetail detail,
                                              std::vector<std::vector<Span>>* out) {
  constexpr size_t kMinIdsPerThread = 2048;  // below this a thread costs more than it reads
  const int threads = query::internal::WorkerThreads(options_.query_threads,
                                                     ids.size() / kMinIdsPerThread);
  std::vector<Status> status(threads);
  auto read_run = [&](int t) {
    const size_t begin = ids.size() * t / threads, end = ids.size() * (t + 1) / threads;
    try {
      status[t] = CollectTraces(snap, std::span(ids).subspan(begin, end - begin), detail,
                                std::span(*out).subspan(begin, end - begin));
    } catch (const std::bad_alloc&) {
      status[t] = absl::ResourceExhaustedError("reading traces ran out of memory");
    }
  };
  query::internal::RunOnThreads(threads, read_run);
  for (Status& s : status) RETURN_IF_ERROR(s);
  return OkStatus();
}

StatusOr<std::vector<Span>> EmbeddedStore::GetTrace(const TraceId& trace_id) {
  ASSIGN_OR_RETURN(std::vector<std::vector<Span>> traces, GetTraces({trace_id}));
  return std::move(traces[0]);
}

StatusOr<std::vector<std::vector<Span>>> EmbeddedStore::GetTraces(
    const std::vector<TraceId>& requested) {
  return ReadTraces(requested, Segment::RowDetail::kFull);
}

StatusOr<std::vector<std::vector<Span>>> EmbeddedStore::ReadTraces(
    const std::vector<TraceId>& requested, Segment::RowDetail detail) {
  // Each distinct id is read once (a segment's ranges must be disjoint).
  std::vector<TraceId> ids = requested;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::vector<std::vector<Span>> found(ids.size());
  Snapshot snap;
  {
    absl::ReaderMutexLock lock(&mu_);
    RETURN_IF_ERROR(CheckOpen());
    for (size_t i = 0; i < ids.size(); ++i) {
      for (uint32_t row : active_->TraceRows(ids[i])) found[i].push_back(active_->RowToSpan(row));
    }
    snap = TakeSnapshot();
  }
  RETURN_IF_ERROR(CollectTracesInParallel(snap, ids, detail, &found));
  for (std::vector<Span>& rows : found) {
    std::stable_sort(rows.begin(), rows.end(),
                     [](const Span& a, const Span& b) { return a.start_ns < b.start_ns; });
  }
  // A trace's rows are copied only for a repeated id and moved to its last request, so GetTrace
  // (one id) never copies what it read.
  std::vector<size_t> where(requested.size());
  std::vector<uint32_t> requests_left(ids.size(), 0);
  for (size_t i = 0; i < requested.size(); ++i) {
    where[i] = std::lower_bound(ids.begin(), ids.end(), requested[i]) - ids.begin();
    ++requests_left[where[i]];
  }
  std::vector<std::vector<Span>> out(requested.size());
  for (size_t i = 0; i < requested.size(); ++i) {
    const size_t at = where[i];
    out[i] = --requests_left[at] > 0 ? found[at] : std::move(found[at]);
  }
  return out;
}

namespace {

struct RootCandidate {
  int64_t start_ns;
  TraceId trace_id;
  bool operator>(const RootCandidate& o) const {
    return start_ns != o.start_ns ? start_ns > o.start_ns : trace_id > o.trace_id;
  }
};

// Keeps the `limit` newest root candidates (min-heap on start).
class TopRoots {
 public:
  TopRoots(size_t limit, const std::optional<TraceCursor>& after) : limit_(limit) {
    if (after) after_ = RootCandidate{after->start_ns, after->trace_id};
  }
  void Offer(const TraceId& id, int64_t start) {
    RootCandidate c{start, id};
    if (after_ && !(*after_ > c)) return;
    if (heap_.size() < limit_) {
      heap_.push(c);
    } else if (c > heap_.top()) {
      heap_.pop();
      heap_.push(c);
    }
  }
  bool full() const { return heap_.size() >= limit_; }
  int64_t threshold() const { return heap_.top().start_ns; }
  std::vector<RootCandidate> TakeNewestFirst() {
    std::vector<RootCandidate> out;
    while (!heap_.empty()) {
      out.push_back(heap_.top());
      heap_.pop();
    }
    std::reverse(out.begin(), out.end());
    return out;
  }

 private:
  size_t limit_;
  std::optional<RootCandidate> after_;  // offers at or before it are ignored
  std::priority_queue<RootCandidate, std::vector<RootCandidate>, std::greater<RootCandidate>>
      heap_;
};

// Offers every trace of `head` with a span in the time range: its root span, or — when the
// trace's root is not in this head (still in flight, stored elsewhere, or never sent, as for a
// backend trace continued from an untraced browser) — its earliest span.
void OfferHeadRoots(const Head& head, const RecentTracesRequest& req, int64_t min_start,
                    int64_t max_start, TopRoots* top) {
  const auto& services = head.strings(FixedColumn::kService);
  auto wanted = [&](uint32_t r) {
    int64_t start = head.starts()[r];
    if (head.row_kinds()[r] != static_cast<uint8_t>(RowKind::kSpan) || start < min_start ||
        start >= max_start) {
      return false;
    }
    return req.service.empty() || head.pool().Get(services[r]) == req.service;
  };
  absl::flat_hash_set<TraceId> rooted;  // every trace with a root here, wanted or not
  for (uint32_t r = 0; r < head.rows(); ++r) {
    if (!IsZero(head.parent_ids()[r]) ||
        head.row_kinds()[r] != static_cast<uint8_t>(RowKind::kSpan)) {
      continue;
    }
    rooted.insert(head.trace_ids()[r]);
    if (wanted(r)) top->Offer(head.trace_ids()[r], head.starts()[r]);
  }
  absl::flat_hash_map<TraceId, int64_t> earliest_unrooted;
  for (uint32_t r = 0; r < head.rows(); ++r) {
    if (IsZero(head.parent_ids()[r]) || !wanted(r)) continue;
    const TraceId& id = head.trace_ids()[r];
    if (rooted.contains(id)) continue;
    auto [it, inserted] = earliest_unrooted.try_emplace(id, head.starts()[r]);
    if (!inserted) it->second = std::min(it->second, head.starts()[r]);
  }
  for (const auto& [id, start] : earliest_unrooted) top->Offer(id, start);
}

TraceSummary Summarize(const TraceId& id, const std::vector<Span>& spans) {
  TraceSummary t;
  t.trace_id = id;
  const Span* root = nullptr;
  absl::flat_hash_set<std::string> services;
  for (const Span& s : spans) {
    if (s.row_kind != RowKind::kSpan) continue;
    ++t.span_count;
    t.has_error = t.has_error || s.is_error();
    services.insert(s.service_name);
    if (IsZero(s.parent_span_id) && (!root || s.start_ns < root->start_ns)) root = &s;
  }
  // Without a root span the earliest span stands in for it.
  if (root == nullptr) {
    for (const Span& s : spans) {
      if (s.row_kind == RowKind::kSpan && (!root || s.start_ns < root->start_ns)) root = &s;
    }
  }
  if (root) {
    t.root_service = root->service_name;
    t.root_name = root->name;
    t.start_ns = root->start_ns;
    t.duration_ns = root->end_ns - root->start_ns;
  }
  t.services.assign(services.begin(), services.end());
  std::sort(t.services.begin(), t.services.end());
  return t;
}

}  // namespace

StatusOr<std::vector<TraceSummary>> EmbeddedStore::RecentTraces(const RecentTracesRequest& req) {
  const size_t limit = std::min<size_t>(req.limit == 0 ? 20 : req.limit, 10'000);
  const int64_t min_start = req.start_ns;
  const int64_t max_start = req.end_ns == 0 ? INT64_MAX : req.end_ns;
  TopRoots top(limit, req.after);
  Snapshot snap;
  {
    absl::ReaderMutexLock lock(&mu_);
    RETURN_IF_ERROR(CheckOpen());
    OfferHeadRoots(*active_, req, min_start, max_start, &top);
    snap = TakeSnapshot();
  }
  for (const auto& head : snap.frozen) OfferHeadRoots(*head, req, min_start, max_start, &top);
  std::vector<std::shared_ptr<Segment>> by_time = snap.segments;
  std::sort(by_time.begin(), by_time.end(), [](const auto& a, const auto& b) {
    return a->footer().max_start_ns > b->footer().max_start_ns;
  });
  for (const auto& seg : by_time) {
    if (top.full() && seg->footer().max_start_ns < top.threshold()) break;
    Status s = seg->ForEachRoot(min_start, max_start,
                                [&](const TraceId& id, int64_t start, std::string_view service) {
                                  if (req.service.empty() || service == req.service) {
                                    top.Offer(id, start);
                                  }
                                });
    if (!s.ok()) {
      QuarantineLive(seg, s);
      return s;
    }
  }
  std::vector<RootCandidate> newest;
  absl::flat_hash_set<TraceId> seen;
  for (const RootCandidate& c : top.TakeNewestFirst()) {
    if (seen.insert(c.trace_id).second) newest.push_back(c);
  }
  std::vector<TraceSummary> out;
  if (req.ids_only) {
    for (const RootCandidate& c : newest) {
      TraceSummary t;
      t.trace_id = c.trace_id;
      t.start_ns = c.start_ns;
      out.push_back(std::move(t));
    }
    return out;
  }
  std::vector<TraceId> ids;
  for (const RootCandidate& c : newest) ids.push_back(c.trace_id);
  ASSIGN_OR_RETURN(std::vector<std::vector<Span>> traces,
                   ReadTraces(ids, Segment::RowDetail::kSummary));
  for (size_t i = 0; i < ids.size(); ++i) out.push_back(Summarize(ids[i], traces[i]));
  return out;
}

StatusOr<std::vector<ColumnInfo>> EmbeddedStore::Columns() {
  std::vector<ColumnInfo> attrs;
  int64_t last_write = 0;
  bool any_rows = false;
  {
    absl::ReaderMutexLock lock(&mu_);
    RETURN_IF_ERROR(CheckOpen());
    auto add_head = [&](const Head& h) {
      if (h.empty()) return;
      any_rows = true;
      last_write = std::max(last_write, h.last_written_ns());
      h.CollectColumns(&attrs);
    };
    add_head(*active_);
    for (const FrozenHead& f : frozen_) add_head(*f.head);
    for (const auto& seg : segments_) {
      any_rows = true;
      for (const ColumnMeta& c : seg->footer().columns) {
        last_write = std::max(last_write, c.last_written_ns);
        if (!c.fixed) attrs.push_back(ColumnInfo{c.name, c.type, c.last_written_ns});
      }
    }
  }
  std::vector<ColumnInfo> out;
  if (!any_rows) return out;
  // The fixed columns under their Honeycomb names.
  const std::pair<const char*, ValueType> kFixed[] = {
      {"trace.trace_id", ValueType::kString}, {"trace.span_id", ValueType::kString},
      {"trace.parent_id", ValueType::kString}, {"name", ValueType::kString},
      {"service.name", ValueType::kString},    {"span.kind", ValueType::kString},
      {"duration_ms", ValueType::kDouble},     {"status_code", ValueType::kInt},
      {"status_message", ValueType::kString},  {"error", ValueType::kBool},
      {"meta.annotation_type", ValueType::kString}};
  absl::flat_hash_map<std::pair<std::string, ValueType>, size_t> index;
  auto add = [&](const ColumnInfo& c) {
    auto [it, inserted] = index.try_emplace(std::make_pair(c.name, c.type), out.size());
    if (inserted) {
      out.push_back(c);
    } else {
      out[it->second].last_written_ns = std::max(out[it->second].last_written_ns, c.last_written_ns);
    }
  };
  for (const auto& [name, type] : kFixed) add(ColumnInfo{name, type, last_write});
  for (const ColumnInfo& c : attrs) add(c);
  return out;
}

Status EmbeddedStore::Flush() {
  {
    absl::ReaderMutexLock lock(&mu_);
    RETURN_IF_ERROR(CheckOpen());
  }
  RETURN_IF_ERROR(Freeze(true));
  bool did = true;
  while (did) RETURN_IF_ERROR(FlushOneFrozen(&did));
  return OkStatus();
}

Status EmbeddedStore::Maintain() {
  {
    absl::ReaderMutexLock lock(&mu_);
    RETURN_IF_ERROR(CheckOpen());
  }
  absl::MutexLock lock(&maintain_mu_);
  RETURN_IF_ERROR(ApplyRetention());
  bool did = true;
  for (int round = 0; did && round < 16; ++round) RETURN_IF_ERROR(CompactOnce(&did));
  return OkStatus();
}

StoreStats EmbeddedStore::Stats() {
  StoreStats s;
  {
    absl::ReaderMutexLock lock(&mu_);
    s = stats_;
    s.head_rows = active_->rows();
    s.head_memory_bytes = active_->memory_bytes();
    for (const FrozenHead& f : frozen_) {
      s.head_rows += f.head->rows();
      s.head_memory_bytes += f.head->memory_bytes();
    }
    s.segments = segments_.size();
    for (const auto& seg : segments_) {
      s.segment_rows += seg->rows();
      s.segment_bytes += seg->file_bytes();
    }
  }
  if (wal_) {
    WalStats w = wal_->Stats();
    s.wal_bytes_written = w.bytes_written;
    s.wal_disk_bytes = w.disk_bytes;
    s.wal_syncs = w.syncs;
    s.wal_last_sync_nanos = w.last_sync_nanos;
    s.wal_sync_nanos_total = w.sync_nanos_total;
  }
  return s;
}

Status EmbeddedStore::Close() {
  {
    absl::MutexLock lock(&mu_);
    if (closed_ || stopping_) return OkStatus();
    stopping_ = true;
    flush_cv_.SignalAll();
    frozen_done_cv_.SignalAll();
    maintenance_cv_.SignalAll();
  }
  if (flush_thread_.joinable()) flush_thread_.join();
  if (maintenance_thread_.joinable()) maintenance_thread_.join();
  Status s;
  if (opened_) {
    s = Freeze(true);
    bool did = true;
    while (s.ok() && did) s = FlushOneFrozen(&did);
    Status c = wal_->Close();
    if (s.ok()) s = c;
  } else if (wal_) {
    (void)wal_->Close();  // a failed Open must not flush a partial replay
  }
  absl::MutexLock lock(&mu_);
  closed_ = true;
  return s;
}

}  // namespace waggle::store_internal

namespace waggle {

StatusOr<std::unique_ptr<Store>> OpenEmbeddedStore(const StoreOptions& options) {
  if (options.data_dir.empty()) return absl::InvalidArgumentError("store: data_dir is required");
  if (options.head_max_rows == 0) {
    return absl::InvalidArgumentError("store: head_max_rows must be > 0");
  }
  auto store = std::make_unique<store_internal::EmbeddedStore>(options);
  RETURN_IF_ERROR(Annotate(store->Open(), "opening store in " + options.data_dir));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace waggle
