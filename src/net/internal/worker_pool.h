// WorkerPool: a fixed set of threads running tasks from a bounded FIFO queue. Internal to
// waggle_net (HttpServer runs request handlers on it).
//
// Thread-safety: all methods are thread-safe. Tasks run on pool threads.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace waggle::net_internal {

class WorkerPool {
 public:
  using Task = std::function<void()>;

  // REQUIRES: threads >= 1.
  WorkerPool(int threads, size_t max_queued);
  ~WorkerPool();  // calls Shutdown()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task` unless `max_queued` tasks are already waiting (running ones do not
  // count) or the pool is shut down; returns false then and `task` is destroyed.
  bool TrySubmit(Task task);

  // Drops queued tasks that have not started (destroying them outside the lock), waits for
  // running ones and joins the threads. Idempotent.
  void Shutdown();

  size_t queued() const;

 private:
  void Run();

  const size_t max_queued_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> queue_;  // guarded by mu_
  bool shutdown_ = false;   // guarded by mu_
  std::vector<std::thread> threads_;
  std::once_flag join_once_;
};

}  // namespace waggle::net_internal
