// ApiHandlers: waggle's own HTTP API, Honeycomb's `/1/auth`, and the operations endpoints.
//
//   GET /api/v1/traces/{trace_id}        one trace as a span tree (api/trace_json.h); the id is
//                                        32 hex, X-Ray "1-8hex-24hex" or 16 hex; 400 bad id,
//                                        404 unknown trace
//   GET /api/v1/traces?limit=&service=   recent trace summaries, newest first (limit 1..1000)
//   POST /api/v1/traces/search           trace search (api/trace_search_json.h): the slowest or
//                                        newest root spans matching filters, with each trace's
//                                        span count, services and error flag
//   POST /api/v1/bubbleup                BubbleUp (api/bubbleup_json.h): how a selection's rows
//                                        differ from the rest of a query's rows, per column;
//                                        400 bad field, 422 past the memory budget
//   GET /1/auth                          Honeycomb's key-introspection shape; 401 on a bad key
//   /1/queries, /1/query_results, /1/datasets, /1/columns, /1/markers: api/honeycomb_api.h
//   GET /healthz                         always 200 "ok"
//   GET /readyz                          200 once SetReady(true), else 503
//   GET /metrics                         Prometheus text, including the store's statistics
//   POST /CreateSamplingRule, /GetSamplingRules, /SamplingTargets, /Groups, ...
//                                        X-Ray sampling rules and groups (api/xray_sampling_api.h);
//                                        SigV4 clients, no API key
//   POST /TraceSegments, POST /Traces    X-Ray PutTraceSegments and BatchGetTraces
//                                        (api/xray_trace_api.h; AWS error shapes, no API key)
//   POST /TraceSummaries, /TraceGraph, /ServiceGraph, /TimeSeriesServiceStatistics
//                                        X-Ray trace summaries, graphs and statistics
//                                        (api/xray_read_api.h)
//   any other POST /PascalCase path      404 UnknownOperationException (AWS's error shape)
//
// Every /api and /1 request is authenticated with ApiKeys (401 otherwise); healthz, readyz and
// metrics are not. Every X-Ray path (api/xray_auth.h: IsXrayRestPath) is checked first against
// options.aws_verifier: with AWS credentials configured its SigV4 signature must verify (403
// and AWS's error shape otherwise); without, signed and unsigned requests are accepted. Errors are JSON {"error": "..."}. Handle() returns nullopt for paths it does
// not own, so the caller can route them elsewhere.
//
// Thread-safety: Handle() may be called from many threads at once. Store, ApiKeys and
// Metrics must outlive the handlers.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "api/honeycomb_api.h"
#include "api/xray_read_api.h"
#include "api/xray_sampling_api.h"
#include "api/xray_trace_api.h"
#include "auth/api_keys.h"
#include "auth/sigv4.h"
#include "common/metrics.h"
#include "net/http_server.h"
#include "store/store.h"

namespace waggle {

struct ApiOptions {
  std::string version = "dev";
  std::string environment = "local";  // reported by /1/auth as environment and team
  std::string state_path;  // saved queries and markers (HoneycombApi); empty = memory only
  std::string xray_state_path;  // X-Ray sampling rules and groups; empty = memory only
  // Where X-Ray PutTraceSegments documents go; null = the X-Ray trace operations are not served.
  xray::SegmentIngester* xray_ingester = nullptr;
  // Checks SigV4 on X-Ray paths; null or without credentials = not checked. Not owned.
  const SigV4Verifier* aws_verifier = nullptr;
};

class ApiHandlers {
 public:
  // `store`, `keys` and `metrics` are not owned and must be non-null.
  ApiHandlers(Store* store, const ApiKeys* keys, Metrics* metrics, ApiOptions options = {});

  std::optional<HttpResponse> Handle(const HttpRequest& request);

  // Marks the server ready (store open and listeners bound) or not ready (shutting down).
  void SetReady(bool ready) { ready_.store(ready, std::memory_order_release); }

  // The X-Ray sampling/group API, also served on the X-Ray daemon's TCP address.
  XraySamplingApi* xray_sampling() { return &xray_sampling_; }

 private:
  HttpResponse GetTrace(std::string_view id_text);
  HttpResponse ListTraces(const HttpRequest& request);
  HttpResponse SearchTraces(const HttpRequest& request);
  HttpResponse BubbleUp(const HttpRequest& request);
  HttpResponse Auth(const HttpRequest& request) const;
  HttpResponse RenderMetrics();
  void UpdateStoreGauges();

  Store* const store_;
  const ApiKeys* const keys_;
  Metrics* const metrics_;
  const ApiOptions options_;
  HoneycombApi honeycomb_;
  XraySamplingApi xray_sampling_;
  std::unique_ptr<XrayTraceApi> xray_traces_;  // null without options.xray_ingester
  XrayReadApi xray_reads_;
  std::atomic<bool> ready_{false};
  Histogram* const get_trace_seconds_;
  Histogram* const recent_traces_seconds_;
  Histogram* const search_traces_seconds_;
  Counter* const auth_failures_;
};

}  // namespace waggle
