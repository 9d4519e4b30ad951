// DemoGenerator: `waggle demo`'s built-in workload — the seed's Cruddur app as traces.
//
// A browser (`frontend-react-js`: document load + fetch) calls `backend-flask`
// (`GET /api/activities/home` with the custom span `home-activities-mock-data` carrying
// `app.now` and `app.result_length`, and a few other routes), which calls `postgres`,
// `dynamodb` and `cognito`. Users have ids (`app.user_id`); ~1% of requests fail (status
// ERROR, http 500, an `exception` event); latencies are heavy-tailed (log-normal with a Pareto
// tail). Traces are sent over real OTLP/HTTP protobuf to an address, batched every ~200 ms like
// an SDK's BatchSpanProcessor.
//
// Thread-safety: Start/Stop from one thread; counters may be read from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "model/span.h"

namespace waggle {

struct DemoOptions {
  std::string otlp_address;  // "127.0.0.1:4318"
  std::string api_key;       // sent as x-honeycomb-team if not empty
  double traces_per_second = 5;
  uint64_t seed = 0;         // 0 = random
};

// Builds one Cruddur trace starting at `start_ns`. Deterministic for a given `rng` state.
std::vector<Span> GenerateDemoTrace(std::mt19937_64& rng, int64_t start_ns);

class DemoGenerator {
 public:
  explicit DemoGenerator(DemoOptions options);
  ~DemoGenerator();  // Stop()

  void Start();
  // Sends what is pending, then stops the thread. Idempotent.
  void Stop();

  uint64_t traces_sent() const { return traces_sent_.load(); }
  uint64_t send_failures() const { return send_failures_.load(); }
  // Hex id of the most recently acknowledged trace ("" before the first).
  std::string last_trace_id() const;

 private:
  void Run();

  const DemoOptions options_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;           // guarded by mu_
  std::string last_trace_id_;   // guarded by mu_
  std::atomic<uint64_t> traces_sent_{0};
  std::atomic<uint64_t> send_failures_{0};
};

}  // namespace waggle
