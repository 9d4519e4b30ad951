#include "query/internal/parallel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

namespace waggle::query::internal {
namespace {

TEST(RunOnThreads, CallsEveryIndexOnceWithZeroOnTheCaller) {
  for (int threads : {1, 2, 5}) {
    std::vector<std::atomic<int>> calls(threads);
    std::vector<std::thread::id> ran_on(threads);
    RunOnThreads(threads, [&](int t) {
      ++calls[t];
      ran_on[t] = std::this_thread::get_id();
    });
    for (int t = 0; t < threads; ++t) EXPECT_EQ(calls[t].load(), 1) << threads << " " << t;
    EXPECT_EQ(ran_on[0], std::this_thread::get_id());
    std::set<std::thread::id> distinct(ran_on.begin(), ran_on.end());
    EXPECT_EQ(distinct.size(), static_cast<size_t>(threads));
  }
}

TEST(WorkerThreads, RequestedOrEveryCoreAtMostOnePerTaskAtLeastOne) {
  EXPECT_EQ(WorkerThreads(3, 10), 3);
  EXPECT_EQ(WorkerThreads(3, 2), 2);
  EXPECT_EQ(WorkerThreads(3, 0), 1);
  EXPECT_GE(WorkerThreads(0, 1000), 1);
}

}  // namespace
}  // namespace waggle::query::internal
