// Metrics: a tiny Prometheus registry (counters, gauges, fixed-bucket histograms, labels)
// rendered in the text exposition format (version 0.0.4) for `GET /metrics`.
//
// A metric family is a name + help + type; each distinct label set is one series. Get*()
// returns a pointer to the series, creating it on first use; the pointer stays valid for the
// registry's lifetime, so hot paths look a series up once and then only touch atomics.
//
// Collectors are callbacks run at the start of every Render(); they copy numbers kept
// elsewhere (store statistics, HTTP server counters) into gauges and counters.
//
// Thread-safety: everything is thread-safe. Updating a series is lock-free; Get*() and Render()
// take the registry mutex. Collectors run under no registry lock and may call Get*().
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace waggle {

// Label name/value pairs. Order does not matter; names must be valid Prometheus label names.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// A monotonically increasing count.
class Counter {
 public:
  void Inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  // Mirrors a monotonic count kept elsewhere (for collectors only).
  void SetTo(uint64_t v) { value_.store(v, std::memory_order_relaxed); }
  uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down.
class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double d) { value_.fetch_add(d, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Counts observations into fixed cumulative buckets (upper bounds, ascending; +Inf implied).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf (== count)
    uint64_t count = 0;
    double sum = 0;
  };
  Snapshot Snap() const;

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1, not cumulative
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

// Default latency buckets in seconds: 100µs … 10s.
std::vector<double> LatencyBucketsSeconds();

class Metrics {
 public:
  Metrics() = default;
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Returns the series of family `name` with `labels`, creating family and series on first
  // use. `help` is taken from the first call. REQUIRES: a name is used with one type only
  // (a mismatching call returns a series that is not rendered, and never crashes).
  Counter* GetCounter(std::string_view name, std::string_view help, MetricLabels labels = {});
  Gauge* GetGauge(std::string_view name, std::string_view help, MetricLabels labels = {});
  // `bounds` are used when the series is created; later calls reuse the existing buckets.
  Histogram* GetHistogram(std::string_view name, std::string_view help,
                          std::vector<double> bounds, MetricLabels labels = {});

  // Registers a callback run at the start of each Render(). `fn` must outlive the registry
  // or be safe to call until the registry is destroyed.
  void AddCollector(std::function<void()> fn);

  // The text exposition format: families sorted by name, series sorted by labels.
  std::string Render();

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Family {
    Type type;
    std::string help;
    std::map<MetricLabels, std::unique_ptr<Counter>> counters;
    std::map<MetricLabels, std::unique_ptr<Gauge>> gauges;
    std::map<MetricLabels, std::unique_ptr<Histogram>> histograms;
  };
  Family* FamilyFor(std::string_view name, std::string_view help, Type type);

  std::mutex mu_;
  std::map<std::string, Family, std::less<>> families_;  // guarded by mu_
  std::vector<std::unique_ptr<Family>> orphans_;         // type-mismatch sink; guarded by mu_
  std::mutex collectors_mu_;
  std::vector<std::function<void()>> collectors_;  // guarded by collectors_mu_
};

}  // namespace waggle
