#include "query/internal/parallel.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <new>
#include <thread>

namespace waggle::query::internal {

int WorkerThreads(int requested, size_t tasks) {
  int threads = requested > 0 ? requested : static_cast<int>(std::thread::hardware_concurrency());
  return std::clamp<int>(threads, 1, std::max<int>(1, static_cast<int>(tasks)));
}

Status RunChunkTasks(const std::vector<ChunkTask>& tasks, int threads,
                     const std::function<Status(int thread, Chunk& chunk)>& consume) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mu;
  Status error;
  auto fail = [&](Status s) {
    std::lock_guard lock(error_mu);
    if (error.ok()) error = std::move(s);
    failed = true;
  };
  auto run = [&](int thread) {
    ChunkConsumer consumer = [&](Chunk& chunk) -> Status {
      if (failed) return absl::CancelledError("query stopped");
      return consume(thread, chunk);
    };
    try {
      for (size_t i = next++; i < tasks.size() && !failed; i = next++) {
        Status s = tasks[i](consumer);
        if (!s.ok()) return fail(std::move(s));
      }
    } catch (const std::bad_alloc&) {
      fail(absl::ResourceExhaustedError("query ran out of memory"));
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(run, t);
  run(0);
  for (std::thread& th : pool) th.join();
  return error;
}

}  // namespace waggle::query::internal
