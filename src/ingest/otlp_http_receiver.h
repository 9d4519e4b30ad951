// OtlpHttpReceiver: the OTLP/HTTP trace endpoint (`POST /v1/traces`), independent of the
// HTTP server that carries it (the server inflates gzip bodies and enforces the body limit).
//
// Behaviour, per the OTLP/HTTP specification:
//   - Content-Type `application/x-protobuf` / `application/protobuf` → protobuf decoder,
//     `application/json` → OTLP/JSON decoder (parameters such as `; charset=utf-8` ignored);
//     anything else → 415. The response Content-Type equals the request's for success and
//     error bodies alike (415 answers with JSON when the request type is unknown).
//   - bad API key → 401; undecodable body → 400 with a google.rpc.Status naming the problem;
//     store overload (ResourceExhausted/Unavailable) → 503 + `Retry-After: 1` (retryable);
//     other store failures → 500; success → 200 with an empty ExportTraceServiceResponse,
//     sent only after the store made the spans durable.
//   - methods other than POST/OPTIONS → 405; OPTIONS → 204 CORS preflight; every response
//     carries `Access-Control-Allow-Origin: *` so browser SDKs can export.
// Metrics: waggle_spans_received_total, waggle_rows_stored_total,
// waggle_otlp_requests_rejected_total{reason}, waggle_otlp_decode_seconds.
//
// Thread-safety: HandleTraces may be called from many threads at once; the receiver holds no
// mutable state beyond atomic metrics. Store, ApiKeys and Metrics must outlive it.
#pragma once

#include "auth/api_keys.h"
#include "common/metrics.h"
#include "net/http_server.h"
#include "store/store.h"

namespace waggle {

// Reasons used as the `reason` label of waggle_otlp_requests_rejected_total.
inline constexpr const char* kRejectReasons[] = {
    "auth", "decode", "too_large", "unsupported_media_type", "overload", "store", "method"};

class OtlpHttpReceiver {
 public:
  // `store`, `keys` and `metrics` are not owned and must be non-null.
  OtlpHttpReceiver(Store* store, const ApiKeys* keys, Metrics* metrics);

  HttpResponse HandleTraces(const HttpRequest& request);

  // An OTLP error response for a failure found before the handler ran (413 body too large,
  // 400 bad gzip, 503 queue full): a google.rpc.Status body in the encoding named by the
  // request's `content_type` (JSON when unsupported), CORS header included. For an HTTP
  // layer's error hook on /v1/traces. Thread-safe.
  static HttpResponse TransportError(std::string_view content_type, int http_status,
                                     std::string_view message);

  // The rejection counter for `reason` (one of kRejectReasons), e.g. for the server to mirror
  // the HTTP layer's 413s into reason="too_large".
  Counter* rejected(const char* reason);

 private:
  HttpResponse Preflight() const;

  Store* const store_;
  const ApiKeys* const keys_;
  Metrics* const metrics_;
  Counter* const spans_received_;
  Counter* const rows_stored_;
  Histogram* const decode_seconds_;
};

}  // namespace waggle
