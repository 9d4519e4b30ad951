#include "query/search.h"

#include <algorithm>
#include <queue>

#include "query/internal/parallel.h"
#include "query/internal/row_selector.h"

namespace waggle::query {
namespace {

using internal::ColumnCache;
using internal::RowSelector;

struct Candidate {
  int64_t key;  // larger is better (duration, or start)
  FoundRow row;
};

// Better-first order; a total order so results are independent of scheduling.
bool Better(const Candidate& a, const Candidate& b) {
  if (a.key != b.key) return a.key > b.key;
  if (a.row.trace_id != b.row.trace_id) return a.row.trace_id < b.row.trace_id;
  return a.row.span_id < b.row.span_id;
}

struct WorseOnTop {
  bool operator()(const Candidate& a, const Candidate& b) const { return Better(a, b); }
};

class SearchWorker {
 public:
  SearchWorker(const RowSearch& search, const RowSelector& selector)
      : search_(search), selector_(selector) {}

  Status Consume(Chunk& chunk) {
    columns_.Reset(&chunk);
    RETURN_IF_ERROR(selector_.Select(chunk, columns_, &rows_));
    if (rows_.empty()) return OkStatus();
    const bool slowest = search_.order == RowSearch::Order::kSlowest;
    StatusOr<const int64_t*> keys = slowest ? chunk.duration_ns() : chunk.start_ns();
    RETURN_IF_ERROR(keys.status());
    std::vector<std::pair<int64_t, uint32_t>> entering;
    for (uint32_t r : rows_) {
      const int64_t key = (*keys)[r];
      if (heap_.size() < search_.limit || key >= heap_.top().key) entering.emplace_back(key, r);
    }
    if (entering.empty()) return OkStatus();
    ASSIGN_OR_RETURN(const int64_t* start, chunk.start_ns());
    ASSIGN_OR_RETURN(const int64_t* duration, chunk.duration_ns());
    ASSIGN_OR_RETURN(ColumnView trace, columns_.Get("trace.trace_id"));
    ASSIGN_OR_RETURN(ColumnView span, columns_.Get("trace.span_id"));
    ASSIGN_OR_RETURN(ColumnView name, columns_.Get("name"));
    ASSIGN_OR_RETURN(ColumnView service, columns_.Get("service.name"));
    auto text = [](const ColumnView& c, uint32_t r) {
      return c.TypeAt(r) == TypeCode(ValueType::kString) ? std::string(c.strs[r]) : std::string();
    };
    for (auto [key, r] : entering) {
      Candidate c{key, FoundRow{text(trace, r), text(span, r), text(name, r), text(service, r),
                                start[r], duration[r]}};
      Offer(std::move(c));
    }
    return OkStatus();
  }

  void Offer(Candidate c) {
    if (heap_.size() < search_.limit) {
      heap_.push(std::move(c));
    } else if (Better(c, heap_.top())) {
      heap_.pop();
      heap_.push(std::move(c));
    }
  }

  std::vector<Candidate> Drain() {
    std::vector<Candidate> out;
    while (!heap_.empty()) {
      out.push_back(heap_.top());
      heap_.pop();
    }
    return out;
  }

 private:
  const RowSearch& search_;
  const RowSelector& selector_;
  ColumnCache columns_;
  std::vector<uint32_t> rows_;
  std::priority_queue<Candidate, std::vector<Candidate>, WorseOnTop> heap_;
};

}  // namespace

StatusOr<std::vector<FoundRow>> SearchRows(const RowSearch& search, ChunkSource& source,
                                           const ExecOptions& options) {
  if (search.limit == 0 || search.limit > static_cast<size_t>(kMaxLimit)) {
    return absl::InvalidArgumentError("limit: must be between 1 and 10000");
  }
  if (search.end_ns <= search.start_ns) {
    return absl::InvalidArgumentError("time range: end must be after start");
  }
  for (size_t i = 0; i < search.filters.size(); ++i) {
    if (search.filters[i].column.empty()) {
      return absl::InvalidArgumentError("filters[" + std::to_string(i) + "].column: required");
    }
  }
  std::vector<Filter> required;
  if (search.roots_only) {
    required.push_back(Filter{"trace.parent_id", FilterOp::kDoesNotExist, {}});
    required.push_back(Filter{"meta.annotation_type", FilterOp::kDoesNotExist, {}});
  }
  RowSelector selector(search.start_ns, search.end_ns, search.dataset, search.filters,
                       search.filter_combination, required);
  ScanPlan plan;
  plan.start_ns = search.start_ns;
  plan.end_ns = search.end_ns;
  if (selector.has_dataset()) plan.service = search.dataset;
  plan.columns = selector.Columns();
  for (const char* c : {"trace.trace_id", "trace.span_id", "name", "service.name"}) {
    if (std::find(plan.columns.begin(), plan.columns.end(), c) == plan.columns.end()) {
      plan.columns.push_back(c);
    }
  }
  std::vector<ChunkTask> tasks = source.PlanScan(plan);
  const int threads = internal::WorkerThreads(options.threads, tasks.size());
  std::vector<SearchWorker> workers(threads, SearchWorker(search, selector));
  RETURN_IF_ERROR(internal::RunChunkTasks(
      tasks, threads, [&](int t, Chunk& chunk) { return workers[t].Consume(chunk); }));
  for (int t = 1; t < threads; ++t) {
    for (Candidate& c : workers[t].Drain()) workers[0].Offer(std::move(c));
  }
  std::vector<Candidate> best = workers[0].Drain();
  std::sort(best.begin(), best.end(), Better);
  std::vector<FoundRow> out;
  out.reserve(best.size());
  for (Candidate& c : best) out.push_back(std::move(c.row));
  return out;
}

}  // namespace waggle::query
