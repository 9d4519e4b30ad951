// Service graphs and service statistics over many analysed traces (xray/trace_analysis.h):
// the aggregation behind GetServiceGraph, GetTraceGraph and GetTimeSeriesServiceStatistics.
//
// Statistics follow X-Ray's shape: every call counts once in TotalCount and in exactly one of
// OkCount, ErrorStatistics.ThrottleCount (throttled), ErrorStatistics.OtherCount (other
// errors) or FaultStatistics (faults win over errors). Response-time histograms bucket seconds
// to two significant digits (0.0123 s counts under 0.012).
//
// Thread-safety: builders are not synchronised; use one per request.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "xray/filter_expression.h"
#include "xray/trace_analysis.h"

namespace waggle::xray {

struct CallStatistics {
  int64_t ok = 0;
  int64_t throttle = 0;     // error statistics: throttled (429)
  int64_t error_other = 0;  // error statistics: other errors
  int64_t fault = 0;
  int64_t total = 0;
  double total_response_time = 0;  // seconds
  std::map<double, int64_t> response_times;  // histogram: bucket value (s) -> count

  void Add(const CallOutcome& call);
  int64_t errors() const { return throttle + error_other; }
};

// The bucket value a response time counts under.
double ResponseTimeBucket(double seconds);

struct GraphEdge {
  size_t destination = 0;  // index of the callee in the graph's nodes
  int64_t start_ns = 0, end_ns = 0;  // first and last call seen
  CallStatistics stats;
};

struct GraphNode {
  std::string name, type, account_id;
  bool inferred = false;
  bool root = false;  // the entry point of some trace
  int64_t start_ns = 0, end_ns = 0;
  CallStatistics stats;
  std::vector<GraphEdge> edges;  // calls from this node, by destination index
};

class ServiceGraphBuilder {
 public:
  void Add(const TraceAnalysis& trace);
  // The nodes in order of first appearance; a node's ReferenceId is its index.
  std::vector<GraphNode> Build() &&;

 private:
  size_t NodeFor(const ServiceFacts& service);

  std::map<std::tuple<std::string, std::string, std::string>, size_t> index_;
  std::vector<GraphNode> nodes_;
  std::map<std::pair<size_t, size_t>, size_t> edge_pos_;  // (from, to) -> index in from.edges
};

struct ServiceStatisticsPoint {
  int64_t timestamp_s = 0;             // start of the period
  std::optional<CallStatistics> edge;  // calls along edges the selector matched
  std::optional<CallStatistics> service;  // calls into nodes the selector matched
};

// Statistics per period over [start_s, end_s). Without a selector, the calls into each trace's
// entry point (the client edge) are counted as edge statistics. With one, node calls whose node
// alone satisfies it (service(...), id(...)) count as service statistics and edge calls whose
// edge alone satisfies it (edge(...)) as edge statistics.
class ServiceStatisticsBuilder {
 public:
  // REQUIRES: period_s > 0, end_s > start_s.
  ServiceStatisticsBuilder(int64_t start_s, int64_t end_s, int64_t period_s,
                           std::shared_ptr<const FilterExpression> selector);
  void Add(const TraceAnalysis& trace);
  // Every period of the range, oldest first.
  std::vector<ServiceStatisticsPoint> Build() &&;

 private:
  ServiceStatisticsPoint* PointFor(int64_t start_ns);

  int64_t start_s_, period_s_;
  std::shared_ptr<const FilterExpression> selector_;
  std::vector<ServiceStatisticsPoint> points_;
};

}  // namespace waggle::xray
