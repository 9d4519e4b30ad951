#include "net/internal/worker_pool.h"

#include <atomic>
#include <latch>
#include <memory>
#include <thread>

#include <gtest/gtest.h>

namespace waggle::net_internal {
namespace {

TEST(WorkerPool, RunsTasks) {
  std::atomic<int> sum{0};
  std::latch done(100);
  WorkerPool pool(3, 1000);
  for (int i = 1; i <= 100; ++i) {
    ASSERT_TRUE(pool.TrySubmit([&, i] {
      sum += i;
      done.count_down();
    }));
  }
  done.wait();
  EXPECT_EQ(sum.load(), 5050);
}

TEST(WorkerPool, QueueIsBoundedAndShutdownDropsQueuedTasks) {
  WorkerPool pool(1, 2);
  std::latch started(1);
  std::latch release(1);
  std::atomic<int> ran{0};
  ASSERT_TRUE(pool.TrySubmit([&] {
    started.count_down();
    release.wait();
    ++ran;
  }));
  started.wait();  // the only worker is busy; the queue is empty
  auto dropped_marker = std::make_shared<int>(0);
  EXPECT_TRUE(pool.TrySubmit([&, dropped_marker] { ++ran; }));
  EXPECT_TRUE(pool.TrySubmit([&] { ++ran; }));
  EXPECT_FALSE(pool.TrySubmit([&] { ++ran; })) << "queue of 2 is full";
  EXPECT_EQ(pool.queued(), 2u);
  std::thread stopper([&] { pool.Shutdown(); });
  while (dropped_marker.use_count() > 1) std::this_thread::yield();  // queued tasks dropped
  release.count_down();
  stopper.join();
  EXPECT_EQ(ran.load(), 1);
  EXPECT_FALSE(pool.TrySubmit([] {}));
  pool.Shutdown();  // idempotent
}

}  // namespace
}  // namespace waggle::net_internal
