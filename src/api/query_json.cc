#include "api/query_json.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <utility>
#include <vector>

#include "api/json_writer.h"
#include "simdjson.h"

namespace waggle {
namespace {

using query::CalcOp;
using query::Calculation;
using query::FilterOp;
using query::Value;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

// =============================================================================================
// Parsing

std::string Concat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out.append(p);
  return out;
}

Status FieldError(std::string_view path, std::string_view message) {
  return absl::InvalidArgumentError(Concat({path, ": ", message}));
}

// JSON paths: "filters", "filters[2]", "filters[2].value".
std::string Child(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : Concat({path, ".", key});
}
std::string Item(std::string_view path, size_t index) {
  return Concat({path, "[", std::to_string(index), "]"});
}

template <typename Names>
bool Contains(const Names& names, std::string_view name) {
  for (std::string_view n : names) {
    if (n == name) return true;
  }
  return false;
}

// Rejects keys of `obj` outside `allowed`, and keys given twice.
Status CheckKeys(object obj, std::string_view path,
                 std::initializer_list<std::string_view> allowed) {
  std::vector<std::string_view> seen;
  for (auto [key, value] : obj) {
    if (!Contains(allowed, key)) return FieldError(Child(path, key), "unknown field");
    for (std::string_view s : seen) {
      if (s == key) return FieldError(Child(path, key), "given twice");
    }
    seen.push_back(key);
  }
  return OkStatus();
}

// Sets `*out` to member `key` of `obj` when it is present and not null.
bool Member(object obj, std::string_view key, element* out) {
  element e;
  if (obj.at_key(key).get(e) != simdjson::SUCCESS || e.is_null()) return false;
  *out = e;
  return true;
}

StatusOr<element> RequiredMember(object obj, std::string_view path, std::string_view key) {
  element e;
  if (!Member(obj, key, &e)) return FieldError(Child(path, key), "required");
  return e;
}

StatusOr<object> ReadObject(element e, std::string_view path) {
  object obj;
  if (e.get_object().get(obj) != simdjson::SUCCESS) return FieldError(path, "expected an object");
  return obj;
}

StatusOr<array> ReadArray(element e, std::string_view path) {
  array arr;
  if (e.get_array().get(arr) != simdjson::SUCCESS) return FieldError(path, "expected an array");
  return arr;
}

StatusOr<std::string> ReadString(element e, std::string_view path) {
  std::string_view s;
  if (e.get_string().get(s) != simdjson::SUCCESS) return FieldError(path, "expected a string");
  return std::string(s);
}

// A JSON integer that fits int64 (no fraction or exponent).
StatusOr<int64_t> ReadInt(element e, std::string_view path) {
  if (e.type() != simdjson::dom::element_type::INT64) {
    return FieldError(path, "expected an integer");
  }
  return e.get_int64().value_unsafe();
}

StatusOr<double> ReadNumber(element e, std::string_view path) {
  double d;
  if (!e.is_number() || e.get_double().get(d) != simdjson::SUCCESS) {
    return FieldError(path, "expected a number");
  }
  return d;
}

// A filter operand: string, boolean, integer (fits int64) or other number.
StatusOr<Value> ReadScalar(element e, std::string_view path) {
  switch (e.type()) {
    case simdjson::dom::element_type::STRING:
      return Value::String(std::string(e.get_string().value_unsafe()));
    case simdjson::dom::element_type::BOOL:
      return Value::Bool(e.get_bool().value_unsafe());
    case simdjson::dom::element_type::INT64:
      return Value::Int(e.get_int64().value_unsafe());
    case simdjson::dom::element_type::UINT64:  // above INT64_MAX
      return Value::Double(static_cast<double>(e.get_uint64().value_unsafe()));
    case simdjson::dom::element_type::DOUBLE:
      return Value::Double(e.get_double().value_unsafe());
    default:
      return FieldError(path, "expected a string, number or boolean");
  }
}

StatusOr<CalcOp> ReadCalcOp(element e, std::string_view path) {
  ASSIGN_OR_RETURN(std::string name, ReadString(e, path));
  CalcOp op;
  if (!query::ParseCalcOp(name, &op)) {
    return FieldError(path, Concat({"unknown calculation \"", name, "\""}));
  }
  return op;
}

StatusOr<FilterOp> ReadFilterOp(element e, std::string_view path) {
  ASSIGN_OR_RETURN(std::string name, ReadString(e, path));
  FilterOp op;
  if (!query::ParseFilterOp(name, &op)) {
    return FieldError(path, Concat({"unknown operator \"", name, "\""}));
  }
  return op;
}

// Optional "column": absent or null means none.
StatusOr<std::string> ReadOptionalColumn(object obj, std::string_view path) {
  element e;
  if (!Member(obj, "column", &e)) return std::string();
  return ReadString(e, Child(path, "column"));
}

// {"op", "column"?}
Status ParseCalculation(element e, const std::string& path, Calculation* out) {
  ASSIGN_OR_RETURN(object obj, ReadObject(e, path));
  RETURN_IF_ERROR(CheckKeys(obj, path, {"op", "column"}));
  ASSIGN_OR_RETURN(element op, RequiredMember(obj, path, "op"));
  ASSIGN_OR_RETURN(out->op, ReadCalcOp(op, Child(path, "op")));
  ASSIGN_OR_RETURN(out->column, ReadOptionalColumn(obj, path));
  return OkStatus();
}

// "value" of a filter: none for exists/does-not-exist (unless given, which ValidateSpec
// rejects), an array for in/not-in, one scalar otherwise.
Status ParseFilterValues(object obj, const std::string& path, query::Filter* out) {
  element value;
  if (!Member(obj, "value", &value)) return OkStatus();
  const std::string value_path = Child(path, "value");
  if (out->op != FilterOp::kIn && out->op != FilterOp::kNotIn) {
    ASSIGN_OR_RETURN(Value v, ReadScalar(value, value_path));
    out->values.push_back(std::move(v));
    return OkStatus();
  }
  array items;
  if (value.get_array().get(items) != simdjson::SUCCESS) {
    return FieldError(value_path, Concat({query::FilterOpName(out->op), " takes an array"}));
  }
  size_t index = 0;
  for (element item : items) {
    ASSIGN_OR_RETURN(Value v, ReadScalar(item, Item(value_path, index++)));
    out->values.push_back(std::move(v));
  }
  return OkStatus();
}

// {"column", "op", "value"?}
Status ParseFilter(element e, const std::string& path, query::Filter* out) {
  ASSIGN_OR_RETURN(object obj, ReadObject(e, path));
  RETURN_IF_ERROR(CheckKeys(obj, path, {"column", "op", "value"}));
  ASSIGN_OR_RETURN(element column, RequiredMember(obj, path, "column"));
  ASSIGN_OR_RETURN(out->column, ReadString(column, Child(path, "column")));
  ASSIGN_OR_RETURN(element op, RequiredMember(obj, path, "op"));
  ASSIGN_OR_RETURN(out->op, ReadFilterOp(op, Child(path, "op")));
  return ParseFilterValues(obj, path, out);
}

// {"op"?, "column"?, "order"?: "ascending" | "descending"}
Status ParseOrder(element e, const std::string& path, query::Order* out) {
  ASSIGN_OR_RETURN(object obj, ReadObject(e, path));
  RETURN_IF_ERROR(CheckKeys(obj, path, {"op", "column", "order"}));
  if (element op; Member(obj, "op", &op)) {
    ASSIGN_OR_RETURN(out->op, ReadCalcOp(op, Child(path, "op")));
  }
  ASSIGN_OR_RETURN(out->column, ReadOptionalColumn(obj, path));
  if (element order; Member(obj, "order", &order)) {
    const std::string order_path = Child(path, "order");
    ASSIGN_OR_RETURN(std::string direction, ReadString(order, order_path));
    if (direction != "ascending" && direction != "descending") {
      return FieldError(order_path, "expected \"ascending\" or \"descending\"");
    }
    out->descending = direction == "descending";
  }
  return OkStatus();
}

// {"calculate_op", "column"?, "op", "value"}
Status ParseHaving(element e, const std::string& path, query::Having* out) {
  ASSIGN_OR_RETURN(object obj, ReadObject(e, path));
  RETURN_IF_ERROR(CheckKeys(obj, path, {"calculate_op", "column", "op", "value"}));
  ASSIGN_OR_RETURN(element calculate_op, RequiredMember(obj, path, "calculate_op"));
  ASSIGN_OR_RETURN(out->op, ReadCalcOp(calculate_op, Child(path, "calculate_op")));
  ASSIGN_OR_RETURN(out->column, ReadOptionalColumn(obj, path));
  ASSIGN_OR_RETURN(element cmp, RequiredMember(obj, path, "op"));
  ASSIGN_OR_RETURN(out->cmp, ReadFilterOp(cmp, Child(path, "op")));
  ASSIGN_OR_RETURN(element value, RequiredMember(obj, path, "value"));
  ASSIGN_OR_RETURN(out->value, ReadNumber(value, Child(path, "value")));
  return OkStatus();
}

Status ParseBreakdown(element e, const std::string& path, std::string* out) {
  ASSIGN_OR_RETURN(*out, ReadString(e, path));
  return OkStatus();
}

// Parses the array `value` (at `path`) with `parse_one` per item.
template <typename T>
Status ParseList(element value, const std::string& path,
                 Status (*parse_one)(element, const std::string&, T*), std::vector<T>* out) {
  ASSIGN_OR_RETURN(array items, ReadArray(value, path));
  size_t index = 0;
  for (element item : items) {
    T parsed;
    RETURN_IF_ERROR(parse_one(item, Item(path, index++), &parsed));
    out->push_back(std::move(parsed));
  }
  return OkStatus();
}

StatusOr<query::FilterCombination> ReadFilterCombination(element e) {
  ASSIGN_OR_RETURN(std::string s, ReadString(e, "filter_combination"));
  if (s == "AND") return query::FilterCombination::kAnd;
  if (s == "OR") return query::FilterCombination::kOr;
  return FieldError("filter_combination", "expected \"AND\" or \"OR\"");
}

constexpr std::array<std::string_view, 12> kSpecKeys = {
    "id",     "calculations", "filters",    "filter_combination", "breakdowns", "orders",
    "havings", "limit",       "time_range", "start_time",         "end_time",   "granularity"};
// Honeycomb query spec keys waggle does not implement.
constexpr std::array<std::string_view, 3> kUnsupportedKeys = {
    "calculated_fields", "compare_time_offset_seconds", "formulas"};

// Sets the field of `spec` named `key` (one of kSpecKeys) from `value` (not null).
Status ParseTopLevelField(std::string_view key, element value, query::QuerySpec* spec) {
  const std::string path(key);
  if (key == "id") return ReadString(value, path).status();  // ignored
  if (key == "calculations") return ParseList(value, path, &ParseCalculation, &spec->calculations);
  if (key == "filters") return ParseList(value, path, &ParseFilter, &spec->filters);
  if (key == "breakdowns") return ParseList(value, path, &ParseBreakdown, &spec->breakdowns);
  if (key == "orders") return ParseList(value, path, &ParseOrder, &spec->orders);
  if (key == "havings") return ParseList(value, path, &ParseHaving, &spec->havings);
  if (key == "filter_combination") {
    ASSIGN_OR_RETURN(spec->filter_combination, ReadFilterCombination(value));
    return OkStatus();
  }
  std::optional<int64_t>* integer_field = key == "limit"         ? &spec->limit
                                          : key == "time_range"  ? &spec->time_range
                                          : key == "start_time"  ? &spec->start_time
                                          : key == "end_time"    ? &spec->end_time
                                          : key == "granularity" ? &spec->granularity
                                                                 : nullptr;
  if (integer_field != nullptr) {
    ASSIGN_OR_RETURN(*integer_field, ReadInt(value, path));
    return OkStatus();
  }
  return FieldError(path, "unknown field");
}

StatusOr<element> ParseDocument(std::string_view json, simdjson::dom::parser* parser) {
  if (json.size() > kMaxQuerySpecBytes) {
    return absl::InvalidArgumentError("query spec: larger than 1 MiB");
  }
  // Fixing the depth before the first parse bounds the parser's nesting stack.
  if (parser->allocate(std::max<size_t>(json.size(), simdjson::dom::MINIMAL_DOCUMENT_CAPACITY),
                       kMaxQuerySpecDepth) != simdjson::SUCCESS) {
    return absl::ResourceExhaustedError("query spec: out of memory");
  }
  element root;
  simdjson::error_code error = parser->parse(json.data(), json.size()).get(root);
  if (error == simdjson::DEPTH_ERROR) {
    return absl::InvalidArgumentError(
        Concat({"query spec: nested deeper than ", std::to_string(kMaxQuerySpecDepth), " levels"}));
  }
  if (error != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(
        Concat({"query spec: invalid JSON (", simdjson::error_message(error), ")"}));
  }
  return root;
}

// =============================================================================================
// Writing the spec

// JsonWriter prints 2.0 as "2", which would read back as an integer operand. To keep double
// operands doubles, such a number is written as a null placeholder whose end offset is
// remembered, and Finish() puts "2.0" in its place.
class SpecWriter {
 public:
  JsonWriter& json() { return json_; }

  void DoubleKeepingFraction(double d) {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), d);
    std::string_view literal(buf, ec == std::errc() ? static_cast<size_t>(end - buf) : 0);
    if (!std::isfinite(d) || literal.empty() ||
        literal.find_first_of(".eE") != std::string_view::npos) {
      json_.Double(d);
      return;
    }
    json_.Null();
    patches_.emplace_back(json_.str().size(), Concat({literal, ".0"}));
  }

  std::string Finish() {
    std::string text = json_.Take();
    static constexpr size_t kPlaceholderSize = 4;  // "null"
    for (auto it = patches_.rbegin(); it != patches_.rend(); ++it) {
      text.replace(it->first - kPlaceholderSize, kPlaceholderSize, it->second);
    }
    return text;
  }

 private:
  JsonWriter json_;
  std::vector<std::pair<size_t, std::string>> patches_;  // (end offset of "null", literal)
};

void WriteOperand(const Value& v, SpecWriter* out) {
  JsonWriter& w = out->json();
  switch (v.kind) {
    case Value::Kind::kNull: w.Null(); break;
    case Value::Kind::kString: w.String(v.str); break;
    case Value::Kind::kInt: w.Int(v.i); break;
    case Value::Kind::kDouble: out->DoubleKeepingFraction(v.d); break;
    case Value::Kind::kBool: w.Bool(v.b); break;
  }
}

void WriteFilter(const query::Filter& f, SpecWriter* out) {
  JsonWriter& w = out->json();
  w.BeginObject().Key("column").String(f.column).Key("op").String(query::FilterOpName(f.op));
  const bool takes_list = f.op == FilterOp::kIn || f.op == FilterOp::kNotIn;
  if (takes_list || f.values.size() > 1) {
    w.Key("value").BeginArray();
    for (const Value& v : f.values) WriteOperand(v, out);
    w.EndArray();
  } else if (f.values.size() == 1) {
    w.Key("value");
    WriteOperand(f.values[0], out);
  }
  w.EndObject();
}

void WriteCalculation(const Calculation& c, JsonWriter* w) {
  w->BeginObject().Key("op").String(query::CalcOpName(c.op));
  if (!c.column.empty()) w->Key("column").String(c.column);
  w->EndObject();
}

void WriteOrder(const query::Order& o, JsonWriter* w) {
  w->BeginObject();
  if (o.op) w->Key("op").String(query::CalcOpName(*o.op));
  if (!o.column.empty()) w->Key("column").String(o.column);
  w->Key("order").String(o.descending ? "descending" : "ascending");
  w->EndObject();
}

void WriteHaving(const query::Having& h, JsonWriter* w) {
  w->BeginObject().Key("calculate_op").String(query::CalcOpName(h.op));
  if (!h.column.empty()) w->Key("column").String(h.column);
  w->Key("op").String(query::FilterOpName(h.cmp)).Key("value").Double(h.value);
  w->EndObject();
}

void WriteOptionalInt(std::string_view key, const std::optional<int64_t>& v, JsonWriter* w) {
  if (v) w->Key(key).Int(*v);
}

// =============================================================================================
// Writing results

}  // namespace

std::string FormatRfc3339Utc(int64_t unix_ns) {
  using namespace std::chrono;
  const sys_time<nanoseconds> t{nanoseconds{unix_ns}};
  const sys_days day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<nanoseconds> time_of_day{t - day};
  char buf[64];
  int n = std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02d",
                        static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                        static_cast<unsigned>(ymd.day()),
                        static_cast<int>(time_of_day.hours().count()),
                        static_cast<int>(time_of_day.minutes().count()),
                        static_cast<int>(time_of_day.seconds().count()));
  std::string out(buf, n > 0 ? static_cast<size_t>(n) : 0);
  if (int64_t fraction = time_of_day.subseconds().count(); fraction != 0) {
    std::snprintf(buf, sizeof(buf), ".%09lld", static_cast<long long>(fraction));
    std::string digits(buf);
    digits.erase(digits.find_last_not_of('0') + 1);
    out += digits;
  }
  out += 'Z';
  return out;
}

namespace {

void WriteGroupValue(const Value& v, JsonWriter* w) {
  switch (v.kind) {
    case Value::Kind::kNull: w->Null(); break;
    case Value::Kind::kString: w->String(v.str); break;
    case Value::Kind::kInt: w->Int(v.i); break;
    case Value::Kind::kDouble: w->Double(v.d); break;
    case Value::Kind::kBool: w->Bool(v.b); break;
  }
}

bool IsIntegerCount(CalcOp op) { return op == CalcOp::kCount || op == CalcOp::kConcurrency; }

// Writes a non-null calculation value.
void WriteCalcValue(CalcOp op, const query::CalcValue& v, JsonWriter* w) {
  if (v.kind == query::CalcValue::Kind::kHeatmap) {
    w->BeginObject().Key("lo").Double(v.heatmap.lo).Key("hi").Double(v.heatmap.hi);
    w->Key("counts").BeginArray();
    for (uint64_t c : v.heatmap.counts) w->Uint(c);
    w->EndArray().EndObject();
    return;
  }
  constexpr double kInt64Bound = 9.2e18;
  if (IsIntegerCount(op) && std::isfinite(v.number) && std::fabs(v.number) < kInt64Bound) {
    w->Int(std::llround(v.number));
    return;
  }
  w->Double(v.number);
}

// One "data" object: breakdown values by column, then calculation values by label.
void WriteGroupData(const query::QueryResult& r, const std::vector<Value>& group,
                    const std::vector<query::CalcValue>& values, JsonWriter* w) {
  w->Key("data").BeginObject();
  for (size_t i = 0; i < r.breakdowns.size() && i < group.size(); ++i) {
    w->Key(r.breakdowns[i]);
    WriteGroupValue(group[i], w);
  }
  for (size_t i = 0; i < r.calculations.size() && i < values.size(); ++i) {
    if (values[i].kind == query::CalcValue::Kind::kNull) continue;
    w->Key(r.calculations[i].Label());
    WriteCalcValue(r.calculations[i].op, values[i], w);
  }
  w->EndObject();
}

void WriteStats(const query::QueryStats& s, JsonWriter* w) {
  w->Key("stats").BeginObject();
  w->Key("rows_examined").Uint(s.rows_examined);
  w->Key("rows_matched").Uint(s.rows_matched);
  w->Key("chunks_scanned").Uint(s.chunks_scanned);
  w->Key("chunks_pruned").Uint(s.chunks_pruned);
  w->Key("rows_skipped").Uint(s.rows_skipped);
  w->Key("elapsed_ms").Double(static_cast<double>(s.elapsed_ns) / 1e6);
  w->EndObject();
}

void WriteResultData(const query::QueryResult& r, JsonWriter* w) {
  w->Key("data").BeginObject();
  w->Key("series").BeginArray();
  for (const query::SeriesPoint& p : r.series) {
    w->BeginObject().Key("time").String(FormatRfc3339Utc(p.time_ns));
    WriteGroupData(r, p.group, p.values, w);
    w->EndObject();
  }
  w->EndArray();
  w->Key("results").BeginArray();
  for (const query::ResultRow& row : r.results) {
    w->BeginObject();
    WriteGroupData(r, row.group, row.values, w);
    w->EndObject();
  }
  w->EndArray();
  if (r.count_distinct_approximate) {
    w->Key("count_distinct_approximate").Bool(true);
    w->Key("count_distinct_relative_error").Double(query::kCountDistinctRelativeError);
  }
  WriteStats(r.stats, w);
  w->EndObject();
}

}  // namespace

StatusOr<query::QuerySpec> ParseQuerySpecJson(std::string_view json) {
  simdjson::dom::parser parser;
  ASSIGN_OR_RETURN(element root, ParseDocument(json, &parser));
  object top;
  if (root.get_object().get(top) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("query spec: expected a JSON object");
  }
  query::QuerySpec spec;
  std::vector<std::string_view> seen;
  for (auto [key, value] : top) {
    for (std::string_view s : seen) {
      if (s == key) return FieldError(key, "given twice");
    }
    seen.push_back(key);
    const bool supported = Contains(kSpecKeys, key);
    if (!supported && !Contains(kUnsupportedKeys, key)) return FieldError(key, "unknown field");
    if (value.is_null()) continue;  // null counts as absent
    if (!supported) return FieldError(key, "not supported by waggle");
    RETURN_IF_ERROR(ParseTopLevelField(key, value, &spec));
  }
  RETURN_IF_ERROR(query::ValidateSpec(spec));
  return spec;
}

std::string QuerySpecToJson(const query::QuerySpec& spec, std::string_view id) {
  SpecWriter out;
  JsonWriter& w = out.json();
  w.BeginObject().Key("id").String(id);
  w.Key("calculations").BeginArray();
  for (const Calculation& c : spec.calculations) WriteCalculation(c, &w);
  w.EndArray();
  w.Key("filters").BeginArray();
  for (const query::Filter& f : spec.filters) WriteFilter(f, &out);
  w.EndArray();
  w.Key("filter_combination")
      .String(spec.filter_combination == query::FilterCombination::kOr ? "OR" : "AND");
  w.Key("breakdowns").BeginArray();
  for (const std::string& b : spec.breakdowns) w.String(b);
  w.EndArray();
  w.Key("orders").BeginArray();
  for (const query::Order& o : spec.orders) WriteOrder(o, &w);
  w.EndArray();
  w.Key("havings").BeginArray();
  for (const query::Having& h : spec.havings) WriteHaving(h, &w);
  w.EndArray();
  WriteOptionalInt("limit", spec.limit, &w);
  WriteOptionalInt("time_range", spec.time_range, &w);
  WriteOptionalInt("start_time", spec.start_time, &w);
  WriteOptionalInt("end_time", spec.end_time, &w);
  WriteOptionalInt("granularity", spec.granularity, &w);
  w.EndObject();
  return out.Finish();
}

std::string QueryResultToJson(const query::QueryResult& result, std::string_view result_id,
                              std::string_view query_url, bool complete) {
  JsonWriter w;
  w.BeginObject().Key("id").String(result_id).Key("complete").Bool(complete);
  if (complete) WriteResultData(result, &w);
  w.Key("links").BeginObject();
  w.Key("query_url").String(query_url).Key("graph_image_url").String("");
  w.EndObject().EndObject();
  return w.Take();
}

}  // namespace waggle
