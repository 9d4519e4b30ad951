#include "api/bubbleup_json.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "api/json_writer.h"
#include "api/query_json.h"
#include "simdjson.h"

namespace waggle {
namespace {

using query::BubbleUpBucket;
using query::BubbleUpSelection;
using simdjson::dom::element;
using simdjson::dom::object;

constexpr size_t kMaxBodyBytes = 1 << 20;
// Epoch seconds accepted for a selection's time bounds (nanoseconds must fit int64).
constexpr double kMaxEpochSeconds = 9e9;

Status FieldError(std::string_view path, std::string_view message) {
  return absl::InvalidArgumentError(std::string(path) + ": " + std::string(message));
}

// Parses `json` (valid JSON text of a spec fragment) as a query spec; errors get `prefix`.
StatusOr<query::QuerySpec> ParseSpecFragment(const std::string& json, std::string_view prefix) {
  StatusOr<query::QuerySpec> spec = ParseQuerySpecJson(json);
  if (!spec.ok()) {
    return absl::InvalidArgumentError(std::string(prefix) + std::string(spec.status().message()));
  }
  return spec;
}

StatusOr<int64_t> ReadEpochSecondsAsNs(element e, std::string_view path) {
  double seconds = 0;
  if (!e.is_number() || e.get_double().get(seconds) != simdjson::SUCCESS ||
      !std::isfinite(seconds) || seconds < 0 || seconds > kMaxEpochSeconds) {
    return FieldError(path, "expected epoch seconds (a number)");
  }
  return static_cast<int64_t>(std::llround(seconds * 1e9));
}

Status ParseRegionRange(std::string_view column, element value, BubbleUpSelection* sel) {
  const std::string path = "selection." + std::string(column);
  simdjson::dom::array range;
  if (value.get_array().get(range) != simdjson::SUCCESS || range.size() != 2) {
    return FieldError(path, "expected [lo, hi]");
  }
  double bounds[2] = {0, 0};
  size_t i = 0;
  for (element e : range) {
    if (!e.is_number() || e.get_double().get(bounds[i]) != simdjson::SUCCESS ||
        !std::isfinite(bounds[i])) {
      return FieldError(path + "[" + std::to_string(i) + "]", "expected a number");
    }
    ++i;
  }
  if (bounds[0] > bounds[1]) return FieldError(path, "lo must not exceed hi");
  sel->kind = BubbleUpSelection::Kind::kRegion;
  sel->column = std::string(column);
  sel->lo = bounds[0];
  sel->hi = bounds[1];
  return OkStatus();
}

Status ParseSelection(element value, BubbleUpSelection* sel) {
  object obj;
  if (value.get_object().get(obj) != simdjson::SUCCESS) {
    return FieldError("selection", "expected an object");
  }
  std::string filters_json;
  bool has_region = false;
  std::vector<std::string_view> seen;
  for (auto [key, field] : obj) {
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
      return FieldError("selection." + std::string(key), "given twice");
    }
    seen.push_back(key);
    if (key == "filters" || key == "filter_combination") {
      filters_json += (filters_json.empty() ? "{" : ",");
      filters_json += "\"" + std::string(key) + "\":" + simdjson::to_string(field);
    } else if (key == "start_time" || key == "end_time") {
      ASSIGN_OR_RETURN(int64_t ns, ReadEpochSecondsAsNs(field, "selection." + std::string(key)));
      (key == "start_time" ? sel->start_ns : sel->end_ns) = ns;
    } else {
      if (has_region) {
        return FieldError("selection." + std::string(key),
                          "a region has one column range; \"" + sel->column + "\" is given");
      }
      if (key.empty()) return FieldError("selection", "empty column name");
      RETURN_IF_ERROR(ParseRegionRange(key, field, sel));
      has_region = true;
    }
  }
  if (!filters_json.empty() && (has_region || sel->start_ns || sel->end_ns)) {
    return FieldError("selection",
                      "either a region ({\"duration_ms\": [lo, hi], \"start_time\", "
                      "\"end_time\"}) or \"filters\", not both");
  }
  if (!filters_json.empty()) {
    ASSIGN_OR_RETURN(query::QuerySpec spec, ParseSpecFragment(filters_json + "}", "selection."));
    if (spec.filters.empty()) return FieldError("selection.filters", "required");
    sel->kind = BubbleUpSelection::Kind::kFilters;
    sel->filters = std::move(spec.filters);
    sel->filter_combination = spec.filter_combination;
    return OkStatus();
  }
  if (!has_region) {
    return FieldError("selection",
                      "expected a column range such as {\"duration_ms\": [lo, hi]} or "
                      "\"filters\"");
  }
  if (sel->start_ns && sel->end_ns && *sel->end_ns <= *sel->start_ns) {
    return FieldError("selection.end_time", "must be after start_time");
  }
  return OkStatus();
}

Status ParseColumns(element value, std::vector<std::string>* out) {
  simdjson::dom::array arr;
  if (value.get_array().get(arr) != simdjson::SUCCESS) {
    return FieldError("columns", "expected an array of column names");
  }
  if (arr.size() > query::kBubbleUpMaxColumns) {
    return FieldError("columns", "at most " + std::to_string(query::kBubbleUpMaxColumns));
  }
  size_t i = 0;
  for (element e : arr) {
    std::string_view name;
    if (e.get_string().get(name) != simdjson::SUCCESS || name.empty()) {
      return FieldError("columns[" + std::to_string(i) + "]", "expected a column name");
    }
    out->emplace_back(name);
    ++i;
  }
  return OkStatus();
}

Status ParseField(std::string_view key, element value, query::BubbleUpRequest* req) {
  if (key == "dataset") {
    std::string_view v;
    if (value.get_string().get(v) != simdjson::SUCCESS || v.empty()) {
      return FieldError("dataset", "expected a service name or \"__all__\"");
    }
    req->dataset = std::string(v);
    return OkStatus();
  }
  if (key == "query") {
    if (!value.is_object()) return FieldError("query", "expected a query spec object");
    ASSIGN_OR_RETURN(req->spec, ParseSpecFragment(simdjson::to_string(value), "query."));
    return OkStatus();
  }
  if (key == "selection") return ParseSelection(value, &req->selection);
  if (key == "columns") return ParseColumns(value, &req->columns);
  if (key == "limit") {
    int64_t limit = 0;
    if (value.type() != simdjson::dom::element_type::INT64 ||
        value.get_int64().get(limit) != simdjson::SUCCESS || limit < 1 ||
        limit > static_cast<int64_t>(query::kBubbleUpMaxLimit)) {
      return FieldError("limit", "expected an integer from 1 to " +
                                     std::to_string(query::kBubbleUpMaxLimit));
    }
    req->limit = static_cast<size_t>(limit);
    return OkStatus();
  }
  return FieldError(key, "unknown field");
}

void WriteSide(std::string_view key, uint64_t count, double fraction, JsonWriter* w) {
  w->Key(key).BeginObject().Key("count").Uint(count).Key("fraction").Double(fraction);
  w->EndObject();
}

void WriteBucket(const BubbleUpBucket& b, JsonWriter* w) {
  w->BeginObject();
  switch (b.kind) {
    case BubbleUpBucket::Kind::kValue:
      w->Key("value");
      if (b.value.kind == query::Value::Kind::kBool) {
        w->Bool(b.value.b);
      } else {
        w->String(b.value.str);
      }
      break;
    case BubbleUpBucket::Kind::kRange:
      w->Key("range").BeginArray().Double(b.lo).Double(b.hi).EndArray();
      break;
    case BubbleUpBucket::Kind::kMissing: w->Key("missing").Bool(true); break;
    case BubbleUpBucket::Kind::kOther: w->Key("other").Bool(true); break;
  }
  WriteSide("selection", b.selection_count, b.selection_fraction, w);
  WriteSide("baseline", b.baseline_count, b.baseline_fraction, w);
  w->Key("difference").Double(b.difference());
  w->EndObject();
}

}  // namespace

StatusOr<query::BubbleUpRequest> ParseBubbleUpJson(std::string_view body) {
  if (body.size() > kMaxBodyBytes) return absl::InvalidArgumentError("body: larger than 1 MiB");
  simdjson::dom::parser parser;
  if (parser.allocate(std::max<size_t>(body.size(), simdjson::dom::MINIMAL_DOCUMENT_CAPACITY),
                      kMaxQuerySpecDepth) != simdjson::SUCCESS) {
    return absl::ResourceExhaustedError("body: out of memory");
  }
  object top;
  if (parser.parse(body.data(), body.size()).get(top) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("body: expected a JSON object");
  }
  query::BubbleUpRequest req;
  std::vector<std::string_view> seen;
  bool has_selection = false;
  for (auto [key, value] : top) {
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
      return FieldError(key, "given twice");
    }
    seen.push_back(key);
    if (value.is_null()) continue;  // null counts as absent
    RETURN_IF_ERROR(ParseField(key, value, &req));
    has_selection |= key == "selection";
  }
  if (!has_selection) return FieldError("selection", "required");
  return req;
}

std::string BubbleUpResultToJson(const query::BubbleUpResult& result) {
  JsonWriter w;
  w.BeginObject();
  w.Key("selection").BeginObject().Key("rows").Uint(result.selection_rows).EndObject();
  w.Key("baseline").BeginObject().Key("rows").Uint(result.baseline_rows).EndObject();
  w.Key("start_time").Int(result.window.start_ns / 1'000'000'000);
  w.Key("end_time").Int(result.window.end_ns / 1'000'000'000);
  w.Key("score").String("max_abs_difference");
  w.Key("columns").BeginArray();
  for (const query::BubbleUpColumn& c : result.columns) {
    w.BeginObject().Key("column").String(c.column).Key("score").Double(c.score);
    w.Key("approximate").Bool(c.approximate);
    w.Key("buckets").BeginArray();
    for (const BubbleUpBucket& b : c.buckets) WriteBucket(b, &w);
    w.EndArray().EndObject();
  }
  w.EndArray();
  const query::QueryStats& s = result.stats;
  w.Key("stats").BeginObject();
  w.Key("rows_examined").Uint(s.rows_examined).Key("rows_matched").Uint(s.rows_matched);
  w.Key("chunks_scanned").Uint(s.chunks_scanned).Key("chunks_pruned").Uint(s.chunks_pruned);
  w.Key("elapsed_ms").Double(static_cast<double>(s.elapsed_ns) / 1e6);
  w.EndObject();
  w.EndObject();
  return w.Take();
}

}  // namespace waggle
