// Pieces every AWS rest-json operation waggle serves shares: the error response and reading
// the request body's fields.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "net/http_server.h"
#include "simdjson.h"

namespace waggle {

// An AWS rest-json error response: `status`, header `x-amzn-ErrorType: <code>`, body
// {"__type": code, "message": message, "Message": message} (botocore reads either spelling).
HttpResponse AwsJsonError(int status, std::string_view code, std::string_view message);

// 405 InvalidRequestException with `Allow: POST`: every X-Ray operation is a POST.
HttpResponse AwsMethodNotAllowed(const HttpRequest& request);

// The request body as a JSON object; InvalidArgument if it is not one. The object lives in
// `parser`.
StatusOr<simdjson::dom::object> ParseAwsJsonBody(simdjson::dom::parser& parser,
                                                 const std::string& body);

// Optional fields of a request object: nullopt when absent (or null); InvalidArgument naming
// the field when present with the wrong type.
StatusOr<std::optional<double>> OptionalNumber(simdjson::dom::object obj, std::string_view field);
StatusOr<std::optional<std::string_view>> OptionalString(simdjson::dom::object obj,
                                                         std::string_view field);

// A required AWS timestamp (epoch seconds, integer or fraction) as nanoseconds.
StatusOr<int64_t> RequiredEpochNanos(simdjson::dom::object obj, std::string_view field);

}  // namespace waggle
