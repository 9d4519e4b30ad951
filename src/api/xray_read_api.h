// XrayReadApi: the X-Ray operations that read traces as X-Ray sees them (rest-json, POST, on the
// API port; shapes in PROTOCOLS.md B.4, semantics in docs/XRAY.md):
//
//   /TraceSummaries               GetTraceSummaries {StartTime, EndTime, TimeRangeType?,
//                                 FilterExpression?, Sampling?, SamplingStrategy?, NextToken?}
//                                 -> {TraceSummaries, ApproximateTime, TracesProcessedCount,
//                                 NextToken?}. Traces in [StartTime, EndTime) by TimeRangeType:
//                                 TraceId (default) the root's start, Event the trace's latest
//                                 end, Service any segment's end (for these two, traces whose
//                                 root starts up to kEndTimeLookback before the range are
//                                 examined too). Newest root first, kSummaryPageTraces examined
//                                 per page; a page may hold fewer summaries (those in the range
//                                 and kept by the expression) and still carry a NextToken.
//                                 Sampling is ignored: every trace is examined.
//   /TraceGraph                   GetTraceGraph {TraceIds (<= 100)} -> {Services}
//   /ServiceGraph                 GetServiceGraph {StartTime, EndTime, GroupName? | GroupARN?}
//                                 -> {StartTime, EndTime, Services, ContainsOldGroupVersions}
//   /TimeSeriesServiceStatistics  GetTimeSeriesServiceStatistics {StartTime, EndTime, Period?
//                                 (multiple of 60, default 60), GroupName? | GroupARN?,
//                                 EntitySelectorExpression?} -> {TimeSeriesServiceStatistics
//                                 (periods with calls only), ContainsOldGroupVersions}
//
// The graph and statistics operations aggregate every trace of the range, newest first, up to
// limits.max_graph_traces (then the newest that many; the range's older traces are left out),
// a page of traces at a time so that memory stays bounded; a group
// filters traces with its expression. Errors: 400
// InvalidRequestException (bad or missing fields, a malformed expression with its offset,
// an unknown group), 405 for a method other than POST; AWS's error shape (aws_json.h).
//
// Thread-safety: Handle() may be called from many threads. The store must outlive the API; the
// group resolver source is called per request.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "common/metrics.h"
#include "common/status.h"
#include "net/http_server.h"
#include "simdjson.h"
#include "store/store.h"
#include "xray/filter_expression.h"
#include "xray/trace_analysis.h"

namespace waggle {

struct XrayReadLimits {
  size_t max_graph_traces = 200'000;  // traces a graph or statistics request examines
  size_t graph_page_traces = 10'000;  // traces listed, then read and held, at a time
};

class XrayReadApi {
 public:
  static constexpr size_t kSummaryPageTraces = 100;
  // TimeRangeType Event and Service: how long before the range a trace may start and still
  // be found by an end time in the range (longer traces that start earlier are not).
  static constexpr std::chrono::minutes kEndTimeLookback{5};
  static constexpr size_t kMaxTraceGraphIds = 100;
  static constexpr int64_t kMaxPeriods = 10'000;

  // `groups` returns a resolver over the current X-Ray groups.
  XrayReadApi(Store* store, std::function<xray::GroupResolver()> groups, Metrics* metrics,
              XrayReadLimits limits = {});

  // True for the paths Handle() serves.
  static bool Owns(std::string_view path);
  // The response for the paths above; nullopt for any other path.
  std::optional<HttpResponse> Handle(const HttpRequest& request);

 private:
  HttpResponse GetTraceSummaries(const HttpRequest& request);
  HttpResponse GetTraceGraph(const HttpRequest& request);
  HttpResponse GetServiceGraph(const HttpRequest& request);
  HttpResponse GetTimeSeriesServiceStatistics(const HttpRequest& request);

  using TraceVisitor = std::function<void(const xray::TraceAnalysis&)>;

  // Calls `visit` with each analysed trace whose root starts in [start_ns, end_ns), newest
  // first, that `group` (may be null) keeps; examines at most limits_.max_graph_traces.
  Status ForEachTraceInRange(int64_t start_ns, int64_t end_ns,
                             const std::shared_ptr<const xray::FilterExpression>& group,
                             const xray::GroupResolver& resolver, const TraceVisitor& visit);

  // ForEachTraceInRange for the group the request names (GroupName | GroupARN; none or
  // Default = every trace). InvalidArgument for an unknown group.
  Status ForEachGroupTrace(simdjson::dom::object body, int64_t start_ns, int64_t end_ns,
                           const TraceVisitor& visit);

  Store* const store_;
  const std::function<xray::GroupResolver()> groups_;
  const XrayReadLimits limits_;
  Histogram* const summaries_seconds_;
  Histogram* const graph_seconds_;
};

}  // namespace waggle
