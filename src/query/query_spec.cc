#include "query/query_spec.h"

#include <array>
#include <cmath>
#include <initializer_list>
#include <string>

namespace waggle::query {
namespace {

// ---------------------------------------------------------------------------------------------
// Names

// Indexed by the enum's value; order must follow the enum declarations.
constexpr std::array<std::string_view, kCalcOpCount> kCalcOpNames = {
    "COUNT", "CONCURRENCY", "SUM", "AVG", "COUNT_DISTINCT", "MAX", "MIN",
    "P001", "P01", "P05", "P10", "P20", "P25", "P50", "P75", "P80", "P90", "P95", "P99", "P999",
    "HEATMAP", "RATE_AVG", "RATE_SUM", "RATE_MAX",
};

constexpr int kFilterOpCount = static_cast<int>(FilterOp::kNotIn) + 1;
constexpr std::array<std::string_view, kFilterOpCount> kFilterOpNames = {
    "=", "!=", ">", ">=", "<", "<=",
    "starts-with", "does-not-start-with", "ends-with", "does-not-end-with", "contains",
    "does-not-contain", "exists", "does-not-exist", "in", "not-in",
};

// ---------------------------------------------------------------------------------------------
// Error helpers. Every message starts with the JSON path of the offending field.

std::string Concat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out.append(p);
  return out;
}

Status FieldError(std::string_view path, std::string_view message) {
  return absl::InvalidArgumentError(Concat({path, ": ", message}));
}

std::string Indexed(std::string_view field, size_t index) {
  return Concat({field, "[", std::to_string(index), "]"});
}

std::string Quoted(std::string_view s) { return Concat({"\"", s, "\""}); }

// ---------------------------------------------------------------------------------------------
// Time window

constexpr int64_t kNanosPerSecond = 1'000'000'000;
// Times must lie in [1970-01-01, 2100-01-01). Year 2300 does not fit int64 nanoseconds
// (the limit is 2262); 2100 keeps every window length plus one bucket width below INT64_MAX,
// so no arithmetic below can overflow.
constexpr int64_t kMaxEpochSeconds = 4'102'444'800;
constexpr int64_t kMaxEpochNanos = kMaxEpochSeconds * kNanosPerSecond;

constexpr int64_t kRoundGranularitySteps[] = {1,    5,    10,   15,    30,    60,    120,  300, 600,
                                              900,  1800, 3600, 7200,  10800, 21600, 43200, 86400};
constexpr int64_t kSecondsPerDay = 86400;
constexpr size_t kMaxDefaultBuckets = 100;
constexpr int64_t kMinBucketsDivisor = 1000;  // granularity >= range / 1000

// Window bounds before alignment, in nanoseconds.
struct Bounds {
  int64_t start_ns = 0;
  int64_t end_ns = 0;
};

bool InEpochRange(int64_t seconds) { return seconds >= 0 && seconds < kMaxEpochSeconds; }

// Checks the time fields on their own: at most two of the three, each within bounds, start
// before end, granularity positive.
Status CheckTimeFields(const QuerySpec& spec) {
  if (spec.time_range && spec.start_time && spec.end_time) {
    return FieldError("time_range",
                      "give at most two of time_range, start_time and end_time, not all three");
  }
  if (spec.time_range && (*spec.time_range < 1 || *spec.time_range >= kMaxEpochSeconds)) {
    return FieldError("time_range", "must be a positive number of seconds, at most 130 years");
  }
  if (spec.start_time && !InEpochRange(*spec.start_time)) {
    return FieldError("start_time", "must be epoch seconds between 1970 and 2100");
  }
  if (spec.end_time && !InEpochRange(*spec.end_time)) {
    return FieldError("end_time", "must be epoch seconds between 1970 and 2100");
  }
  if (spec.start_time && spec.end_time && *spec.start_time >= *spec.end_time) {
    return FieldError("start_time", "must be before end_time");
  }
  if (spec.granularity && *spec.granularity < 1) {
    return FieldError("granularity", "must be at least 1 second");
  }
  return OkStatus();
}

// True when the window does not depend on the current time: two of the fields are given.
bool WindowIsFixed(const QuerySpec& spec) {
  return (spec.start_time ? 1 : 0) + (spec.end_time ? 1 : 0) + (spec.time_range ? 1 : 0) >= 2;
}

// Requires CheckTimeFields(spec) to have passed. `now_ns` stands in for an omitted end.
StatusOr<Bounds> ComputeBounds(const QuerySpec& spec, int64_t now_ns) {
  const int64_t range_ns = spec.time_range.value_or(kDefaultTimeRangeSeconds) * kNanosPerSecond;
  Bounds b;
  if (spec.start_time && spec.end_time) {
    b = {*spec.start_time * kNanosPerSecond, *spec.end_time * kNanosPerSecond};
  } else if (spec.start_time) {
    b.start_ns = *spec.start_time * kNanosPerSecond;
    b.end_ns = spec.time_range ? b.start_ns + range_ns : now_ns;
  } else {
    b.end_ns = spec.end_time ? *spec.end_time * kNanosPerSecond : now_ns;
    b.start_ns = b.end_ns - range_ns;
  }
  if (b.end_ns < 0 || b.end_ns > kMaxEpochNanos) {
    return FieldError(spec.end_time ? "end_time" : "time_range",
                      "the window must end between 1970 and 2100");
  }
  if (b.start_ns < 0) {
    return FieldError("time_range", "the window must not start before 1970");
  }
  if (b.start_ns >= b.end_ns) {
    return FieldError("start_time", "must be before the end of the window (now)");
  }
  return b;
}

int64_t AlignDown(int64_t t_ns, int64_t step_ns) { return t_ns - t_ns % step_ns; }

size_t BucketCount(const Bounds& b, int64_t granularity_ns) {
  TimeWindow w{AlignDown(b.start_ns, granularity_ns), b.end_ns, granularity_ns};
  return w.buckets();
}

// The smallest round step (then the smallest whole number of days) whose aligned window has
// at most kMaxDefaultBuckets buckets.
int64_t DefaultGranularityNs(const Bounds& b) {
  for (int64_t step : kRoundGranularitySteps) {
    if (BucketCount(b, step * kNanosPerSecond) <= kMaxDefaultBuckets) return step * kNanosPerSecond;
  }
  const int64_t day_ns = kSecondsPerDay * kNanosPerSecond;
  const int64_t range_ns = b.end_ns - b.start_ns;
  int64_t days = (range_ns + kMaxDefaultBuckets * day_ns - 1) / (kMaxDefaultBuckets * day_ns);
  if (days < 1) days = 1;
  while (BucketCount(b, days * day_ns) > kMaxDefaultBuckets) ++days;
  return days * day_ns;
}

// An explicit granularity must lie in [range / 1000, range] (CheckTimeFields ensured >= 1 s).
Status CheckGranularity(int64_t granularity_s, int64_t range_ns) {
  if (granularity_s > range_ns / kNanosPerSecond) {
    return FieldError("granularity",
                      Concat({"must not exceed the time range (",
                              std::to_string(range_ns / kNanosPerSecond), " s)"}));
  }
  const int64_t min_ns = (range_ns + kMinBucketsDivisor - 1) / kMinBucketsDivisor;
  if (granularity_s * kNanosPerSecond < min_ns) {
    const int64_t min_s = (min_ns + kNanosPerSecond - 1) / kNanosPerSecond;
    return FieldError("granularity",
                      Concat({"must be at least the time range / 1000 (", std::to_string(min_s),
                              " s)"}));
  }
  return OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Spec validation

constexpr size_t kMaxListEntries = 100;

Status CheckListSize(std::string_view field, size_t size) {
  if (size <= kMaxListEntries) return OkStatus();
  return FieldError(field, Concat({"at most ", std::to_string(kMaxListEntries), " allowed (got ",
                                   std::to_string(size), ")"}));
}

// The calculations a query computes: COUNT when the spec lists none.
std::vector<Calculation> EffectiveCalculations(const QuerySpec& spec) {
  if (!spec.calculations.empty()) return spec.calculations;
  return {Calculation{CalcOp::kCount, ""}};
}

// `path` names the object holding op and column ("calculations[0]", "havings[1]").
Status CheckCalcColumn(std::string_view path, CalcOp op, std::string_view column) {
  if (CalcTakesColumn(op) && column.empty()) {
    return FieldError(Concat({path, ".column"}), Concat({"required for ", CalcOpName(op)}));
  }
  if (!CalcTakesColumn(op) && !column.empty()) {
    return FieldError(Concat({path, ".column"}), Concat({CalcOpName(op), " takes no column"}));
  }
  return OkStatus();
}

Status ValidateCalculations(const QuerySpec& spec) {
  RETURN_IF_ERROR(CheckListSize("calculations", spec.calculations.size()));
  for (size_t i = 0; i < spec.calculations.size(); ++i) {
    const Calculation& c = spec.calculations[i];
    std::string path = Indexed("calculations", i);
    RETURN_IF_ERROR(CheckCalcColumn(path, c.op, c.column));
    for (size_t j = 0; j < i; ++j) {
      if (spec.calculations[j] == c) {
        return FieldError(path, Concat({"duplicate of ", Indexed("calculations", j), " (",
                                        c.Label(), ")"}));
      }
    }
  }
  return OkStatus();
}

bool IsStringOp(FilterOp op) {
  return op >= FilterOp::kStartsWith && op <= FilterOp::kDoesNotContain;
}
bool IsComparison(FilterOp op) { return op <= FilterOp::kLe; }

Status ValidateFilter(const Filter& f, std::string_view path) {
  if (f.column.empty()) return FieldError(Concat({path, ".column"}), "must not be empty");
  const std::string value_path = Concat({path, ".value"});
  const std::string_view op_name = FilterOpName(f.op);
  switch (f.op) {
    case FilterOp::kExists:
    case FilterOp::kDoesNotExist:
      if (!f.values.empty()) return FieldError(value_path, Concat({op_name, " takes no value"}));
      return OkStatus();
    case FilterOp::kIn:
    case FilterOp::kNotIn:
      if (f.values.empty()) {
        return FieldError(value_path, Concat({op_name, " needs at least one value"}));
      }
      for (size_t i = 0; i < f.values.size(); ++i) {
        if (f.values[i].is_null()) {
          return FieldError(Indexed(value_path, i), "must not be null");
        }
      }
      return OkStatus();
    default:
      break;
  }
  if (f.values.size() != 1) {
    return FieldError(value_path, Concat({op_name, " needs exactly one value"}));
  }
  if (f.values[0].is_null()) return FieldError(value_path, "must not be null");
  if (IsStringOp(f.op) && f.values[0].kind != Value::Kind::kString) {
    return FieldError(value_path, Concat({op_name, " needs a string"}));
  }
  return OkStatus();
}

Status ValidateFilters(const QuerySpec& spec) {
  RETURN_IF_ERROR(CheckListSize("filters", spec.filters.size()));
  for (size_t i = 0; i < spec.filters.size(); ++i) {
    RETURN_IF_ERROR(ValidateFilter(spec.filters[i], Indexed("filters", i)));
  }
  return OkStatus();
}

Status ValidateBreakdowns(const QuerySpec& spec) {
  RETURN_IF_ERROR(CheckListSize("breakdowns", spec.breakdowns.size()));
  for (size_t i = 0; i < spec.breakdowns.size(); ++i) {
    const std::string& b = spec.breakdowns[i];
    if (b.empty()) return FieldError(Indexed("breakdowns", i), "must not be empty");
    for (size_t j = 0; j < i; ++j) {
      if (spec.breakdowns[j] == b) {
        return FieldError(Indexed("breakdowns", i),
                          Concat({"duplicate of ", Indexed("breakdowns", j), " (", Quoted(b), ")"}));
      }
    }
  }
  return OkStatus();
}

// `path` names an order or having whose (op, column) must be one of the query's calculations.
Status CheckNamesCalculation(std::string_view path, CalcOp op, std::string_view column,
                             const std::vector<Calculation>& calculations) {
  RETURN_IF_ERROR(CheckCalcColumn(path, op, column));
  Calculation wanted{op, std::string(column)};
  for (const Calculation& c : calculations) {
    if (c == wanted) return OkStatus();
  }
  return FieldError(path, Concat({"no calculation ", wanted.Label(), " in the query"}));
}

Status ValidateHavings(const QuerySpec& spec, const std::vector<Calculation>& calculations) {
  RETURN_IF_ERROR(CheckListSize("havings", spec.havings.size()));
  for (size_t i = 0; i < spec.havings.size(); ++i) {
    const Having& h = spec.havings[i];
    std::string path = Indexed("havings", i);
    if (!IsComparison(h.cmp)) {
      return FieldError(Concat({path, ".op"}), "must be one of = != > >= < <=");
    }
    if (h.op == CalcOp::kHeatmap) {
      return FieldError(Concat({path, ".calculate_op"}), "HEATMAP cannot be used in a having");
    }
    if (!std::isfinite(h.value)) return FieldError(Concat({path, ".value"}), "must be finite");
    RETURN_IF_ERROR(CheckNamesCalculation(path, h.op, h.column, calculations));
  }
  return OkStatus();
}

Status ValidateOrders(const QuerySpec& spec, const std::vector<Calculation>& calculations) {
  RETURN_IF_ERROR(CheckListSize("orders", spec.orders.size()));
  for (size_t i = 0; i < spec.orders.size(); ++i) {
    const Order& o = spec.orders[i];
    std::string path = Indexed("orders", i);
    if (o.op) {
      if (*o.op == CalcOp::kHeatmap) {
        return FieldError(Concat({path, ".op"}), "HEATMAP results cannot be ordered");
      }
      RETURN_IF_ERROR(CheckNamesCalculation(path, *o.op, o.column, calculations));
      continue;
    }
    if (o.column.empty()) return FieldError(path, "needs an op or a column");
    bool is_breakdown = false;
    for (const std::string& b : spec.breakdowns) is_breakdown |= b == o.column;
    if (!is_breakdown) {
      return FieldError(Concat({path, ".column"}), Concat({Quoted(o.column), " is not a breakdown"}));
    }
  }
  return OkStatus();
}

Status ValidateLimit(const QuerySpec& spec) {
  if (spec.limit && (*spec.limit < 1 || *spec.limit > kMaxLimit)) {
    return FieldError("limit", Concat({"must be between 1 and ", std::to_string(kMaxLimit)}));
  }
  return OkStatus();
}

// The checks of ResolveWindow that do not depend on the current time.
Status ValidateTime(const QuerySpec& spec) {
  RETURN_IF_ERROR(CheckTimeFields(spec));
  if (WindowIsFixed(spec)) RETURN_IF_ERROR(ComputeBounds(spec, /*now_ns=*/0).status());
  if (!spec.granularity) return OkStatus();
  if (spec.time_range) return CheckGranularity(*spec.granularity, *spec.time_range * kNanosPerSecond);
  if (spec.start_time && spec.end_time) {
    return CheckGranularity(*spec.granularity,
                            (*spec.end_time - *spec.start_time) * kNanosPerSecond);
  }
  return OkStatus();  // start_time only: the range depends on now
}

}  // namespace

std::string_view CalcOpName(CalcOp op) {
  size_t index = static_cast<size_t>(op);
  return index < kCalcOpNames.size() ? kCalcOpNames[index] : std::string_view("UNKNOWN");
}

bool ParseCalcOp(std::string_view name, CalcOp* op) {
  for (size_t i = 0; i < kCalcOpNames.size(); ++i) {
    if (kCalcOpNames[i] == name) {
      *op = static_cast<CalcOp>(i);
      return true;
    }
  }
  return false;
}

bool IsPercentile(CalcOp op) { return op >= CalcOp::kP001 && op <= CalcOp::kP999; }

double PercentileFraction(CalcOp op) {
  switch (op) {
    case CalcOp::kP001: return 0.001;
    case CalcOp::kP01: return 0.01;
    case CalcOp::kP05: return 0.05;
    case CalcOp::kP10: return 0.10;
    case CalcOp::kP20: return 0.20;
    case CalcOp::kP25: return 0.25;
    case CalcOp::kP50: return 0.50;
    case CalcOp::kP75: return 0.75;
    case CalcOp::kP80: return 0.80;
    case CalcOp::kP90: return 0.90;
    case CalcOp::kP95: return 0.95;
    case CalcOp::kP99: return 0.99;
    case CalcOp::kP999: return 0.999;
    default: return 0;  // not a percentile
  }
}

bool CalcTakesColumn(CalcOp op) { return op != CalcOp::kCount && op != CalcOp::kConcurrency; }

std::string Calculation::Label() const {
  std::string_view name = CalcOpName(op);
  if (!CalcTakesColumn(op)) return std::string(name);
  return Concat({name, "(", column, ")"});
}

std::string_view FilterOpName(FilterOp op) {
  size_t index = static_cast<size_t>(op);
  return index < kFilterOpNames.size() ? kFilterOpNames[index] : std::string_view("unknown");
}

bool ParseFilterOp(std::string_view name, FilterOp* op) {
  for (size_t i = 0; i < kFilterOpNames.size(); ++i) {
    if (kFilterOpNames[i] == name) {
      *op = static_cast<FilterOp>(i);
      return true;
    }
  }
  return false;
}

Status ResolveWindow(const QuerySpec& spec, int64_t now_ns, TimeWindow* out) {
  RETURN_IF_ERROR(CheckTimeFields(spec));
  ASSIGN_OR_RETURN(Bounds bounds, ComputeBounds(spec, now_ns));
  int64_t granularity_ns;
  if (spec.granularity) {
    RETURN_IF_ERROR(CheckGranularity(*spec.granularity, bounds.end_ns - bounds.start_ns));
    granularity_ns = *spec.granularity * kNanosPerSecond;
  } else {
    granularity_ns = DefaultGranularityNs(bounds);
  }
  out->start_ns = AlignDown(bounds.start_ns, granularity_ns);
  out->end_ns = bounds.end_ns;
  out->granularity_ns = granularity_ns;
  return OkStatus();
}

Status ValidateSpec(const QuerySpec& spec) {
  const std::vector<Calculation> calculations = EffectiveCalculations(spec);
  RETURN_IF_ERROR(ValidateCalculations(spec));
  RETURN_IF_ERROR(ValidateFilters(spec));
  RETURN_IF_ERROR(ValidateBreakdowns(spec));
  RETURN_IF_ERROR(ValidateHavings(spec, calculations));
  RETURN_IF_ERROR(ValidateOrders(spec, calculations));
  RETURN_IF_ERROR(ValidateLimit(spec));
  return ValidateTime(spec);
}

}  // namespace waggle::query
