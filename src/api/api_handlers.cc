#include "api/api_handlers.h"

#include <charconv>
#include <chrono>
#include <cstdio>

#include "api/bubbleup_json.h"
#include "api/json_writer.h"
#include "api/query_json.h"
#include "api/trace_search_json.h"
#include "api/trace_json.h"
#include "api/xray_auth.h"

namespace waggle {
namespace {

constexpr std::string_view kTracesPrefix = "/api/v1/traces";
constexpr std::string_view kSearchPath = "/api/v1/traces/search";
constexpr std::string_view kBubbleUpPath = "/api/v1/bubbleup";

HttpResponse JsonErr(int status, std::string_view message) {
  return HttpResponse::Json(status, JsonError(message));
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

int64_t NowUnixNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

ApiHandlers::ApiHandlers(Store* store, const ApiKeys* keys, Metrics* metrics, ApiOptions options)
    : store_(store),
      keys_(keys),
      metrics_(metrics),
      options_(std::move(options)),
      honeycomb_(store, options_.state_path),
      xray_sampling_(options_.xray_state_path),
      xray_reads_(store, [this] { return xray_sampling_.GroupResolver(); }, metrics),
      get_trace_seconds_(metrics->GetHistogram("waggle_query_seconds",
                                               "Latency of API reads against the store.",
                                               LatencyBucketsSeconds(), {{"op", "get_trace"}})),
      recent_traces_seconds_(metrics->GetHistogram(
          "waggle_query_seconds", "Latency of API reads against the store.",
          LatencyBucketsSeconds(), {{"op", "recent_traces"}})),
      search_traces_seconds_(metrics->GetHistogram(
          "waggle_query_seconds", "Latency of API reads against the store.",
          LatencyBucketsSeconds(), {{"op", "search_traces"}})),
      auth_failures_(metrics->GetCounter("waggle_api_requests_rejected_total",
                                         "API requests rejected, by reason.",
                                         {{"reason", "auth"}})) {
  if (options_.xray_ingester != nullptr) {
    xray_traces_ = std::make_unique<XrayTraceApi>(store, options_.xray_ingester, metrics);
  }
}

std::optional<HttpResponse> ApiHandlers::Handle(const HttpRequest& request) {
  if (IsXrayRestPath(request.path)) {
    if (std::optional<HttpResponse> denied = CheckXraySignature(options_.aws_verifier, request)) {
      auth_failures_->Inc();
      return denied;
    }
  }
  if (xray_traces_) {
    if (std::optional<HttpResponse> r = xray_traces_->Handle(request)) return r;
  }
  std::string_view path = request.path;
  if (XraySamplingApi::Owns(path)) return xray_sampling_.Handle(request);
  if (XrayReadApi::Owns(path)) return xray_reads_.Handle(request);
  if (IsXrayRestPath(path)) {
    return AwsJsonError(404, "UnknownOperationException",
                        "waggle serves no X-Ray operation at " + std::string(path));
  }
  bool is_api = path == kTracesPrefix || StartsWith(path, "/api/") || StartsWith(path, "/1/");
  bool is_ops = path == "/healthz" || path == "/readyz" || path == "/metrics";
  if (!is_api && !is_ops) return std::nullopt;
  // Honeycomb's /1 resources take other methods too (HoneycombApi checks them).
  const bool honeycomb = StartsWith(path, "/1/") && path != "/1/auth";
  const bool search = path == kSearchPath && request.method == "POST";
  const bool bubbleup = path == kBubbleUpPath && request.method == "POST";
  if (!honeycomb && !search && !bubbleup && request.method != "GET" && request.method != "HEAD") {
    HttpResponse r = JsonErr(405, "method " + request.method + " not allowed on " +
                                      request.path + "; use GET");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  if (path == "/healthz") return HttpResponse::Text(200, "ok\n");
  if (path == "/readyz") {
    return ready_.load(std::memory_order_acquire) ? HttpResponse::Text(200, "ready\n")
                                                  : HttpResponse::Text(503, "not ready\n");
  }
  if (path == "/metrics") return RenderMetrics();

  if (Status auth = keys_->Check(request); !auth.ok()) {
    auth_failures_->Inc();
    return JsonErr(401, std::string(auth.message()));
  }
  if (path == "/1/auth") return Auth(request);
  if (honeycomb) {
    if (std::optional<HttpResponse> r = honeycomb_.Handle(request)) return r;
  }
  if (search) return SearchTraces(request);
  if (bubbleup) return BubbleUp(request);
  if (path == kBubbleUpPath) {
    HttpResponse r = JsonErr(405, "method " + request.method + " not allowed on " +
                                      request.path + "; use POST");
    r.headers.emplace_back("Allow", "POST");
    return r;
  }
  if (path == kTracesPrefix || path == "/api/v1/traces/") return ListTraces(request);
  if (StartsWith(path, "/api/v1/traces/")) {
    std::string_view id = path.substr(kTracesPrefix.size() + 1);
    return GetTrace(id);
  }
  return JsonErr(404, "no such endpoint: " + request.path);
}

HttpResponse ApiHandlers::GetTrace(std::string_view id_text) {
  TraceId id{};
  if (!ParseTraceIdParam(id_text, &id)) {
    std::string shown(id_text.substr(0, 80));
    return JsonErr(400, "invalid trace id '" + shown +
                            "': expected 32 hex digits or an X-Ray id like "
                            "1-5759e988-bd862e3fe1be46a994272793");
  }
  auto t0 = std::chrono::steady_clock::now();
  StatusOr<std::vector<Span>> rows = store_->GetTrace(id);
  get_trace_seconds_->Observe(SecondsSince(t0));
  if (!rows.ok()) {
    return JsonErr(500, "reading trace failed: " + std::string(rows.status().message()));
  }
  bool any_span = false;
  for (const Span& s : *rows) any_span |= s.row_kind == RowKind::kSpan;
  if (!any_span) return JsonErr(404, "trace " + ToHex(id) + " not found");
  return HttpResponse::Json(200, TraceTreeJson(id, *rows));
}

HttpResponse ApiHandlers::ListTraces(const HttpRequest& request) {
  RecentTracesRequest req;
  std::string limit = request.QueryParam("limit");
  if (!limit.empty()) {
    size_t n = 0;
    auto res = std::from_chars(limit.data(), limit.data() + limit.size(), n);
    if (res.ec != std::errc() || res.ptr != limit.data() + limit.size() || n < 1 || n > 1000) {
      return JsonErr(400, "invalid limit '" + limit.substr(0, 40) +
                              "': expected an integer from 1 to 1000");
    }
    req.limit = n;
  }
  req.service = request.QueryParam("service");
  auto t0 = std::chrono::steady_clock::now();
  StatusOr<std::vector<TraceSummary>> traces = store_->RecentTraces(req);
  recent_traces_seconds_->Observe(SecondsSince(t0));
  if (!traces.ok()) {
    return JsonErr(500, "listing traces failed: " + std::string(traces.status().message()));
  }
  return HttpResponse::Json(200, TraceSummariesJson(*traces));
}

HttpResponse ApiHandlers::SearchTraces(const HttpRequest& request) {
  StatusOr<query::RowSearch> search = ParseTraceSearchJson(request.body, NowUnixNanos());
  if (!search.ok()) return JsonErr(400, std::string(search.status().message()));
  auto t0 = std::chrono::steady_clock::now();
  StatusOr<std::vector<TraceSummary>> traces = store_->SearchTraces(*search);
  search_traces_seconds_->Observe(SecondsSince(t0));
  if (!traces.ok()) {
    int status = traces.status().code() == absl::StatusCode::kInvalidArgument ? 400 : 500;
    return JsonErr(status, "trace search failed: " + std::string(traces.status().message()));
  }
  return HttpResponse::Json(200, TraceSummariesJson(*traces));
}

HttpResponse ApiHandlers::BubbleUp(const HttpRequest& request) {
  StatusOr<query::BubbleUpRequest> req = ParseBubbleUpJson(request.body);
  if (!req.ok()) return JsonErr(400, std::string(req.status().message()));
  StatusOr<query::BubbleUpResult> result = store_->BubbleUp(*req);
  if (!result.ok()) {
    const absl::StatusCode code = result.status().code();
    const int status = code == absl::StatusCode::kInvalidArgument     ? 400
                       : code == absl::StatusCode::kResourceExhausted ? 422
                       : code == absl::StatusCode::kUnimplemented     ? 501
                                                                      : 500;
    return JsonErr(status, std::string(result.status().message()));
  }
  return HttpResponse::Json(200, BubbleUpResultToJson(*result));
}

HttpResponse ApiHandlers::Auth(const HttpRequest& request) const {
  // A stable, non-secret id for the key (FNV-1a of it); Honeycomb returns its key id here.
  uint32_t h = 2166136261u;
  for (unsigned char c : ApiKeys::PresentedKey(request)) h = (h ^ c) * 16777619u;
  char id[16];
  std::snprintf(id, sizeof(id), "wk_%08x", h);
  JsonWriter w;
  w.BeginObject();
  w.Key("id").String(id);
  w.Key("type").String("configuration");
  w.Key("api_key_access").BeginObject();
  for (const char* k : {"events", "markers", "triggers", "boards", "queries", "columns",
                        "create_datasets", "slos", "recipients"}) {
    w.Key(k).Bool(true);
  }
  w.EndObject();
  w.Key("environment").BeginObject();
  w.Key("name").String(options_.environment).Key("slug").String(options_.environment);
  w.EndObject();
  w.Key("team").BeginObject();
  w.Key("name").String("waggle").Key("slug").String("waggle");
  w.EndObject();
  w.EndObject();
  return HttpResponse::Json(200, w.Take());
}

void ApiHandlers::UpdateStoreGauges() {
  StoreStats s = store_->Stats();
  Metrics& m = *metrics_;
  m.GetCounter("waggle_store_rows_appended_total", "Rows appended to the store since start.")
      ->SetTo(s.rows_appended);
  m.GetGauge("waggle_store_head_rows", "Rows in the in-memory head.")->Set(s.head_rows);
  m.GetGauge("waggle_store_head_memory_bytes", "Estimated heap bytes held by the head.")
      ->Set(static_cast<double>(s.head_memory_bytes));
  m.GetGauge("waggle_store_segments", "Columnar segment files.")->Set(s.segments);
  m.GetGauge("waggle_store_segment_rows", "Rows in segment files.")->Set(s.segment_rows);
  m.GetGauge("waggle_store_segment_bytes", "Bytes of segment files on disk.")
      ->Set(s.segment_bytes);
  m.GetGauge("waggle_store_disk_bytes", "Bytes on disk: segments plus WAL.")
      ->Set(static_cast<double>(s.segment_bytes + s.wal_disk_bytes));
  m.GetCounter("waggle_wal_bytes_written_total", "Bytes written to the WAL since start.")
      ->SetTo(s.wal_bytes_written);
  m.GetGauge("waggle_wal_disk_bytes", "Bytes of WAL files on disk.")->Set(s.wal_disk_bytes);
  m.GetCounter("waggle_wal_fsyncs_total", "WAL fsync calls since start.")->SetTo(s.wal_syncs);
  m.GetGauge("waggle_wal_fsync_last_seconds", "Duration of the most recent WAL fsync.")
      ->Set(s.wal_last_sync_nanos / 1e9);
  m.GetGauge("waggle_wal_fsync_mean_seconds", "Mean WAL fsync duration since start.")
      ->Set(s.wal_syncs ? s.wal_sync_nanos_total / 1e9 / s.wal_syncs : 0.0);
  m.GetGauge("waggle_wal_fsync_seconds_total", "Total time spent in WAL fsync since start.")
      ->Set(s.wal_sync_nanos_total / 1e9);
  m.GetCounter("waggle_store_flushes_total", "Head flushes to segments.")->SetTo(s.flushes);
  m.GetCounter("waggle_store_compactions_total", "Segment compactions.")->SetTo(s.compactions);
  m.GetCounter("waggle_store_segments_dropped_total", "Segments dropped by retention.")
      ->SetTo(s.segments_dropped_by_retention);
  m.GetCounter("waggle_store_segments_quarantined_total", "Corrupt segments quarantined.")
      ->SetTo(s.segments_quarantined);
  m.GetCounter("waggle_wal_replayed_records_total", "WAL records replayed at start.")
      ->SetTo(s.replayed_records);
}

HttpResponse ApiHandlers::RenderMetrics() {
  UpdateStoreGauges();
  HttpResponse r;
  r.status = 200;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = metrics_->Render();
  return r;
}

}  // namespace waggle
