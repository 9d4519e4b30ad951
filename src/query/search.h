// SearchRows: the top rows of a scan by duration or recency — trace search ("the slowest or
// most recent root spans matching these filters"), the list a user clicks through to a trace.
//
// Each worker keeps its best `limit` rows in a heap and reads the identifying columns only for
// rows that enter it; the heaps are merged at the end. Ties break by trace id so answers do not
// depend on the thread count.
//
// Thread-safety: as Execute (executor.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "query/chunk.h"
#include "query/executor.h"
#include "query/query_spec.h"

namespace waggle::query {

struct RowSearch {
  std::string dataset = std::string(kAllDatasets);
  std::vector<Filter> filters;
  FilterCombination filter_combination = FilterCombination::kAnd;
  int64_t start_ns = 0;  // row start in [start_ns, end_ns)
  int64_t end_ns = 0;
  enum class Order : uint8_t { kSlowest, kNewest };
  Order order = Order::kNewest;
  size_t limit = 20;        // at most kMaxLimit
  bool roots_only = true;   // spans without a parent (no events or links)
};

struct FoundRow {
  std::string trace_id;  // hex, as the trace.trace_id column holds it
  std::string span_id;
  std::string name;
  std::string service;
  int64_t start_ns = 0;
  int64_t duration_ns = 0;
};

StatusOr<std::vector<FoundRow>> SearchRows(const RowSearch& search, ChunkSource& source,
                                           const ExecOptions& options = {});

}  // namespace waggle::query
