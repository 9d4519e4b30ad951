#include "query/query_spec.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

namespace waggle::query {
namespace {

constexpr int64_t kSecond = 1'000'000'000;
// 2026-11-26T19:03:17.5Z: not aligned to any round granularity.
constexpr int64_t kNowNs = 1'795'719'797 * kSecond + kSecond / 2;

// InvalidArgument whose message contains `fragment`.
::testing::AssertionResult IsInvalid(const Status& s, std::string_view fragment) {
  if (s.code() != absl::StatusCode::kInvalidArgument) {
    return ::testing::AssertionFailure() << "expected InvalidArgument, got " << s;
  }
  if (std::string(s.message()).find(fragment) == std::string::npos) {
    return ::testing::AssertionFailure() << "message \"" << s.message() << "\" lacks \""
                                         << fragment << "\"";
  }
  return ::testing::AssertionSuccess();
}

TimeWindow Resolve(const QuerySpec& spec, int64_t now_ns = kNowNs) {
  TimeWindow w;
  Status s = ResolveWindow(spec, now_ns, &w);
  EXPECT_TRUE(s.ok()) << s;
  return w;
}

Status ResolveStatus(const QuerySpec& spec, int64_t now_ns = kNowNs) {
  TimeWindow w;
  return ResolveWindow(spec, now_ns, &w);
}

// ---------------------------------------------------------------------------------------------
// Names

TEST(QuerySpecNames, CalcOpsUseHoneycombSpellings) {
  const std::vector<std::string_view> expected = {
      "COUNT", "CONCURRENCY", "SUM", "AVG", "COUNT_DISTINCT", "MAX", "MIN",
      "P001", "P01", "P05", "P10", "P20", "P25", "P50", "P75", "P80", "P90", "P95", "P99", "P999",
      "HEATMAP", "RATE_AVG", "RATE_SUM", "RATE_MAX"};
  ASSERT_EQ(expected.size(), static_cast<size_t>(kCalcOpCount));
  for (int i = 0; i < kCalcOpCount; ++i) {
    CalcOp op = static_cast<CalcOp>(i);
    EXPECT_EQ(CalcOpName(op), expected[i]);
    CalcOp parsed = CalcOp::kCount;
    ASSERT_TRUE(ParseCalcOp(expected[i], &parsed)) << expected[i];
    EXPECT_EQ(parsed, op);
  }
  CalcOp op;
  EXPECT_FALSE(ParseCalcOp("count", &op));
  EXPECT_FALSE(ParseCalcOp("P100", &op));
  EXPECT_FALSE(ParseCalcOp("", &op));
  EXPECT_FALSE(ParseCalcOp("COUNT ", &op));
}

TEST(QuerySpecNames, FilterOpsUseHoneycombSpellings) {
  const std::vector<std::string_view> expected = {
      "=", "!=", ">", ">=", "<", "<=", "starts-with", "does-not-start-with", "ends-with",
      "does-not-end-with", "contains", "does-not-contain", "exists", "does-not-exist", "in",
      "not-in"};
  for (size_t i = 0; i < expected.size(); ++i) {
    FilterOp op = static_cast<FilterOp>(i);
    EXPECT_EQ(FilterOpName(op), expected[i]);
    FilterOp parsed = FilterOp::kEq;
    ASSERT_TRUE(ParseFilterOp(expected[i], &parsed)) << expected[i];
    EXPECT_EQ(parsed, op);
  }
  FilterOp op;
  EXPECT_FALSE(ParseFilterOp("==", &op));
  EXPECT_FALSE(ParseFilterOp("STARTS-WITH", &op));
  EXPECT_FALSE(ParseFilterOp("starts_with", &op));
}

TEST(QuerySpecNames, PercentilesAndColumns) {
  const std::vector<std::pair<CalcOp, double>> percentiles = {
      {CalcOp::kP001, 0.001}, {CalcOp::kP01, 0.01}, {CalcOp::kP05, 0.05}, {CalcOp::kP10, 0.1},
      {CalcOp::kP20, 0.2},    {CalcOp::kP25, 0.25}, {CalcOp::kP50, 0.5},  {CalcOp::kP75, 0.75},
      {CalcOp::kP80, 0.8},    {CalcOp::kP90, 0.9},  {CalcOp::kP95, 0.95}, {CalcOp::kP99, 0.99},
      {CalcOp::kP999, 0.999}};
  int percentile_count = 0;
  for (int i = 0; i < kCalcOpCount; ++i) percentile_count += IsPercentile(static_cast<CalcOp>(i));
  EXPECT_EQ(percentile_count, static_cast<int>(percentiles.size()));
  for (auto [op, fraction] : percentiles) {
    EXPECT_TRUE(IsPercentile(op)) << CalcOpName(op);
    EXPECT_DOUBLE_EQ(PercentileFraction(op), fraction) << CalcOpName(op);
  }
  for (int i = 0; i < kCalcOpCount; ++i) {
    CalcOp op = static_cast<CalcOp>(i);
    EXPECT_EQ(CalcTakesColumn(op), op != CalcOp::kCount && op != CalcOp::kConcurrency)
        << CalcOpName(op);
  }
}

TEST(QuerySpecNames, Labels) {
  EXPECT_EQ((Calculation{CalcOp::kCount, ""}).Label(), "COUNT");
  EXPECT_EQ((Calculation{CalcOp::kConcurrency, ""}).Label(), "CONCURRENCY");
  EXPECT_EQ((Calculation{CalcOp::kP99, "duration_ms"}).Label(), "P99(duration_ms)");
  EXPECT_EQ((Calculation{CalcOp::kCountDistinct, "user.id"}).Label(), "COUNT_DISTINCT(user.id)");
  EXPECT_EQ((Calculation{CalcOp::kHeatmap, "duration_ms"}).Label(), "HEATMAP(duration_ms)");
}

// ---------------------------------------------------------------------------------------------
// ResolveWindow

TEST(ResolveWindow, DefaultsToTwoHoursEndingNow) {
  TimeWindow w = Resolve(QuerySpec{});
  EXPECT_EQ(w.end_ns, kNowNs);
  // 60 s would give 121 buckets over the unaligned window; 120 s gives 61.
  EXPECT_EQ(w.granularity_ns, 120 * kSecond);
  EXPECT_EQ(w.start_ns % w.granularity_ns, 0);
  EXPECT_LE(w.start_ns, kNowNs - 7200 * kSecond);
  EXPECT_GT(w.start_ns, kNowNs - 7200 * kSecond - w.granularity_ns);
  EXPECT_EQ(w.buckets(), 61u);
}

TEST(ResolveWindow, TimeRangeOnlyEndsNow) {
  QuerySpec spec;
  spec.time_range = 3600;
  TimeWindow w = Resolve(spec);
  EXPECT_EQ(w.end_ns, kNowNs);
  EXPECT_EQ(w.granularity_ns, 60 * kSecond);
  EXPECT_EQ(w.start_ns, (kNowNs - 3600 * kSecond) / (60 * kSecond) * (60 * kSecond));
}

TEST(ResolveWindow, StartOnlyEndsNow) {
  QuerySpec spec;
  spec.start_time = kNowNs / kSecond - 600;
  TimeWindow w = Resolve(spec);
  EXPECT_EQ(w.end_ns, kNowNs);
  EXPECT_EQ(w.granularity_ns, 10 * kSecond);  // 600.5 s: 5 s gives 121 buckets
  EXPECT_EQ(w.start_ns, *spec.start_time / 10 * 10 * kSecond);
}

TEST(ResolveWindow, EndOnlyStartsTwoHoursBefore) {
  QuerySpec spec;
  spec.end_time = 1'800'000'000;
  TimeWindow w = Resolve(spec);
  EXPECT_EQ(w.end_ns, 1'800'000'000 * kSecond);
  EXPECT_EQ(w.start_ns, (1'800'000'000 - 7200) * kSecond);  // already aligned to 120 s
  EXPECT_EQ(w.granularity_ns, 120 * kSecond);
}

TEST(ResolveWindow, StartAndRange) {
  QuerySpec spec;
  spec.start_time = 1'800'000'000;
  spec.time_range = 300;
  TimeWindow w = Resolve(spec);
  EXPECT_EQ(w.start_ns, 1'800'000'000 * kSecond);
  EXPECT_EQ(w.end_ns, 1'800'000'300 * kSecond);
  EXPECT_EQ(w.granularity_ns, 5 * kSecond);
  EXPECT_EQ(w.buckets(), 60u);
}

TEST(ResolveWindow, EndAndRange) {
  QuerySpec spec;
  spec.end_time = 1'800'000'000;
  spec.time_range = 86400;
  TimeWindow w = Resolve(spec);
  EXPECT_EQ(w.end_ns, 1'800'000'000 * kSecond);
  EXPECT_EQ(w.granularity_ns, 900 * kSecond);
  EXPECT_EQ(w.start_ns, (1'800'000'000 - 86400) / 900 * 900 * kSecond);
}

TEST(ResolveWindow, DefaultGranularityGivesAtMostOneHundredAlignedBuckets) {
  QuerySpec spec;
  spec.start_time = 1'800'000'000;  // a multiple of 60
  spec.end_time = spec.start_time.value() + 6000;
  EXPECT_EQ(Resolve(spec).granularity_ns, 60 * kSecond);  // exactly 100 buckets
  EXPECT_EQ(Resolve(spec).buckets(), 100u);
  spec.start_time = 1'800'000'001;  // aligned down, 60 s would give 101 buckets
  spec.end_time = spec.start_time.value() + 6000;
  TimeWindow w = Resolve(spec);
  EXPECT_EQ(w.granularity_ns, 120 * kSecond);
  EXPECT_EQ(w.start_ns, 1'800'000'000 * kSecond);
}

TEST(ResolveWindow, LongRangesUseWholeDays) {
  QuerySpec spec;
  spec.end_time = 1'800'000'000;
  spec.time_range = 30 * 86400;
  EXPECT_EQ(Resolve(spec).granularity_ns, 43200 * kSecond);
  spec.time_range = 365 * 86400;
  TimeWindow w = Resolve(spec);
  EXPECT_EQ(w.granularity_ns, 4 * 86400 * kSecond);
  EXPECT_LE(w.buckets(), 100u);
}

TEST(ResolveWindow, DefaultGranularityPropertiesOverManyWindows) {
  const std::vector<int64_t> ranges = {1,     2,      59,      61,       100,       999,
                                       7200,  7201,   86399,   604800,   2592000,   31536000,
                                       99999999, 1'000'000'000};
  for (int64_t range : ranges) {
    for (int64_t offset : {0, 1, 7, 59, 3599, 86399}) {
      QuerySpec spec;
      spec.end_time = 2'000'000'000 + offset;
      spec.time_range = range;
      TimeWindow w = Resolve(spec);
      SCOPED_TRACE(testing::Message() << "range " << range << " offset " << offset);
      EXPECT_GE(w.granularity_ns, kSecond);
      EXPECT_EQ(w.granularity_ns % kSecond, 0);
      EXPECT_EQ(w.start_ns % w.granularity_ns, 0);
      EXPECT_LE(w.start_ns, (*spec.end_time - range) * kSecond);
      EXPECT_EQ(w.end_ns, *spec.end_time * kSecond);
      EXPECT_LE(w.buckets(), 100u);
      EXPECT_GE(w.buckets(), 1u);
    }
  }
}

TEST(ResolveWindow, ExplicitGranularityAlignsStartDown) {
  QuerySpec spec;
  spec.start_time = 1'000'000'007;
  spec.time_range = 3600;
  spec.granularity = 60;
  TimeWindow w = Resolve(spec);
  EXPECT_EQ(w.granularity_ns, 60 * kSecond);
  EXPECT_EQ(w.start_ns, 999'999'960 * kSecond);
  EXPECT_EQ(w.end_ns, 1'000'003'607 * kSecond);
  EXPECT_EQ(w.buckets(), 61u);
}

TEST(ResolveWindow, ExplicitGranularityBounds) {
  QuerySpec spec;
  spec.end_time = 1'800'000'000;
  spec.time_range = 7200;
  spec.granularity = 8;  // ceil(7200 / 1000)
  EXPECT_TRUE(ResolveStatus(spec).ok());
  spec.granularity = 7200;
  EXPECT_TRUE(ResolveStatus(spec).ok());
  spec.granularity = 7;
  EXPECT_TRUE(IsInvalid(ResolveStatus(spec), "granularity: must be at least the time range / 1000"));
  spec.granularity = 7201;
  EXPECT_TRUE(IsInvalid(ResolveStatus(spec), "granularity: must not exceed the time range"));
  spec.granularity = 0;
  EXPECT_TRUE(IsInvalid(ResolveStatus(spec), "granularity: must be at least 1 second"));
  spec.granularity = -5;
  EXPECT_TRUE(IsInvalid(ResolveStatus(spec), "granularity"));
  spec.granularity = std::numeric_limits<int64_t>::max();
  EXPECT_TRUE(IsInvalid(ResolveStatus(spec), "granularity"));
  spec.time_range = 100;  // range / 1000 < 1 s: 1 s is the minimum
  spec.granularity = 1;
  EXPECT_TRUE(ResolveStatus(spec).ok());
}

TEST(ResolveWindow, AllThreeTimeFieldsIsAnError) {
  QuerySpec spec;
  spec.time_range = 3600;
  spec.start_time = 1'800'000'000;
  spec.end_time = 1'800'003'600;
  EXPECT_TRUE(IsInvalid(ResolveStatus(spec), "not all three"));
  EXPECT_TRUE(IsInvalid(ValidateSpec(spec), "time_range"));
}

TEST(ResolveWindow, StartMustPrecedeEnd) {
  QuerySpec spec;
  spec.start_time = 1'800'000'000;
  spec.end_time = 1'800'000'000;
  EXPECT_TRUE(IsInvalid(ResolveStatus(spec), "start_time: must be before end_time"));
  spec.end_time.reset();
  spec.start_time = kNowNs / kSecond + 10;  // in the future, end = now
  EXPECT_TRUE(IsInvalid(ResolveStatus(spec), "start_time"));
}

TEST(ResolveWindow, RejectsAbsurdTimesWithoutOverflow) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  for (int64_t t : {kMax, kMin, int64_t{-1}, int64_t{10'000'000'000}}) {
    QuerySpec start;
    start.start_time = t;
    EXPECT_TRUE(IsInvalid(ResolveStatus(start), "start_time")) << t;
    QuerySpec end;
    end.end_time = t;
    EXPECT_TRUE(IsInvalid(ResolveStatus(end), "end_time")) << t;
    QuerySpec range;
    range.time_range = t;
    EXPECT_TRUE(IsInvalid(ResolveStatus(range), "time_range")) << t;
  }
  QuerySpec spec;
  spec.time_range = 0;
  EXPECT_TRUE(IsInvalid(ResolveStatus(spec), "time_range"));
  // A window reaching back before 1970.
  spec.time_range = 7200;
  spec.end_time = 100;
  EXPECT_TRUE(IsInvalid(ResolveStatus(spec), "time_range"));
  EXPECT_TRUE(IsInvalid(ResolveStatus(QuerySpec{}, 1000 * kSecond), "time_range"));
  // A window reaching past 2100.
  spec.end_time.reset();
  spec.start_time = 4'102'444'000;
  EXPECT_TRUE(IsInvalid(ResolveStatus(spec), "time_range"));
}

// ---------------------------------------------------------------------------------------------
// ValidateSpec

QuerySpec SpecWithCalcs(std::vector<Calculation> calculations) {
  QuerySpec spec;
  spec.calculations = std::move(calculations);
  return spec;
}

TEST(ValidateSpec, EmptySpecIsValid) { EXPECT_TRUE(ValidateSpec(QuerySpec{}).ok()); }

TEST(ValidateSpec, CalculationColumns) {
  EXPECT_TRUE(ValidateSpec(SpecWithCalcs({{CalcOp::kCount, ""}, {CalcOp::kP99, "duration_ms"}})).ok());
  EXPECT_TRUE(IsInvalid(ValidateSpec(SpecWithCalcs({{CalcOp::kCount, ""}, {CalcOp::kP99, ""}})),
                        "calculations[1].column: required for P99"));
  EXPECT_TRUE(IsInvalid(ValidateSpec(SpecWithCalcs({{CalcOp::kConcurrency, "x"}})),
                        "calculations[0].column: CONCURRENCY takes no column"));
  EXPECT_TRUE(IsInvalid(
      ValidateSpec(SpecWithCalcs({{CalcOp::kSum, "a"}, {CalcOp::kMax, "a"}, {CalcOp::kSum, "a"}})),
      "calculations[2]: duplicate of calculations[0] (SUM(a))"));
}

TEST(ValidateSpec, AtMostOneHundredEntries) {
  QuerySpec spec;
  for (int i = 0; i < 100; ++i) spec.calculations.push_back({CalcOp::kSum, std::to_string(i)});
  EXPECT_TRUE(ValidateSpec(spec).ok());
  spec.calculations.push_back({CalcOp::kSum, "extra"});
  EXPECT_TRUE(IsInvalid(ValidateSpec(spec), "calculations: at most 100"));

  QuerySpec filters;
  filters.filters.assign(101, Filter{"a", FilterOp::kExists, {}});
  EXPECT_TRUE(IsInvalid(ValidateSpec(filters), "filters: at most 100"));

  QuerySpec breakdowns;
  for (int i = 0; i < 101; ++i) breakdowns.breakdowns.push_back("b" + std::to_string(i));
  EXPECT_TRUE(IsInvalid(ValidateSpec(breakdowns), "breakdowns: at most 100"));
}

Status ValidateFilter(Filter f) {
  QuerySpec spec;
  spec.filters = {Filter{"ok", FilterOp::kExists, {}}, std::move(f)};
  return ValidateSpec(spec);
}

TEST(ValidateSpec, FilterOperands) {
  EXPECT_TRUE(ValidateFilter({"a", FilterOp::kEq, {Value::Int(1)}}).ok());
  EXPECT_TRUE(ValidateFilter({"a", FilterOp::kGt, {Value::Double(1.5)}}).ok());
  EXPECT_TRUE(ValidateFilter({"a", FilterOp::kNe, {Value::Bool(false)}}).ok());
  EXPECT_TRUE(ValidateFilter({"a", FilterOp::kContains, {Value::String("x")}}).ok());
  EXPECT_TRUE(ValidateFilter({"a", FilterOp::kDoesNotExist, {}}).ok());
  EXPECT_TRUE(ValidateFilter({"a", FilterOp::kIn, {Value::Int(1), Value::String("b")}}).ok());

  EXPECT_TRUE(IsInvalid(ValidateFilter({"", FilterOp::kExists, {}}),
                        "filters[1].column: must not be empty"));
  EXPECT_TRUE(IsInvalid(ValidateFilter({"a", FilterOp::kExists, {Value::Int(1)}}),
                        "filters[1].value: exists takes no value"));
  EXPECT_TRUE(IsInvalid(ValidateFilter({"a", FilterOp::kNotIn, {}}),
                        "filters[1].value: not-in needs at least one value"));
  EXPECT_TRUE(IsInvalid(ValidateFilter({"a", FilterOp::kIn, {Value::Int(1), Value::Null()}}),
                        "filters[1].value[1]: must not be null"));
  EXPECT_TRUE(IsInvalid(ValidateFilter({"a", FilterOp::kEq, {}}),
                        "filters[1].value: = needs exactly one value"));
  EXPECT_TRUE(IsInvalid(ValidateFilter({"a", FilterOp::kLe, {Value::Int(1), Value::Int(2)}}),
                        "filters[1].value: <= needs exactly one value"));
  EXPECT_TRUE(IsInvalid(ValidateFilter({"a", FilterOp::kEq, {Value::Null()}}),
                        "filters[1].value: must not be null"));
  for (FilterOp op : {FilterOp::kStartsWith, FilterOp::kDoesNotStartWith, FilterOp::kEndsWith,
                      FilterOp::kDoesNotEndWith, FilterOp::kContains, FilterOp::kDoesNotContain}) {
    EXPECT_TRUE(IsInvalid(ValidateFilter({"a", op, {Value::Int(3)}}),
                          std::string("filters[1].value: ") + std::string(FilterOpName(op)) +
                              " needs a string"));
  }
}

TEST(ValidateSpec, Breakdowns) {
  QuerySpec spec;
  spec.breakdowns = {"name", ""};
  EXPECT_TRUE(IsInvalid(ValidateSpec(spec), "breakdowns[1]: must not be empty"));
  spec.breakdowns = {"name", "service.name", "name"};
  EXPECT_TRUE(IsInvalid(ValidateSpec(spec), "breakdowns[2]: duplicate of breakdowns[0] (\"name\")"));
}

TEST(ValidateSpec, Havings) {
  QuerySpec spec = SpecWithCalcs({{CalcOp::kP99, "duration_ms"}, {CalcOp::kHeatmap, "duration_ms"}});
  spec.havings = {Having{CalcOp::kP99, "duration_ms", FilterOp::kGt, 100}};
  EXPECT_TRUE(ValidateSpec(spec).ok());
  spec.havings[0].cmp = FilterOp::kNe;
  EXPECT_TRUE(ValidateSpec(spec).ok());

  spec.havings.push_back(Having{CalcOp::kP95, "duration_ms", FilterOp::kGt, 100});
  EXPECT_TRUE(IsInvalid(ValidateSpec(spec), "havings[1]: no calculation P95(duration_ms) in the query"));
  spec.havings[1] = Having{CalcOp::kCount, "", FilterOp::kGt, 1};
  EXPECT_TRUE(IsInvalid(ValidateSpec(spec), "havings[1]: no calculation COUNT in the query"));
  spec.havings[1] = Having{CalcOp::kHeatmap, "duration_ms", FilterOp::kGt, 1};
  EXPECT_TRUE(IsInvalid(ValidateSpec(spec), "havings[1].calculate_op: HEATMAP"));
  spec.havings[1] = Having{CalcOp::kP99, "duration_ms", FilterOp::kContains, 1};
  EXPECT_TRUE(IsInvalid(ValidateSpec(spec), "havings[1].op: must be one of = != > >= < <="));
  spec.havings[1] = Having{CalcOp::kP99, "", FilterOp::kGt, 1};
  EXPECT_TRUE(IsInvalid(ValidateSpec(spec), "havings[1].column: required for P99"));
  spec.havings[1] = Having{CalcOp::kP99, "duration_ms", FilterOp::kGt,
                           std::numeric_limits<double>::quiet_NaN()};
  EXPECT_TRUE(IsInvalid(ValidateSpec(spec), "havings[1].value"));

  // Without calculations the query computes COUNT.
  QuerySpec count_only;
  count_only.havings = {Having{CalcOp::kCount, "", FilterOp::kGe, 10}};
  EXPECT_TRUE(ValidateSpec(count_only).ok());
  count_only.havings[0].column = "x";
  EXPECT_TRUE(IsInvalid(ValidateSpec(count_only), "havings[0].column: COUNT takes no column"));
}

TEST(ValidateSpec, Orders) {
  QuerySpec spec = SpecWithCalcs({{CalcOp::kCount, ""}, {CalcOp::kHeatmap, "duration_ms"}});
  spec.breakdowns = {"name"};
  spec.orders = {Order{CalcOp::kCount, "", true}, Order{std::nullopt, "name", false}};
  EXPECT_TRUE(ValidateSpec(spec).ok());

  spec.orders.push_back(Order{CalcOp::kHeatmap, "duration_ms", false});
  EXPECT_TRUE(IsInvalid(ValidateSpec(spec), "orders[2].op: HEATMAP results cannot be ordered"));
  spec.orders[2] = Order{CalcOp::kAvg, "duration_ms", false};
  EXPECT_TRUE(IsInvalid(ValidateSpec(spec), "orders[2]: no calculation AVG(duration_ms) in the query"));
  spec.orders[2] = Order{std::nullopt, "service.name", false};
  EXPECT_TRUE(IsInvalid(ValidateSpec(spec), "orders[2].column: \"service.name\" is not a breakdown"));
  spec.orders[2] = Order{};
  EXPECT_TRUE(IsInvalid(ValidateSpec(spec), "orders[2]: needs an op or a column"));

  QuerySpec count_only;
  count_only.orders = {Order{CalcOp::kCount, "", true}};
  EXPECT_TRUE(ValidateSpec(count_only).ok());
}

TEST(ValidateSpec, Limit) {
  QuerySpec spec;
  for (int64_t ok : {int64_t{1}, kDefaultLimit, kMaxLimit}) {
    spec.limit = ok;
    EXPECT_TRUE(ValidateSpec(spec).ok()) << ok;
  }
  for (int64_t bad : {int64_t{0}, int64_t{-1}, kMaxLimit + 1}) {
    spec.limit = bad;
    EXPECT_TRUE(IsInvalid(ValidateSpec(spec), "limit: must be between 1 and 10000")) << bad;
  }
}

TEST(ValidateSpec, TimeFieldsThatDoNotDependOnNow) {
  QuerySpec spec;
  spec.start_time = 1'800'000'000;
  spec.end_time = 1'800'003'600;
  spec.granularity = 3601;
  EXPECT_TRUE(IsInvalid(ValidateSpec(spec), "granularity: must not exceed"));
  spec.granularity = 60;
  EXPECT_TRUE(ValidateSpec(spec).ok());
  spec.end_time = 1'700'000'000;
  EXPECT_TRUE(IsInvalid(ValidateSpec(spec), "start_time: must be before end_time"));
  spec.end_time = 100;
  spec.start_time.reset();
  spec.time_range = 7200;
  EXPECT_TRUE(IsInvalid(ValidateSpec(spec), "time_range: the window must not start before 1970"));
  // With only a range the window moves with now, but its length is known.
  QuerySpec range_only;
  range_only.time_range = 600;
  range_only.granularity = 601;
  EXPECT_TRUE(IsInvalid(ValidateSpec(range_only), "granularity: must not exceed"));
  range_only.granularity = 600;
  EXPECT_TRUE(ValidateSpec(range_only).ok());
  // With only a start the length depends on now; ResolveWindow checks it.
  QuerySpec start_only;
  start_only.start_time = kNowNs / kSecond - 600;
  start_only.granularity = 1000;
  EXPECT_TRUE(ValidateSpec(start_only).ok());
  EXPECT_TRUE(IsInvalid(ResolveStatus(start_only), "granularity"));
}

}  // namespace
}  // namespace waggle::query
