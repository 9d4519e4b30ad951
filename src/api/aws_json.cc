#include "api/aws_json.h"

#include <cmath>

#include "api/json_writer.h"

namespace waggle {

HttpResponse AwsJsonError(int status, std::string_view code, std::string_view message) {
  JsonWriter w;
  w.BeginObject().Key("__type").String(code).Key("message").String(message);
  w.Key("Message").String(message).EndObject();
  HttpResponse r = HttpResponse::Json(status, w.Take());
  r.headers.emplace_back("x-amzn-ErrorType", std::string(code));
  return r;
}

HttpResponse AwsMethodNotAllowed(const HttpRequest& request) {
  HttpResponse r = AwsJsonError(405, "InvalidRequestException",
                                "method " + request.method + " not allowed on " + request.path +
                                    "; X-Ray operations use POST");
  r.headers.emplace_back("Allow", "POST");
  return r;
}

StatusOr<simdjson::dom::object> ParseAwsJsonBody(simdjson::dom::parser& parser,
                                                 const std::string& body) {
  simdjson::dom::element root;
  if (parser.parse(body).get(root) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("request body is not valid JSON");
  }
  simdjson::dom::object obj;
  if (root.get(obj) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("request body must be a JSON object");
  }
  return obj;
}

namespace {

// The field's element, or nullopt when absent or null.
std::optional<simdjson::dom::element> Field(simdjson::dom::object obj, std::string_view field) {
  simdjson::dom::element e;
  if (obj[field].get(e) != simdjson::SUCCESS || e.is_null()) return std::nullopt;
  return e;
}

}  // namespace

StatusOr<std::optional<double>> OptionalNumber(simdjson::dom::object obj, std::string_view field) {
  std::optional<simdjson::dom::element> e = Field(obj, field);
  if (!e) return std::optional<double>();
  double v = 0;
  if (e->get(v) != simdjson::SUCCESS || !std::isfinite(v)) {
    return absl::InvalidArgumentError(std::string(field) + " must be a number");
  }
  return std::optional<double>(v);
}

StatusOr<std::optional<std::string_view>> OptionalString(simdjson::dom::object obj,
                                                         std::string_view field) {
  std::optional<simdjson::dom::element> e = Field(obj, field);
  if (!e) return std::optional<std::string_view>();
  std::string_view v;
  if (e->get(v) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(std::string(field) + " must be a string");
  }
  return std::optional<std::string_view>(v);
}

StatusOr<int64_t> RequiredEpochNanos(simdjson::dom::object obj, std::string_view field) {
  ASSIGN_OR_RETURN(std::optional<double> seconds, OptionalNumber(obj, field));
  if (!seconds) {
    return absl::InvalidArgumentError(std::string(field) + " is required (epoch seconds)");
  }
  // Years 1970..2262 fit int64 nanoseconds.
  if (*seconds < 0 || *seconds > 9.2e9) {
    return absl::InvalidArgumentError(std::string(field) + " is out of range");
  }
  return static_cast<int64_t>(std::llround(*seconds * 1e9));
}

}  // namespace waggle
