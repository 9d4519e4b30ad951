#include "api/xray_trace_api.h"

#include <algorithm>
#include <chrono>
#include <limits>

#include "api/json_writer.h"
#include "api/trace_json.h"
#include "simdjson.h"
#include "xray/segment_document.h"
#include "xray/trace_id.h"

namespace waggle {
namespace {

constexpr std::string_view kInvalidRequest = "InvalidRequestException";
constexpr size_t kMaxSegmentDocuments = 10'000;
constexpr size_t kMaxTraceIds = 100;

std::string ErrorCodeFor(const Status& st) {
  if (st.code() != absl::StatusCode::kInvalidArgument) return "ServiceUnavailable";
  return absl::string_view(st.message()).substr(0, 8) == "trace_id" ? "InvalidTraceId"
                                                                    : "InvalidSegment";
}

}  // namespace

XrayTraceApi::XrayTraceApi(Store* store, xray::SegmentIngester* ingester, Metrics* metrics)
    : store_(store),
      ingester_(ingester),
      batch_get_seconds_(metrics->GetHistogram("waggle_query_seconds",
                                               "Latency of API reads against the store.",
                                               LatencyBucketsSeconds(),
                                               {{"op", "xray_batch_get_traces"}})) {}

std::optional<HttpResponse> XrayTraceApi::Handle(const HttpRequest& request) {
  if (request.path != "/TraceSegments" && request.path != "/Traces") return std::nullopt;
  if (request.method != "POST") return AwsMethodNotAllowed(request);
  return request.path == "/TraceSegments" ? PutTraceSegments(request) : BatchGetTraces(request);
}

HttpResponse XrayTraceApi::PutTraceSegments(const HttpRequest& request) {
  simdjson::dom::parser parser;
  StatusOr<simdjson::dom::object> body = ParseAwsJsonBody(parser, request.body);
  if (!body.ok()) return AwsJsonError(400, kInvalidRequest, std::string(body.status().message()));
  simdjson::dom::array docs;
  if ((*body)["TraceSegmentDocuments"].get(docs) != simdjson::SUCCESS) {
    return AwsJsonError(400, kInvalidRequest,
                        "TraceSegmentDocuments is required: an array of segment documents, "
                        "each a JSON string");
  }
  if (docs.size() > kMaxSegmentDocuments) {
    return AwsJsonError(400, kInvalidRequest, "more than 10000 TraceSegmentDocuments");
  }
  std::vector<std::string_view> documents;
  std::vector<size_t> positions;  // index in the request of each element of `documents`
  JsonWriter w;
  w.BeginObject().Key("UnprocessedTraceSegments").BeginArray();
  size_t index = 0;
  for (simdjson::dom::element e : docs) {
    std::string_view text;
    if (e.get(text) != simdjson::SUCCESS) {
      w.BeginObject().Key("ErrorCode").String("InvalidSegment");
      w.Key("Message").String("TraceSegmentDocuments[" + std::to_string(index) +
                              "] is not a string");
      w.EndObject();
    } else {
      documents.push_back(text);
      positions.push_back(index);
    }
    ++index;
  }
  std::vector<xray::IngestResult> results =
      ingester_->Ingest(documents, std::chrono::system_clock::now());
  for (size_t i = 0; i < results.size(); ++i) {
    const xray::IngestResult& r = results[i];
    if (r.status.ok()) continue;
    w.BeginObject();
    if (!r.id.empty()) w.Key("Id").String(r.id);
    w.Key("ErrorCode").String(ErrorCodeFor(r.status));
    w.Key("Message").String("TraceSegmentDocuments[" + std::to_string(positions[i]) + "]: " +
                            std::string(r.status.message()));
    w.EndObject();
  }
  w.EndArray().EndObject();
  return HttpResponse::Json(200, w.Take());
}

HttpResponse XrayTraceApi::BatchGetTraces(const HttpRequest& request) {
  simdjson::dom::parser parser;
  StatusOr<simdjson::dom::object> body = ParseAwsJsonBody(parser, request.body);
  if (!body.ok()) return AwsJsonError(400, kInvalidRequest, std::string(body.status().message()));
  simdjson::dom::array ids;
  if ((*body)["TraceIds"].get(ids) != simdjson::SUCCESS) {
    return AwsJsonError(400, kInvalidRequest, "TraceIds is required: an array of trace ids");
  }
  if (ids.size() > kMaxTraceIds) {
    return AwsJsonError(400, kInvalidRequest, "more than 100 TraceIds in one request");
  }
  auto t0 = std::chrono::steady_clock::now();
  JsonWriter traces, unprocessed;
  traces.BeginArray();
  unprocessed.BeginArray();
  for (simdjson::dom::element e : ids) {
    std::string_view text;
    TraceId id{};
    if (e.get(text) != simdjson::SUCCESS) {
      return AwsJsonError(400, kInvalidRequest, "TraceIds must be strings");
    }
    if (!ParseTraceIdParam(text, &id)) {
      unprocessed.String(text);
      continue;
    }
    StatusOr<std::vector<Span>> rows = store_->GetTrace(id);
    std::vector<xray::EncodedSegment> segments;
    if (rows.ok()) segments = xray::EncodeTraceSegments(*rows);
    if (segments.empty()) {
      unprocessed.String(text);
      continue;
    }
    int64_t start = std::numeric_limits<int64_t>::max(), end = 0;
    for (const Span& s : *rows) {
      if (s.row_kind != RowKind::kSpan) continue;
      start = std::min(start, s.start_ns);
      end = std::max(end, s.end_ns);
    }
    traces.BeginObject();
    traces.Key("Id").String(xray::FormatTraceId(id));
    traces.Key("Duration").Double(end > start ? (end - start) / 1e9 : 0.0);
    traces.Key("LimitExceeded").Bool(false);
    traces.Key("Segments").BeginArray();
    for (const xray::EncodedSegment& seg : segments) {
      traces.BeginObject().Key("Id").String(seg.id).Key("Document").String(seg.document);
      traces.EndObject();
    }
    traces.EndArray().EndObject();
  }
  traces.EndArray();
  unprocessed.EndArray();
  batch_get_seconds_->Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  JsonWriter w;
  w.BeginObject().Key("Traces").Raw(traces.str()).Key("UnprocessedTraceIds").Raw(unprocessed.str());
  w.EndObject();
  return HttpResponse::Json(200, w.Take());
}

}  // namespace waggle
