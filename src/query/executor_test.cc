#include "query/executor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "query/testing/table_source.h"

namespace waggle::query {
namespace {

using testing::TableRow;
using testing::TableSource;

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kT0 = 1'699'999'980;  // epoch seconds, a multiple of 60

TableRow Row(int64_t offset_s, const std::string& service, double duration_ms,
             std::map<std::string, Value> extra = {}) {
  TableRow r;
  r.start_ns = (kT0 + offset_s) * kSec;
  r.end_ns = r.start_ns + static_cast<int64_t>(duration_ms * 1e6);
  r.columns = std::move(extra);
  r.columns["service.name"] = Value::String(service);
  r.columns["duration_ms"] = Value::Double(duration_ms);
  return r;
}

QuerySpec Window(QuerySpec spec, int64_t seconds = 600, int64_t granularity = 60) {
  spec.start_time = kT0;
  spec.end_time = kT0 + seconds;
  spec.granularity = granularity;
  return spec;
}

StatusOr<QueryResult> RunQuery(std::vector<TableRow> rows, QuerySpec spec, int threads = 2,
                          std::string dataset = "__all__", size_t budget = size_t{1} << 30) {
  TableSource source(std::move(rows), 3);
  QueryRequest req{std::move(dataset), std::move(spec), false};
  ExecOptions opts;
  opts.threads = threads;
  opts.memory_budget_bytes = budget;
  opts.now_ns = (kT0 + 3600) * kSec;
  return Execute(req, source, opts);
}

std::vector<TableRow> Sample() {
  return {
      Row(0, "frontend", 10, {{"http.route", Value::String("/home")}, {"user.id", Value::Int(1)}}),
      Row(5, "backend", 20, {{"http.route", Value::String("/home")}, {"user.id", Value::Int(2)}}),
      Row(61, "backend", 30, {{"http.route", Value::String("/api")}, {"user.id", Value::Int(1)}}),
      Row(62, "backend", 40, {{"http.route", Value::String("/api")}}),
      Row(130, "db", 5, {{"user.id", Value::String("1")}}),
      Row(700, "backend", 99),  // outside the 600 s window
  };
}

TEST(Executor, CountByServiceOrderedByCountDescending) {
  QuerySpec spec = Window({});
  spec.breakdowns = {"service.name"};
  auto r = RunQuery(Sample(), spec);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->results.size(), 3u);
  EXPECT_EQ(r->results[0].group[0], Value::String("backend"));
  EXPECT_EQ(r->results[0].values[0].number, 3);
  // Ties (1 each) ordered by group value ascending.
  EXPECT_EQ(r->results[1].group[0], Value::String("db"));
  EXPECT_EQ(r->results[2].group[0], Value::String("frontend"));
  EXPECT_EQ(r->stats.rows_matched, 5u);
  EXPECT_EQ(r->stats.rows_examined, 6u);
}

TEST(Executor, DatasetRestrictsToService) {
  auto r = RunQuery(Sample(), Window({}), 1, "backend");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->results.size(), 1u);
  EXPECT_EQ(r->results[0].values[0].number, 3);
}

TEST(Executor, AndFiltersNarrowOrFiltersWiden) {
  QuerySpec spec = Window({});
  spec.filters = {{"service.name", FilterOp::kEq, {Value::String("backend")}},
                  {"duration_ms", FilterOp::kGt, {Value::Int(25)}}};
  auto r = RunQuery(Sample(), spec);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->results[0].values[0].number, 2);
  spec.filter_combination = FilterCombination::kOr;
  spec.filters[0].values = {Value::String("db")};
  r = RunQuery(Sample(), spec);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->results[0].values[0].number, 3);  // db, and the two backend rows over 25 ms
}

TEST(Executor, MixedTypesAndNullGroups) {
  QuerySpec spec = Window({});
  spec.breakdowns = {"user.id"};
  spec.orders = {{std::nullopt, "user.id", false}};
  auto r = RunQuery(Sample(), spec);
  ASSERT_TRUE(r.ok()) << r.status();
  // null < numbers < strings; the int 1 and the string "1" are different groups.
  ASSERT_EQ(r->results.size(), 4u);
  EXPECT_TRUE(r->results[0].group[0].is_null());
  EXPECT_EQ(r->results[0].values[0].number, 1);
  EXPECT_EQ(r->results[1].group[0], Value::Int(1));
  EXPECT_EQ(r->results[1].values[0].number, 2);
  EXPECT_EQ(r->results[2].group[0], Value::Int(2));
  EXPECT_EQ(r->results[3].group[0], Value::String("1"));
  // `=` with the operand 1 matches both the int and the string row.
  spec.breakdowns.clear();
  spec.orders.clear();
  spec.filters = {{"user.id", FilterOp::kEq, {Value::Int(1)}}};
  r = RunQuery(Sample(), spec);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->results[0].values[0].number, 3);
}

TEST(Executor, NegativeOpsMatchMissingColumns) {
  QuerySpec spec = Window({});
  spec.filters = {{"no.such.column", FilterOp::kNe, {Value::String("x")}}};
  auto r = RunQuery(Sample(), spec);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->results[0].values[0].number, 5);
  spec.filters = {{"no.such.column", FilterOp::kExists, {}}};
  r = RunQuery(Sample(), spec);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->results.empty());
  spec.filters = {{"http.route", FilterOp::kDoesNotExist, {}}};
  r = RunQuery(Sample(), spec);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->results[0].values[0].number, 1);
}

TEST(Executor, HavingsOrdersAndLimit) {
  QuerySpec spec = Window({});
  spec.calculations = {{CalcOp::kCount, ""}, {CalcOp::kAvg, "duration_ms"}};
  spec.breakdowns = {"service.name"};
  spec.havings = {{CalcOp::kAvg, "duration_ms", FilterOp::kGe, 10}};
  spec.orders = {{CalcOp::kAvg, "duration_ms", true}};
  auto r = RunQuery(Sample(), spec);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->results.size(), 2u);  // db (avg 5) dropped
  EXPECT_EQ(r->results[0].group[0], Value::String("backend"));
  EXPECT_DOUBLE_EQ(r->results[0].values[1].number, 30);
  EXPECT_EQ(r->results[1].group[0], Value::String("frontend"));
  spec.limit = 1;
  r = RunQuery(Sample(), spec);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->results.size(), 1u);
  // The series covers only kept groups: 10 buckets of 60 s for one group.
  EXPECT_EQ(r->series.size(), 10u);
}

TEST(Executor, SeriesBucketsAlignToGranularity) {
  QuerySpec spec = Window({});
  auto r = RunQuery(Sample(), spec);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->series.size(), 10u);
  EXPECT_EQ(r->series[0].time_ns, kT0 * kSec);
  EXPECT_EQ(r->series[0].values[0].number, 2);
  EXPECT_EQ(r->series[1].values[0].number, 2);
  EXPECT_EQ(r->series[2].values[0].number, 1);
  EXPECT_EQ(r->series[3].values[0].number, 0);
}

TEST(Executor, ThreadCountDoesNotChangeAnswers) {
  std::vector<TableRow> rows;
  for (int i = 0; i < 500; ++i) {
    rows.push_back(Row(i % 600, i % 3 ? "a" : "b", i % 97,
                       {{"user.id", Value::Int(i % 41)}}));
  }
  QuerySpec spec = Window({});
  spec.calculations = {{CalcOp::kCount, ""}, {CalcOp::kP95, "duration_ms"},
                       {CalcOp::kCountDistinct, "user.id"}, {CalcOp::kMax, "duration_ms"}};
  spec.breakdowns = {"service.name"};
  auto one = RunQuery(rows, spec, 1);
  auto four = RunQuery(rows, spec, 4);
  ASSERT_TRUE(one.ok() && four.ok());
  ASSERT_EQ(one->results.size(), four->results.size());
  for (size_t i = 0; i < one->results.size(); ++i) {
    EXPECT_EQ(one->results[i].group, four->results[i].group);
    EXPECT_EQ(one->results[i].values, four->results[i].values);
  }
  ASSERT_EQ(one->series.size(), four->series.size());
  for (size_t i = 0; i < one->series.size(); ++i) {
    EXPECT_EQ(one->series[i].values, four->series[i].values);
  }
}

// Dictionary codes (segment blocks) are an optimisation: every answer must match the plain
// string path, including mixed-type columns, nulls, negations and one- and two-column groups.
TEST(Executor, DictionaryCodedColumnsGiveTheSameAnswers) {
  std::vector<TableRow> rows;
  const char* routes[] = {"/home", "/api", "/api/v2", "/login"};
  for (int i = 0; i < 400; ++i) {
    std::map<std::string, Value> extra;
    if (i % 7 != 0) extra["http.route"] = Value::String(routes[i % 4]);
    if (i % 11 == 0) extra["http.route"] = Value::Int(i % 3);  // mixed types
    extra["region"] = Value::String(i % 5 ? "eu" : "us");
    rows.push_back(Row(i % 600, i % 3 ? "a" : "b", i % 97, std::move(extra)));
  }
  std::vector<QuerySpec> specs;
  QuerySpec by_route = Window({});
  by_route.breakdowns = {"http.route"};
  specs.push_back(by_route);
  QuerySpec two = Window({});
  two.breakdowns = {"region", "http.route"};
  two.calculations = {{CalcOp::kCount, ""}, {CalcOp::kAvg, "duration_ms"}};
  specs.push_back(two);
  for (FilterOp op : {FilterOp::kEq, FilterOp::kNe, FilterOp::kStartsWith, FilterOp::kContains,
                      FilterOp::kDoesNotContain, FilterOp::kGt}) {
    QuerySpec filtered = Window({});
    filtered.breakdowns = {"service.name"};
    filtered.filters = {Filter{"http.route", op, {Value::String("/api")}}};
    specs.push_back(filtered);
  }
  QuerySpec in = Window({});
  in.breakdowns = {"region"};
  in.filters = {Filter{"http.route", FilterOp::kIn, {Value::String("/home"), Value::Int(1)}}};
  specs.push_back(in);
  for (const QuerySpec& spec : specs) {
    QueryRequest req{"__all__", spec, false};
    ExecOptions opts;
    opts.now_ns = (kT0 + 3600) * kSec;
    TableSource plain(rows, 50, false), coded(rows, 50, true);
    auto a = Execute(req, plain, opts);
    auto b = Execute(req, coded, opts);
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_FALSE(a->results.empty());
    ASSERT_EQ(a->results.size(), b->results.size());
    for (size_t i = 0; i < a->results.size(); ++i) {
      EXPECT_EQ(a->results[i].group, b->results[i].group);
      EXPECT_EQ(a->results[i].values, b->results[i].values);
    }
    EXPECT_EQ(a->series.size(), b->series.size());
  }
}

// With a limit below the group count only the top groups are sorted; they must be exactly the
// first groups of the full order (ties broken by the breakdown value).
TEST(Executor, LimitKeepsTheTopOfTheFullOrder) {
  std::vector<TableRow> rows;
  for (int i = 0; i < 300; ++i) {
    rows.push_back(Row(i % 600, "svc", i % 13, {{"user.id", Value::Int(i)}}));
  }
  QuerySpec spec = Window({});
  spec.breakdowns = {"user.id"};
  spec.calculations = {{CalcOp::kMax, "duration_ms"}};
  spec.orders = {Order{CalcOp::kMax, "duration_ms", true}};
  auto all = RunQuery(rows, spec);
  spec.limit = 7;
  auto top = RunQuery(rows, spec);
  ASSERT_TRUE(all.ok() && top.ok());
  ASSERT_EQ(top->results.size(), 7u);
  for (size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(top->results[i].group, all->results[i].group);
    EXPECT_EQ(top->results[i].values, all->results[i].values);
  }
  EXPECT_EQ(top->results[0].values[0].number, 12);
  EXPECT_EQ(top->results[0].group[0].i, 12);  // the smallest user.id with duration 12
}

TEST(Executor, MemoryBudgetFailsTheQueryCleanly) {
  std::vector<TableRow> rows;
  for (int i = 0; i < 3000; ++i) rows.push_back(Row(i % 600, "a", i, {{"k", Value::Int(i)}}));
  QuerySpec spec = Window({});
  spec.breakdowns = {"k"};
  auto r = RunQuery(rows, spec, 2, "__all__", 64 * 1024);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(r.status().message().find("memory budget"), std::string_view::npos);
}

TEST(Executor, InvalidSpecIsInvalidArgument) {
  QuerySpec spec = Window({});
  spec.calculations = {{CalcOp::kAvg, ""}};
  auto r = RunQuery(Sample(), spec);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Executor, ScanPlanNamesEveryColumnRead) {
  TableSource source(Sample());
  QuerySpec spec = Window({});
  spec.filters = {{"http.route", FilterOp::kExists, {}}};
  spec.breakdowns = {"user.id"};
  spec.calculations = {{CalcOp::kSum, "duration_ms"}};
  QueryRequest req{"backend", spec, false};
  ExecOptions opts;
  opts.now_ns = (kT0 + 3600) * kSec;
  ASSERT_TRUE(Execute(req, source, opts).ok());
  const ScanPlan& plan = source.last_plan();
  EXPECT_EQ(plan.service, "backend");
  EXPECT_EQ(plan.start_ns, kT0 * kSec);
  EXPECT_EQ(plan.end_ns, (kT0 + 600) * kSec);
  std::vector<std::string> want = {"service.name", "http.route", "user.id", "duration_ms"};
  EXPECT_EQ(plan.columns, want);
}

// Many groups, heavy ties, missing and non-numeric values: the kind of data where a wrong
// top-groups bound (exclusive instead of inclusive, a NaN slipping through, a group's extreme
// row dropped) shows up as a different answer.
std::vector<TableRow> TiedGroups(size_t rows) {
  std::mt19937 rng(7);
  std::vector<TableRow> out;
  for (size_t i = 0; i < rows; ++i) {
    TableRow r = Row(static_cast<int64_t>(i % 600), "svc", 1);
    r.columns["group"] = Value::String("g" + std::to_string(rng() % 500));
    switch (rng() % 10) {
      case 0: r.columns.erase("duration_ms"); break;
      case 1: r.columns["duration_ms"] = Value::String("slow"); break;
      case 2: r.columns["duration_ms"] = Value::Int(static_cast<int64_t>(rng() % 100)); break;
      default: r.columns["duration_ms"] = Value::Double(static_cast<double>(rng() % 100)); break;
    }
    out.push_back(std::move(r));
  }
  return out;
}

// Runs `spec` over TiedGroups as a results-only query (no series) on 2 threads.
QueryResult RunTopQuery(QuerySpec spec) {
  TableSource source(TiedGroups(20000), 64);
  QueryRequest req{"__all__", Window(std::move(spec)), true};
  ExecOptions opts;
  opts.threads = 2;
  opts.now_ns = (kT0 + 3600) * kSec;
  auto r = Execute(req, source, opts);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : QueryResult{};
}

// The groups and first values of a result, for comparing answers with different calculations.
std::vector<std::pair<std::string, double>> GroupsAndFirstValues(const QueryResult& r) {
  std::vector<std::pair<std::string, double>> out;
  for (const ResultRow& row : r.results) out.emplace_back(row.group[0].str, row.values[0].number);
  return out;
}

TEST(Executor, TopGroupsByMaxSkipRowsAndMatchTheFullAggregation) {
  for (CalcOp op : {CalcOp::kMax, CalcOp::kMin}) {
    const bool descending = op == CalcOp::kMax;
    QuerySpec pushed;
    pushed.calculations = {{op, "duration_ms"}};
    pushed.breakdowns = {"group"};
    pushed.orders = {Order{op, "duration_ms", descending}};
    pushed.limit = 25;
    QuerySpec full = pushed;  // a second calculation turns the pushdown off
    full.calculations.push_back({CalcOp::kCount, ""});
    QueryResult a = RunTopQuery(pushed), b = RunTopQuery(full);
    ASSERT_EQ(a.results.size(), 25u);
    EXPECT_EQ(GroupsAndFirstValues(a), GroupsAndFirstValues(b)) << CalcOpName(op);
    EXPECT_GT(a.stats.rows_skipped, a.stats.rows_matched / 2) << CalcOpName(op);
    EXPECT_EQ(b.stats.rows_skipped, 0u);
  }
}

TEST(Executor, TopGroupsPushdownStaysOffWhenItCouldChangeTheAnswer) {
  QuerySpec base;
  base.calculations = {{CalcOp::kMax, "duration_ms"}};
  base.breakdowns = {"group"};
  base.limit = 10;
  QuerySpec ascending = base;  // the smallest MAX needs every row
  ascending.orders = {Order{CalcOp::kMax, "duration_ms", false}};
  QuerySpec having = base;
  having.havings = {Having{CalcOp::kMax, "duration_ms", FilterOp::kLt, 50}};
  QuerySpec by_group = base;
  by_group.orders = {Order{std::nullopt, "group", false}};
  for (const QuerySpec& spec : {ascending, having, by_group}) {
    EXPECT_EQ(RunTopQuery(spec).stats.rows_skipped, 0u);
  }
  EXPECT_GT(RunTopQuery(base).stats.rows_skipped, 0u);  // default order: MAX descending
}

// ---------------------------------------------------------------------------------------------
// Percentiles of one column share one store of values and one selection per group.

// The number in `column` of a row, NaN when it has none (absent, or not a number).
double NumberIn(const TableRow& row, const std::string& column) {
  auto it = row.columns.find(column);
  if (it == row.columns.end()) return std::nan("");
  if (it->second.kind == Value::Kind::kInt) return static_cast<double>(it->second.i);
  if (it->second.kind == Value::Kind::kDouble) return it->second.d;
  return std::nan("");
}

// Nearest rank the plain way: sort the values without NaN, take the ceil(q*n)-th (at least the
// first); null without values.
CalcValue ReferencePercentile(std::vector<double> values, uint32_t per_mille) {
  std::erase_if(values, [](double v) { return std::isnan(v); });
  if (values.empty()) return CalcValue{};
  std::sort(values.begin(), values.end());
  const size_t rank = (per_mille * values.size() + 999) / 1000;
  CalcValue out;
  out.kind = CalcValue::Kind::kNumber;
  out.number = values[std::max<size_t>(rank, 1) - 1];
  return out;
}

// Groups (service.name) with one value, heavy ties, a spread of values, NaN and integers;
// "bytes" is absent, a string, NaN or an integer.
std::vector<TableRow> PercentileRows() {
  std::mt19937 rng(3);
  std::vector<TableRow> rows = {Row(125, "single", 42)};
  for (int i = 0; i < 3000; ++i) {
    const std::string service = i % 3 == 0 ? "ties" : i % 3 == 1 ? "spread" : "mixed";
    const double duration =
        service == "ties" ? (i % 10 == 0 ? i % 7 : 5) : static_cast<double>(rng() % 100000) / 100;
    TableRow r = Row(i % 600, service, duration);
    if (i % 17 == 0) r.columns["duration_ms"] = Value::Double(std::nan(""));
    if (service == "mixed" && i % 5 == 0) r.columns["duration_ms"] = Value::Int(i % 50);
    switch (i % 6) {
      case 0: break;
      case 1: r.columns["bytes"] = Value::String("big"); break;
      case 2: r.columns["bytes"] = Value::Double(std::nan("")); break;
      default: r.columns["bytes"] = Value::Int(static_cast<int64_t>(rng() % 64)); break;
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

StatusOr<QueryResult> RunPercentileQuery(const std::vector<TableRow>& rows, QuerySpec spec,
                                         bool disable_series) {
  TableSource source(rows, 50);
  QueryRequest req{"__all__", Window(std::move(spec)), disable_series};
  ExecOptions opts;
  opts.threads = 2;
  opts.now_ns = (kT0 + 3600) * kSec;
  return Execute(req, source, opts);
}

TEST(Executor, PercentilesSharingAColumnMatchAReference) {
  const std::vector<TableRow> rows = PercentileRows();
  QuerySpec spec;
  spec.breakdowns = {"service.name"};
  spec.calculations = {{CalcOp::kP50, "duration_ms"},  {CalcOp::kP99, "duration_ms"},
                       {CalcOp::kP001, "duration_ms"}, {CalcOp::kP50, "bytes"},
                       {CalcOp::kP95, "duration_ms"},  {CalcOp::kHeatmap, "duration_ms"},
                       {CalcOp::kP999, "duration_ms"}, {CalcOp::kP25, "bytes"}};
  const uint32_t per_mille[] = {500, 990, 1, 500, 950, 0, 999, 250};
  constexpr size_t kHeatmapCalc = 5;
  QuerySpec heatmap_alone = spec;
  heatmap_alone.calculations = {spec.calculations[kHeatmapCalc]};
  // values[{service, bucket}][calc]: every value of the calculation's column (NaN included).
  std::map<std::pair<std::string, int64_t>, std::vector<std::vector<double>>> values;
  for (const TableRow& row : rows) {
    const int64_t offset_s = row.start_ns / kSec - kT0;
    if (offset_s >= 600) continue;
    auto& calc_values = values[{row.columns.at("service.name").str, offset_s / 60}];
    calc_values.resize(spec.calculations.size());
    for (size_t c = 0; c < spec.calculations.size(); ++c) {
      calc_values[c].push_back(NumberIn(row, spec.calculations[c].column));
    }
  }
  auto expected = [&](const std::string& service, std::optional<int64_t> bucket, size_t c) {
    std::vector<double> all;
    for (const auto& [key, calc_values] : values) {
      if (key.first != service || (bucket && key.second != *bucket)) continue;
      all.insert(all.end(), calc_values[c].begin(), calc_values[c].end());
    }
    return ReferencePercentile(all, per_mille[c]);
  };
  for (bool disable_series : {false, true}) {
    SCOPED_TRACE(disable_series ? "without series" : "with series");
    auto r = RunPercentileQuery(rows, spec, disable_series);
    auto h = RunPercentileQuery(rows, heatmap_alone, disable_series);
    ASSERT_TRUE(r.ok() && h.ok());
    ASSERT_EQ(r->results.size(), 4u);
    // The HEATMAP alone, by group and by (group, bucket start).
    std::map<std::string, CalcValue> heatmaps;
    for (const ResultRow& row : h->results) heatmaps[row.group[0].str] = row.values[0];
    std::map<std::pair<std::string, int64_t>, CalcValue> heatmap_points;
    for (const SeriesPoint& p : h->series) {
      heatmap_points[{p.group[0].str, p.time_ns}] = p.values[0];
    }
    for (const ResultRow& row : r->results) {
      const std::string& service = row.group[0].str;
      for (size_t c = 0; c < spec.calculations.size(); ++c) {
        const CalcValue want =
            c == kHeatmapCalc ? heatmaps[service] : expected(service, std::nullopt, c);
        EXPECT_EQ(row.values[c], want) << service << " calc " << c;
      }
    }
    auto is_single = [](const ResultRow& row) { return row.group[0].str == "single"; };
    const auto single = std::find_if(r->results.begin(), r->results.end(), is_single);
    ASSERT_NE(single, r->results.end());
    EXPECT_EQ(single->values[0].number, 42);  // its one value is every percentile
    EXPECT_EQ(single->values[6].number, 42);
    EXPECT_EQ(single->values[3].kind, CalcValue::Kind::kNull);  // it has no bytes
    EXPECT_EQ(r->series.empty(), disable_series);
    ASSERT_EQ(r->series.size(), h->series.size());
    for (size_t i = 0; i < r->series.size(); ++i) {
      const SeriesPoint& p = r->series[i];
      const int64_t bucket = (p.time_ns / kSec - kT0) / 60;
      for (size_t c = 0; c < spec.calculations.size(); ++c) {
        const CalcValue want = c == kHeatmapCalc ? heatmap_points[{p.group[0].str, p.time_ns}]
                                                 : expected(p.group[0].str, bucket, c);
        EXPECT_EQ(p.values[c], want) << p.group[0].str << " bucket " << bucket << " calc " << c;
      }
    }
  }
}

// The values of one column are held, and counted against the budget, once however many
// percentiles read them; the budget still applies to them.
TEST(Executor, SharedPercentileValuesCountOnceAgainstTheBudget) {
  std::vector<TableRow> rows;
  for (int i = 0; i < 30000; ++i) rows.push_back(Row(i % 600, "a", i % 1000));
  QuerySpec one = Window({});
  one.calculations = {{CalcOp::kP50, "duration_ms"}};
  QuerySpec three = one;
  three.calculations = {{CalcOp::kP50, "duration_ms"},
                        {CalcOp::kP95, "duration_ms"},
                        {CalcOp::kP99, "duration_ms"}};
  // Above one copy of the values (240 KB, up to twice that in partly filled pages), below three.
  const size_t budget = 1 << 20;
  EXPECT_TRUE(RunQuery(rows, one, 2, "__all__", budget).ok());
  auto r = RunQuery(rows, three, 2, "__all__", budget);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->results[0].values[2].number, 989);
  r = RunQuery(rows, three, 2, "__all__", 100 << 10);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace waggle::query
