#include "common/metrics.h"

#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace waggle {
namespace {

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(Metrics, CounterWithLabelsRendersSortedAndEscaped) {
  Metrics m;
  Counter* auth = m.GetCounter("waggle_rejected_total", "Rejected requests.", {{"reason", "auth"}});
  Counter* decode =
      m.GetCounter("waggle_rejected_total", "ignored", {{"reason", "decode \"x\"\n"}});
  auth->Inc();
  auth->Inc(2);
  decode->Inc();
  // Same name + labels returns the same series.
  EXPECT_EQ(auth, m.GetCounter("waggle_rejected_total", "", {{"reason", "auth"}}));
  std::string text = m.Render();
  EXPECT_TRUE(Contains(text, "# HELP waggle_rejected_total Rejected requests.\n")) << text;
  EXPECT_TRUE(Contains(text, "# TYPE waggle_rejected_total counter\n")) << text;
  EXPECT_TRUE(Contains(text, "waggle_rejected_total{reason=\"auth\"} 3\n")) << text;
  EXPECT_TRUE(Contains(text, "waggle_rejected_total{reason=\"decode \\\"x\\\"\\n\"} 1\n")) << text;
}

TEST(Metrics, LabelOrderDoesNotMatter) {
  Metrics m;
  Counter* a = m.GetCounter("c", "h", {{"a", "1"}, {"b", "2"}});
  Counter* b = m.GetCounter("c", "h", {{"b", "2"}, {"a", "1"}});
  EXPECT_EQ(a, b);
}

TEST(Metrics, GaugeSetAndAdd) {
  Metrics m;
  Gauge* g = m.GetGauge("waggle_segments", "Segments on disk.");
  g->Set(4);
  g->Add(-1.5);
  EXPECT_DOUBLE_EQ(g->Value(), 2.5);
  std::string text = m.Render();
  EXPECT_TRUE(Contains(text, "# TYPE waggle_segments gauge\nwaggle_segments 2.5\n")) << text;
}

TEST(Metrics, HistogramBucketsAreCumulative) {
  Metrics m;
  Histogram* h = m.GetHistogram("lat_seconds", "Latency.", {0.1, 1, 0.5}, {{"op", "get"}});
  h->Observe(0.05);
  h->Observe(0.1);  // le is inclusive
  h->Observe(0.7);
  h->Observe(30);
  std::string text = m.Render();
  EXPECT_TRUE(Contains(text, "lat_seconds_bucket{op=\"get\",le=\"0.1\"} 2\n")) << text;
  EXPECT_TRUE(Contains(text, "lat_seconds_bucket{op=\"get\",le=\"0.5\"} 2\n")) << text;
  EXPECT_TRUE(Contains(text, "lat_seconds_bucket{op=\"get\",le=\"1\"} 3\n")) << text;
  EXPECT_TRUE(Contains(text, "lat_seconds_bucket{op=\"get\",le=\"+Inf\"} 4\n")) << text;
  EXPECT_TRUE(Contains(text, "lat_seconds_sum{op=\"get\"} 30.85\n")) << text;
  EXPECT_TRUE(Contains(text, "lat_seconds_count{op=\"get\"} 4\n")) << text;
}

TEST(Metrics, TypeMismatchDoesNotCrashOrRender) {
  Metrics m;
  m.GetCounter("x", "h")->Inc();
  m.GetGauge("x", "h")->Set(99);
  std::string text = m.Render();
  EXPECT_TRUE(Contains(text, "x 1\n"));
  EXPECT_FALSE(Contains(text, "99"));
}

TEST(Metrics, CollectorsRunBeforeRender) {
  Metrics m;
  uint64_t external = 41;
  m.AddCollector([&] { m.GetCounter("ext_total", "External.")->SetTo(++external); });
  EXPECT_TRUE(Contains(m.Render(), "ext_total 42\n"));
  EXPECT_TRUE(Contains(m.Render(), "ext_total 43\n"));
}

TEST(Metrics, ConcurrentUpdatesAreNotLost) {
  Metrics m;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&m] {
      for (int i = 0; i < 10000; ++i) {
        m.GetCounter("n_total", "h")->Inc();
        m.GetHistogram("h_seconds", "h", {1})->Observe(0.5);
      }
    });
  }
  std::thread renderer([&m] {
    for (int i = 0; i < 50; ++i) m.Render();
  });
  for (auto& t : threads) t.join();
  renderer.join();
  EXPECT_EQ(m.GetCounter("n_total", "h")->Value(), 40000u);
  EXPECT_TRUE(Contains(m.Render(), "h_seconds_count 40000\n"));
}

}  // namespace
}  // namespace waggle
