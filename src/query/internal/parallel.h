// RunChunkTasks: runs a scan's chunk tasks on a few threads.
//
// Thread t (0 <= t < threads; thread 0 is the caller's) pulls tasks in order and hands every
// chunk to consume(t, chunk). The first error (from a task or from consume) stops the other
// threads at their next chunk and is returned. Exceptions never leave a thread: std::bad_alloc
// becomes ResourceExhausted.
#pragma once

#include <functional>
#include <vector>

#include "common/status.h"
#include "query/chunk.h"

namespace waggle::query::internal {

Status RunChunkTasks(const std::vector<ChunkTask>& tasks, int threads,
                     const std::function<Status(int thread, Chunk& chunk)>& consume);

// Threads worth starting: `requested` (0 = every core), at most one per task, at least 1.
int WorkerThreads(int requested, size_t tasks);

// Calls run(t) for every t in [0, threads): run(0) on the calling thread, each other on a thread
// started for it (or on the calling thread, in turn, when no thread can be started). Returns
// once every call has returned. REQUIRES: `run` does not throw.
void RunOnThreads(int threads, const std::function<void(int thread)>& run);

}  // namespace waggle::query::internal
