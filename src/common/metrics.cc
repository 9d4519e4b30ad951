#include "common/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace waggle {
namespace {

std::string FormatDouble(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, res.ptr);
}

void AppendEscaped(std::string_view s, bool is_label_value, std::string* out) {
  for (char c : s) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else if (c == '"' && is_label_value) {
      out->append("\\\"");
    } else {
      out->push_back(c);
    }
  }
}

// Appends `{a="x",b="y"}` (plus an optional extra label), or nothing for an empty set.
void AppendLabels(const MetricLabels& labels, std::string_view extra_name,
                  std::string_view extra_value, std::string* out) {
  if (labels.empty() && extra_name.empty()) return;
  out->push_back('{');
  bool first = true;
  auto add = [&](std::string_view name, std::string_view value) {
    if (!first) out->push_back(',');
    first = false;
    out->append(name);
    out->append("=\"");
    AppendEscaped(value, /*is_label_value=*/true, out);
    out->push_back('"');
  };
  for (const auto& [name, value] : labels) add(name, value);
  if (!extra_name.empty()) add(extra_name, extra_value);
  out->push_back('}');
}

MetricLabels Normalize(MetricLabels labels) {
  std::sort(labels.begin(), labels.end());
  return labels;
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_([&] {
        std::sort(bounds.begin(), bounds.end());
        bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
        return bounds;
      }()),
      buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double v) {
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Snap() const {
  Snapshot s;
  s.bounds = bounds_;
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  // The +Inf bucket must equal _count; derive both from the buckets so a concurrent
  // Observe cannot make the rendering inconsistent.
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::vector<double> LatencyBucketsSeconds() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,     10};
}

Metrics::Family* Metrics::FamilyFor(std::string_view name, std::string_view help, Type type) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(std::string(name), Family{type, std::string(help), {}, {}, {}}).first;
  }
  if (it->second.type != type) {
    orphans_.push_back(std::make_unique<Family>(Family{type, std::string(help), {}, {}, {}}));
    return orphans_.back().get();
  }
  return &it->second;
}

Counter* Metrics::GetCounter(std::string_view name, std::string_view help, MetricLabels labels) {
  std::lock_guard<std::mutex> lock(mu_);
  Family* f = FamilyFor(name, help, Type::kCounter);
  auto& slot = f->counters[Normalize(std::move(labels))];
  if (!slot) slot = std::make_unique<Counter>();
  return slot.get();
}

Gauge* Metrics::GetGauge(std::string_view name, std::string_view help, MetricLabels labels) {
  std::lock_guard<std::mutex> lock(mu_);
  Family* f = FamilyFor(name, help, Type::kGauge);
  auto& slot = f->gauges[Normalize(std::move(labels))];
  if (!slot) slot = std::make_unique<Gauge>();
  return slot.get();
}

Histogram* Metrics::GetHistogram(std::string_view name, std::string_view help,
                                 std::vector<double> bounds, MetricLabels labels) {
  std::lock_guard<std::mutex> lock(mu_);
  Family* f = FamilyFor(name, help, Type::kHistogram);
  auto& slot = f->histograms[Normalize(std::move(labels))];
  if (!slot) slot = std::make_unique<Histogram>(std::move(bounds));
  return slot.get();
}

void Metrics::AddCollector(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(collectors_mu_);
  collectors_.push_back(std::move(fn));
}

std::string Metrics::Render() {
  {
    std::lock_guard<std::mutex> lock(collectors_mu_);
    for (const auto& fn : collectors_) fn();
  }
  std::string out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [name, f] : families_) {
    out.append("# HELP ").append(name).push_back(' ');
    AppendEscaped(f.help, /*is_label_value=*/false, &out);
    out.push_back('\n');
    out.append("# TYPE ").append(name);
    switch (f.type) {
      case Type::kCounter:
        out.append(" counter\n");
        for (const auto& [labels, c] : f.counters) {
          out.append(name);
          AppendLabels(labels, "", "", &out);
          out.append(" ").append(std::to_string(c->Value())).push_back('\n');
        }
        break;
      case Type::kGauge:
        out.append(" gauge\n");
        for (const auto& [labels, g] : f.gauges) {
          out.append(name);
          AppendLabels(labels, "", "", &out);
          out.append(" ").append(FormatDouble(g->Value())).push_back('\n');
        }
        break;
      case Type::kHistogram:
        out.append(" histogram\n");
        for (const auto& [labels, h] : f.histograms) {
          Histogram::Snapshot s = h->Snap();
          for (size_t i = 0; i < s.cumulative.size(); ++i) {
            std::string le = i < s.bounds.size() ? FormatDouble(s.bounds[i]) : "+Inf";
            out.append(name).append("_bucket");
            AppendLabels(labels, "le", le, &out);
            out.append(" ").append(std::to_string(s.cumulative[i])).push_back('\n');
          }
          out.append(name).append("_sum");
          AppendLabels(labels, "", "", &out);
          out.append(" ").append(FormatDouble(s.sum)).push_back('\n');
          out.append(name).append("_count");
          AppendLabels(labels, "", "", &out);
          out.append(" ").append(std::to_string(s.count)).push_back('\n');
        }
        break;
    }
  }
  return out;
}

}  // namespace waggle
