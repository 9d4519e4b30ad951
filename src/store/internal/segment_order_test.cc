#include "store/internal/segment_order.h"

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <tuple>

#include <gtest/gtest.h>

#include "store/internal/store_test_util.h"

namespace waggle::store_internal {
namespace {

// The definition: every row sorted by (service.name, trace id, start, insertion order).
std::vector<uint32_t> ReferencePerm(const Head& head) {
  std::vector<uint32_t> perm(head.rows());
  for (uint32_t i = 0; i < perm.size(); ++i) perm[i] = i;
  const auto& services = head.strings(FixedColumn::kService);
  auto key = [&](uint32_t r) {
    return std::make_tuple(head.pool().Get(services[r]), head.trace_ids()[r], head.starts()[r], r);
  };
  std::sort(perm.begin(), perm.end(), [&](uint32_t a, uint32_t b) { return key(a) < key(b); });
  return perm;
}

// Rows of random traces over several services, arriving interleaved (a trace's rows spread over
// the head and across services), with equal start times, and a service name stored under
// several pool codes (unique strings in between evict it from the pool's cache).
std::unique_ptr<Head> InterleavedHead(uint64_t seed) {
  std::mt19937_64 rng(seed);
  const std::string services[] = {"frontend", "backend-flask", "postgres", "dynamodb", "cognito"};
  BatchBuilder b;
  for (int i = 0; i < 30000; ++i) {
    const uint64_t trace = rng() % 2000;
    const std::string& service = services[(trace + rng() % 3) % 5];
    b.Add(RowKind::kSpan, TestTraceId(trace), TestSpanId(i + 1), SpanId{},
          1000 + static_cast<int64_t>(rng() % 50), 5000, "op-" + std::to_string(i), service);
    b.Str("unique", "value-" + std::to_string(i));
  }
  auto head = std::make_unique<Head>();
  head->AddBatch(b.batch(), 1);
  return head;
}

TEST(SegmentOrder, EqualsTheFullSortAndDescribesItsRuns) {
  for (uint64_t seed : {1, 2, 3}) {
    const std::unique_ptr<Head> owned = InterleavedHead(seed);
    const Head& head = *owned;
    const SegmentOrder order = OrderHeadRows(head);
    ASSERT_EQ(order.perm, ReferencePerm(head)) << "seed " << seed;

    const auto& ids = head.trace_ids();
    const auto& services = head.strings(FixedColumn::kService);
    auto service_of = [&](uint32_t pos) { return head.pool().Get(services[order.perm[pos]]); };
    // Runs: maximal ranges of one service and trace, numbered in row order.
    ASSERT_EQ(order.run_begin.front(), 0u);
    ASSERT_EQ(order.run_begin.back(), head.rows());
    for (uint32_t pos = 0; pos < head.rows(); ++pos) {
      const uint32_t run = order.run_of_pos[pos];
      ASSERT_GE(pos, order.run_begin[run]);
      ASSERT_LT(pos, order.run_begin[run + 1]);
      const bool begins = pos == 0 || ids[order.perm[pos]] != ids[order.perm[pos - 1]] ||
                          service_of(pos) != service_of(pos - 1);
      ASSERT_EQ(begins, pos == order.run_begin[run]) << pos;
    }
    // Service ranges in name order, covering every row.
    uint64_t row = 0;
    for (size_t s = 0; s < order.services.size(); ++s) {
      if (s > 0) {
        EXPECT_LT(order.services[s - 1].service, order.services[s].service);
      }
      for (uint64_t i = 0; i < order.services[s].rows; ++i) {
        ASSERT_EQ(service_of(static_cast<uint32_t>(row + i)), order.services[s].service);
      }
      row += order.services[s].rows;
    }
    EXPECT_EQ(row, head.rows());
    // Each trace's runs, ascending, under ids ascending; every run listed once.
    std::vector<int> listed(order.run_of_pos.back() + 1, 0);
    for (size_t d = 0; d + 1 < order.trace_runs_begin.size(); ++d) {
      const uint32_t first = order.trace_runs[order.trace_runs_begin[d]];
      if (d > 0) {
        const uint32_t previous = order.trace_runs[order.trace_runs_begin[d - 1]];
        EXPECT_LT(ids[order.perm[order.run_begin[previous]]], ids[order.perm[order.run_begin[first]]]);
      }
      for (uint32_t k = order.trace_runs_begin[d]; k < order.trace_runs_begin[d + 1]; ++k) {
        const uint32_t run = order.trace_runs[k];
        ++listed[run];
        EXPECT_EQ(order.ordinal_of_run[run], d);
        EXPECT_EQ(ids[order.perm[order.run_begin[run]]], ids[order.perm[order.run_begin[first]]]);
        if (k > order.trace_runs_begin[d]) {
          EXPECT_LT(order.trace_runs[k - 1], run);
        }
      }
    }
    EXPECT_TRUE(std::all_of(listed.begin(), listed.end(), [](int c) { return c == 1; }));
  }
}

TEST(SegmentOrder, OneRow) {
  BatchBuilder b;
  b.Add(RowKind::kSpan, TestTraceId(7), TestSpanId(1), SpanId{}, 10, 20, "op", "svc");
  Head head;
  head.AddBatch(b.batch(), 1);
  const SegmentOrder order = OrderHeadRows(head);
  EXPECT_EQ(order.perm, std::vector<uint32_t>{0});
  EXPECT_EQ(order.run_begin, (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(order.trace_runs_begin, (std::vector<uint32_t>{0, 1}));
  ASSERT_EQ(order.services.size(), 1u);
  EXPECT_EQ(order.services[0].rows, 1u);
}

}  // namespace
}  // namespace waggle::store_internal
