#include "query/aggregate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <numeric>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "query/hash.h"

namespace waggle::query {

// Readable failure messages for EXPECT_EQ on CalcValue (found by ADL).
void PrintTo(const CalcValue& value, std::ostream* os) {
  switch (value.kind) {
    case CalcValue::Kind::kNull: *os << "null"; return;
    case CalcValue::Kind::kNumber: *os << value.number; return;
    case CalcValue::Kind::kHeatmap:
      *os << "heatmap[" << value.heatmap.lo << ", " << value.heatmap.hi << "] {";
      for (uint64_t c : value.heatmap.counts) *os << c << " ";
      *os << "}";
      return;
  }
}

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

CalcValue Num(double v) {
  CalcValue value;
  value.kind = CalcValue::Kind::kNumber;
  value.number = v;
  return value;
}
const CalcValue kNull{};

BucketLayout Layout(size_t buckets, int64_t start_ns = 0, int64_t width_ns = 10) {
  return BucketLayout{start_ns, width_ns, buckets};
}

struct Finalized {
  CalcValue summary;
  std::vector<CalcValue> buckets;
};

// Finalizes one group both ways and checks that the summary-only call agrees.
Finalized Finalize(const Aggregator& agg, const std::vector<uint32_t>& bucket_slots,
                   const BucketLayout& layout) {
  EXPECT_EQ(bucket_slots.size(), layout.count);
  Finalized out;
  out.buckets.assign(layout.count, Num(-12345));  // must all be overwritten
  agg.FinalizeGroup(bucket_slots.data(), layout, &out.summary, out.buckets.data());
  CalcValue summary_only = Num(-12345);
  agg.FinalizeGroup(bucket_slots.data(), layout, &summary_only, nullptr);
  EXPECT_EQ(summary_only, out.summary) << "summary-only finalize disagrees";
  return out;
}

Finalized Finalize(const Aggregator& agg, const std::vector<uint32_t>& bucket_slots) {
  return Finalize(agg, bucket_slots, Layout(bucket_slots.size()));
}

void AddNumbers(Aggregator& agg, const std::vector<uint32_t>& slots,
                const std::vector<double>& values) {
  ASSERT_EQ(slots.size(), values.size());
  agg.AddNumbers(slots.data(), values.data(), values.size());
}

// Adds `values` to one slot.
void AddNumbersTo(Aggregator& agg, uint32_t slot, const std::vector<double>& values) {
  AddNumbers(agg, std::vector<uint32_t>(values.size(), slot), values);
}

void AddHashesTo(Aggregator& agg, uint32_t slot, const std::vector<uint64_t>& hashes) {
  std::vector<uint32_t> slots(hashes.size(), slot);
  agg.AddHashes(slots.data(), hashes.data(), hashes.size());
}

struct Span {
  uint32_t slot;
  int64_t start_ns;
  int64_t end_ns;
};

void AddSpans(Aggregator& agg, const std::vector<Span>& spans) {
  std::vector<uint32_t> slots;
  std::vector<int64_t> starts, ends;
  for (const Span& s : spans) {
    slots.push_back(s.slot);
    starts.push_back(s.start_ns);
    ends.push_back(s.end_ns);
  }
  agg.AddIntervals(slots.data(), starts.data(), ends.data(), spans.size());
}

std::unique_ptr<Aggregator> Make(CalcOp op, size_t slots) {
  std::unique_ptr<Aggregator> agg = MakeAggregator(op);
  agg->Resize(slots);
  return agg;
}

// ---------------------------------------------------------------------------------------------

TEST(MakeAggregatorTest, EveryOpHasItsInput) {
  for (int i = 0; i < kCalcOpCount; ++i) {
    const CalcOp op = static_cast<CalcOp>(i);
    std::unique_ptr<Aggregator> agg = MakeAggregator(op);
    ASSERT_NE(agg, nullptr);
    EXPECT_EQ(agg->op(), op);
    AggInput expected = AggInput::kNumber;
    if (op == CalcOp::kCount) expected = AggInput::kNone;
    if (op == CalcOp::kConcurrency) expected = AggInput::kInterval;
    if (op == CalcOp::kCountDistinct) expected = AggInput::kHash;
    EXPECT_EQ(agg->input(), expected) << i;
    EXPECT_FALSE(agg->approximate());
  }
}

TEST(MakeAggregatorTest, EveryOpFinalizesAnEmptyGroup) {
  for (int i = 0; i < kCalcOpCount; ++i) {
    const CalcOp op = static_cast<CalcOp>(i);
    std::unique_ptr<Aggregator> agg = Make(op, 3);
    agg->SetHeatmapRange(0, 1);
    Finalized f = Finalize(*agg, {kNoSlot, 1, kNoSlot});
    const bool zero = op == CalcOp::kCount || op == CalcOp::kConcurrency;
    EXPECT_EQ(f.summary, zero ? Num(0) : kNull) << i;
    for (const CalcValue& v : f.buckets) EXPECT_EQ(v, zero ? Num(0) : kNull) << i;
  }
}

TEST(MakeAggregatorTest, ResizeNeverShrinks) {
  std::unique_ptr<Aggregator> agg = Make(CalcOp::kCount, 1);
  agg->Resize(2);
  agg->Resize(3);
  const uint32_t slots[] = {2, 2};
  agg->AddCount(slots, 2);
  agg->Resize(1);
  EXPECT_EQ(Finalize(*agg, {2}).summary, Num(2));
}

#ifndef NDEBUG
TEST(AggregatorDeathTest, WrongInputAssertsInDebug) {
  std::unique_ptr<Aggregator> agg = Make(CalcOp::kCount, 1);
  const uint32_t slot = 0;
  const double value = 1;
  EXPECT_DEATH(agg->AddNumbers(&slot, &value, 1), "AddNumbers");
}
#endif

// ---------------------------------------------------------------------------------------------
// COUNT

TEST(CountTest, CountsRowsPerSlotAndZeroForMissingBuckets) {
  std::unique_ptr<Aggregator> agg = Make(CalcOp::kCount, 3);
  const std::vector<uint32_t> slots = {0, 2, 0, 0, 2};
  agg->AddCount(slots.data(), slots.size());
  Finalized f = Finalize(*agg, {0, kNoSlot, 2, 1});
  EXPECT_EQ(f.summary, Num(5));
  EXPECT_EQ(f.buckets, (std::vector<CalcValue>{Num(3), Num(0), Num(2), Num(0)}));
}

TEST(CountTest, MergesAnotherWorkersSlots) {
  std::unique_ptr<Aggregator> a = Make(CalcOp::kCount, 2);
  std::unique_ptr<Aggregator> b = Make(CalcOp::kCount, 3);
  const std::vector<uint32_t> a_rows = {0, 1, 1};
  const std::vector<uint32_t> b_rows = {2, 2, 2, 0};
  a->AddCount(a_rows.data(), a_rows.size());
  b->AddCount(b_rows.data(), b_rows.size());
  a->MergeSlot(1, *b, 2);  // b's slot 2 is a's slot 1
  a->MergeSlot(0, *b, 0);
  Finalized f = Finalize(*a, {0, 1});
  EXPECT_EQ(f.summary, Num(7));
  EXPECT_EQ(f.buckets, (std::vector<CalcValue>{Num(2), Num(5)}));
}

// ---------------------------------------------------------------------------------------------
// SUM AVG MIN MAX

TEST(NumberStatsTest, PerSlotAndSummary) {
  struct Case {
    CalcOp op;
    double bucket0, bucket2, summary;
  };
  // bucket 0: {4, -1, 3}; bucket 2: {10}.
  for (const Case& c : {Case{CalcOp::kSum, 6, 10, 16}, Case{CalcOp::kAvg, 2, 10, 4},
                        Case{CalcOp::kMin, -1, 10, -1}, Case{CalcOp::kMax, 4, 10, 10}}) {
    std::unique_ptr<Aggregator> agg = Make(c.op, 3);
    AddNumbers(*agg, {0, 2, 0, 0}, {4, 10, -1, 3});
    Finalized f = Finalize(*agg, {0, 1, 2, kNoSlot});
    EXPECT_EQ(f.summary, Num(c.summary)) << CalcOpName(c.op);
    EXPECT_EQ(f.buckets, (std::vector<CalcValue>{Num(c.bucket0), kNull, Num(c.bucket2), kNull}))
        << CalcOpName(c.op);
  }
}

TEST(NumberStatsTest, NaNIsSkippedAndOnlyNaNIsNull) {
  for (CalcOp op : {CalcOp::kSum, CalcOp::kAvg, CalcOp::kMin, CalcOp::kMax}) {
    std::unique_ptr<Aggregator> agg = Make(op, 2);
    AddNumbers(*agg, {0, 0, 1}, {kNaN, 5, kNaN});
    Finalized f = Finalize(*agg, {0, 1});
    EXPECT_EQ(f.summary, Num(5));
    EXPECT_EQ(f.buckets, (std::vector<CalcValue>{Num(5), kNull}));
  }
}

TEST(NumberStatsTest, MergesAcrossAggregators) {
  for (CalcOp op : {CalcOp::kSum, CalcOp::kAvg, CalcOp::kMin, CalcOp::kMax}) {
    std::unique_ptr<Aggregator> a = Make(op, 1);
    std::unique_ptr<Aggregator> b = Make(op, 2);
    AddNumbersTo(*a, 0, {1, 2});
    AddNumbersTo(*b, 1, {6, 11});
    AddNumbersTo(*b, 0, {1000});  // not merged
    a->MergeSlot(0, *b, 1);
    const double expected = op == CalcOp::kSum ? 20 : op == CalcOp::kAvg ? 5
                            : op == CalcOp::kMin ? 1 : 11;
    EXPECT_EQ(Finalize(*a, {0}).summary, Num(expected));
  }
}

TEST(NumberStatsTest, MergingAnEmptySlotKeepsNull) {
  std::unique_ptr<Aggregator> a = Make(CalcOp::kMin, 1);
  std::unique_ptr<Aggregator> b = Make(CalcOp::kMin, 1);
  a->MergeSlot(0, *b, 0);
  EXPECT_EQ(Finalize(*a, {0}).summary, kNull);
}

// ---------------------------------------------------------------------------------------------
// Percentiles (nearest rank: sorted[ceil(q*n) - 1])

const CalcOp kPercentiles[] = {CalcOp::kP001, CalcOp::kP01, CalcOp::kP05, CalcOp::kP10,
                               CalcOp::kP20,  CalcOp::kP25, CalcOp::kP50, CalcOp::kP75,
                               CalcOp::kP80,  CalcOp::kP90, CalcOp::kP95, CalcOp::kP99,
                               CalcOp::kP999};

double PercentileOfOneSlot(CalcOp op, const std::vector<double>& values) {
  std::unique_ptr<Aggregator> agg = Make(op, 1);
  AddNumbersTo(*agg, 0, values);
  Finalized f = Finalize(*agg, {0});
  EXPECT_EQ(f.summary.kind, CalcValue::Kind::kNumber);
  EXPECT_EQ(f.buckets[0], f.summary);
  return f.summary.number;
}

TEST(PercentileTest, OneValueIsEveryPercentile) {
  for (CalcOp op : kPercentiles) EXPECT_EQ(PercentileOfOneSlot(op, {7.5}), 7.5);
}

TEST(PercentileTest, TwoValues) {
  // ceil(q*2) is 1 for q <= 0.5, else 2.
  for (CalcOp op : kPercentiles) {
    const bool upper = op == CalcOp::kP75 || op == CalcOp::kP80 || op == CalcOp::kP90 ||
                       op == CalcOp::kP95 || op == CalcOp::kP99 || op == CalcOp::kP999;
    EXPECT_EQ(PercentileOfOneSlot(op, {20, 10}), upper ? 20 : 10) << CalcOpName(op);
  }
}

TEST(PercentileTest, TenValues) {
  const std::vector<double> values = {7, 3, 10, 1, 9, 2, 8, 5, 4, 6};
  struct Case {
    CalcOp op;
    double expected;
  };
  for (const Case& c : {Case{CalcOp::kP001, 1}, Case{CalcOp::kP01, 1}, Case{CalcOp::kP05, 1},
                        Case{CalcOp::kP10, 1}, Case{CalcOp::kP20, 2}, Case{CalcOp::kP25, 3},
                        Case{CalcOp::kP50, 5}, Case{CalcOp::kP75, 8}, Case{CalcOp::kP80, 8},
                        Case{CalcOp::kP90, 9}, Case{CalcOp::kP95, 10}, Case{CalcOp::kP99, 10},
                        Case{CalcOp::kP999, 10}}) {
    EXPECT_EQ(PercentileOfOneSlot(c.op, values), c.expected) << CalcOpName(c.op);
  }
}

// q*n is a whole number here, where a floating-point ceil(0.999 * 1000) may be off by one.
TEST(PercentileTest, ExactRanksAtOneThousandValues) {
  std::vector<double> values(1000);
  std::iota(values.begin(), values.end(), 1.0);
  std::shuffle(values.begin(), values.end(), std::mt19937(42));
  const double expected[] = {1, 10, 50, 100, 200, 250, 500, 750, 800, 900, 950, 990, 999};
  for (size_t i = 0; i < std::size(kPercentiles); ++i) {
    EXPECT_EQ(PercentileOfOneSlot(kPercentiles[i], values), expected[i])
        << CalcOpName(kPercentiles[i]);
  }
}

TEST(PercentileTest, DuplicatesNaNAndInfinity) {
  EXPECT_EQ(PercentileOfOneSlot(CalcOp::kP50, {3, 3, 3, 1}), 3);
  EXPECT_EQ(PercentileOfOneSlot(CalcOp::kP50, {kNaN, 2, kNaN, 1, 3}), 2);
  EXPECT_EQ(PercentileOfOneSlot(CalcOp::kP999, {1, kInf}), kInf);
  EXPECT_EQ(PercentileOfOneSlot(CalcOp::kP001, {-kInf, 1}), -kInf);
}

TEST(PercentileTest, SummaryMergesBucketsAndEmptyBucketsAreNull) {
  std::unique_ptr<Aggregator> agg = Make(CalcOp::kP50, 3);
  AddNumbers(*agg, {0, 2, 0, 2, 2, 0, 2, 2, 2, 2}, {3, 4, 1, 10, 9, 2, 8, 5, 6, 7});
  Finalized f = Finalize(*agg, {0, kNoSlot, 2, 1});
  // bucket 0 {1,2,3}: rank ceil(1.5)=2 -> 2; bucket 2 {4..10}: rank ceil(3.5)=4 -> 7;
  // all ten: rank 5 -> 5.
  EXPECT_EQ(f.buckets, (std::vector<CalcValue>{Num(2), kNull, Num(7), kNull}));
  EXPECT_EQ(f.summary, Num(5));
}

TEST(PercentileTest, MergesAcrossAggregators) {
  std::unique_ptr<Aggregator> a = Make(CalcOp::kP90, 2);
  std::unique_ptr<Aggregator> b = Make(CalcOp::kP90, 2);
  AddNumbersTo(*a, 1, {1, 2, 3, 4, 5});
  AddNumbersTo(*b, 0, {10, 9, 8, 7, 6});
  AddNumbersTo(*b, 1, {1000});
  a->MergeSlot(1, *b, 0);
  // {1..10}: rank 9.
  EXPECT_EQ(Finalize(*a, {1}).summary, Num(9));
  EXPECT_EQ(Finalize(*b, {1}).summary, Num(1000));  // the source is unchanged
}

TEST(PercentileTest, ManyValuesAcrossManySlots) {
  constexpr uint32_t kSlots = 300;
  constexpr size_t kValues = 300000;
  std::unique_ptr<Aggregator> a = Make(CalcOp::kP99, kSlots);
  std::unique_ptr<Aggregator> b = Make(CalcOp::kP99, kSlots);
  std::vector<uint32_t> slots(kValues);
  std::vector<double> values(kValues);
  for (size_t i = 0; i < kValues; ++i) {
    slots[i] = static_cast<uint32_t>(i % kSlots);
    values[i] = static_cast<double>(i);
  }
  a->AddNumbers(slots.data(), values.data(), kValues / 2);
  b->AddNumbers(slots.data() + kValues / 2, values.data() + kValues / 2, kValues / 2);
  for (uint32_t s = 0; s < kSlots; ++s) a->MergeSlot(s, *b, s);
  // Slot s holds s, s+300, ..., s+299700 (1000 values): rank 990 -> s + 989*300.
  std::vector<uint32_t> group(kSlots);
  std::iota(group.begin(), group.end(), 0u);
  Finalized f = Finalize(*a, group, Layout(kSlots));
  for (uint32_t s = 0; s < kSlots; ++s) {
    ASSERT_EQ(f.buckets[s], Num(s + 989.0 * kSlots)) << s;
  }
  // All 300000 values 0..299999: rank 297000 -> 296999.
  EXPECT_EQ(f.summary, Num(296999));
}

TEST(PercentileTest, MemoryIsAboutEightBytesPerValue) {
  std::unique_ptr<Aggregator> agg = Make(CalcOp::kP50, 1);
  const size_t empty = agg->MemoryBytes();
  constexpr size_t kValues = 1'000'000;
  std::vector<double> values(kValues, 1.0);
  std::vector<uint32_t> slots(kValues, 0);
  agg->AddNumbers(slots.data(), values.data(), kValues);
  const size_t used = agg->MemoryBytes() - empty;
  EXPECT_GE(used, kValues * sizeof(double));
  EXPECT_LE(used, kValues * sizeof(double) * 11 / 10);
}

TEST(PercentileTest, MemoryGrowsWithValuesInManySmallSlots) {
  std::unique_ptr<Aggregator> agg = Make(CalcOp::kP50, 0);
  size_t previous = agg->MemoryBytes();
  for (uint32_t s = 0; s < 5000; ++s) {
    agg->Resize(s + 1);
    AddNumbersTo(*agg, s, {1, 2, 3});
    if (s % 1000 == 999) {
      EXPECT_GT(agg->MemoryBytes(), previous);
      previous = agg->MemoryBytes();
    }
  }
  EXPECT_GE(previous, 5000 * 3 * sizeof(double));
  EXPECT_LE(previous, 5000 * 200);
}

// ---------------------------------------------------------------------------------------------
// HEATMAP

CalcValue HeatmapOf(double lo, double hi, std::vector<std::pair<size_t, uint64_t>> counts) {
  CalcValue v;
  v.kind = CalcValue::Kind::kHeatmap;
  v.heatmap.lo = lo;
  v.heatmap.hi = hi;
  v.heatmap.counts.assign(kHeatmapBuckets, 0);
  for (auto [bucket, count] : counts) v.heatmap.counts[bucket] = count;
  return v;
}

TEST(HeatmapTest, ExtendRangeCoversAllSlots) {
  std::unique_ptr<Aggregator> agg = Make(CalcOp::kHeatmap, 3);
  double lo = HUGE_VAL, hi = -HUGE_VAL;
  agg->ExtendRange(&lo, &hi);
  EXPECT_EQ(lo, HUGE_VAL);  // no values: untouched
  EXPECT_EQ(hi, -HUGE_VAL);
  AddNumbers(*agg, {0, 2, 2, 1}, {5, -3, kInf, 12});
  agg->ExtendRange(&lo, &hi);
  EXPECT_EQ(lo, -3);
  EXPECT_EQ(hi, 12);
  lo = -10;
  agg->ExtendRange(&lo, &hi);
  EXPECT_EQ(lo, -10);
}

TEST(HeatmapTest, BucketEdges) {
  std::unique_ptr<Aggregator> agg = Make(CalcOp::kHeatmap, 1);
  // Width 1 per heatmap bucket over [0, 50].
  AddNumbersTo(*agg, 0, {0, 0.99, 1, 24.5, 49, 49.99, 50, kNaN, kInf, -kInf});
  agg->SetHeatmapRange(0, 50);
  Finalized f = Finalize(*agg, {0});
  EXPECT_EQ(f.summary, HeatmapOf(0, 50, {{0, 2}, {1, 1}, {24, 1}, {49, 3}}));
  EXPECT_EQ(f.buckets[0], f.summary);
}

TEST(HeatmapTest, EqualLoAndHiPutsEverythingInBucketZero) {
  std::unique_ptr<Aggregator> agg = Make(CalcOp::kHeatmap, 1);
  AddNumbersTo(*agg, 0, {3, 3, 3});
  agg->SetHeatmapRange(3, 3);
  EXPECT_EQ(Finalize(*agg, {0}).summary, HeatmapOf(3, 3, {{0, 3}}));
}

TEST(HeatmapTest, HugeRangeStillSpreadsValues) {
  const double big = std::numeric_limits<double>::max();
  std::unique_ptr<Aggregator> agg = Make(CalcOp::kHeatmap, 1);
  AddNumbersTo(*agg, 0, {-big, 0, big});
  agg->SetHeatmapRange(-big, big);
  EXPECT_EQ(Finalize(*agg, {0}).summary, HeatmapOf(-big, big, {{0, 1}, {25, 1}, {49, 1}}));
}

TEST(HeatmapTest, PerBucketSharesRangeSummaryMergesAndEmptyIsNull) {
  std::unique_ptr<Aggregator> agg = Make(CalcOp::kHeatmap, 3);
  AddNumbers(*agg, {0, 0, 2, 2, 2}, {10, 20, 10, 15, 110});
  agg->SetHeatmapRange(10, 110);  // 2 per heatmap bucket
  Finalized f = Finalize(*agg, {0, kNoSlot, 2, 1});
  EXPECT_EQ(f.buckets[0], HeatmapOf(10, 110, {{0, 1}, {5, 1}}));
  EXPECT_EQ(f.buckets[1], kNull);
  EXPECT_EQ(f.buckets[2], HeatmapOf(10, 110, {{0, 1}, {2, 1}, {49, 1}}));
  EXPECT_EQ(f.buckets[3], kNull);  // slot 1 exists but has no values
  EXPECT_EQ(f.summary, HeatmapOf(10, 110, {{0, 2}, {2, 1}, {5, 1}, {49, 1}}));
}

TEST(HeatmapTest, MergesAcrossAggregators) {
  std::unique_ptr<Aggregator> a = Make(CalcOp::kHeatmap, 1);
  std::unique_ptr<Aggregator> b = Make(CalcOp::kHeatmap, 1);
  AddNumbersTo(*a, 0, {0, 1});
  AddNumbersTo(*b, 0, {1, 100});
  a->MergeSlot(0, *b, 0);
  double lo = HUGE_VAL, hi = -HUGE_VAL;
  a->ExtendRange(&lo, &hi);
  EXPECT_EQ(lo, 0);
  EXPECT_EQ(hi, 100);
  a->SetHeatmapRange(lo, hi);
  EXPECT_EQ(Finalize(*a, {0}).summary, HeatmapOf(0, 100, {{0, 3}, {49, 1}}));
}

TEST(HeatmapTest, MemoryGrowsWithValues) {
  std::unique_ptr<Aggregator> agg = Make(CalcOp::kHeatmap, 1);
  const size_t before = agg->MemoryBytes();
  AddNumbersTo(*agg, 0, std::vector<double>(10000, 1.0));
  EXPECT_GE(agg->MemoryBytes(), before + 10000 * sizeof(double));
}

// ---------------------------------------------------------------------------------------------
// MakeAggregators: the percentiles and HEATMAPs of one column share one store of values

constexpr uint32_t kPerMille[] = {1, 10, 50, 100, 200, 250, 500, 750, 800, 900, 950, 990, 999};
static_assert(std::size(kPerMille) == std::size(kPercentiles));

// Nearest rank the plain way: sort the values without NaN, take the ceil(q*n)-th (at least the
// first).
CalcValue ReferencePercentile(std::vector<double> values, CalcOp op) {
  std::erase_if(values, [](double v) { return std::isnan(v); });
  if (values.empty()) return kNull;
  std::sort(values.begin(), values.end());
  const size_t position =
      static_cast<size_t>(std::find(std::begin(kPercentiles), std::end(kPercentiles), op) -
                          std::begin(kPercentiles));
  const size_t rank = (kPerMille[position] * values.size() + 999) / 1000;
  return Num(values[std::max<size_t>(rank, 1) - 1]);
}

// Rows for a set of aggregators: each row's slot and its value of the columns "a" and "b" (NaN:
// the row has no number there).
struct TwoColumnRows {
  std::vector<uint32_t> slots;
  std::vector<double> a, b;

  void Add(uint32_t slot, double a_value, double b_value) {
    slots.push_back(slot);
    a.push_back(a_value);
    b.push_back(b_value);
  }
};

using AggregatorSet = std::vector<std::unique_ptr<Aggregator>>;

AggregatorSet MakeSet(const std::vector<Calculation>& calcs, size_t slots) {
  AggregatorSet set = MakeAggregators(calcs);
  for (auto& agg : set) agg->Resize(slots);
  return set;
}

// Feeds `rows` as the query worker does: an aggregator taking numbers gets the rows that have a
// number in its column, one taking kShared gets nothing.
void Feed(AggregatorSet& set, const std::vector<Calculation>& calcs, const TwoColumnRows& rows) {
  for (size_t c = 0; c < set.size(); ++c) {
    switch (set[c]->input()) {
      case AggInput::kNone: set[c]->AddCount(rows.slots.data(), rows.slots.size()); break;
      case AggInput::kNumber: {
        const std::vector<double>& column = calcs[c].column == "a" ? rows.a : rows.b;
        std::vector<uint32_t> slots;
        std::vector<double> values;
        for (size_t k = 0; k < rows.slots.size(); ++k) {
          if (std::isnan(column[k]) && k % 2 == 0) continue;  // half the NaNs are fed
          slots.push_back(rows.slots[k]);
          values.push_back(column[k]);
        }
        set[c]->AddNumbers(slots.data(), values.data(), values.size());
        break;
      }
      case AggInput::kShared: break;
      default: ADD_FAILURE() << "unexpected input for " << CalcOpName(calcs[c].op);
    }
  }
}

TEST(SharedValuesTest, OneLeadPerColumnTakesAndCountsTheValues) {
  const std::vector<Calculation> calcs = {
      {CalcOp::kP50, "a"},     {CalcOp::kCount, ""}, {CalcOp::kP95, "a"}, {CalcOp::kHeatmap, "a"},
      {CalcOp::kP99, "a"},     {CalcOp::kP50, "b"},  {CalcOp::kMax, "a"}, {CalcOp::kHeatmap, "b"},
      {CalcOp::kP999, "a"}};
  AggregatorSet set = MakeSet(calcs, 2);
  const AggInput expected[] = {AggInput::kNumber, AggInput::kNone,   AggInput::kShared,
                               AggInput::kShared, AggInput::kShared, AggInput::kNumber,
                               AggInput::kNumber, AggInput::kShared, AggInput::kShared};
  ASSERT_EQ(set.size(), calcs.size());
  for (size_t c = 0; c < calcs.size(); ++c) {
    EXPECT_EQ(set[c]->op(), calcs[c].op) << c;
    EXPECT_EQ(set[c]->input(), expected[c]) << c;
  }
  TwoColumnRows rows;
  for (int i = 0; i < 20000; ++i) rows.Add(i % 2, i % 7 == 0 ? kNaN : i, i % 3);
  Feed(set, calcs, rows);
  // The store of "a" is counted once, by its lead, exactly as a lone P50 holding those values.
  std::unique_ptr<Aggregator> alone = Make(CalcOp::kP50, 2);
  AddNumbers(*alone, rows.slots, rows.a);
  EXPECT_EQ(set[0]->MemoryBytes(), alone->MemoryBytes());
  for (size_t c : {2, 3, 4, 7, 8}) EXPECT_EQ(set[c]->MemoryBytes(), 0u) << c;
  EXPECT_GE(set[5]->MemoryBytes(), 20000 * sizeof(double));
  // A column without percentiles or heatmaps is untouched; a lone HEATMAP still leads.
  AggregatorSet heatmap_only = MakeAggregators({{CalcOp::kHeatmap, "a"}, {CalcOp::kP50, "b"}});
  EXPECT_EQ(heatmap_only[0]->input(), AggInput::kNumber);
  EXPECT_EQ(heatmap_only[1]->input(), AggInput::kNumber);
}

// Two sets (two workers' shares of the rows, numbered differently) merged as the executor
// does; every percentile of every group and bucket must be the nearest rank of exactly that
// group's and bucket's values: groups with one value, heavy ties, NaN and ±inf, empty buckets
// and buckets without a slot, a percentile asked for twice, and another column alongside.
TEST(SharedValuesTest, MergedSetsMatchAReferenceForEveryGroupAndBucket) {
  const std::vector<Calculation> calcs = {
      {CalcOp::kP999, "a"}, {CalcOp::kP50, "a"},  {CalcOp::kP01, "a"},     {CalcOp::kP50, "b"},
      {CalcOp::kP99, "a"},  {CalcOp::kP95, "b"},  {CalcOp::kHeatmap, "a"}, {CalcOp::kP25, "a"},
      {CalcOp::kP50, "a"},  {CalcOp::kCount, ""}, {CalcOp::kP001, "b"}};
  constexpr uint32_t kGroups = 5, kBuckets = 4, kSlots = kGroups * kBuckets;
  auto slot_in_a = [](uint32_t g, uint32_t b) { return g * kBuckets + b; };
  auto slot_in_b = [](uint32_t g, uint32_t b) { return kSlots - 1 - (g * kBuckets + b); };
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> spread(-1000, 1000);
  // values_a[g][b], values_b[g][b]: the values of columns a and b in group g, bucket b.
  std::vector<std::vector<std::vector<double>>> values_a(kGroups), values_b(kGroups);
  for (uint32_t g = 0; g < kGroups; ++g) {
    values_a[g].resize(kBuckets);
    values_b[g].resize(kBuckets);
  }
  TwoColumnRows rows_a, rows_b;  // the two workers' rows
  auto add = [&](uint32_t g, uint32_t b, double a, double bv, bool second_worker) {
    values_a[g][b].push_back(a);
    values_b[g][b].push_back(bv);
    if (second_worker) {
      rows_b.Add(slot_in_b(g, b), a, bv);
    } else {
      rows_a.Add(slot_in_a(g, b), a, bv);
    }
  };
  // Group 0: one value of a (bucket 2), none of b.
  add(0, 2, 42, kNaN, true);
  // Group 1: heavy ties, some NaN, in every bucket and in both workers.
  for (int i = 0; i < 3000; ++i) {
    const double tie = std::array<double, 5>{1, 2, 2, 2, 3}[rng() % 5];
    add(1, i % kBuckets, i % 13 == 0 ? kNaN : tie, i % 2 ? 7.0 : 7.5, i % 3 == 0);
  }
  // Group 2: random values and infinities; bucket 1 has only NaN.
  for (int i = 0; i < 5000; ++i) {
    const uint32_t b = i % 3 == 0 ? 0 : i % 3 == 1 ? 2 : 3;
    double a = spread(rng);
    if (i % 501 == 0) a = kInf;
    if (i % 499 == 0) a = -kInf;
    add(2, b, a, std::floor(spread(rng)), i % 2 == 0);
  }
  add(2, 1, kNaN, kNaN, false);
  // Group 3: two values per bucket, one from each worker.
  for (uint32_t b = 0; b < kBuckets; ++b) {
    add(3, b, 10.0 * b, -1.0 * b, false);
    add(3, b, 10.0 * b + 1, -1.0 * b - 1, true);
  }
  // Group 4: many values, all in bucket 0 of the first worker.
  for (int i = 0; i < 20000; ++i) add(4, 0, static_cast<double>(rng() % 1000), i, false);

  AggregatorSet first = MakeSet(calcs, kSlots), second = MakeSet(calcs, kSlots);
  Feed(first, calcs, rows_a);
  Feed(second, calcs, rows_b);
  for (uint32_t g = 0; g < kGroups; ++g) {
    for (uint32_t b = 0; b < kBuckets; ++b) {
      for (size_t c = 0; c < calcs.size(); ++c) {
        first[c]->MergeSlot(slot_in_a(g, b), *second[c], slot_in_b(g, b));
      }
    }
  }
  double lo = HUGE_VAL, hi = -HUGE_VAL;
  for (auto& agg : first) agg->ExtendRange(&lo, &hi);
  for (auto& agg : first) agg->SetHeatmapRange(lo, hi);
  // The heatmap, from a lone aggregator given every value directly.
  std::unique_ptr<Aggregator> heatmap = Make(CalcOp::kHeatmap, kSlots);
  for (uint32_t g = 0; g < kGroups; ++g) {
    for (uint32_t b = 0; b < kBuckets; ++b) AddNumbersTo(*heatmap, slot_in_a(g, b), values_a[g][b]);
  }
  heatmap->SetHeatmapRange(lo, hi);

  auto group_slots = [&](uint32_t g) {
    std::vector<uint32_t> slots(kBuckets);
    for (uint32_t b = 0; b < kBuckets; ++b) slots[b] = slot_in_a(g, b);
    if (g == 2) slots[1] = kNoSlot;  // its NaN-only bucket, also as "no slot"
    return slots;
  };
  // Finalises calculation c of group g as the executor does (with a series or only the
  // summary) and compares it with the reference.
  auto check = [&](size_t c, uint32_t g, bool series) {
    SCOPED_TRACE(testing::Message() << "calc " << c << " group " << g << " series " << series);
    const std::vector<uint32_t> slots = group_slots(g);
    CalcValue summary = Num(-12345), want_summary;
    std::vector<CalcValue> buckets(kBuckets, Num(-12345)), want_buckets(kBuckets);
    first[c]->FinalizeGroup(slots.data(), Layout(kBuckets), &summary,
                            series ? buckets.data() : nullptr);
    if (calcs[c].op == CalcOp::kHeatmap) {
      heatmap->FinalizeGroup(slots.data(), Layout(kBuckets), &want_summary, want_buckets.data());
    } else if (IsPercentile(calcs[c].op)) {
      const auto& values = calcs[c].column == "a" ? values_a[g] : values_b[g];
      std::vector<double> all;
      for (uint32_t b = 0; b < kBuckets; ++b) {
        if (slots[b] == kNoSlot) continue;
        want_buckets[b] = ReferencePercentile(values[b], calcs[c].op);
        all.insert(all.end(), values[b].begin(), values[b].end());
      }
      want_summary = ReferencePercentile(all, calcs[c].op);
    } else {
      return;
    }
    EXPECT_EQ(summary, want_summary);
    if (series) {
      EXPECT_EQ(buckets, want_buckets);
    }
  };
  for (bool series : {true, false}) {
    // Group after group, as the executor finalises (a group's percentiles are selected once) ...
    for (uint32_t g = 0; g < kGroups; ++g) {
      for (size_t c = 0; c < calcs.size(); ++c) check(c, g, series);
    }
    // ... and calculation after calculation, so no group's answer is reused for another.
    for (size_t c = calcs.size(); c-- > 0;) {
      for (uint32_t g = 0; g < kGroups; ++g) check(c, g, series);
    }
  }
  // The summary alone, then the series of the same group, as for groups kept past a limit.
  for (uint32_t g = kGroups; g-- > 0;) {
    for (size_t c = 0; c < calcs.size(); ++c) {
      check(c, g, false);
      check(c, g, true);
    }
  }
  EXPECT_EQ(Finalize(*first[1], group_slots(0)).summary, Num(42));
  EXPECT_EQ(Finalize(*first[3], group_slots(0)).summary, kNull);
}

// Every percentile at once over 1..70 values (so several ask for the same index) and over
// many values with ties, in one store.
TEST(SharedValuesTest, AllPercentilesTogetherMatchTheReference) {
  std::vector<Calculation> calcs;
  for (CalcOp op : kPercentiles) calcs.push_back({op, "a"});
  std::mt19937 rng(5);
  std::vector<size_t> sizes(70);
  std::iota(sizes.begin(), sizes.end(), 1);
  sizes.push_back(10000);
  for (size_t n : sizes) {
    AggregatorSet set = MakeSet(calcs, 1);
    TwoColumnRows rows;
    for (size_t i = 0; i < n; ++i) rows.Add(0, static_cast<double>(rng() % (n / 3 + 1)), kNaN);
    Feed(set, calcs, rows);
    for (size_t c = 0; c < calcs.size(); ++c) {
      const Finalized f = Finalize(*set[c], {0});
      EXPECT_EQ(f.summary, ReferencePercentile(rows.a, calcs[c].op))
          << n << " values, " << CalcOpName(calcs[c].op);
    }
  }
}

// A group's percentiles are kept for the next percentile of the same group; adding or merging
// values must not leave a stale answer behind.
TEST(SharedValuesTest, AddingOrMergingValuesAfterFinalizingIsSeen) {
  const std::vector<Calculation> calcs = {{CalcOp::kP50, "a"}, {CalcOp::kP99, "a"}};
  AggregatorSet set = MakeSet(calcs, 1);
  AggregatorSet other = MakeSet(calcs, 1);
  auto summary = [](const Aggregator& agg) {
    const uint32_t slot = 0;
    CalcValue value;
    agg.FinalizeGroup(&slot, Layout(1), &value, nullptr);
    return value;
  };
  AddNumbersTo(*set[0], 0, {1, 2, 3});
  EXPECT_EQ(summary(*set[1]), Num(3));
  EXPECT_EQ(summary(*set[0]), Num(2));
  AddNumbersTo(*set[0], 0, {10, 11, 12, 13});
  EXPECT_EQ(summary(*set[0]), Num(10));  // {1,2,3,10,11,12,13}: rank 4
  EXPECT_EQ(summary(*set[1]), Num(13));
  AddNumbersTo(*other[0], 0, {100, 200});
  for (size_t c = 0; c < calcs.size(); ++c) set[c]->MergeSlot(0, *other[c], 0);
  EXPECT_EQ(summary(*set[1]), Num(200));
  EXPECT_EQ(summary(*set[0]), Num(11));  // nine values: rank 5
  EXPECT_EQ(summary(*other[1]), Num(200));  // the source is unchanged
}

// ---------------------------------------------------------------------------------------------
// COUNT_DISTINCT

TEST(HashTest, TypesAreDistinctAndDoublesHashByValue) {
  const uint64_t hashes[] = {HashString("1"), HashInt(1), HashDouble(1.0), HashBool(true)};
  for (size_t i = 0; i < std::size(hashes); ++i) {
    for (size_t j = i + 1; j < std::size(hashes); ++j) EXPECT_NE(hashes[i], hashes[j]);
  }
  EXPECT_NE(HashString(""), HashBool(false));
  EXPECT_NE(HashInt(0), HashDouble(0.0));
  EXPECT_NE(HashBool(false), HashBool(true));
  EXPECT_EQ(HashString("abc"), HashString(std::string("abc")));
  EXPECT_NE(HashString("abc"), HashString("abd"));
  EXPECT_EQ(HashInt(-7), HashInt(-7));
  EXPECT_NE(HashInt(1), HashInt(2));
  EXPECT_EQ(HashDouble(-0.0), HashDouble(0.0));
  EXPECT_EQ(HashDouble(kNaN), HashDouble(-kNaN));
  EXPECT_EQ(HashDouble(kNaN), HashDouble(std::nan("1")));
  EXPECT_NE(HashDouble(kNaN), HashDouble(kInf));
  EXPECT_NE(HashDouble(1.0), HashDouble(std::nextafter(1.0, 2.0)));
}

std::vector<uint64_t> IntHashes(int64_t from, int64_t to) {
  std::vector<uint64_t> hashes;
  for (int64_t i = from; i < to; ++i) hashes.push_back(HashInt(i));
  return hashes;
}

TEST(CountDistinctTest, ExactPerBucketAndUnionSummary) {
  std::unique_ptr<Aggregator> agg = Make(CalcOp::kCountDistinct, 3);
  AddHashesTo(*agg, 0, {HashString("a"), HashString("b"), HashString("a"), HashInt(1)});
  AddHashesTo(*agg, 2, {HashString("b"), HashDouble(1.0), HashDouble(-0.0), HashDouble(0.0)});
  Finalized f = Finalize(*agg, {0, kNoSlot, 2, 1});
  EXPECT_EQ(f.buckets, (std::vector<CalcValue>{Num(3), kNull, Num(3), kNull}));
  // a, b, int 1, double 1, double 0.
  EXPECT_EQ(f.summary, Num(5));
  EXPECT_FALSE(agg->approximate());
}

TEST(CountDistinctTest, MergesExactSets) {
  std::unique_ptr<Aggregator> a = Make(CalcOp::kCountDistinct, 1);
  std::unique_ptr<Aggregator> b = Make(CalcOp::kCountDistinct, 2);
  AddHashesTo(*a, 0, IntHashes(0, 100));
  AddHashesTo(*b, 1, IntHashes(50, 175));
  a->MergeSlot(0, *b, 1);
  a->MergeSlot(0, *b, 0);  // empty
  EXPECT_EQ(Finalize(*a, {0}).summary, Num(175));
  EXPECT_FALSE(a->approximate());
}

TEST(CountDistinctTest, ExactUpToTheLimit) {
  std::unique_ptr<Aggregator> agg = Make(CalcOp::kCountDistinct, 1);
  const int64_t limit = static_cast<int64_t>(kCountDistinctExactLimit);
  AddHashesTo(*agg, 0, IntHashes(0, limit));
  AddHashesTo(*agg, 0, IntHashes(0, 1000));  // repeats
  EXPECT_EQ(Finalize(*agg, {0}).summary, Num(static_cast<double>(limit)));
  EXPECT_FALSE(agg->approximate());
  AddHashesTo(*agg, 0, {HashInt(limit)});
  EXPECT_TRUE(agg->approximate());
  const double estimate = Finalize(*agg, {0}).summary.number;
  EXPECT_NEAR(estimate, limit + 1.0, 3 * kCountDistinctRelativeError * (limit + 1.0));
}

TEST(CountDistinctTest, OneMillionDistinctWithinThreeStandardErrors) {
  constexpr int64_t kDistinct = 1'000'000;
  std::unique_ptr<Aggregator> agg = Make(CalcOp::kCountDistinct, 1);
  AddHashesTo(*agg, 0, IntHashes(0, kDistinct));
  AddHashesTo(*agg, 0, IntHashes(0, kDistinct / 2));  // repeats change nothing
  EXPECT_TRUE(agg->approximate());
  const double estimate = Finalize(*agg, {0}).summary.number;
  EXPECT_NEAR(estimate, kDistinct, 3 * kCountDistinctRelativeError * kDistinct);
  EXPECT_EQ(estimate, std::round(estimate));
}

TEST(CountDistinctTest, OneMillionMergedFromTwoWorkers) {
  constexpr int64_t kDistinct = 1'000'000;
  std::unique_ptr<Aggregator> a = Make(CalcOp::kCountDistinct, 2);
  std::unique_ptr<Aggregator> b = Make(CalcOp::kCountDistinct, 2);
  // Overlapping halves: a sees [0, 600k), b sees [400k, 1M) — split over two buckets.
  AddHashesTo(*a, 0, IntHashes(0, 300'000));
  AddHashesTo(*a, 1, IntHashes(300'000, 600'000));
  AddHashesTo(*b, 0, IntHashes(400'000, 700'000));
  AddHashesTo(*b, 1, IntHashes(700'000, kDistinct));
  a->MergeSlot(0, *b, 0);
  a->MergeSlot(1, *b, 1);
  Finalized f = Finalize(*a, {0, 1});
  const double tolerance = 3 * kCountDistinctRelativeError;
  EXPECT_NEAR(f.summary.number, kDistinct, tolerance * kDistinct);
  EXPECT_NEAR(f.buckets[0].number, 600'000, tolerance * 600'000);  // [0, 300k) + [400k, 700k)
  EXPECT_NEAR(f.buckets[1].number, 600'000, tolerance * 600'000);  // [300k, 600k) + [700k, 1M)
  EXPECT_TRUE(a->approximate());
}

TEST(CountDistinctTest, ExactSlotMergedIntoApproximateSlot) {
  std::unique_ptr<Aggregator> a = Make(CalcOp::kCountDistinct, 1);
  std::unique_ptr<Aggregator> b = Make(CalcOp::kCountDistinct, 1);
  AddHashesTo(*a, 0, IntHashes(0, 200'000));
  AddHashesTo(*b, 0, IntHashes(190'000, 250'000));  // 60000: still exact
  a->MergeSlot(0, *b, 0);  // set into HLL
  EXPECT_NEAR(Finalize(*a, {0}).summary.number, 250'000,
              3 * kCountDistinctRelativeError * 250'000);
  EXPECT_FALSE(b->approximate());
  b->MergeSlot(0, *a, 0);  // HLL into set
  EXPECT_TRUE(b->approximate());
  EXPECT_NEAR(Finalize(*b, {0}).summary.number, 250'000,
              3 * kCountDistinctRelativeError * 250'000);
}

TEST(CountDistinctTest, SummaryUnionPastTheLimitIsApproximate) {
  std::unique_ptr<Aggregator> agg = Make(CalcOp::kCountDistinct, 2);
  AddHashesTo(*agg, 0, IntHashes(0, 40'000));
  AddHashesTo(*agg, 1, IntHashes(40'000, 80'000));
  EXPECT_FALSE(agg->approximate());
  Finalized f = Finalize(*agg, {0, 1});
  EXPECT_EQ(f.buckets, (std::vector<CalcValue>{Num(40'000), Num(40'000)}));
  EXPECT_NEAR(f.summary.number, 80'000, 3 * kCountDistinctRelativeError * 80'000);
  EXPECT_TRUE(agg->approximate());
  // Finalizing did not change the slots.
  EXPECT_EQ(Finalize(*agg, {0}).summary, Num(40'000));
}

TEST(CountDistinctTest, MemoryTracksSetsAndRegisters) {
  std::unique_ptr<Aggregator> agg = Make(CalcOp::kCountDistinct, 2);
  const size_t empty = agg->MemoryBytes();
  AddHashesTo(*agg, 0, IntHashes(0, 10'000));
  const size_t with_set = agg->MemoryBytes();
  EXPECT_GE(with_set, empty + 10'000 * sizeof(uint64_t));
  AddHashesTo(*agg, 1, IntHashes(0, 100'000));  // becomes 16 KiB of registers
  AddHashesTo(*agg, 0, IntHashes(0, 5'000));    // repeats
  const size_t with_hll = agg->MemoryBytes();
  EXPECT_GE(with_hll, with_set + 16384);
  EXPECT_LE(with_hll, with_set + 16384 + 1024);

  std::unique_ptr<Aggregator> other = Make(CalcOp::kCountDistinct, 1);
  other->Resize(2);
  other->MergeSlot(1, *agg, 0);
  EXPECT_GE(other->MemoryBytes(), 10'000 * sizeof(uint64_t));
}

// ---------------------------------------------------------------------------------------------
// CONCURRENCY (layout: buckets of 10 ns from 0)

TEST(ConcurrencyTest, OverlapsZeroLengthAndLongSpans) {
  std::unique_ptr<Aggregator> agg = Make(CalcOp::kConcurrency, 3);
  AddSpans(*agg, {
                     {0, 0, 35},   // long: open in buckets 0..3
                     {0, 2, 5},    // bucket 0 peak: 2 (t in [2, 5))
                     {1, 12, 14},  // bucket 1 peak: 3 at t=13
                     {1, 13, 13},  // zero-length: open at 13 only
                     {2, 25, 25},  // bucket 2 peak: 2 at t=25
                     {2, 27, 20},  // end < start: open at 27 only
                 });
  Finalized f = Finalize(*agg, {0, 1, 2, kNoSlot, kNoSlot});
  EXPECT_EQ(f.buckets, (std::vector<CalcValue>{Num(2), Num(3), Num(2), Num(1), Num(0)}));
  EXPECT_EQ(f.summary, Num(3));
}

TEST(ConcurrencyTest, EndIsExclusive) {
  std::unique_ptr<Aggregator> agg = Make(CalcOp::kConcurrency, 2);
  AddSpans(*agg, {{0, 0, 5}, {0, 5, 10}, {0, 8, 10}, {1, 10, 11}});
  Finalized f = Finalize(*agg, {0, 1, kNoSlot});
  // [0,5) and [5,10) never overlap; [5,10) and [8,10) do; nothing is open at 10 but [10,11).
  EXPECT_EQ(f.buckets, (std::vector<CalcValue>{Num(2), Num(1), Num(0)}));
  EXPECT_EQ(f.summary, Num(2));
}

TEST(ConcurrencyTest, OnlyTheGroupsSlotsCount) {
  std::unique_ptr<Aggregator> agg = Make(CalcOp::kConcurrency, 3);
  AddSpans(*agg, {{0, 0, 100}, {1, 10, 20}, {2, 0, 100}, {2, 0, 100}});
  Finalized f = Finalize(*agg, {0, 1});  // slot 2 belongs to another group
  EXPECT_EQ(f.buckets, (std::vector<CalcValue>{Num(1), Num(2)}));
  EXPECT_EQ(f.summary, Num(2));
}

TEST(ConcurrencyTest, SpansStartingBeforeTheWindowAndOffsetLayout) {
  std::unique_ptr<Aggregator> agg = Make(CalcOp::kConcurrency, 1);
  AddSpans(*agg, {{0, 900, 1150}, {0, 950, 1001}, {0, 1000, 1000}});
  Finalized f = Finalize(*agg, {0, kNoSlot, kNoSlot}, Layout(3, 1000, 100));
  // At 1000: all three; [1100, 1150): the first.
  EXPECT_EQ(f.buckets, (std::vector<CalcValue>{Num(3), Num(1), Num(0)}));
  EXPECT_EQ(f.summary, Num(3));
}

TEST(ConcurrencyTest, MergesAcrossAggregators) {
  std::unique_ptr<Aggregator> a = Make(CalcOp::kConcurrency, 2);
  std::unique_ptr<Aggregator> b = Make(CalcOp::kConcurrency, 2);
  AddSpans(*a, {{0, 0, 30}, {1, 15, 16}});
  AddSpans(*b, {{0, 1, 12}, {1, 14, 17}, {1, 15, 15}});
  a->MergeSlot(0, *b, 0);
  a->MergeSlot(1, *b, 1);
  Finalized f = Finalize(*a, {0, 1, kNoSlot});
  EXPECT_EQ(f.buckets, (std::vector<CalcValue>{Num(2), Num(4), Num(1)}));
  EXPECT_EQ(f.summary, Num(4));
}

TEST(ConcurrencyTest, ManyNestedSpans) {
  constexpr int kSpans = 10000;
  std::unique_ptr<Aggregator> agg = Make(CalcOp::kConcurrency, 1);
  std::vector<Span> spans;
  for (int i = 0; i < kSpans; ++i) spans.push_back({0, i, 2 * kSpans - i});  // all open at 10k
  AddSpans(*agg, spans);
  const size_t buckets = 4;  // width 5000: [0,5k) [5k,10k) [10k,15k) [15k,20k)
  Finalized f = Finalize(*agg, {0, kNoSlot, kNoSlot, kNoSlot}, Layout(buckets, 0, 5000));
  // In [5k,10k) the peak is at 9999 (all started, none ended); at 10000 all are still open.
  EXPECT_EQ(f.buckets, (std::vector<CalcValue>{Num(5000), Num(10000), Num(10000), Num(5000)}));
  EXPECT_EQ(f.summary, Num(10000));
  EXPECT_GE(agg->MemoryBytes(), kSpans * 2 * sizeof(int64_t));
}

// ---------------------------------------------------------------------------------------------
// RATE_* : bucket i = X(i) - X(i-1)

TEST(RateTest, DifferencesWithAGapBucket) {
  struct Case {
    CalcOp op;
    std::vector<CalcValue> buckets;
    CalcValue summary;
  };
  // Buckets: {1, 2}, {10}, none, {4}, {6, 1}.
  //   SUM 3 10 - 4 7;  AVG 1.5 10 - 4 3.5;  MAX 2 10 - 4 6.
  const Case cases[] = {
      {CalcOp::kRateSum, {kNull, Num(7), kNull, kNull, Num(3)}, Num(5)},
      {CalcOp::kRateAvg, {kNull, Num(8.5), kNull, kNull, Num(-0.5)}, Num(4)},
      {CalcOp::kRateMax, {kNull, Num(8), kNull, kNull, Num(2)}, Num(5)},
  };
  for (const Case& c : cases) {
    std::unique_ptr<Aggregator> agg = Make(c.op, 4);
    AddNumbers(*agg, {0, 0, 1, 2, 3, 3, 2}, {1, 2, 10, 4, 6, 1, kNaN});
    Finalized f = Finalize(*agg, {0, 1, kNoSlot, 2, 3});
    EXPECT_EQ(f.buckets, c.buckets) << CalcOpName(c.op);
    EXPECT_EQ(f.summary, c.summary) << CalcOpName(c.op);
  }
}

TEST(RateTest, NoDifferenceIsNull) {
  std::unique_ptr<Aggregator> agg = Make(CalcOp::kRateSum, 2);
  AddNumbers(*agg, {0, 1}, {5, 6});
  Finalized f = Finalize(*agg, {0, kNoSlot, 1});
  EXPECT_EQ(f.buckets, (std::vector<CalcValue>{kNull, kNull, kNull}));
  EXPECT_EQ(f.summary, kNull);
}

TEST(RateTest, MergesAcrossAggregators) {
  std::unique_ptr<Aggregator> a = Make(CalcOp::kRateAvg, 2);
  std::unique_ptr<Aggregator> b = Make(CalcOp::kRateAvg, 2);
  AddNumbers(*a, {0, 1}, {2, 10});
  AddNumbers(*b, {0, 1}, {4, 20});
  a->MergeSlot(0, *b, 0);
  a->MergeSlot(1, *b, 1);
  Finalized f = Finalize(*a, {0, 1});
  EXPECT_EQ(f.buckets, (std::vector<CalcValue>{kNull, Num(12)}));  // avg 3 -> 15
  EXPECT_EQ(f.summary, Num(12));
}

TEST(MemoryTest, EveryOpGrowsWithItsSlots) {
  for (int i = 0; i < kCalcOpCount; ++i) {
    std::unique_ptr<Aggregator> agg = MakeAggregator(static_cast<CalcOp>(i));
    const size_t before = agg->MemoryBytes();
    agg->Resize(1000);
    EXPECT_GT(agg->MemoryBytes(), before) << i;
  }
}

}  // namespace
}  // namespace waggle::query
