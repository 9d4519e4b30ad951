// The query model: Honeycomb's query specification (what to compute) and the result it
// produces. Pure values; JSON forms live in src/api (query_json.h).
//
// Semantics (docs/QUERY.md states them for users):
// - A query runs over the rows of one dataset (= service.name) or of every dataset (`__all__`),
//   inside a time window on the row's start time, [start_ns, end_ns).
// - Rows pass `filters` combined by `filter_combination`; the remaining rows are grouped by the
//   values of `breakdowns` (null is a value of its own) and, for the time series, by
//   `granularity`-wide buckets aligned to multiples of the granularity since the epoch.
// - Each group gets every calculation (`results`); havings drop groups, orders sort them and
//   `limit` keeps the first groups; `series` has, for each kept group, one point per bucket.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "model/span.h"

namespace waggle::query {

enum class CalcOp : uint8_t {
  kCount, kConcurrency, kSum, kAvg, kCountDistinct, kMax, kMin,
  kP001, kP01, kP05, kP10, kP20, kP25, kP50, kP75, kP80, kP90, kP95, kP99, kP999,
  kHeatmap, kRateAvg, kRateSum, kRateMax,
};
inline constexpr int kCalcOpCount = static_cast<int>(CalcOp::kRateMax) + 1;

std::string_view CalcOpName(CalcOp op);  // "COUNT", "P99", "RATE_AVG", ...
// Exact, case-sensitive Honeycomb spelling. False for anything else.
bool ParseCalcOp(std::string_view name, CalcOp* op);
bool IsPercentile(CalcOp op);
double PercentileFraction(CalcOp op);  // P001 -> 0.001 ... P999 -> 0.999; percentiles only
// COUNT and CONCURRENCY take no column; every other op requires one.
bool CalcTakesColumn(CalcOp op);

struct Calculation {
  CalcOp op = CalcOp::kCount;
  std::string column;  // empty iff !CalcTakesColumn(op)

  // Honeycomb's result key: "COUNT", "P99(duration_ms)".
  std::string Label() const;
  bool operator==(const Calculation&) const = default;
};

// A typed scalar (filter operands, breakdown values, results). kNull is a value of its own.
struct Value {
  enum class Kind : uint8_t { kNull, kString, kInt, kDouble, kBool };
  Kind kind = Kind::kNull;
  std::string str;
  int64_t i = 0;
  double d = 0;
  bool b = false;

  static Value Null() { return {}; }
  static Value String(std::string s) { Value v; v.kind = Kind::kString; v.str = std::move(s); return v; }
  static Value Int(int64_t i) { Value v; v.kind = Kind::kInt; v.i = i; return v; }
  static Value Double(double d) { Value v; v.kind = Kind::kDouble; v.d = d; return v; }
  static Value Bool(bool b) { Value v; v.kind = Kind::kBool; v.b = b; return v; }
  bool is_null() const { return kind == Kind::kNull; }
  bool is_number() const { return kind == Kind::kInt || kind == Kind::kDouble; }
  double AsDouble() const { return kind == Kind::kInt ? static_cast<double>(i) : d; }
  bool operator==(const Value&) const = default;
};

enum class FilterOp : uint8_t {
  kEq, kNe, kGt, kGe, kLt, kLe,
  kStartsWith, kDoesNotStartWith, kEndsWith, kDoesNotEndWith, kContains, kDoesNotContain,
  kExists, kDoesNotExist, kIn, kNotIn,
};
std::string_view FilterOpName(FilterOp op);  // "=", "starts-with", "not-in", ...
bool ParseFilterOp(std::string_view name, FilterOp* op);

struct Filter {
  std::string column;
  FilterOp op = FilterOp::kEq;
  // One operand for comparison and string ops, one or more for in/not-in, none for
  // exists/does-not-exist.
  std::vector<Value> values;
  bool operator==(const Filter&) const = default;
};

enum class FilterCombination : uint8_t { kAnd, kOr };

struct Order {
  // By a calculation (op set; column as in the calculation) or by a breakdown column.
  std::optional<CalcOp> op;
  std::string column;
  bool descending = false;
  bool operator==(const Order&) const = default;
};

struct Having {
  CalcOp op = CalcOp::kCount;
  std::string column;          // empty for COUNT/CONCURRENCY
  FilterOp cmp = FilterOp::kEq;  // = != > >= < <=
  double value = 0;
  bool operator==(const Having&) const = default;
};

struct QuerySpec {
  std::vector<Calculation> calculations;  // empty means COUNT
  std::vector<Filter> filters;
  FilterCombination filter_combination = FilterCombination::kAnd;
  std::vector<std::string> breakdowns;
  std::vector<Order> orders;
  std::vector<Having> havings;
  std::optional<int64_t> limit;         // groups in results; default kDefaultLimit
  std::optional<int64_t> time_range;    // seconds
  std::optional<int64_t> start_time;    // epoch seconds
  std::optional<int64_t> end_time;      // epoch seconds
  std::optional<int64_t> granularity;   // seconds
  bool operator==(const QuerySpec&) const = default;
};

inline constexpr int64_t kDefaultLimit = 1000;
inline constexpr int64_t kMaxLimit = 10000;
inline constexpr int64_t kDefaultTimeRangeSeconds = 7200;

// The window a spec covers at `now_ns`, in nanoseconds, and its bucket width.
struct TimeWindow {
  int64_t start_ns = 0;        // inclusive; aligned down to the granularity
  int64_t end_ns = 0;          // exclusive
  int64_t granularity_ns = 0;  // > 0
  size_t buckets() const {
    return static_cast<size_t>((end_ns - start_ns + granularity_ns - 1) / granularity_ns);
  }
};
// Honeycomb's rules: any two of time_range/start_time/end_time (all three is an error);
// end defaults to now, range to 2 h. Granularity defaults to a round step giving at most
// ~100 buckets and must lie in [range/1000, range] (at least 1 s).
// Errors are InvalidArgument naming the field.
Status ResolveWindow(const QuerySpec& spec, int64_t now_ns, TimeWindow* out);

// Checks what JSON parsing cannot: havings name a calculation of the spec (not HEATMAP),
// orders name a breakdown or a calculation, limit in [1, kMaxLimit], columns non-empty.
// InvalidArgument naming the field ("havings[0]: ...").
Status ValidateSpec(const QuerySpec& spec);

// A query against a dataset ("__all__" = every service).
struct QueryRequest {
  std::string dataset;
  QuerySpec spec;
  bool disable_series = false;
};

inline constexpr std::string_view kAllDatasets = "__all__";

// HEATMAP result: `counts[i]` rows fell in [lo + i*width, lo + (i+1)*width) (the last bucket
// includes hi). lo/hi are the same for every group and bucket of one query.
struct Heatmap {
  double lo = 0;
  double hi = 0;
  std::vector<uint64_t> counts;
  bool operator==(const Heatmap&) const = default;
};

// One calculation's value for one group (and bucket). Null when the calculation had no input
// (e.g. AVG over no numeric values; a rate's first bucket).
struct CalcValue {
  enum class Kind : uint8_t { kNull, kNumber, kHeatmap };
  Kind kind = Kind::kNull;
  double number = 0;
  Heatmap heatmap;
  bool operator==(const CalcValue&) const = default;
};

struct ResultRow {
  std::vector<Value> group;       // one per breakdown
  std::vector<CalcValue> values;  // one per calculation (spec order)
};

struct SeriesPoint {
  int64_t time_ns = 0;            // bucket start
  std::vector<Value> group;
  std::vector<CalcValue> values;
};

struct QueryStats {
  uint64_t rows_examined = 0;   // rows whose columns were read
  uint64_t rows_matched = 0;    // rows that passed the window and filters
  uint64_t chunks_scanned = 0;
  uint64_t chunks_pruned = 0;   // skipped by time range or min/max
  int64_t elapsed_ns = 0;
  uint64_t rows_skipped = 0;    // matched rows that could not reach the kept top groups
};

struct QueryResult {
  std::vector<std::string> breakdowns;
  std::vector<Calculation> calculations;  // resolved (COUNT when the spec had none)
  TimeWindow window;
  std::vector<ResultRow> results;
  std::vector<SeriesPoint> series;  // bucket-major, then group in results order
  // COUNT_DISTINCT switched to HyperLogLog for some group (relative standard error below).
  bool count_distinct_approximate = false;
  QueryStats stats;
};

// HyperLogLog relative standard error used above the exact threshold.
inline constexpr double kCountDistinctRelativeError = 0.0081;
// Distinct values per group counted exactly before switching to HyperLogLog.
inline constexpr size_t kCountDistinctExactLimit = 65536;

}  // namespace waggle::query
