// SigV4Verifier: checks AWS Signature Version 4 (`AWS4-HMAC-SHA256` in the Authorization
// header, as the aws CLI, boto3 and every AWS SDK send it) on an HttpRequest against a fixed set
// of access keys.
//
// The algorithm (AWS General Reference, "Signature Version 4 signing process"):
//   canonical request = METHOD \n canonical URI \n canonical query \n canonical headers \n
//                       signed headers \n hex(SHA-256(body))
//   string to sign    = "AWS4-HMAC-SHA256" \n X-Amz-Date \n DATE/REGION/SERVICE/aws4_request \n
//                       hex(SHA-256(canonical request))
//   signing key       = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, DATE), REGION), SERVICE),
//                       "aws4_request")
//   signature         = hex(HMAC(signing key, string to sign)), compared in constant time.
// The canonical URI is the request path as received (still percent-encoded) with dot segments
// and empty segments removed, then URI-encoded once more (the "double encoding" of every
// service but S3); query names and values are decoded, strictly re-encoded and sorted.
//
// Not supported: query-string ("presigned URL") authentication, SigV4a, chunked
// (`STREAMING-...`) or `UNSIGNED-PAYLOAD` payloads, and request bodies the client compressed
// with Content-Encoding (the server inflates them before the handler sees them, so the bytes
// that were signed are gone). Session tokens need no support: waggle knows no temporary keys.
//
// Errors: every failure is an Unauthenticated Status whose message is AWS's and which carries
// the AWS error code, read with SigV4ErrorCode():
//   MissingAuthenticationTokenException  no Authorization header
//   IncompleteSignatureException         the header is not well-formed SigV4, X-Amz-Date is
//                                        missing or malformed, or an unsupported form is used
//   UnrecognizedClientException          the access key id is not configured
//   InvalidSignatureException            wrong signature, a credential scope that does not
//                                        match the date or the expected service, or an
//                                        X-Amz-Date more than 15 minutes from now
// Inputs are untrusted: sizes are bounded (header 4 KiB, 64 signed headers) and nothing
// asserts on them.
//
// Thread-safety: SigV4Verifier is immutable after construction; Verify() is safe from any
// thread as long as the injected clock is. The free functions are pure.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "auth/aws_credentials.h"
#include "common/status.h"
#include "net/http_server.h"

namespace waggle {

// The fields of `Authorization: AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/
// aws4_request, SignedHeaders=a;b;c, Signature=<64 hex>`.
struct SigV4Authorization {
  std::string access_key_id;
  std::string date;  // YYYYMMDD of the credential scope
  std::string region;
  std::string service;
  std::vector<std::string> signed_headers;  // lowercase, in the order given
  std::string signature;                    // 64 lowercase hex digits
};

// Parses an Authorization header value. The three components may come in any order, separated
// by ',' and optional spaces; each must appear once. IncompleteSignatureException errors.
StatusOr<SigV4Authorization> ParseSigV4Authorization(std::string_view header);

// "20150830T123600Z" → seconds since the Unix epoch; InvalidArgument if malformed.
StatusOr<int64_t> ParseAmzDate(std::string_view amz_date);

// The canonical request's parts (exposed for tests and for signing).
std::string SigV4CanonicalUri(std::string_view raw_path);
std::string SigV4CanonicalQuery(std::string_view raw_query);
// The full canonical request over `signed_headers` (lowercase names); a signed header absent
// from the request is an InvalidSignatureException error.
StatusOr<std::string> SigV4CanonicalRequest(const HttpRequest& request,
                                            const std::vector<std::string>& signed_headers);
// hex(HMAC-SHA256(signing key, string to sign)) for the given canonical request.
std::string SigV4Signature(std::string_view secret_access_key, std::string_view amz_date,
                           std::string_view region, std::string_view service,
                           std::string_view canonical_request);

// Signs `request` as an AWS SDK would: sets `x-amz-date` (replacing any) and `authorization`,
// signing `host`, `x-amz-date` and every header named in `extra_signed_headers`. REQUIRES: the
// request has a `host` header. For tests and waggle's own clients.
Status SignSigV4(HttpRequest* request, const AwsCredential& credential, std::string_view region,
                 std::string_view service, std::string_view amz_date,
                 const std::vector<std::string>& extra_signed_headers = {});

// The AWS error code carried by a SigV4 error Status ("InvalidSignatureException"), or empty
// for any other Status.
std::string SigV4ErrorCode(const Status& status);

// Who signed a verified request.
struct SigV4Identity {
  std::string access_key_id;
  std::string region;
  std::string service;
};

struct SigV4VerifierOptions {
  // The signing name the credential scope must carry ("xray"); empty accepts any.
  std::string service;
  // How far X-Amz-Date may be from now, either way.
  int64_t max_skew_seconds = 15 * 60;
  // Seconds since the Unix epoch; null means the system clock.
  std::function<int64_t()> now_unix_seconds;
};

class SigV4Verifier {
 public:
  // Duplicate access key ids: the first one wins (configuration rejects conflicting ones).
  explicit SigV4Verifier(std::vector<AwsCredential> credentials, SigV4VerifierOptions options = {});

  // True when at least one credential is configured; with none, callers skip verification.
  bool enabled() const { return !secrets_.empty(); }
  size_t size() const { return secrets_.size(); }

  // OK with the signer's identity if the request carries a valid, current signature by a
  // configured key; an error as described at the top of this file otherwise.
  StatusOr<SigV4Identity> Verify(const HttpRequest& request) const;

 private:
  int64_t Now() const;

  std::map<std::string, std::string, std::less<>> secrets_;  // access key id → secret
  SigV4VerifierOptions options_;
};

}  // namespace waggle
