// Execute: runs a query over a ChunkSource — the embedded store's whole-query engine.
//
// Plan: resolve the window, prune through the source (time range, min/max), then run the
// source's chunk tasks on up to `threads` workers. Each worker filters its chunks column-wise
// into a selection, maps selected rows to slots ((group, time bucket) pairs, numbered per
// worker) and feeds each calculation's Aggregator in batches. Workers' slots are merged by
// group key at the end; havings, orders and limit apply to the merged groups, then the kept
// groups' time series is finalised.
//
// Memory: every worker's aggregator state and group keys count against
// ExecOptions::memory_budget_bytes (checked after each chunk). A query past its budget fails
// with ResourceExhausted and releases everything; it never takes the server down.
//
// Thread-safety: Execute may be called concurrently (each call owns its state); the source's
// tasks must be safe to run concurrently.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/status.h"
#include "query/chunk.h"
#include "query/query_spec.h"

namespace waggle::query {

struct ExecOptions {
  int threads = 0;                            // 0 = std::thread::hardware_concurrency()
  size_t memory_budget_bytes = size_t{2} << 30;
  int64_t now_ns = 0;                         // 0 = the wall clock
};

StatusOr<QueryResult> Execute(const QueryRequest& request, ChunkSource& source,
                              const ExecOptions& options = {});

}  // namespace waggle::query
