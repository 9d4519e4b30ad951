#include "query/bubbleup.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "query/internal/filter_eval.h"
#include "query/internal/parallel.h"
#include "query/internal/row_selector.h"
#include "query/internal/value_distribution.h"

namespace waggle::query {
namespace {

using internal::ColumnCache;
using internal::CompiledFilter;
using internal::RowSelector;
using internal::ValueDistribution;

constexpr std::string_view kIdColumns[] = {"trace.trace_id", "trace.span_id", "trace.parent_id",
                                           "trace.link.trace_id", "trace.link.span_id"};

int64_t WallClockNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status ValidateSelection(const BubbleUpSelection& sel) {
  if (sel.kind == BubbleUpSelection::Kind::kFilters) {
    if (sel.filters.empty()) return absl::InvalidArgumentError("selection.filters: required");
    for (size_t i = 0; i < sel.filters.size(); ++i) {
      if (sel.filters[i].column.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("selection.filters[", i, "].column: required"));
      }
    }
    return OkStatus();
  }
  if (sel.column.empty()) return absl::InvalidArgumentError("selection.column: required");
  if (!std::isfinite(sel.lo) || !std::isfinite(sel.hi) || sel.lo > sel.hi) {
    return absl::InvalidArgumentError(
        absl::StrCat("selection.", sel.column, ": expected [lo, hi] with lo <= hi"));
  }
  if (sel.start_ns && sel.end_ns && *sel.end_ns <= *sel.start_ns) {
    return absl::InvalidArgumentError("selection.end_time: must be after start_time");
  }
  return OkStatus();
}

StatusOr<std::vector<std::string>> ColumnsToCompare(const BubbleUpRequest& request,
                                                    const std::vector<std::string>& all_columns) {
  std::vector<std::string> out;
  absl::flat_hash_set<std::string> seen;
  if (!request.columns.empty()) {
    if (request.columns.size() > kBubbleUpMaxColumns) {
      return absl::InvalidArgumentError(
          absl::StrCat("columns: at most ", kBubbleUpMaxColumns, " columns"));
    }
    for (size_t i = 0; i < request.columns.size(); ++i) {
      if (request.columns[i].empty()) {
        return absl::InvalidArgumentError(absl::StrCat("columns[", i, "]: empty column name"));
      }
      if (seen.insert(request.columns[i]).second) out.push_back(request.columns[i]);
    }
    return out;
  }
  for (const std::string& c : request.selection.Columns()) seen.insert(c);
  for (const std::string& c : all_columns) {
    if (c.empty() || IsBubbleUpIdColumn(c)) continue;
    if (seen.insert(c).second) out.push_back(c);
  }
  return out;
}

// Which rows of the population are in the selection.
class SelectionClassifier {
 public:
  SelectionClassifier(const BubbleUpSelection& sel, const TimeWindow& window) {
    if (sel.kind == BubbleUpSelection::Kind::kFilters) {
      for (const Filter& f : sel.filters) filters_.emplace_back(f);
      or_ = sel.filter_combination == FilterCombination::kOr;
      return;
    }
    filters_.emplace_back(Filter{sel.column, FilterOp::kGe, {Value::Double(sel.lo)}});
    filters_.emplace_back(Filter{sel.column, FilterOp::kLe, {Value::Double(sel.hi)}});
    start_ns_ = sel.start_ns.value_or(window.start_ns);
    end_ns_ = sel.end_ns.value_or(window.end_ns);
    check_time_ = start_ns_ > window.start_ns || end_ns_ < window.end_ns;
  }

  // side[k] = kSelection or kBaseline for rows[k].
  Status Classify(Chunk& chunk, ColumnCache& columns, const std::vector<uint32_t>& rows,
                  std::vector<uint8_t>* side) const {
    const size_t n = rows.size();
    std::vector<uint8_t> match(n, or_ ? 0 : 1);
    std::vector<uint8_t> one;
    for (const CompiledFilter& f : filters_) {
      ASSIGN_OR_RETURN(ColumnView col, columns.Get(f.column()));
      if (or_) {
        f.MarkMatches(col, rows, &match);
        continue;
      }
      one.assign(n, 0);
      f.MarkMatches(col, rows, &one);
      for (size_t k = 0; k < n; ++k) match[k] &= one[k];
    }
    if (check_time_) {
      ASSIGN_OR_RETURN(const int64_t* start, chunk.start_ns());
      for (size_t k = 0; k < n; ++k) {
        const int64_t t = start[rows[k]];
        match[k] &= (t >= start_ns_ && t < end_ns_) ? 1 : 0;
      }
    }
    side->resize(n);
    for (size_t k = 0; k < n; ++k) {
      (*side)[k] = match[k] ? internal::kSelection : internal::kBaseline;
    }
    return OkStatus();
  }

 private:
  std::vector<CompiledFilter> filters_;
  bool or_ = false;
  bool check_time_ = false;
  int64_t start_ns_ = 0;
  int64_t end_ns_ = 0;
};

class BubbleUpWorker {
 public:
  BubbleUpWorker(const RowSelector& population, const SelectionClassifier& classifier,
                 const std::vector<std::string>& columns)
      : population_(population), classifier_(classifier), columns_(columns),
        distributions_(columns.size()) {}

  Status Consume(Chunk& chunk) {
    cache_.Reset(&chunk);
    stats_.rows_examined += chunk.rows();
    ++stats_.chunks_scanned;
    RETURN_IF_ERROR(population_.Select(chunk, cache_, &rows_));
    if (rows_.empty()) return OkStatus();
    stats_.rows_matched += rows_.size();
    RETURN_IF_ERROR(classifier_.Classify(chunk, cache_, rows_, &side_));
    for (uint8_t s : side_) ++side_rows_[s];
    for (size_t c = 0; c < columns_.size(); ++c) {
      ASSIGN_OR_RETURN(ColumnView col, cache_.Get(columns_[c]));
      distributions_[c].Add(col, rows_, side_);
    }
    return OkStatus();
  }

  size_t MemoryBytes() const {
    size_t bytes = 0;
    for (const ValueDistribution& d : distributions_) bytes += d.MemoryBytes();
    return bytes;
  }

  void Merge(BubbleUpWorker& other) {
    for (size_t c = 0; c < distributions_.size(); ++c) {
      distributions_[c].Merge(other.distributions_[c]);
    }
    side_rows_[0] += other.side_rows_[0];
    side_rows_[1] += other.side_rows_[1];
    stats_.rows_examined += other.stats_.rows_examined;
    stats_.rows_matched += other.stats_.rows_matched;
    stats_.chunks_scanned += other.stats_.chunks_scanned;
  }

  const std::vector<ValueDistribution>& distributions() const { return distributions_; }
  const std::array<uint64_t, 2>& side_rows() const { return side_rows_; }
  const QueryStats& stats() const { return stats_; }

 private:
  const RowSelector& population_;
  const SelectionClassifier& classifier_;
  const std::vector<std::string>& columns_;
  std::vector<ValueDistribution> distributions_;
  ColumnCache cache_;
  std::vector<uint32_t> rows_;
  std::vector<uint8_t> side_;
  std::array<uint64_t, 2> side_rows_{};
  QueryStats stats_;
};

// Bucket order: larger |difference| first, then a fixed order so results are deterministic.
bool RanksBefore(const BubbleUpBucket& a, const BubbleUpBucket& b) {
  const double da = std::fabs(a.difference());
  const double db = std::fabs(b.difference());
  if (da != db) return da > db;
  if (a.kind != b.kind) return a.kind < b.kind;
  if (a.value.kind != b.value.kind) return a.value.kind < b.value.kind;
  if (a.value.str != b.value.str) return a.value.str < b.value.str;
  if (a.value.b != b.value.b) return a.value.b < b.value.b;
  return a.lo < b.lo;
}

std::optional<BubbleUpColumn> FinishColumn(const std::string& name,
                                           const ValueDistribution& dist,
                                           const std::array<uint64_t, 2>& side_rows,
                                           size_t limit) {
  BubbleUpColumn out;
  out.column = name;
  out.buckets = dist.Finish(side_rows, &out.approximate);
  const bool any_value = std::any_of(out.buckets.begin(), out.buckets.end(), [](const auto& b) {
    return b.kind != BubbleUpBucket::Kind::kMissing;
  });
  if (!any_value) return std::nullopt;
  std::sort(out.buckets.begin(), out.buckets.end(), RanksBefore);
  if (side_rows[internal::kSelection] > 0 && side_rows[internal::kBaseline] > 0) {
    out.score = std::fabs(out.buckets.front().difference());
  }
  if (out.buckets.size() > limit) out.buckets.resize(limit);
  return out;
}

Status RunWorkers(const std::vector<ChunkTask>& tasks, int threads, size_t budget,
                  std::vector<std::unique_ptr<BubbleUpWorker>>& workers) {
  std::atomic<size_t> memory{0};
  std::vector<size_t> accounted(threads, 0);
  return internal::RunChunkTasks(tasks, threads, [&](int t, Chunk& chunk) -> Status {
    RETURN_IF_ERROR(workers[t]->Consume(chunk));
    const size_t now = workers[t]->MemoryBytes();
    // Tables shrink when pruned: account the signed change.
    if (now >= accounted[t]) {
      memory.fetch_add(now - accounted[t]);
    } else {
      memory.fetch_sub(accounted[t] - now);
    }
    accounted[t] = now;
    if (memory.load() > budget) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "bubbleup needs more than its memory budget of ", budget >> 20,
          " MiB (too many columns or values); narrow the time range, add filters or name "
          "fewer columns"));
    }
    return OkStatus();
  });
}

}  // namespace

bool IsBubbleUpIdColumn(std::string_view column) {
  return std::find(std::begin(kIdColumns), std::end(kIdColumns), column) != std::end(kIdColumns);
}

std::vector<std::string> BubbleUpSelection::Columns() const {
  std::vector<std::string> out;
  if (kind == Kind::kRegion) {
    out.push_back(column);
    return out;
  }
  for (const Filter& f : filters) {
    if (std::find(out.begin(), out.end(), f.column) == out.end()) out.push_back(f.column);
  }
  return out;
}

StatusOr<BubbleUpResult> BubbleUp(const BubbleUpRequest& request,
                                  const std::vector<std::string>& all_columns,
                                  ChunkSource& source, const ExecOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  if (request.limit == 0 || request.limit > kBubbleUpMaxLimit) {
    return absl::InvalidArgumentError(
        absl::StrCat("limit: must be between 1 and ", kBubbleUpMaxLimit));
  }
  RETURN_IF_ERROR(ValidateSelection(request.selection));
  if (Status s = ValidateSpec(request.spec); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("query.", s.message()));
  }
  BubbleUpResult result;
  const int64_t now_ns = options.now_ns != 0 ? options.now_ns : WallClockNs();
  if (Status s = ResolveWindow(request.spec, now_ns, &result.window); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("query.", s.message()));
  }
  ASSIGN_OR_RETURN(std::vector<std::string> columns, ColumnsToCompare(request, all_columns));

  RowSelector population(result.window.start_ns, result.window.end_ns, request.dataset,
                         request.spec.filters, request.spec.filter_combination);
  SelectionClassifier classifier(request.selection, result.window);
  ScanPlan plan;
  plan.start_ns = result.window.start_ns;
  plan.end_ns = result.window.end_ns;
  if (population.has_dataset()) plan.service = request.dataset;
  plan.columns = population.Columns();
  auto add_column = [&plan](const std::string& c) {
    if (std::find(plan.columns.begin(), plan.columns.end(), c) == plan.columns.end()) {
      plan.columns.push_back(c);
    }
  };
  for (const std::string& c : request.selection.Columns()) add_column(c);
  for (const std::string& c : columns) add_column(c);

  std::vector<ChunkTask> tasks = source.PlanScan(plan);
  const int threads = internal::WorkerThreads(options.threads, tasks.size());
  std::vector<std::unique_ptr<BubbleUpWorker>> workers;
  for (int t = 0; t < threads; ++t) {
    workers.push_back(std::make_unique<BubbleUpWorker>(population, classifier, columns));
  }
  RETURN_IF_ERROR(RunWorkers(tasks, threads, options.memory_budget_bytes, workers));
  for (int t = 1; t < threads; ++t) {
    workers[0]->Merge(*workers[t]);
    workers[t].reset();
  }
  const BubbleUpWorker& merged = *workers[0];
  result.selection_rows = merged.side_rows()[internal::kSelection];
  result.baseline_rows = merged.side_rows()[internal::kBaseline];
  for (size_t c = 0; c < columns.size(); ++c) {
    std::optional<BubbleUpColumn> col =
        FinishColumn(columns[c], merged.distributions()[c], merged.side_rows(), request.limit);
    if (col) result.columns.push_back(std::move(*col));
  }
  std::sort(result.columns.begin(), result.columns.end(),
            [](const BubbleUpColumn& a, const BubbleUpColumn& b) {
              if (a.score != b.score) return a.score > b.score;
              return a.column < b.column;
            });
  result.stats = merged.stats();
  result.stats.chunks_pruned = source.chunks_pruned();
  result.stats.elapsed_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::steady_clock::now() - t0)
                                .count();
  return result;
}

}  // namespace waggle::query
