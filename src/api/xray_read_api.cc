#include "api/xray_read_api.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/numbers.h"
#include "api/aws_json.h"
#include "api/json_writer.h"
#include "api/trace_json.h"
#include "api/xray_read_json.h"
#include "simdjson.h"
#include "xray/service_graph.h"
#include "xray/trace_id.h"

namespace waggle {
namespace {

constexpr std::string_view kInvalidRequest = "InvalidRequestException";
constexpr std::string_view kSummariesPath = "/TraceSummaries";
constexpr std::string_view kTraceGraphPath = "/TraceGraph";
constexpr std::string_view kServiceGraphPath = "/ServiceGraph";
constexpr std::string_view kStatisticsPath = "/TimeSeriesServiceStatistics";

HttpResponse BadRequest(const Status& st) {
  return AwsJsonError(400, kInvalidRequest, std::string(st.message()));
}

// The store failed: AWS's retryable server error.
HttpResponse Unavailable(const Status& st) {
  return AwsJsonError(500, "ServiceUnavailable", std::string(st.message()));
}

// InvalidArgument is the request's fault; anything else the store's.
HttpResponse ErrorFor(const Status& st) {
  return st.code() == absl::StatusCode::kInvalidArgument ? BadRequest(st) : Unavailable(st);
}

double NowEpochSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct TimeRange {
  int64_t start_ns = 0, end_ns = 0;
};

StatusOr<TimeRange> ReadTimeRange(simdjson::dom::object body) {
  TimeRange r;
  ASSIGN_OR_RETURN(r.start_ns, RequiredEpochNanos(body, "StartTime"));
  ASSIGN_OR_RETURN(r.end_ns, RequiredEpochNanos(body, "EndTime"));
  if (r.end_ns <= r.start_ns) return absl::InvalidArgumentError("EndTime must be after StartTime");
  return r;
}

// GetTraceSummaries' TimeRangeType: which time of a trace the range selects by.
enum class TimeRangeType {
  kTraceId,  // the trace's start (its root's)
  kEvent,    // the trace's update time: its latest end
  kService,  // a segment's end: any row of the trace ending in the range
};

std::optional<TimeRangeType> ParseTimeRangeType(std::string_view text) {
  if (text == "TraceId") return TimeRangeType::kTraceId;
  if (text == "Event") return TimeRangeType::kEvent;
  if (text == "Service") return TimeRangeType::kService;
  return std::nullopt;
}

// Whether the trace of `rows` (whose root starts before range.end_ns) is in `range` by the end
// times `type` selects by; always for kTraceId (the store selected by root start).
bool EndsInRange(TimeRangeType type, const std::vector<Span>& rows, const TimeRange& range) {
  auto in_range = [&range](int64_t ns) { return ns >= range.start_ns && ns < range.end_ns; };
  switch (type) {
    case TimeRangeType::kTraceId: return true;
    case TimeRangeType::kEvent: {
      int64_t latest = INT64_MIN;
      for (const Span& s : rows) latest = std::max(latest, s.end_ns);
      return in_range(latest);
    }
    case TimeRangeType::kService:
      return std::any_of(rows.begin(), rows.end(), [&](const Span& s) {
        return s.row_kind == RowKind::kSpan && in_range(s.end_ns);
      });
  }
  return false;
}

// A request body with the StartTime/EndTime every time-ranged operation requires.
struct RangedRequest {
  simdjson::dom::object body;
  TimeRange range;
};

StatusOr<RangedRequest> ReadRangedRequest(simdjson::dom::parser& parser,
                                          const HttpRequest& request) {
  RangedRequest r;
  ASSIGN_OR_RETURN(r.body, ParseAwsJsonBody(parser, request.body));
  ASSIGN_OR_RETURN(r.range, ReadTimeRange(r.body));
  return r;
}

// NextToken of GetTraceSummaries: "v1:<root start ns>:<trace id hex>", the last trace examined.
std::string EncodeCursor(const TraceCursor& c) {
  return "v1:" + std::to_string(c.start_ns) + ":" + ToHex(c.trace_id);
}

StatusOr<TraceCursor> DecodeCursor(std::string_view token) {
  TraceCursor c;
  const size_t colon = token.rfind(':');
  if (token.substr(0, 3) != "v1:" || colon == std::string_view::npos || colon < 3 ||
      !absl::SimpleAtoi(absl::string_view(token.data() + 3, colon - 3), &c.start_ns) ||
      !ParseHex(token.substr(colon + 1), &c.trace_id)) {
    return absl::InvalidArgumentError("NextToken is not one this server returned");
  }
  return c;
}

StatusOr<std::shared_ptr<const xray::FilterExpression>> ParseExpression(
    simdjson::dom::object body, std::string_view field) {
  ASSIGN_OR_RETURN(std::optional<std::string_view> text, OptionalString(body, field));
  if (!text || text->empty()) return std::shared_ptr<const xray::FilterExpression>();
  StatusOr<xray::FilterExpression> parsed = xray::FilterExpression::Parse(*text);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(std::string(field) + ": " +
                                      std::string(parsed.status().message()));
  }
  return std::make_shared<const xray::FilterExpression>(*std::move(parsed));
}

// The expression of the group the request names (GroupName or GroupARN); null for none or the
// Default group (every trace).
StatusOr<std::shared_ptr<const xray::FilterExpression>> GroupFilter(
    simdjson::dom::object body, const xray::GroupResolver& resolver) {
  ASSIGN_OR_RETURN(std::optional<std::string_view> name, OptionalString(body, "GroupName"));
  ASSIGN_OR_RETURN(std::optional<std::string_view> arn, OptionalString(body, "GroupARN"));
  if (name && *name == "Default") return std::shared_ptr<const xray::FilterExpression>();
  if (!name && !arn) return std::shared_ptr<const xray::FilterExpression>();
  std::shared_ptr<const xray::FilterExpression> e =
      name ? resolver(*name, false) : resolver(*arn, true);
  if (e == nullptr) {
    return absl::InvalidArgumentError("Group not found: " + std::string(name ? *name : *arn));
  }
  return e;
}

StatusOr<std::vector<TraceId>> ReadTraceIds(simdjson::dom::object body, size_t max) {
  simdjson::dom::array ids;
  if (body["TraceIds"].get(ids) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("TraceIds is required: an array of trace ids");
  }
  if (ids.size() > max) {
    return absl::InvalidArgumentError("more than " + std::to_string(max) + " TraceIds");
  }
  std::vector<TraceId> out;
  for (simdjson::dom::element e : ids) {
    std::string_view text;
    TraceId id{};
    if (e.get(text) != simdjson::SUCCESS || !ParseTraceIdParam(text, &id)) {
      return absl::InvalidArgumentError("TraceIds: invalid trace id");
    }
    out.push_back(id);
  }
  return out;
}

class Timer {
 public:
  explicit Timer(Histogram* h) : h_(h), t0_(std::chrono::steady_clock::now()) {}
  ~Timer() {
    h_->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count());
  }

 private:
  Histogram* h_;
  std::chrono::steady_clock::time_point t0_;
};

Histogram* ReadLatency(Metrics* metrics, std::string_view op) {
  return metrics->GetHistogram("waggle_query_seconds", "Latency of API reads against the store.",
                               LatencyBucketsSeconds(), {{"op", std::string(op)}});
}

}  // namespace

XrayReadApi::XrayReadApi(Store* store, std::function<xray::GroupResolver()> groups,
                         Metrics* metrics, XrayReadLimits limits)
    : store_(store),
      groups_(std::move(groups)),
      limits_(limits),
      summaries_seconds_(ReadLatency(metrics, "xray_trace_summaries")),
      graph_seconds_(ReadLatency(metrics, "xray_service_graph")) {}

bool XrayReadApi::Owns(std::string_view path) {
  return path == kSummariesPath || path == kTraceGraphPath || path == kServiceGraphPath ||
         path == kStatisticsPath;
}

std::optional<HttpResponse> XrayReadApi::Handle(const HttpRequest& request) {
  if (!Owns(request.path)) return std::nullopt;
  if (request.method != "POST") return AwsMethodNotAllowed(request);
  if (request.path == kSummariesPath) return GetTraceSummaries(request);
  if (request.path == kTraceGraphPath) return GetTraceGraph(request);
  if (request.path == kServiceGraphPath) return GetServiceGraph(request);
  return GetTimeSeriesServiceStatistics(request);
}

HttpResponse XrayReadApi::GetTraceSummaries(const HttpRequest& request) {
  Timer timer(summaries_seconds_);
  simdjson::dom::parser parser;
  StatusOr<RangedRequest> ranged = ReadRangedRequest(parser, request);
  if (!ranged.ok()) return BadRequest(ranged.status());
  const simdjson::dom::object* body = &ranged->body;
  const TimeRange* range = &ranged->range;
  StatusOr<std::optional<std::string_view>> type_text = OptionalString(*body, "TimeRangeType");
  if (!type_text.ok()) return BadRequest(type_text.status());
  const std::optional<TimeRangeType> range_type =
      *type_text ? ParseTimeRangeType(**type_text) : TimeRangeType::kTraceId;
  if (!range_type) {
    return AwsJsonError(400, kInvalidRequest,
                        "TimeRangeType must be TraceId, Event or Service");
  }
  StatusOr<std::shared_ptr<const xray::FilterExpression>> filter =
      ParseExpression(*body, "FilterExpression");
  if (!filter.ok()) return BadRequest(filter.status());
  RecentTracesRequest req;
  req.limit = kSummaryPageTraces;
  // By end times: also the traces that started up to kEndTimeLookback before the range.
  req.start_ns = *range_type == TimeRangeType::kTraceId
                     ? range->start_ns
                     : range->start_ns - std::chrono::nanoseconds(kEndTimeLookback).count();
  req.end_ns = range->end_ns;
  req.ids_only = true;
  StatusOr<std::optional<std::string_view>> token = OptionalString(*body, "NextToken");
  if (!token.ok()) return BadRequest(token.status());
  if (*token && !(*token)->empty()) {
    StatusOr<TraceCursor> cursor = DecodeCursor(**token);
    if (!cursor.ok()) return BadRequest(cursor.status());
    req.after = *cursor;
  }
  StatusOr<std::vector<TraceSummary>> candidates = store_->RecentTraces(req);
  if (!candidates.ok()) return Unavailable(candidates.status());
  const xray::GroupResolver resolver = groups_();
  JsonWriter w;
  w.BeginObject().Key("TraceSummaries").BeginArray();
  std::vector<TraceId> ids;
  for (const TraceSummary& c : *candidates) ids.push_back(c.trace_id);
  StatusOr<std::vector<std::vector<Span>>> traces = store_->GetTraces(ids);
  if (!traces.ok()) return Unavailable(traces.status());
  for (const std::vector<Span>& rows : *traces) {
    if (!EndsInRange(*range_type, rows, *range)) continue;
    xray::TraceAnalysis trace = xray::AnalyzeTrace(rows);
    if (*filter && !(*filter)->Matches(trace.facts, resolver)) continue;
    xray_json::WriteTraceSummary(trace, &w);
  }
  w.EndArray();
  w.Key("ApproximateTime").Double(NowEpochSeconds());
  w.Key("TracesProcessedCount").Int(static_cast<int64_t>(candidates->size()));
  if (candidates->size() == kSummaryPageTraces) {
    const TraceSummary& last = candidates->back();
    w.Key("NextToken").String(EncodeCursor(TraceCursor{last.start_ns, last.trace_id}));
  }
  w.EndObject();
  return HttpResponse::Json(200, w.Take());
}

Status XrayReadApi::ForEachTraceInRange(int64_t start_ns, int64_t end_ns,
                                        const std::shared_ptr<const xray::FilterExpression>& group,
                                        const xray::GroupResolver& resolver,
                                        const TraceVisitor& visit) {
  RecentTracesRequest req;
  req.start_ns = start_ns;
  req.end_ns = end_ns;
  req.ids_only = true;
  size_t examined = 0;
  while (examined < limits_.max_graph_traces) {
    req.limit = std::min(limits_.graph_page_traces, limits_.max_graph_traces - examined);
    ASSIGN_OR_RETURN(std::vector<TraceSummary> page, store_->RecentTraces(req));
    // One read per page: its traces share segment blocks, which are then decoded once.
    std::vector<TraceId> ids;
    ids.reserve(page.size());
    for (const TraceSummary& t : page) ids.push_back(t.trace_id);
    ASSIGN_OR_RETURN(std::vector<std::vector<Span>> traces, store_->GetTraces(ids));
    for (const std::vector<Span>& rows : traces) {
      const xray::TraceAnalysis trace = xray::AnalyzeTrace(rows);
      if (group && !group->Matches(trace.facts, resolver)) continue;
      visit(trace);
    }
    examined += page.size();
    if (page.size() < req.limit) break;  // the range holds no more
    req.after = TraceCursor{page.back().start_ns, page.back().trace_id};
  }
  return OkStatus();
}

HttpResponse XrayReadApi::GetTraceGraph(const HttpRequest& request) {
  Timer timer(graph_seconds_);
  simdjson::dom::parser parser;
  StatusOr<simdjson::dom::object> body = ParseAwsJsonBody(parser, request.body);
  if (!body.ok()) return BadRequest(body.status());
  StatusOr<std::vector<TraceId>> ids = ReadTraceIds(*body, kMaxTraceGraphIds);
  if (!ids.ok()) return BadRequest(ids.status());
  StatusOr<std::vector<std::vector<Span>>> traces = store_->GetTraces(*ids);
  if (!traces.ok()) return Unavailable(traces.status());
  xray::ServiceGraphBuilder graph;
  for (const std::vector<Span>& rows : *traces) graph.Add(xray::AnalyzeTrace(rows));
  JsonWriter w;
  w.BeginObject().Key("Services");
  xray_json::WriteServices(std::move(graph).Build(), &w);
  w.EndObject();
  return HttpResponse::Json(200, w.Take());
}

Status XrayReadApi::ForEachGroupTrace(simdjson::dom::object body, int64_t start_ns,
                                      int64_t end_ns, const TraceVisitor& visit) {
  const xray::GroupResolver resolver = groups_();
  ASSIGN_OR_RETURN(std::shared_ptr<const xray::FilterExpression> group,
                   GroupFilter(body, resolver));
  return ForEachTraceInRange(start_ns, end_ns, group, resolver, visit);
}

HttpResponse XrayReadApi::GetServiceGraph(const HttpRequest& request) {
  Timer timer(graph_seconds_);
  simdjson::dom::parser parser;
  StatusOr<RangedRequest> ranged = ReadRangedRequest(parser, request);
  if (!ranged.ok()) return BadRequest(ranged.status());
  const simdjson::dom::object* body = &ranged->body;
  const TimeRange* range = &ranged->range;
  xray::ServiceGraphBuilder graph;
  Status walked = ForEachGroupTrace(*body, range->start_ns, range->end_ns,
                                    [&graph](const xray::TraceAnalysis& t) { graph.Add(t); });
  if (!walked.ok()) return ErrorFor(walked);
  JsonWriter w;
  w.BeginObject();
  w.Key("StartTime").Double(range->start_ns / 1e9).Key("EndTime").Double(range->end_ns / 1e9);
  w.Key("Services");
  xray_json::WriteServices(std::move(graph).Build(), &w);
  w.Key("ContainsOldGroupVersions").Bool(false).EndObject();
  return HttpResponse::Json(200, w.Take());
}

HttpResponse XrayReadApi::GetTimeSeriesServiceStatistics(const HttpRequest& request) {
  Timer timer(graph_seconds_);
  simdjson::dom::parser parser;
  StatusOr<RangedRequest> ranged = ReadRangedRequest(parser, request);
  if (!ranged.ok()) return BadRequest(ranged.status());
  const simdjson::dom::object* body = &ranged->body;
  const TimeRange* range = &ranged->range;
  StatusOr<std::optional<double>> period = OptionalNumber(*body, "Period");
  if (!period.ok()) return BadRequest(period.status());
  const int64_t period_s = period->has_value() ? static_cast<int64_t>(**period) : 60;
  if (period_s <= 0 || period_s % 60 != 0 || (period->has_value() && **period != period_s)) {
    return AwsJsonError(400, kInvalidRequest, "Period must be a positive multiple of 60 seconds");
  }
  const int64_t start_s = range->start_ns / 1'000'000'000;
  const int64_t end_s = (range->end_ns + 999'999'999) / 1'000'000'000;
  if ((end_s - start_s) / period_s > kMaxPeriods) {
    return AwsJsonError(400, kInvalidRequest,
                        "the time range holds more than 10000 periods; use a longer Period");
  }
  StatusOr<std::shared_ptr<const xray::FilterExpression>> selector =
      ParseExpression(*body, "EntitySelectorExpression");
  if (!selector.ok()) return BadRequest(selector.status());
  xray::ServiceStatisticsBuilder stats(start_s, end_s, period_s, *selector);
  Status walked = ForEachGroupTrace(*body, range->start_ns, range->end_ns,
                                    [&stats](const xray::TraceAnalysis& t) { stats.Add(t); });
  if (!walked.ok()) return ErrorFor(walked);
  JsonWriter w;
  w.BeginObject().Key("TimeSeriesServiceStatistics").BeginArray();
  for (const xray::ServiceStatisticsPoint& p : std::move(stats).Build()) {
    if (!p.edge && !p.service) continue;
    w.BeginObject().Key("Timestamp").Int(p.timestamp_s);
    if (p.edge) {
      w.Key("EdgeSummaryStatistics");
      xray_json::WriteSummaryStatistics(*p.edge, &w);
    }
    if (p.service) {
      w.Key("ServiceSummaryStatistics");
      xray_json::WriteSummaryStatistics(*p.service, &w);
    }
    w.Key("ResponseTimeHistogram");
    xray_json::WriteHistogram(p.service ? *p.service : *p.edge, &w);
    w.EndObject();
  }
  w.EndArray().Key("ContainsOldGroupVersions").Bool(false).EndObject();
  return HttpResponse::Json(200, w.Take());
}

}  // namespace waggle
