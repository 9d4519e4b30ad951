#include "query/executor.h"

#include <algorithm>
#include <atomic>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "query/internal/group_key.h"
#include "query/internal/parallel.h"
#include "query/internal/worker.h"

namespace waggle::query {
namespace {

using internal::PreparedQuery;
using internal::QueryWorker;

int64_t WallNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The top-groups pushdown applies when the answer is the `limit` best groups by one MAX
// (descending) or MIN (ascending) and every calculation is that same one: no havings (they
// could drop kept groups), one bucket per group (no series), and at least one breakdown.
std::optional<PreparedQuery::TopGroups> TopGroupsOf(const PreparedQuery& q) {
  const QuerySpec& spec = q.request.spec;
  if (spec.breakdowns.empty() || !spec.havings.empty() || q.layout.count != 1) return std::nullopt;
  const Calculation& first = q.calcs[0];
  if (first.op != CalcOp::kMax && first.op != CalcOp::kMin) return std::nullopt;
  for (const Calculation& c : q.calcs) {
    if (c.op != first.op || c.column != first.column) return std::nullopt;
  }
  bool descending = true;  // the default order: the first calculation, descending
  if (!spec.orders.empty()) {
    const Order& o = spec.orders[0];
    if (!o.op || *o.op != first.op || o.column != first.column) return std::nullopt;
    descending = o.descending;
  }
  const bool largest = first.op == CalcOp::kMax;
  if (descending != largest) return std::nullopt;
  return PreparedQuery::TopGroups{0, largest,
                                  static_cast<size_t>(spec.limit.value_or(kDefaultLimit))};
}

StatusOr<std::unique_ptr<PreparedQuery>> Prepare(const QueryRequest& request, int64_t now_ns) {
  RETURN_IF_ERROR(ValidateSpec(request.spec));
  auto q = std::make_unique<PreparedQuery>();
  q->request = request;
  q->calcs = request.spec.calculations;
  if (q->calcs.empty()) q->calcs.push_back(Calculation{CalcOp::kCount, ""});
  RETURN_IF_ERROR(ResolveWindow(request.spec, now_ns, &q->window));
  q->selector = std::make_unique<internal::RowSelector>(
      q->window.start_ns, q->window.end_ns, request.dataset, request.spec.filters,
      request.spec.filter_combination);
  q->layout = BucketLayout{q->window.start_ns, q->window.granularity_ns, q->window.buckets()};
  // Without a series, one bucket spanning the window suffices (rates alone need real buckets):
  // high-cardinality breakdowns then cost one slot per group instead of one per group and bucket.
  const bool has_rate = std::any_of(q->calcs.begin(), q->calcs.end(), [](const Calculation& c) {
    return c.op == CalcOp::kRateAvg || c.op == CalcOp::kRateSum || c.op == CalcOp::kRateMax;
  });
  if (request.disable_series && !has_rate) {
    q->layout.width_ns = q->window.end_ns - q->window.start_ns;
    q->layout.count = 1;
  }
  q->top_groups = TopGroupsOf(*q);
  return q;
}

ScanPlan MakeScanPlan(const PreparedQuery& q) {
  ScanPlan plan;
  plan.start_ns = q.window.start_ns;
  plan.end_ns = q.window.end_ns;
  if (q.selector->has_dataset()) plan.service = q.request.dataset;
  plan.columns = q.selector->Columns();
  auto add = [&](const std::string& c) {
    if (!c.empty() && std::find(plan.columns.begin(), plan.columns.end(), c) == plan.columns.end()) {
      plan.columns.push_back(c);
    }
  };
  for (const std::string& b : q.request.spec.breakdowns) add(b);
  for (const Calculation& c : q.calcs) add(c.column);
  return plan;
}

// Runs every task on `threads` workers, each with its own QueryWorker; a worker past the
// shared memory budget fails the query.
Status RunWorkers(const PreparedQuery& q, const std::vector<ChunkTask>& tasks, int threads,
                  size_t budget, std::vector<std::unique_ptr<QueryWorker>>* workers) {
  for (int t = 0; t < threads; ++t) workers->push_back(std::make_unique<QueryWorker>(q));
  std::atomic<size_t> memory{0};
  std::vector<size_t> accounted(threads, 0);
  return internal::RunChunkTasks(tasks, threads, [&](int t, Chunk& chunk) -> Status {
    QueryWorker& worker = *(*workers)[t];
    RETURN_IF_ERROR(worker.Consume(chunk));
    size_t now = worker.MemoryBytes();
    size_t delta = now - accounted[t];
    accounted[t] = now;
    if (memory.fetch_add(delta) + delta > budget) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "query needs more than its memory budget of ", budget >> 20,
          " MiB (too many groups or values); narrow the time range, add filters or use "
          "fewer breakdowns"));
    }
    return OkStatus();
  });
}

// Folds every other worker's slots into worker 0's.
void MergeWorkers(std::vector<std::unique_ptr<QueryWorker>>& workers, size_t calcs) {
  QueryWorker& base = *workers[0];
  for (size_t w = 1; w < workers.size(); ++w) {
    QueryWorker& other = *workers[w];
    for (uint32_t s = 0; s < other.slots(); ++s) {
      uint32_t dst = base.SlotFor(other.slot_key(s));
      for (size_t c = 0; c < calcs; ++c) base.aggregator(c).MergeSlot(dst, other.aggregator(c), s);
    }
    workers[w].reset();
  }
}

struct Group {
  std::string_view key;
  std::vector<std::pair<uint32_t, uint32_t>> bucket_slots;  // (bucket, slot)
  std::vector<CalcValue> summary;
  std::vector<std::vector<CalcValue>> per_bucket;  // [calc][bucket], when finalised with series
  bool decoded = false;
  std::vector<Value> values;  // the breakdown values, decoded from `key` on first use
};

const std::vector<Value>& ValuesOf(Group& g, size_t breakdowns) {
  if (!g.decoded) {
    g.values = internal::DecodeGroup(g.key, breakdowns);
    g.decoded = true;
  }
  return g.values;
}

std::vector<Group> CollectGroups(const PreparedQuery& q, const QueryWorker& worker) {
  std::vector<Group> groups;
  groups.reserve(q.layout.count == 1 ? worker.slots() : 0);
  if (q.layout.count == 1) {  // one bucket: every slot is its own group
    for (uint32_t s = 0; s < worker.slots(); ++s) {
      groups.push_back(Group{internal::GroupPart(worker.slot_key(s)), {{0, s}}, {}, {}, false, {}});
    }
    return groups;
  }
  absl::flat_hash_map<std::string_view, size_t> index;
  for (uint32_t s = 0; s < worker.slots(); ++s) {
    std::string_view key = worker.slot_key(s);
    auto [it, inserted] = index.try_emplace(internal::GroupPart(key), groups.size());
    if (inserted) groups.push_back(Group{internal::GroupPart(key), {}, {}, {}, false, {}});
    groups[it->second].bucket_slots.emplace_back(internal::BucketPart(key), s);
  }
  return groups;
}

// Finalises one group's calculations; `slots` is scratch of layout.count entries, all kNoSlot
// on entry and on return.
void Finalize(const PreparedQuery& q, QueryWorker& worker, const Group& g, bool series,
              std::vector<uint32_t>& slots, std::vector<CalcValue>* summary,
              std::vector<std::vector<CalcValue>>* per_bucket) {
  for (auto [bucket, slot] : g.bucket_slots) slots[bucket] = slot;
  summary->resize(q.calcs.size());
  if (series) per_bucket->assign(q.calcs.size(), std::vector<CalcValue>(q.layout.count));
  for (size_t c = 0; c < q.calcs.size(); ++c) {
    worker.aggregator(c).FinalizeGroup(slots.data(), q.layout, &(*summary)[c],
                                       series ? (*per_bucket)[c].data() : nullptr);
  }
  for (auto [bucket, slot] : g.bucket_slots) slots[bucket] = kNoSlot;
}

size_t CalcIndex(const PreparedQuery& q, CalcOp op, const std::string& column) {
  for (size_t c = 0; c < q.calcs.size(); ++c) {
    if (q.calcs[c].op == op && q.calcs[c].column == column) return c;
  }
  return q.calcs.size();
}

bool PassesHavings(const PreparedQuery& q, const Group& g) {
  for (const Having& h : q.request.spec.havings) {
    size_t c = CalcIndex(q, h.op, h.column);
    if (c == q.calcs.size() || g.summary[c].kind != CalcValue::Kind::kNumber) return false;
    double v = g.summary[c].number;
    bool ok = false;
    switch (h.cmp) {
      case FilterOp::kEq: ok = v == h.value; break;
      case FilterOp::kNe: ok = v != h.value; break;
      case FilterOp::kGt: ok = v > h.value; break;
      case FilterOp::kGe: ok = v >= h.value; break;
      case FilterOp::kLt: ok = v < h.value; break;
      case FilterOp::kLe: ok = v <= h.value; break;
      default: break;
    }
    if (!ok) return false;
  }
  return true;
}

// Nulls sort last whatever the direction.
int CompareCalc(const CalcValue& a, const CalcValue& b, bool descending) {
  bool an = a.kind != CalcValue::Kind::kNumber, bn = b.kind != CalcValue::Kind::kNumber;
  if (an || bn) return an == bn ? 0 : (an ? 1 : -1);
  int c = a.number < b.number ? -1 : a.number > b.number ? 1 : 0;
  return descending ? -c : c;
}

// Orders groups by the spec's orders (default: the first calculation, descending), ties broken
// by the breakdown values, so the order is total and any `limit` keeps the same groups. Only
// the first `keep` groups end up sorted (the rest are dropped).
void SortGroups(const PreparedQuery& q, std::vector<Group*>* groups, size_t keep) {
  struct Key { bool by_calc; size_t index; bool descending; };
  std::vector<Key> keys;
  const auto& spec = q.request.spec;
  const size_t breakdowns = spec.breakdowns.size();
  for (const Order& o : spec.orders) {
    if (o.op) {
      keys.push_back({true, CalcIndex(q, *o.op, o.column), o.descending});
    } else {
      size_t b = std::find(spec.breakdowns.begin(), spec.breakdowns.end(), o.column) -
                 spec.breakdowns.begin();
      keys.push_back({false, b, o.descending});
    }
  }
  if (spec.orders.empty() && q.calcs[0].op != CalcOp::kHeatmap) keys.push_back({true, 0, true});
  auto less = [&](Group* a, Group* b) {
    for (const Key& k : keys) {
      int c;
      if (k.by_calc) {
        if (k.index >= q.calcs.size()) continue;
        c = CompareCalc(a->summary[k.index], b->summary[k.index], k.descending);
      } else {
        if (k.index >= breakdowns) continue;
        c = internal::CompareValues(ValuesOf(*a, breakdowns)[k.index],
                                    ValuesOf(*b, breakdowns)[k.index]);
        if (k.descending) c = -c;
      }
      if (c != 0) return c < 0;
    }
    const auto& av = ValuesOf(*a, breakdowns);
    const auto& bv = ValuesOf(*b, breakdowns);
    for (size_t i = 0; i < av.size(); ++i) {
      int c = internal::CompareValues(av[i], bv[i]);
      if (c != 0) return c < 0;
    }
    return false;
  };
  if (keep < groups->size()) {
    std::partial_sort(groups->begin(), groups->begin() + static_cast<std::ptrdiff_t>(keep),
                      groups->end(), less);
    groups->resize(keep);
  } else {
    std::sort(groups->begin(), groups->end(), less);
  }
}

void SetHeatmapRanges(const PreparedQuery& q, QueryWorker& worker) {
  double lo = HUGE_VAL, hi = -HUGE_VAL;
  for (size_t c = 0; c < q.calcs.size(); ++c) worker.aggregator(c).ExtendRange(&lo, &hi);
  if (lo > hi) lo = hi = 0;
  for (size_t c = 0; c < q.calcs.size(); ++c) worker.aggregator(c).SetHeatmapRange(lo, hi);
}

QueryResult BuildResult(const PreparedQuery& q, QueryWorker& worker) {
  QueryResult result;
  result.breakdowns = q.request.spec.breakdowns;
  result.calculations = q.calcs;
  result.window = q.window;
  SetHeatmapRanges(q, worker);
  std::vector<Group> groups = CollectGroups(q, worker);
  const size_t limit = static_cast<size_t>(q.request.spec.limit.value_or(kDefaultLimit));
  // When every group may be kept, finalise the series along with the summary in one go (each
  // finalisation sorts percentile values); otherwise only the kept groups get a series, later.
  const bool series = !q.request.disable_series;
  const bool series_now = series && groups.size() <= limit;
  std::vector<uint32_t> scratch(q.layout.count, kNoSlot);
  std::vector<Group*> kept;
  for (Group& g : groups) {
    Finalize(q, worker, g, series_now, scratch, &g.summary, &g.per_bucket);
    if (PassesHavings(q, g)) kept.push_back(&g);
  }
  SortGroups(q, &kept, limit);
  const size_t breakdowns = q.request.spec.breakdowns.size();
  for (Group* g : kept) result.results.push_back(ResultRow{ValuesOf(*g, breakdowns), g->summary});
  for (size_t c = 0; c < q.calcs.size(); ++c) {
    result.count_distinct_approximate |= worker.aggregator(c).approximate();
  }
  if (!series) return result;
  std::vector<CalcValue> summary;
  if (!series_now) {
    for (Group* g : kept) Finalize(q, worker, *g, true, scratch, &summary, &g->per_bucket);
  }
  for (size_t b = 0; b < q.layout.count; ++b) {
    for (size_t i = 0; i < kept.size(); ++i) {
      SeriesPoint p;
      p.time_ns = q.layout.start_ns + static_cast<int64_t>(b) * q.layout.width_ns;
      p.group = ValuesOf(*kept[i], breakdowns);
      for (size_t c = 0; c < q.calcs.size(); ++c) p.values.push_back(kept[i]->per_bucket[c][b]);
      result.series.push_back(std::move(p));
    }
  }
  return result;
}

}  // namespace

StatusOr<QueryResult> Execute(const QueryRequest& request, ChunkSource& source,
                              const ExecOptions& options) {
  const auto began = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(std::unique_ptr<PreparedQuery> q,
                   Prepare(request, options.now_ns ? options.now_ns : WallNowNs()));
  std::vector<ChunkTask> tasks = source.PlanScan(MakeScanPlan(*q));
  const int threads = internal::WorkerThreads(options.threads, tasks.size());
  std::vector<std::unique_ptr<QueryWorker>> workers;
  RETURN_IF_ERROR(RunWorkers(*q, tasks, threads, options.memory_budget_bytes, &workers));
  QueryStats stats;
  for (const auto& w : workers) {
    stats.rows_examined += w->stats().rows_examined;
    stats.rows_matched += w->stats().rows_matched;
    stats.chunks_scanned += w->stats().chunks_scanned;
    stats.rows_skipped += w->stats().rows_skipped;
  }
  MergeWorkers(workers, q->calcs.size());
  QueryResult result = BuildResult(*q, *workers[0]);
  stats.chunks_pruned = source.chunks_pruned();
  stats.elapsed_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::steady_clock::now() - began)
                         .count();
  result.stats = stats;
  return result;
}

}  // namespace waggle::query
