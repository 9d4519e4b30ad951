// EmbeddedStore's whole-query operations: the query executor, BubbleUp and trace search over
// the store's read snapshot.
#include <set>

#include "query/bubbleup.h"
#include "query/executor.h"
#include "query/search.h"
#include "store/internal/embedded_store.h"
#include "store/internal/query_source.h"

namespace waggle::store_internal {

std::unique_ptr<query::ChunkSource> EmbeddedStore::MakeChunkSource(Status* open_status) {
  return std::make_unique<StoreChunkSource>(
      [this, open_status](StoreChunkSource& src, const query::ScanPlan& plan) {
        absl::ReaderMutexLock lock(&mu_);
        *open_status = CheckOpen();
        if (!open_status->ok()) return;
        src.AddActiveHead(active_, plan);
        for (const FrozenHead& f : frozen_) src.AddFrozenHead(f.head);
        for (const auto& seg : segments_) src.AddSegment(seg);
      });
}

query::ExecOptions EmbeddedStore::QueryOptions() const {
  query::ExecOptions exec;
  exec.threads = options_.query_threads;
  exec.memory_budget_bytes = options_.query_memory_budget_bytes;
  exec.now_ns = env_->NowUnixNanos();
  return exec;
}

StatusOr<query::QueryResult> EmbeddedStore::Query(const query::QueryRequest& request) {
  Status open_status;
  std::unique_ptr<query::ChunkSource> source = MakeChunkSource(&open_status);
  StatusOr<query::QueryResult> result = query::Execute(request, *source, QueryOptions());
  if (!open_status.ok()) return open_status;
  return result;
}

StatusOr<query::BubbleUpResult> EmbeddedStore::BubbleUp(const query::BubbleUpRequest& request) {
  std::vector<std::string> all_columns;
  if (request.columns.empty()) {
    ASSIGN_OR_RETURN(std::vector<ColumnInfo> infos, Columns());
    for (ColumnInfo& c : infos) all_columns.push_back(std::move(c.name));
  }
  Status open_status;
  std::unique_ptr<query::ChunkSource> source = MakeChunkSource(&open_status);
  StatusOr<query::BubbleUpResult> result =
      query::BubbleUp(request, all_columns, *source, QueryOptions());
  RETURN_IF_ERROR(open_status);
  return result;
}

StatusOr<std::vector<TraceSummary>> EmbeddedStore::SearchTraces(const query::RowSearch& search) {
  Status open_status;
  std::unique_ptr<query::ChunkSource> source = MakeChunkSource(&open_status);
  StatusOr<std::vector<query::FoundRow>> found =
      query::SearchRows(search, *source, QueryOptions());
  RETURN_IF_ERROR(open_status);
  RETURN_IF_ERROR(found.status());
  std::vector<TraceSummary> out;
  for (const query::FoundRow& row : *found) {
    TraceSummary t;
    if (!ParseHex(row.trace_id, &t.trace_id)) continue;
    t.root_name = row.name;
    t.root_service = row.service;
    t.start_ns = row.start_ns;
    t.duration_ns = row.duration_ns;
    out.push_back(std::move(t));
  }
  std::vector<TraceId> ids;
  for (const TraceSummary& t : out) ids.push_back(t.trace_id);
  ASSIGN_OR_RETURN(std::vector<std::vector<Span>> traces,
                   ReadTraces(ids, Segment::RowDetail::kSummary));
  for (size_t i = 0; i < out.size(); ++i) {
    TraceSummary& t = out[i];
    std::set<std::string> services;
    for (const Span& s : traces[i]) {
      if (s.row_kind != RowKind::kSpan) continue;
      ++t.span_count;
      t.has_error |= s.is_error();
      services.insert(s.service_name);
    }
    t.services.assign(services.begin(), services.end());
  }
  return out;
}

}  // namespace waggle::store_internal
