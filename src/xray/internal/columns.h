// Column names the segment decoder writes and the encoder reads (waggle_xray-internal).
// docs/XRAY.md is the user-facing description of the same mapping.
#pragma once

#include <string_view>

namespace waggle::xray_internal {

// X-Ray-native facts without an OpenTelemetry equivalent.
inline constexpr std::string_view kType = "xray.type";  // "segment" | "subsegment"
inline constexpr std::string_view kNamespace = "xray.namespace";
inline constexpr std::string_view kOrigin = "xray.origin";
inline constexpr std::string_view kInProgress = "xray.in_progress";
inline constexpr std::string_view kInferred = "xray.inferred";
inline constexpr std::string_view kError = "xray.error";
inline constexpr std::string_view kFault = "xray.fault";
inline constexpr std::string_view kThrottle = "xray.throttle";
inline constexpr std::string_view kPrecursorIds = "xray.precursor_ids";  // JSON array text
inline constexpr std::string_view kCauseId = "xray.cause.id";
inline constexpr std::string_view kCauseWorkingDirectory = "xray.cause.working_directory";
inline constexpr std::string_view kCausePaths = "xray.cause.paths";  // JSON array text

// Fields with an OpenTelemetry semantic-convention name.
inline constexpr std::string_view kUser = "enduser.id";

inline constexpr std::string_view kAnnotationPrefix = "annotation.";
inline constexpr std::string_view kMetadataPrefix = "metadata.";

// The exception span event.
inline constexpr std::string_view kExceptionEvent = "exception";
inline constexpr std::string_view kExceptionId = "exception.id";
inline constexpr std::string_view kExceptionType = "exception.type";
inline constexpr std::string_view kExceptionMessage = "exception.message";
inline constexpr std::string_view kExceptionStacktrace = "exception.stacktrace";
inline constexpr std::string_view kExceptionRemote = "exception.remote";
inline constexpr std::string_view kExceptionTruncated = "exception.truncated";
inline constexpr std::string_view kExceptionSkipped = "exception.skipped";
inline constexpr std::string_view kExceptionCause = "exception.cause";
inline constexpr std::string_view kExceptionStack = "xray.exception.stack";  // JSON array text

// `http`, `aws`, `sql` and `service` are flattened to dotted keys under their own name
// ("http.request.method", "aws.ec2.instance_id", "sql.url", "service.version"), except these, which take the
// OpenTelemetry name.
struct Rename {
  std::string_view xray_path;
  std::string_view column;
};
inline constexpr Rename kRenames[] = {
    {"http.request.url", "url.full"},
    {"http.request.user_agent", "user_agent.original"},
    {"http.request.client_ip", "client.address"},
    {"http.response.status", "http.response.status_code"},
    {"http.response.content_length", "http.response.body.size"},
    {"sql.sanitized_query", "db.query.text"},
    {"aws.region", "cloud.region"},
    {"aws.account_id", "cloud.account.id"},
};

}  // namespace waggle::xray_internal
