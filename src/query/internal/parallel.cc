#include "query/internal/parallel.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <new>
#include <system_error>
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
  RunOnThreads(threads, run);
  return error;
}

void RunOnThreads(int threads, const std::function<void(int thread)>& run) {
  std::vector<std::thread> started;
  for (int t = 1; t < threads; ++t) {
    try {
      started.emplace_back(run, t);
    } catch (const std::system_error&) {  // no thread to be had: run it here
      run(t);
    }
  }
  run(0);
  for (std::thread& th : started) th.join();
}

}  // namespace waggle::query::internal
