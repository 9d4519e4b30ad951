#include "store/internal/segment_order.h"

#include <algorithm>
#include <cstring>
#include <string_view>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"

namespace waggle::store_internal {
namespace {

// Each row's service rank: the position of its service.name among the head's distinct names in
// byte order (a head may store one name under two codes: equal names share a rank). Fills
// *names by rank.
std::vector<uint32_t> ServiceRanks(const Head& head, std::vector<std::string_view>* names) {
  const auto& services = head.strings(FixedColumn::kService);
  absl::flat_hash_map<uint32_t, uint32_t> rank_of_code;
  uint32_t last = UINT32_MAX;
  for (uint32_t code : services) {
    if (code != last) rank_of_code.try_emplace(code, 0);
    last = code;
  }
  std::vector<std::pair<std::string_view, uint32_t>> by_name;
  by_name.reserve(rank_of_code.size());
  for (const auto& [code, rank] : rank_of_code) by_name.emplace_back(head.pool().Get(code), code);
  std::sort(by_name.begin(), by_name.end());
  names->clear();
  for (const auto& [name, code] : by_name) {
    if (names->empty() || names->back() != name) names->push_back(name);
    rank_of_code[code] = static_cast<uint32_t>(names->size() - 1);
  }
  std::vector<uint32_t> ranks(services.size());
  last = UINT32_MAX;
  uint32_t last_rank = 0;
  for (size_t i = 0; i < services.size(); ++i) {
    if (services[i] != last) {
      last = services[i];
      last_rank = rank_of_code[last];
    }
    ranks[i] = last_rank;
  }
  return ranks;
}

// The head's distinct trace ids, ascending, each with its last row (the head of its chain).
struct TraceKey {
  uint64_t hi, lo;  // the id's bytes as big-endian integers: memcmp's order
  uint32_t last_row;
};
std::vector<TraceKey> TracesById(const Head& head) {
  std::vector<TraceKey> traces;
  traces.reserve(head.last_row_of_traces().size());
  for (const auto& [id, last_row] : head.last_row_of_traces()) {
    uint64_t hi, lo;
    std::memcpy(&hi, id.data(), 8);
    std::memcpy(&lo, id.data() + 8, 8);
    traces.push_back(TraceKey{__builtin_bswap64(hi), __builtin_bswap64(lo), last_row});
  }
  std::sort(traces.begin(), traces.end(), [](const TraceKey& a, const TraceKey& b) {
    return std::tie(a.hi, a.lo) < std::tie(b.hi, b.lo);
  });
  return traces;
}

}  // namespace

SegmentOrder OrderHeadRows(const Head& head) {
  const size_t n = head.rows();
  const auto& starts = head.starts();
  const auto& prev_in_trace = head.prev_rows_in_trace();
  std::vector<std::string_view> names;
  const std::vector<uint32_t> rank_of_row = ServiceRanks(head, &names);
  const std::vector<TraceKey> traces = TracesById(head);

  // Each service's range, filled front to back as traces are taken in id order.
  std::vector<uint32_t> cursor(names.size() + 1, 0);
  for (uint32_t rank : rank_of_row) ++cursor[rank + 1];
  SegmentOrder order;
  for (size_t s = 0; s < names.size(); ++s) {
    order.services.push_back(ServiceRange{std::string(names[s]), cursor[s + 1]});
    cursor[s + 1] += cursor[s];
  }
  // Runs in trace order: (service rank, index among that service's runs, first position).
  struct Run {
    uint32_t rank, local, first;
  };
  std::vector<Run> runs;
  runs.reserve(traces.size() * 2);
  std::vector<uint32_t> runs_of_rank(names.size(), 0);
  struct RowKey {
    uint32_t rank;
    int64_t start;
    uint32_t row;
  };
  std::vector<RowKey> rows;
  order.perm.resize(n);
  order.trace_runs_begin.reserve(traces.size() + 1);
  for (const TraceKey& trace : traces) {
    rows.clear();
    for (uint32_t r = trace.last_row; r != Head::kNoRow; r = prev_in_trace[r]) {
      rows.push_back(RowKey{rank_of_row[r], starts[r], r});
    }
    std::sort(rows.begin(), rows.end(), [](const RowKey& a, const RowKey& b) {
      return std::tie(a.rank, a.start, a.row) < std::tie(b.rank, b.start, b.row);
    });
    order.trace_runs_begin.push_back(static_cast<uint32_t>(runs.size()));
    for (size_t i = 0; i < rows.size(); ++i) {
      const uint32_t rank = rows[i].rank;
      if (i == 0 || rank != rows[i - 1].rank) {
        runs.push_back(Run{rank, runs_of_rank[rank]++, cursor[rank]});
      }
      order.perm[cursor[rank]++] = rows[i].row;
    }
  }
  order.trace_runs_begin.push_back(static_cast<uint32_t>(runs.size()));

  // A run's number in segment order: the runs of the services before it, then its index.
  std::vector<uint32_t> runs_before(names.size(), 0);
  for (size_t s = 1; s < names.size(); ++s) {
    runs_before[s] = runs_before[s - 1] + runs_of_rank[s - 1];
  }
  order.trace_runs.resize(runs.size());
  order.ordinal_of_run.resize(runs.size());
  order.run_begin.resize(runs.size() + 1);
  for (uint32_t d = 0; d + 1 < order.trace_runs_begin.size(); ++d) {
    for (uint32_t k = order.trace_runs_begin[d]; k < order.trace_runs_begin[d + 1]; ++k) {
      const uint32_t run = runs_before[runs[k].rank] + runs[k].local;
      order.trace_runs[k] = run;
      order.ordinal_of_run[run] = d;
      order.run_begin[run] = runs[k].first;
    }
  }
  order.run_begin.back() = static_cast<uint32_t>(n);
  order.run_of_pos.resize(n);
  for (uint32_t run = 0; run + 1 < order.run_begin.size(); ++run) {
    std::fill(order.run_of_pos.begin() + order.run_begin[run],
              order.run_of_pos.begin() + order.run_begin[run + 1], run);
  }
  return order;
}

}  // namespace waggle::store_internal
