#include "api/trace_search_json.h"

#include <string>

#include "api/query_json.h"
#include "simdjson.h"

namespace waggle {
namespace {

constexpr size_t kMaxBodyBytes = 1 << 20;

bool IsSpecKey(std::string_view key) {
  return key == "filters" || key == "filter_combination" || key == "time_range" ||
         key == "start_time" || key == "end_time" || key == "limit";
}

}  // namespace

StatusOr<query::RowSearch> ParseTraceSearchJson(std::string_view body, int64_t now_ns) {
  query::RowSearch search;
  if (body.size() > kMaxBodyBytes) return absl::InvalidArgumentError("body larger than 1 MiB");
  // An empty body searches with every default.
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) body = "{}";
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(body.data(), body.size()).get(obj) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("body must be a JSON object");
  }
  std::string spec_json = "{";
  for (auto field : obj) {
    std::string_view key = field.key;
    if (IsSpecKey(key)) {
      if (spec_json.size() > 1) spec_json += ',';
      spec_json += "\"" + std::string(key) + "\":" + simdjson::to_string(field.value);
      continue;
    }
    if (key == "dataset") {
      std::string_view v;
      if (field.value.get_string().get(v) != simdjson::SUCCESS || v.empty()) {
        return absl::InvalidArgumentError("dataset: expected a service name or \"__all__\"");
      }
      search.dataset = std::string(v);
    } else if (key == "order") {
      std::string_view v;
      if (field.value.get_string().get(v) != simdjson::SUCCESS ||
          (v != "recent" && v != "slowest")) {
        return absl::InvalidArgumentError("order: expected \"recent\" or \"slowest\"");
      }
      search.order = v == "slowest" ? query::RowSearch::Order::kSlowest
                                    : query::RowSearch::Order::kNewest;
    } else if (key == "roots_only") {
      if (field.value.get_bool().get(search.roots_only) != simdjson::SUCCESS) {
        return absl::InvalidArgumentError("roots_only: expected a boolean");
      }
    } else {
      return absl::InvalidArgumentError("unknown field \"" + std::string(key) + "\"");
    }
  }
  spec_json += "}";
  ASSIGN_OR_RETURN(query::QuerySpec spec, ParseQuerySpecJson(spec_json));
  query::TimeWindow window;
  RETURN_IF_ERROR(query::ResolveWindow(spec, now_ns, &window));
  search.start_ns = window.start_ns;
  search.end_ns = window.end_ns;
  search.filters = std::move(spec.filters);
  search.filter_combination = spec.filter_combination;
  search.limit = static_cast<size_t>(spec.limit.value_or(20));
  return search;
}

}  // namespace waggle
