// XrayTraceApi: the X-Ray REST operations that write and read traces, on the API port, with the
// paths and JSON shapes of the AWS service (rest-json, every operation POST), so the aws CLI and
// boto3 work with `--endpoint-url` / `endpoint_url` pointed at waggle:
//
//   POST /TraceSegments  PutTraceSegments {"TraceSegmentDocuments": ["<json>", ...]}
//                        -> {"UnprocessedTraceSegments": [{"Id", "ErrorCode", "Message"}]}
//                        (always present, [] when every document was accepted)
//   POST /Traces         BatchGetTraces {"TraceIds": [...], "NextToken"?}
//                        -> {"Traces": [{"Id", "Duration", "LimitExceeded", "Segments":
//                           [{"Id", "Document"}]}], "UnprocessedTraceIds": [...]}
//                        (unknown or malformed ids are listed as unprocessed; no NextToken:
//                        every requested trace is in the one page)
//
// Errors use the AWS JSON error shape: HTTP 400 (405 for a method other than POST), header
// `x-amzn-ErrorType: <Code>` and body {"__type": "<Code>", "message": "..."}. Authentication
// is ApiHandlers' job, before this class sees a request: SigV4 signatures are verified when
// AWS credentials are configured (api/xray_auth.h); Honeycomb API keys do not apply here.
//
// Thread-safety: Handle() may be called from many threads. Store and ingester must outlive it.
#pragma once

#include <optional>
#include <string_view>

#include "api/aws_json.h"
#include "common/metrics.h"
#include "net/http_server.h"
#include "store/store.h"
#include "xray/segment_ingester.h"

namespace waggle {

class XrayTraceApi {
 public:
  XrayTraceApi(Store* store, xray::SegmentIngester* ingester, Metrics* metrics);

  // The response for /TraceSegments and /Traces; nullopt for any other path.
  std::optional<HttpResponse> Handle(const HttpRequest& request);

 private:
  HttpResponse PutTraceSegments(const HttpRequest& request);
  HttpResponse BatchGetTraces(const HttpRequest& request);

  Store* const store_;
  xray::SegmentIngester* const ingester_;
  Histogram* const batch_get_seconds_;
};

}  // namespace waggle
