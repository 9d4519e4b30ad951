#include "ingest/otlp_http_receiver.h"

#include <cctype>
#include <chrono>
#include <string>

#include "wire/otlp.h"

namespace waggle {
namespace {

// google.rpc.Code values used in error bodies.
constexpr int32_t kRpcInvalidArgument = 3;
constexpr int32_t kRpcResourceExhausted = 8;
constexpr int32_t kRpcUnimplemented = 12;
constexpr int32_t kRpcInternal = 13;
constexpr int32_t kRpcUnavailable = 14;
constexpr int32_t kRpcUnauthenticated = 16;

enum class Encoding { kProtobuf, kJson, kUnsupported };

// The media type without parameters, lowercased and trimmed ("application/json").
std::string MediaType(std::string_view content_type) {
  size_t semi = content_type.find(';');
  if (semi != std::string_view::npos) content_type = content_type.substr(0, semi);
  std::string out;
  for (char c : content_type) {
    if (!std::isspace(static_cast<unsigned char>(c))) {
      out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
  }
  return out;
}

Encoding EncodingOf(std::string_view media_type) {
  if (media_type == "application/x-protobuf" || media_type == "application/protobuf") {
    return Encoding::kProtobuf;
  }
  if (media_type == "application/json") return Encoding::kJson;
  return Encoding::kUnsupported;
}

void AddCors(HttpResponse* r) { r->headers.emplace_back("Access-Control-Allow-Origin", "*"); }

// An error body in the request's encoding (JSON when the request's is unsupported).
HttpResponse ErrorResponse(int http_status, Encoding enc, const std::string& media_type,
                           int32_t rpc_code, std::string_view message) {
  HttpResponse r;
  r.status = http_status;
  if (enc == Encoding::kProtobuf) {
    r.content_type = media_type;
    r.body = EncodeRpcStatusProtobuf(rpc_code, message);
  } else {
    r.content_type = "application/json";
    r.body = EncodeRpcStatusJson(rpc_code, message);
  }
  AddCors(&r);
  return r;
}

}  // namespace

OtlpHttpReceiver::OtlpHttpReceiver(Store* store, const ApiKeys* keys, Metrics* metrics)
    : store_(store),
      keys_(keys),
      metrics_(metrics),
      spans_received_(metrics->GetCounter("waggle_spans_received_total",
                                          "Spans decoded from accepted OTLP requests.")),
      rows_stored_(metrics->GetCounter(
          "waggle_rows_stored_total", "Rows (spans, span events, links) durably stored.")),
      decode_seconds_(metrics->GetHistogram("waggle_otlp_decode_seconds",
                                            "Time to decode one OTLP request body.",
                                            LatencyBucketsSeconds())) {
  for (const char* reason : kRejectReasons) rejected(reason);  // render zeros from the start
}

Counter* OtlpHttpReceiver::rejected(const char* reason) {
  return metrics_->GetCounter("waggle_otlp_requests_rejected_total",
                              "OTLP requests rejected, by reason.", {{"reason", reason}});
}

HttpResponse OtlpHttpReceiver::TransportError(std::string_view content_type, int http_status,
                                              std::string_view message) {
  std::string media_type = MediaType(content_type);
  int32_t code = http_status == 413   ? kRpcResourceExhausted
                 : http_status == 503 ? kRpcUnavailable
                 : http_status >= 500 ? kRpcInternal
                                      : kRpcInvalidArgument;
  HttpResponse r = ErrorResponse(http_status, EncodingOf(media_type), media_type, code, message);
  if (http_status == 503 || http_status == 429) r.headers.emplace_back("Retry-After", "1");
  return r;
}

HttpResponse OtlpHttpReceiver::Preflight() const {
  HttpResponse r;
  r.status = 204;
  r.content_type = "";
  r.headers = {
      {"Access-Control-Allow-Origin", "*"},
      {"Access-Control-Allow-Methods", "POST, OPTIONS"},
      {"Access-Control-Allow-Headers",
       "content-type, content-encoding, x-honeycomb-team, x-honeycomb-dataset, authorization, "
       "traceparent, tracestate"},
      {"Access-Control-Max-Age", "86400"},
  };
  return r;
}

HttpResponse OtlpHttpReceiver::HandleTraces(const HttpRequest& request) {
  if (request.method == "OPTIONS") return Preflight();
  std::string media_type = MediaType(request.Header("content-type"));
  Encoding enc = EncodingOf(media_type);
  if (request.method != "POST") {
    rejected("method")->Inc();
    HttpResponse r = ErrorResponse(405, enc, media_type, kRpcUnimplemented,
                                   "method " + request.method + " not allowed on " +
                                       request.path + "; use POST");
    r.headers.emplace_back("Allow", "POST, OPTIONS");
    return r;
  }
  if (enc == Encoding::kUnsupported) {
    rejected("unsupported_media_type")->Inc();
    return ErrorResponse(
        415, enc, media_type, kRpcInvalidArgument,
        "unsupported Content-Type '" + std::string(request.Header("content-type")) +
            "': use application/x-protobuf, application/protobuf or application/json");
  }
  if (Status auth = keys_->Check(request); !auth.ok()) {
    rejected("auth")->Inc();
    return ErrorResponse(401, enc, media_type, kRpcUnauthenticated, std::string(auth.message()));
  }

  auto t0 = std::chrono::steady_clock::now();
  StatusOr<SpanBatch> batch = enc == Encoding::kProtobuf ? DecodeOtlpTracesProtobuf(request.body)
                                                         : DecodeOtlpTracesJson(request.body);
  decode_seconds_->Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  if (!batch.ok()) {
    rejected("decode")->Inc();
    std::string what = enc == Encoding::kProtobuf ? "invalid OTLP protobuf: " : "invalid OTLP JSON: ";
    return ErrorResponse(400, enc, media_type, kRpcInvalidArgument,
                         what + std::string(batch.status().message()));
  }
  spans_received_->Inc(batch->span_count());

  if (!batch->rows.empty()) {
    Status st = store_->Append(*batch);
    if (!st.ok()) {
      if (absl::IsResourceExhausted(st) || absl::IsUnavailable(st)) {
        rejected("overload")->Inc();
        HttpResponse r = ErrorResponse(
            503, enc, media_type,
            absl::IsResourceExhausted(st) ? kRpcResourceExhausted : kRpcUnavailable,
            "waggle is overloaded, retry later: " + std::string(st.message()));
        r.headers.emplace_back("Retry-After", "1");
        return r;
      }
      rejected("store")->Inc();
      return ErrorResponse(500, enc, media_type, kRpcInternal,
                           "storing spans failed: " + std::string(st.message()));
    }
    rows_stored_->Inc(batch->rows.size());
  }

  HttpResponse r;
  r.status = 200;
  r.content_type = media_type;
  r.body = enc == Encoding::kProtobuf ? EncodeExportTraceResponseProtobuf(0, "")
                                      : EncodeExportTraceResponseJson(0, "");
  AddCors(&r);
  return r;
}

}  // namespace waggle
