#include "xray/service_graph.h"

#include <algorithm>
#include <cmath>

namespace waggle::xray {

double ResponseTimeBucket(double seconds) {
  if (!(seconds > 0) || !std::isfinite(seconds)) return 0;
  const double scale = std::pow(10.0, std::floor(std::log10(seconds)) - 1);
  return std::floor(seconds / scale) * scale;
}

void CallStatistics::Add(const CallOutcome& call) {
  ++total;
  total_response_time += call.response_time;
  ++response_times[ResponseTimeBucket(call.response_time)];
  if (call.fault) {
    ++fault;
  } else if (call.throttle) {
    ++throttle;
  } else if (call.error) {
    ++error_other;
  } else {
    ++ok;
  }
}

namespace {

void Widen(int64_t t, int64_t* start, int64_t* end) {
  if (*end == 0 || t < *start) *start = t;
  *end = std::max(*end, t);
}

}  // namespace

size_t ServiceGraphBuilder::NodeFor(const ServiceFacts& service) {
  auto [it, inserted] =
      index_.try_emplace({service.name, service.type, service.account_id}, nodes_.size());
  if (inserted) {
    GraphNode n;
    n.name = service.name;
    n.type = service.type;
    n.account_id = service.account_id;
    n.inferred = service.inferred;
    nodes_.push_back(std::move(n));
  }
  return it->second;
}

void ServiceGraphBuilder::Add(const TraceAnalysis& trace) {
  std::vector<size_t> node_of(trace.facts.services.size());
  for (size_t i = 0; i < node_of.size(); ++i) {
    node_of[i] = NodeFor(trace.facts.services[i]);
    nodes_[node_of[i]].root = nodes_[node_of[i]].root || trace.facts.services[i].root;
  }
  for (const AttributedCall& c : trace.node_calls) {
    GraphNode& n = nodes_[node_of[c.index]];
    n.stats.Add(c.outcome);
    Widen(c.outcome.start_ns, &n.start_ns, &n.end_ns);
  }
  for (const AttributedCall& c : trace.edge_calls) {
    const auto [from, to] = trace.edge_nodes[c.index];
    GraphNode& source = nodes_[node_of[from]];
    auto [pos, inserted] = edge_pos_.try_emplace({node_of[from], node_of[to]}, source.edges.size());
    if (inserted) {
      source.edges.emplace_back();
      source.edges.back().destination = node_of[to];
    }
    GraphEdge& e = source.edges[pos->second];
    e.stats.Add(c.outcome);
    Widen(c.outcome.start_ns, &e.start_ns, &e.end_ns);
  }
}

std::vector<GraphNode> ServiceGraphBuilder::Build() && {
  for (GraphNode& n : nodes_) {
    std::sort(n.edges.begin(), n.edges.end(),
              [](const GraphEdge& a, const GraphEdge& b) { return a.destination < b.destination; });
  }
  return std::move(nodes_);
}

ServiceStatisticsBuilder::ServiceStatisticsBuilder(int64_t start_s, int64_t end_s,
                                                   int64_t period_s,
                                                   std::shared_ptr<const FilterExpression> selector)
    : start_s_(start_s), period_s_(period_s), selector_(std::move(selector)) {
  for (int64_t t = start_s; t < end_s; t += period_s) {
    points_.emplace_back();
    points_.back().timestamp_s = t;
  }
}

ServiceStatisticsPoint* ServiceStatisticsBuilder::PointFor(int64_t start_ns) {
  const int64_t s = start_ns / 1'000'000'000;
  if (s < start_s_) return nullptr;
  const size_t i = static_cast<size_t>((s - start_s_) / period_s_);
  return i < points_.size() ? &points_[i] : nullptr;
}

namespace {

void AddTo(std::optional<CallStatistics>* stats, const CallOutcome& call) {
  if (!*stats) stats->emplace();
  (*stats)->Add(call);
}

}  // namespace

void ServiceStatisticsBuilder::Add(const TraceAnalysis& trace) {
  if (selector_ == nullptr) {
    if (!trace.entry) return;
    CallOutcome entry;
    entry.start_ns = trace.start_ns;
    entry.response_time = trace.facts.response_time.value_or(0);
    entry.error = trace.facts.error;
    entry.fault = trace.facts.fault;
    entry.throttle = trace.facts.throttle;
    if (ServiceStatisticsPoint* p = PointFor(entry.start_ns)) AddTo(&p->edge, entry);
    return;
  }
  // Each node (edge) is tested alone, so service(...) matches nodes and edge(...) edges.
  std::vector<bool> node_matches(trace.facts.services.size());
  for (size_t i = 0; i < node_matches.size(); ++i) {
    TraceFacts alone;
    alone.services.push_back(trace.facts.services[i]);
    node_matches[i] = selector_->Matches(alone);
  }
  std::vector<bool> edge_matches(trace.facts.edges.size());
  for (size_t i = 0; i < edge_matches.size(); ++i) {
    TraceFacts alone;
    alone.edges.push_back(trace.facts.edges[i]);
    edge_matches[i] = selector_->Matches(alone);
  }
  for (const AttributedCall& c : trace.node_calls) {
    ServiceStatisticsPoint* p = PointFor(c.outcome.start_ns);
    if (p != nullptr && node_matches[c.index]) AddTo(&p->service, c.outcome);
  }
  for (const AttributedCall& c : trace.edge_calls) {
    ServiceStatisticsPoint* p = PointFor(c.outcome.start_ns);
    if (p != nullptr && edge_matches[c.index]) AddTo(&p->edge, c.outcome);
  }
}

std::vector<ServiceStatisticsPoint> ServiceStatisticsBuilder::Build() && {
  return std::move(points_);
}

}  // namespace waggle::xray
