#include "query/bubbleup.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "query/internal/value_distribution.h"
#include "query/testing/table_source.h"

namespace waggle::query {
namespace {

using testing::TableRow;
using testing::TableSource;

constexpr int64_t kSec = 1'000'000'000;
constexpr int kRows = 100;
constexpr int kSlowRows = 20;  // rows 0..19 are slow

// Rows 0..19 are slow (1000 ms); 18 of them are in eu-west, vs 8 of the 80 fast rows.
std::vector<TableRow> RegionTable() {
  std::vector<TableRow> rows;
  for (int i = 0; i < kRows; ++i) {
    const bool slow = i < kSlowRows;
    TableRow r;
    r.start_ns = (i + 1) * kSec;
    r.end_ns = r.start_ns + (slow ? 1000 : 10) * 1'000'000;
    r.columns["trace.trace_id"] = Value::String("t" + std::to_string(i));
    r.columns["duration_ms"] = Value::Double(slow ? 1000.0 : 10.0);
    r.columns["name"] = Value::String("GET /");
    const bool eu = slow ? i < 18 : i < kSlowRows + 8;
    r.columns["app.region"] = Value::String(eu ? "eu-west" : "us-east");
    r.columns["status_code"] = Value::Int(slow ? 500 : 200);
    if (slow) r.columns["error.message"] = Value::String("timeout");
    r.columns["http.response_size"] = Value::Int(slow ? 5000 + i : i);
    rows.push_back(std::move(r));
  }
  return rows;
}

const std::vector<std::string> kAllColumns = {
    "trace.trace_id", "duration_ms",    "name",         "app.region",
    "status_code",    "error.message",  "http.response_size", "never.written"};

BubbleUpRequest SlowRegion() {
  BubbleUpRequest req;
  req.spec.start_time = 0;
  req.spec.end_time = 1000;
  req.selection.column = "duration_ms";
  req.selection.lo = 500;
  req.selection.hi = 2000;
  return req;
}

StatusOr<BubbleUpResult> RunOnTable(const BubbleUpRequest& req, int threads = 1,
                             size_t chunk_rows = 7, size_t budget = size_t{1} << 30) {
  TableSource source(RegionTable(), chunk_rows);
  ExecOptions opts;
  opts.threads = threads;
  opts.memory_budget_bytes = budget;
  return BubbleUp(req, kAllColumns, source, opts);
}

const BubbleUpColumn* Find(const BubbleUpResult& r, const std::string& name) {
  for (const BubbleUpColumn& c : r.columns) {
    if (c.column == name) return &c;
  }
  return nullptr;
}

TEST(BubbleUp, DominantValueRanksFirstWithItsFractions) {
  for (int threads : {1, 3}) {
    BubbleUpRequest req = SlowRegion();
    req.columns = {"name", "app.region"};
    auto result = RunOnTable(req, threads);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->selection_rows, 20u);
    EXPECT_EQ(result->baseline_rows, 80u);
    ASSERT_EQ(result->columns.size(), 2u);
    const BubbleUpColumn& top = result->columns[0];
    EXPECT_EQ(top.column, "app.region");
    EXPECT_NEAR(top.score, 0.9 - 0.1, 1e-12);
    ASSERT_EQ(top.buckets.size(), 2u);
    const BubbleUpBucket& eu = top.buckets[0];
    EXPECT_EQ(eu.value, Value::String("eu-west"));
    EXPECT_EQ(eu.selection_count, 18u);
    EXPECT_EQ(eu.baseline_count, 8u);
    EXPECT_DOUBLE_EQ(eu.selection_fraction, 0.9);
    EXPECT_DOUBLE_EQ(eu.baseline_fraction, 0.1);
    EXPECT_EQ(result->columns[1].column, "name");
    EXPECT_EQ(result->columns[1].score, 0);
    EXPECT_FALSE(top.approximate);
  }
}

TEST(BubbleUp, DefaultColumnsSkipIdsTheSelectionColumnAndUnwrittenOnes) {
  auto result = RunOnTable(SlowRegion(), 2);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(Find(*result, "trace.trace_id"), nullptr);
  EXPECT_EQ(Find(*result, "duration_ms"), nullptr);
  EXPECT_EQ(Find(*result, "never.written"), nullptr);
  ASSERT_NE(Find(*result, "app.region"), nullptr);
  // Perfect separators first (score 1), ties by name; app.region (0.8) after them.
  std::vector<std::string> order;
  for (const BubbleUpColumn& c : result->columns) order.push_back(c.column);
  EXPECT_EQ(order, (std::vector<std::string>{"error.message", "http.response_size",
                                             "status_code", "app.region", "name"}));
}

TEST(BubbleUp, IdColumnsComparedWhenAskedFor) {
  BubbleUpRequest req = SlowRegion();
  req.columns = {"trace.trace_id"};
  auto result = RunOnTable(req);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->columns.size(), 1u);
  EXPECT_EQ(result->columns[0].column, "trace.trace_id");
  EXPECT_NEAR(result->columns[0].score, 1.0 / 20, 1e-12);
}

TEST(BubbleUp, LowCardinalityNumbersGetOneRangePerValue) {
  BubbleUpRequest req = SlowRegion();
  req.columns = {"status_code"};
  auto result = RunOnTable(req);
  ASSERT_TRUE(result.ok()) << result.status();
  const BubbleUpColumn& col = result->columns.at(0);
  EXPECT_DOUBLE_EQ(col.score, 1.0);
  ASSERT_EQ(col.buckets.size(), 2u);
  for (const BubbleUpBucket& b : col.buckets) {
    EXPECT_EQ(b.kind, BubbleUpBucket::Kind::kRange);
    EXPECT_EQ(b.lo, b.hi);
    if (b.lo == 500) {
      EXPECT_EQ(b.selection_count, 20u);
      EXPECT_EQ(b.baseline_count, 0u);
    } else {
      EXPECT_EQ(b.lo, 200);
      EXPECT_DOUBLE_EQ(b.baseline_fraction, 1.0);
    }
  }
}

TEST(BubbleUp, NumericRangesSeparateTheSides) {
  BubbleUpRequest req = SlowRegion();
  req.columns = {"http.response_size"};
  req.limit = 100;
  auto result = RunOnTable(req, 2);
  ASSERT_TRUE(result.ok()) << result.status();
  const BubbleUpColumn& col = result->columns.at(0);
  EXPECT_LE(col.buckets.size(), kBubbleUpRanges);
  EXPECT_GE(col.buckets.size(), kBubbleUpRanges - 1);
  double selection_high = 0;
  uint64_t total = 0;
  for (const BubbleUpBucket& b : col.buckets) {
    ASSERT_EQ(b.kind, BubbleUpBucket::Kind::kRange);
    EXPECT_LE(b.lo, b.hi);
    total += b.selection_count + b.baseline_count;
    if (b.lo >= 5000) {
      EXPECT_EQ(b.baseline_count, 0u);
      selection_high += b.selection_fraction;
    } else {
      EXPECT_LT(b.hi, 5000);
      EXPECT_EQ(b.selection_count, 0u);
    }
  }
  EXPECT_EQ(total, 100u);
  EXPECT_DOUBLE_EQ(selection_high, 1.0);
  EXPECT_EQ(col.buckets[0].baseline_count, 0u);  // the top bucket is a selection range
  EXPECT_GE(col.buckets[0].lo, 5000);
  EXPECT_DOUBLE_EQ(col.score, col.buckets[0].selection_fraction);
}

TEST(BubbleUp, MissingValuesAreABucket) {
  BubbleUpRequest req = SlowRegion();
  req.columns = {"error.message", "never.written"};
  auto result = RunOnTable(req);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->columns.size(), 1u);  // never.written has no value on either side
  const BubbleUpColumn& col = result->columns[0];
  EXPECT_DOUBLE_EQ(col.score, 1.0);
  ASSERT_EQ(col.buckets.size(), 2u);
  const BubbleUpBucket* missing = nullptr;
  for (const BubbleUpBucket& b : col.buckets) {
    if (b.kind == BubbleUpBucket::Kind::kMissing) missing = &b;
  }
  ASSERT_NE(missing, nullptr);
  EXPECT_EQ(missing->selection_count, 0u);
  EXPECT_EQ(missing->baseline_count, 80u);
  EXPECT_DOUBLE_EQ(missing->baseline_fraction, 1.0);
}

TEST(BubbleUp, EmptySelectionScoresZero) {
  BubbleUpRequest req = SlowRegion();
  req.selection.lo = 1e9;
  req.selection.hi = 2e9;
  auto result = RunOnTable(req);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->selection_rows, 0u);
  EXPECT_EQ(result->baseline_rows, 100u);
  ASSERT_FALSE(result->columns.empty());
  for (const BubbleUpColumn& c : result->columns) {
    EXPECT_EQ(c.score, 0) << c.column;
    for (const BubbleUpBucket& b : c.buckets) EXPECT_EQ(b.selection_fraction, 0);
  }
}

TEST(BubbleUp, RegionTimeRangeNarrowsTheSelection) {
  BubbleUpRequest req = SlowRegion();
  req.selection.start_ns = 1 * kSec;
  req.selection.end_ns = 11 * kSec;  // rows 0..9
  req.columns = {"app.region"};
  auto result = RunOnTable(req);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->selection_rows, 10u);
  EXPECT_EQ(result->baseline_rows, 90u);
}

TEST(BubbleUp, FilterSelectionAndQueryFilters) {
  BubbleUpRequest req;
  req.spec.start_time = 0;
  req.spec.end_time = 1000;
  req.spec.filters = {Filter{"name", FilterOp::kEq, {Value::String("GET /")}}};
  req.selection.kind = BubbleUpSelection::Kind::kFilters;
  req.selection.filters = {Filter{"status_code", FilterOp::kEq, {Value::Int(500)}},
                           Filter{"app.region", FilterOp::kEq, {Value::String("nowhere")}}};
  req.selection.filter_combination = FilterCombination::kOr;
  auto result = RunOnTable(req);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->selection_rows, 20u);
  EXPECT_EQ(Find(*result, "status_code"), nullptr);  // a selection column
  EXPECT_EQ(Find(*result, "app.region"), nullptr);
  ASSERT_NE(Find(*result, "error.message"), nullptr);
  EXPECT_DOUBLE_EQ(Find(*result, "error.message")->score, 1.0);

  req.spec.filters = {Filter{"app.region", FilterOp::kEq, {Value::String("eu-west")}}};
  req.selection.filter_combination = FilterCombination::kAnd;  // nothing is in "nowhere"
  result = RunOnTable(req);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->selection_rows, 0u);
  EXPECT_EQ(result->baseline_rows, 26u);
}

TEST(BubbleUp, HighCardinalityColumnsKeepHeavyHittersAndLumpTheRest) {
  constexpr int kMany = 20000;
  std::vector<TableRow> rows;
  for (int i = 0; i < kMany; ++i) {
    const bool vip = i % 100 == 0;
    TableRow r;
    r.start_ns = kSec + i;
    r.end_ns = r.start_ns + 1;
    r.columns["slow"] = Value::Bool(vip);
    r.columns["user.id"] = Value::String(vip ? "vip" : "u" + std::to_string(i));
    rows.push_back(std::move(r));
  }
  BubbleUpRequest req;
  req.spec.start_time = 0;
  req.spec.end_time = 1000;
  req.selection.kind = BubbleUpSelection::Kind::kFilters;
  req.selection.filters = {Filter{"slow", FilterOp::kEq, {Value::Bool(true)}}};
  req.limit = 3;
  for (int threads : {1, 2}) {
    TableSource source(rows, 1000);
    ExecOptions opts;
    opts.threads = threads;
    auto result = BubbleUp(req, {"slow", "user.id"}, source, opts);
    ASSERT_TRUE(result.ok()) << result.status();
    ASSERT_EQ(result->columns.size(), 1u);
    const BubbleUpColumn& col = result->columns[0];
    EXPECT_TRUE(col.approximate);
    EXPECT_LE(col.buckets.size(), 3u);
    EXPECT_EQ(col.buckets[0].value, Value::String("vip"));
    EXPECT_EQ(col.buckets[0].selection_count, 200u);
    EXPECT_DOUBLE_EQ(col.buckets[0].selection_fraction, 1.0);
    // "other" holds the baseline's lumped tail.
    EXPECT_EQ(col.buckets[1].kind, BubbleUpBucket::Kind::kOther);
    EXPECT_GT(col.buckets[1].baseline_count, 0u);
    EXPECT_EQ(col.buckets[1].selection_count, 0u);
  }
}

TEST(BubbleUp, ValueTableStaysBounded) {
  internal::ValueDistribution dist;
  std::vector<std::string> values;
  for (int i = 0; i < 100000; ++i) values.push_back("value-" + std::to_string(i));
  std::vector<std::string_view> views(values.begin(), values.end());
  ColumnBuffer buffer(views.size());
  buffer.AdoptStrings(views);
  std::vector<uint32_t> rows(views.size());
  for (uint32_t r = 0; r < rows.size(); ++r) rows[r] = r;
  std::vector<uint8_t> side(rows.size(), internal::kBaseline);
  const size_t before = dist.MemoryBytes();
  dist.Add(buffer.View(), rows, side);
  EXPECT_LT(dist.MemoryBytes() - before, size_t{2} << 20);
  bool approximate = false;
  auto buckets = dist.Finish({0, rows.size()}, &approximate);
  EXPECT_TRUE(approximate);
  EXPECT_LE(buckets.size(), kBubbleUpValueTableCapacity + 1);
  uint64_t total = 0;
  for (const BubbleUpBucket& b : buckets) total += b.baseline_count;
  EXPECT_EQ(total, rows.size());  // nothing is lost: dropped counts are in "other"
}

TEST(BubbleUp, MemoryBudgetExceededFails) {
  auto result = RunOnTable(SlowRegion(), 2, 7, /*budget=*/256);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(result.status().message().find("memory budget"), std::string_view::npos);
}

TEST(BubbleUp, BadRequestsNameTheField) {
  BubbleUpRequest req = SlowRegion();
  req.limit = 0;
  EXPECT_NE(RunOnTable(req).status().message().find("limit"), std::string_view::npos);
  req = SlowRegion();
  req.selection.lo = 10;
  req.selection.hi = 5;
  EXPECT_NE(RunOnTable(req).status().message().find("selection.duration_ms"), std::string_view::npos);
  req = SlowRegion();
  req.selection.kind = BubbleUpSelection::Kind::kFilters;
  EXPECT_NE(RunOnTable(req).status().message().find("selection.filters"), std::string_view::npos);
  req = SlowRegion();
  req.spec.time_range = 10;
  auto bad = RunOnTable(req);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message().substr(0, 6), "query.");
}

TEST(BubbleUp, FineCellsKeepOrderAndSmallIntegers) {
  EXPECT_LT(internal::FineCell(-5), internal::FineCell(-1));
  EXPECT_LT(internal::FineCell(-1), internal::FineCell(0));
  EXPECT_EQ(internal::FineCell(-0.0), internal::FineCell(0.0));
  EXPECT_LT(internal::FineCell(0), internal::FineCell(1e-300));
  for (int i = 1; i < 512; ++i) EXPECT_LT(internal::FineCell(i - 1), internal::FineCell(i));
}

}  // namespace
}  // namespace waggle::query
