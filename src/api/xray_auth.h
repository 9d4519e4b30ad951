// X-Ray request authentication on the API port: which paths are X-Ray REST operations, and the
// SigV4 check every one of them passes before it is handled when AWS credentials are
// configured (`--aws-credentials`).
//
// X-Ray's REST operations are all `POST /OperationPath` with a single PascalCase segment
// (/TraceSegments, /Traces, /GetSamplingRules, /TraceSummaries, /ServiceGraph, ...), while
// waggle's own paths are lower case (/api/..., /1/..., /v1/traces, /healthz, /metrics), so the
// rule needs no list: an operation added later is covered from the start, and an unknown one
// is refused as AWS refuses it (authentication before routing).
//
// The X-Ray daemon's TCP sampling proxy does not come through here: SDKs call it unsigned.
//
// Thread-safety: pure functions; the verifier is immutable.
#pragma once

#include <optional>
#include <string_view>

#include "auth/sigv4.h"
#include "net/http_server.h"

namespace waggle {

// True for "/" + an upper-case letter + more characters, with no further '/'.
bool IsXrayRestPath(std::string_view path);

// nullopt when the request may be handled: `verifier` is null or has no credentials (local
// mode: signed and unsigned requests are accepted), or the request's signature is valid.
// Otherwise AWS's error response: HTTP 403, `x-amzn-ErrorType: <Code>` and
// {"__type": "<Code>", "message": "..."} (MissingAuthenticationTokenException,
// IncompleteSignatureException, UnrecognizedClientException, InvalidSignatureException).
std::optional<HttpResponse> CheckXraySignature(const SigV4Verifier* verifier,
                                               const HttpRequest& request);

}  // namespace waggle
