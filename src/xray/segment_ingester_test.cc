#include "xray/segment_ingester.h"

#include <gtest/gtest.h>

#include "store/testing/fake_store.h"

namespace waggle::xray {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;
using Clock = std::chrono::system_clock;

std::string Doc(std::string_view id, bool in_progress, std::string_view name = "svc") {
  std::string d = R"({"name":")" + std::string(name) + R"(","id":")" + std::string(id) +
                  R"(","trace_id":"1-5759e988-bd862e3fe1be46a994272793","start_time":100,)";
  d += in_progress ? R"("in_progress":true})" : R"("end_time":101})";
  return d;
}

constexpr std::string_view kTrace = "1-5759e988-bd862e3fe1be46a994272793";

// A subsegment sent on its own.
std::string Sub(std::string_view id, std::string_view parent, std::string_view name = "query") {
  return R"({"type":"subsegment","name":")" + std::string(name) + R"(","id":")" +
         std::string(id) + R"(","parent_id":")" + std::string(parent) + R"(","trace_id":")" +
         std::string(kTrace) + R"(","start_time":100.1,"end_time":100.2})";
}

// A completed segment with one nested subsegment.
std::string SegmentWithChild(std::string_view id, std::string_view child, std::string_view name) {
  return R"({"name":")" + std::string(name) + R"(","id":")" + std::string(id) +
         R"(","trace_id":")" + std::string(kTrace) +
         R"(","start_time":100,"end_time":101,"subsegments":[{"name":"inner","id":")" +
         std::string(child) + R"(","start_time":100.1,"end_time":100.2}]})";
}

std::string ServiceOf(const std::vector<Span>& rows, std::string_view name) {
  for (const Span& s : rows) {
    if (s.name == name) return s.service_name;
  }
  return "(no row named " + std::string(name) + ")";
}

uint64_t SegmentsCounter(Metrics& metrics, const char* result) {
  return metrics.GetCounter("waggle_xray_segments_total", "", {{"result", result}})->Value();
}

bool AnyInProgress(const std::vector<Span>& rows) {
  for (const Span& s : rows) {
    for (const Attribute& a : s.attributes) {
      if (a.key == "xray.in_progress" && a.b) return true;
    }
  }
  return false;
}

TEST(SegmentIngester, StoresCompletedAndReportsBadDocuments) {
  testing::FakeStore store;
  Metrics metrics;
  SegmentIngester ingester(&store, &metrics);
  std::string good = Doc("4d5e6f7081920314", false);
  std::string bad = R"({"id":"70de5b6f19ff9a0a","name":"x"})";
  std::vector<IngestResult> r = ingester.Ingest({good, bad, "garbage"}, Clock::now());
  ASSERT_EQ(r.size(), 3u);
  EXPECT_TRUE(r[0].status.ok());
  EXPECT_EQ(r[0].id, "4d5e6f7081920314");
  EXPECT_EQ(r[1].status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r[1].id, "70de5b6f19ff9a0a");
  EXPECT_FALSE(r[2].status.ok());
  EXPECT_EQ(r[2].id, "");
  ASSERT_EQ(store.rows().size(), 1u);
  EXPECT_NE(metrics.Render().find("waggle_xray_segments_total{result=\"rejected\"} 2"),
            std::string::npos);
}

TEST(SegmentIngester, CompletedSegmentReplacesHeldInProgressOne) {
  testing::FakeStore store;
  Metrics metrics;
  SegmentIngester ingester(&store, &metrics);
  auto t0 = Clock::now();
  std::vector<IngestResult> r = ingester.Ingest({Doc("4d5e6f7081920314", true)}, t0);
  EXPECT_TRUE(r[0].held);
  EXPECT_EQ(ingester.pending(), 1u);
  EXPECT_TRUE(store.rows().empty());
  ingester.Ingest({Doc("4d5e6f7081920314", false)}, t0 + seconds(1));
  EXPECT_EQ(ingester.pending(), 0u);
  ASSERT_EQ(ingester.ExpirePending(t0 + minutes(10)), OkStatus());
  ASSERT_EQ(store.rows().size(), 1u);
  EXPECT_FALSE(AnyInProgress(store.rows()));
}

TEST(SegmentIngester, InProgressAndCompletedInOneCallStoresOnlyTheCompleted) {
  testing::FakeStore store;
  Metrics metrics;
  SegmentIngester ingester(&store, &metrics);
  std::string open = Doc("4d5e6f7081920314", true), done = Doc("4d5e6f7081920314", false);
  std::vector<IngestResult> r = ingester.Ingest({open, done}, Clock::now());
  EXPECT_TRUE(r[0].held);
  EXPECT_FALSE(r[1].held);
  EXPECT_EQ(ingester.pending(), 0u);
  ASSERT_TRUE(ingester.FlushPending().ok());
  ASSERT_EQ(store.rows().size(), 1u);
  EXPECT_FALSE(AnyInProgress(store.rows()));
}

TEST(SegmentIngester, UncompletedSegmentIsStoredAfterTtl) {
  testing::FakeStore store;
  Metrics metrics;
  SegmentIngesterOptions options;
  options.in_progress_ttl = seconds(30);
  SegmentIngester ingester(&store, &metrics, options);
  auto t0 = Clock::now();
  ingester.Ingest({Doc("4d5e6f7081920314", true)}, t0);
  ASSERT_TRUE(ingester.ExpirePending(t0 + seconds(29)).ok());
  EXPECT_TRUE(store.rows().empty());
  ASSERT_TRUE(ingester.ExpirePending(t0 + seconds(30)).ok());
  ASSERT_EQ(store.rows().size(), 1u);
  EXPECT_TRUE(AnyInProgress(store.rows()));
  EXPECT_EQ(ingester.pending(), 0u);
}

TEST(SegmentIngester, BoundedTableStoresOldestAndFlushStoresAll) {
  testing::FakeStore store;
  Metrics metrics;
  SegmentIngesterOptions options;
  options.max_pending = 2;
  SegmentIngester ingester(&store, &metrics, options);
  auto t0 = Clock::now();
  ingester.Ingest({Doc("0000000000000001", true, "first")}, t0);
  ingester.Ingest({Doc("0000000000000002", true)}, t0 + seconds(1));
  ingester.Ingest({Doc("0000000000000003", true)}, t0 + seconds(2));
  EXPECT_EQ(ingester.pending(), 2u);
  ASSERT_EQ(store.rows().size(), 1u);
  EXPECT_EQ(store.rows()[0].name, "first");
  ASSERT_TRUE(ingester.FlushPending().ok());
  EXPECT_EQ(store.rows().size(), 3u);
  EXPECT_EQ(ingester.pending(), 0u);
}

TEST(SegmentIngester, StoreFailureIsReportedPerDocument) {
  testing::FakeStore store;
  Metrics metrics;
  SegmentIngester ingester(&store, &metrics);
  store.FailAppendsWith(absl::UnavailableError("disk full"));
  std::vector<IngestResult> r = ingester.Ingest({Doc("4d5e6f7081920314", false)}, Clock::now());
  EXPECT_EQ(r[0].status.code(), absl::StatusCode::kUnavailable);
}

TEST(SegmentIngester, IndependentSubsegmentGetsItsHeldSegmentsService) {
  testing::FakeStore store;
  Metrics metrics;
  SegmentIngester ingester(&store, &metrics);
  auto t0 = Clock::now();
  ingester.Ingest({Doc("4d5e6f7081920314", true, "checkout")}, t0);  // held, in progress
  ingester.Ingest({Sub("1111111111111111", "4d5e6f7081920314")}, t0);
  ASSERT_EQ(store.rows().size(), 1u);
  EXPECT_EQ(store.rows()[0].service_name, "checkout");
}

TEST(SegmentIngester, IndependentSubsegmentsResolveThroughRecentIdsAndChains) {
  testing::FakeStore store;
  Metrics metrics;
  SegmentIngester ingester(&store, &metrics);
  auto t0 = Clock::now();
  // The completed segment was seen before (its held in-progress version is gone).
  ingester.Ingest({SegmentWithChild("4d5e6f7081920314", "2222222222222222", "cart")}, t0);
  ingester.Ingest({Sub("3333333333333333", "4d5e6f7081920314", "to-segment"),
                   Sub("4444444444444444", "2222222222222222", "to-nested"),
                   Sub("5555555555555555", "4444444444444444", "to-independent")},
                  t0);
  ingester.Ingest({Sub("6666666666666666", "7777777777777777", "orphan")}, t0);
  const std::vector<Span> rows = store.rows();
  EXPECT_EQ(ServiceOf(rows, "to-segment"), "cart");
  EXPECT_EQ(ServiceOf(rows, "to-nested"), "cart");
  EXPECT_EQ(ServiceOf(rows, "to-independent"), "cart");
  EXPECT_EQ(ServiceOf(rows, "orphan"), "unknown_service");
}

TEST(SegmentIngester, HeldIndependentSubsegmentKeepsItsServiceWhenExpired) {
  testing::FakeStore store;
  Metrics metrics;
  SegmentIngester ingester(&store, &metrics);
  auto t0 = Clock::now();
  ingester.Ingest({Doc("4d5e6f7081920314", true, "checkout")}, t0);
  std::string open_sub = R"({"type":"subsegment","name":"slow","id":"1111111111111111",)"
                         R"("parent_id":"4d5e6f7081920314","trace_id":")" + std::string(kTrace) +
                         R"(","start_time":100.1,"in_progress":true})";
  EXPECT_TRUE(ingester.Ingest({open_sub}, t0)[0].held);
  ASSERT_TRUE(ingester.FlushPending().ok());
  EXPECT_EQ(ServiceOf(store.rows(), "slow"), "checkout");
}

TEST(SegmentIngester, LateInProgressDocumentIsDroppedAndCounted) {
  testing::FakeStore store;
  Metrics metrics;
  SegmentIngester ingester(&store, &metrics);
  auto t0 = Clock::now();
  ingester.Ingest({Doc("4d5e6f7081920314", false)}, t0);
  std::vector<IngestResult> r = ingester.Ingest({Doc("4d5e6f7081920314", true)}, t0 + seconds(1));
  EXPECT_TRUE(r[0].status.ok());
  EXPECT_FALSE(r[0].held);
  EXPECT_TRUE(r[0].late);
  EXPECT_EQ(ingester.pending(), 0u);
  ASSERT_TRUE(ingester.FlushPending().ok());
  ASSERT_EQ(store.rows().size(), 1u);
  EXPECT_FALSE(AnyInProgress(store.rows()));
  EXPECT_EQ(SegmentsCounter(metrics, "late_in_progress"), 1u);
  EXPECT_EQ(SegmentsCounter(metrics, "held"), 0u);
  // In one call, completed first: the same.
  ingester.Ingest({Doc("0000000000000009", false), Doc("0000000000000009", true)}, t0);
  EXPECT_EQ(ingester.pending(), 0u);
  EXPECT_EQ(SegmentsCounter(metrics, "late_in_progress"), 2u);
}

TEST(SegmentIngester, LateInProgressIsHeldAgainOnceTheCompletedKeyIsForgotten) {
  testing::FakeStore store;
  Metrics metrics;
  SegmentIngesterOptions options;
  options.recent_ids = 2;
  SegmentIngester ingester(&store, &metrics, options);
  auto t0 = Clock::now();
  ingester.Ingest({Doc("0000000000000001", false), Doc("0000000000000002", false),
                   Doc("0000000000000003", false)},
                  t0);
  EXPECT_TRUE(ingester.Ingest({Doc("0000000000000001", true)}, t0)[0].held);  // forgotten
  EXPECT_TRUE(ingester.Ingest({Doc("0000000000000003", true)}, t0)[0].late);  // remembered
}

}  // namespace
}  // namespace waggle::xray
