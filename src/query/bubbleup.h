// BubbleUp: how the rows of a selection differ from the rest of a query's rows, column by
// column — Honeycomb's BubbleUp.
//
// The population is the query's rows: its dataset, time window and filters (the spec's
// calculations, breakdowns, orders, havings and limit are ignored). The selection is the rows of
// the population inside a heatmap region (a numeric column's range × a time range) or matching
// selection filters; the baseline is every other row of the population (Honeycomb compares the
// selection against everything else, not against the whole population).
//
// For each compared column, each side's rows are distributed over buckets:
// - a string or boolean value is a bucket of its own;
// - numeric values (ints and floats together) fall into ranges cut at quantiles of the union of
//   both sides (about kBubbleUpRanges ranges; a value holding more than a range's share stays
//   whole, so a low-cardinality numeric column such as status_code shows one range per value);
// - rows without the column (null, or NaN) are the "missing" bucket;
// - the values of a column with too many distinct strings are kept as heavy hitters per side
//   (the top values by selection count and by baseline count, a bounded table per column and
//   worker); the counts of values dropped from the table go to the "other" bucket and the
//   column is marked approximate (a kept value's count may then be a lower bound).
// A bucket's fraction on a side is its count / that side's rows; difference = selection
// fraction − baseline fraction. A column's score is the largest |difference| of any of its
// buckets (0 when either side has no rows). Columns are ranked by score (descending, then by
// name) and each lists its top buckets by |difference|.
//
// Execution is one pass over the source's chunks on all cores (internal/parallel.h); every
// worker's tables count against ExecOptions::memory_budget_bytes (ResourceExhausted past it).
//
// Thread-safety: as Execute (executor.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "query/chunk.h"
#include "query/executor.h"
#include "query/query_spec.h"

namespace waggle::query {

inline constexpr size_t kBubbleUpRanges = 10;
inline constexpr size_t kBubbleUpDefaultLimit = 10;
inline constexpr size_t kBubbleUpMaxLimit = 1000;
inline constexpr size_t kBubbleUpMaxColumns = 2000;
// Distinct strings a column's table holds per worker before it keeps only the heavy hitters
// (kBubbleUpKeptValues by selection count and as many by baseline count).
inline constexpr size_t kBubbleUpValueTableCapacity = 4096;
inline constexpr size_t kBubbleUpKeptValues = 512;

// The columns never compared unless asked for by name: row identities.
bool IsBubbleUpIdColumn(std::string_view column);

struct BubbleUpSelection {
  enum class Kind : uint8_t { kRegion, kFilters };
  Kind kind = Kind::kRegion;
  // kRegion: rows whose `column` is a number in [lo, hi] and whose start lies in
  // [start_ns, end_ns) (each unset bound = the query window's).
  std::string column = "duration_ms";
  double lo = 0;
  double hi = 0;
  std::optional<int64_t> start_ns;
  std::optional<int64_t> end_ns;
  // kFilters: rows matching `filters` combined by `filter_combination` (query filter rules).
  std::vector<Filter> filters;
  FilterCombination filter_combination = FilterCombination::kAnd;

  // The columns the selection reads (never compared by default).
  std::vector<std::string> Columns() const;
};

struct BubbleUpRequest {
  std::string dataset = std::string(kAllDatasets);
  QuerySpec spec;  // the population: time range and filters
  BubbleUpSelection selection;
  // Columns to compare; empty = every column of BubbleUp's `all_columns` except the selection's
  // and the id columns.
  std::vector<std::string> columns;
  size_t limit = kBubbleUpDefaultLimit;  // buckets listed per column, 1..kBubbleUpMaxLimit
};

struct BubbleUpBucket {
  enum class Kind : uint8_t { kValue, kRange, kMissing, kOther };
  Kind kind = Kind::kValue;
  Value value;      // kValue: a string or bool
  double lo = 0;    // kRange: smallest and largest value seen in the range (inclusive)
  double hi = 0;
  uint64_t selection_count = 0;
  uint64_t baseline_count = 0;
  double selection_fraction = 0;
  double baseline_fraction = 0;
  double difference() const { return selection_fraction - baseline_fraction; }
};

struct BubbleUpColumn {
  std::string column;
  double score = 0;          // max |difference| over every bucket of the column
  bool approximate = false;  // some values were lumped into "other" by the capped table
  std::vector<BubbleUpBucket> buckets;  // top `limit` by |difference|, ties by bucket order
};

struct BubbleUpResult {
  TimeWindow window;
  uint64_t selection_rows = 0;
  uint64_t baseline_rows = 0;
  // Ranked by score, descending, then by name; columns no row of either side has are left out.
  std::vector<BubbleUpColumn> columns;
  QueryStats stats;
};

// `all_columns` is every column the source may have (the store's column list); it is used
// only when request.columns is empty. InvalidArgument naming the field for a bad request.
StatusOr<BubbleUpResult> BubbleUp(const BubbleUpRequest& request,
                                  const std::vector<std::string>& all_columns,
                                  ChunkSource& source, const ExecOptions& options = {});

}  // namespace waggle::query
