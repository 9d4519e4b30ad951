// Golden tests of the query engine: every tests/golden/cases/*.json file (format in
// tests/golden/README.md) is loaded into an embedded store and each of its queries is run
// through Store::Query and compared with the expectation tests/golden/oracle.py computed.
//
// Each case runs three passes over fresh stores:
//   head     all rows appended, answered from the in-memory head
//   segment  the same store flushed, closed and reopened: answered from segment files
//   mixed    half the rows appended and flushed, the other half appended: segments + head
// so the head and the segments must give the same answers.
//
// Comparisons go through the C++ QueryResult: numbers with a relative tolerance of 1e-9,
// breakdown values by type (the int 200, the float 200.0 and the string "200" differ),
// heatmaps by lo/hi and exact counts. QueryResultToJson's output must parse as JSON.
#include <stdlib.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "api/query_json.h"
#include "model/span.h"
#include "query/query_spec.h"
#include "store/store.h"

#ifndef WAGGLE_GOLDEN_CASES_DIR
#error "WAGGLE_GOLDEN_CASES_DIR must name tests/golden/cases"
#endif

namespace waggle {
namespace {

namespace fs = std::filesystem;
using query::CalcValue;
using query::QueryResult;
using query::Value;

constexpr int64_t kBaseEpochSeconds = 1767225600;  // 2026-01-01T00:00:00Z, as in oracle.py
constexpr int64_t kNanosPerSecond = 1'000'000'000;
constexpr double kRelativeTolerance = 1e-9;

// ---------------------------------------------------------------------------------------------
// The case model.

struct ExpectedValue {
  enum class Kind { kNull, kNumber, kHeatmap } kind = Kind::kNull;
  double number = 0;
  double lo = 0, hi = 0;
  std::vector<uint64_t> counts;
};

struct ExpectedRow {
  int64_t time_s = 0;  // series points only
  std::vector<Value> group;
  std::vector<std::pair<std::string, ExpectedValue>> values;  // label -> value
};

struct GoldenQuery {
  std::string name;
  std::string dataset;
  std::string spec_json;
  std::vector<std::string> expect_error;  // non-empty: any of these substrings
  std::vector<ExpectedRow> results;
  bool has_series = false;
  std::vector<ExpectedRow> series;
};

struct GoldenRow {
  RowKind row_kind = RowKind::kSpan;
  TraceId trace{};
  SpanId span{};
  SpanId parent{};
  std::string service, name, status_message, library;
  int64_t start_ns = 0, end_ns = 0;
  SpanKind kind = SpanKind::kUnspecified;
  StatusCode status = StatusCode::kUnset;
  std::vector<Attribute> attrs;
};

struct GoldenCase {
  std::string file;  // base name, for messages
  std::vector<GoldenRow> rows;
  std::vector<GoldenQuery> queries;
};

// ---------------------------------------------------------------------------------------------
// Loading. Any malformed input is a test failure with the file and the JSON path.

class Loader {
 public:
  explicit Loader(std::string file) : file_(std::move(file)) {}
  const std::string& error() const { return error_; }
  bool ok() const { return error_.empty(); }

  void Fail(const std::string& where, const std::string& what) {
    if (error_.empty()) error_ = file_ + ": " + where + ": " + what;
  }

  std::string String(simdjson::dom::element e, const std::string& where) {
    std::string_view s;
    if (e.get_string().get(s) != simdjson::SUCCESS) {
      Fail(where, "expected a string");
      return {};
    }
    return std::string(s);
  }

  double Number(simdjson::dom::element e, const std::string& where) {
    switch (e.type()) {
      case simdjson::dom::element_type::INT64: return static_cast<double>(int64_t(e));
      case simdjson::dom::element_type::UINT64: return static_cast<double>(uint64_t(e));
      case simdjson::dom::element_type::DOUBLE: return double(e);
      default: Fail(where, "expected a number"); return 0;
    }
  }

  // A breakdown value: JSON type = Value kind (a number written with a fraction or exponent
  // is a double, 200.0 included).
  Value TypedValue(simdjson::dom::element e, const std::string& where) {
    switch (e.type()) {
      case simdjson::dom::element_type::NULL_VALUE: return Value::Null();
      case simdjson::dom::element_type::STRING: return Value::String(std::string(std::string_view(e)));
      case simdjson::dom::element_type::INT64: return Value::Int(int64_t(e));
      case simdjson::dom::element_type::UINT64: return Value::Int(static_cast<int64_t>(uint64_t(e)));
      case simdjson::dom::element_type::DOUBLE: return Value::Double(double(e));
      case simdjson::dom::element_type::BOOL: return Value::Bool(bool(e));
      default: Fail(where, "expected a scalar"); return Value::Null();
    }
  }

  ExpectedValue Expected(simdjson::dom::element e, const std::string& where) {
    ExpectedValue v;
    if (e.is_null()) return v;
    if (e.is_object()) {
      v.kind = ExpectedValue::Kind::kHeatmap;
      simdjson::dom::element lo, hi;
      simdjson::dom::array counts;
      if (e["lo"].get(lo) || e["hi"].get(hi) || e["counts"].get_array().get(counts)) {
        Fail(where, "a heatmap needs lo, hi and counts");
        return v;
      }
      v.lo = Number(lo, where + ".lo");
      v.hi = Number(hi, where + ".hi");
      for (simdjson::dom::element c : counts) v.counts.push_back(static_cast<uint64_t>(Number(c, where)));
      return v;
    }
    v.kind = ExpectedValue::Kind::kNumber;
    v.number = Number(e, where);
    return v;
  }

  std::vector<ExpectedRow> Rows(simdjson::dom::element e, bool series, const std::string& where) {
    std::vector<ExpectedRow> out;
    simdjson::dom::array arr;
    if (e.get_array().get(arr)) {
      Fail(where, "expected an array");
      return out;
    }
    size_t i = 0;
    for (simdjson::dom::element item : arr) {
      const std::string at = where + "[" + std::to_string(i++) + "]";
      ExpectedRow row;
      if (series) {
        simdjson::dom::element t;
        if (item["time"].get(t)) Fail(at, "series points need a time");
        else row.time_s = static_cast<int64_t>(Number(t, at + ".time"));
      }
      simdjson::dom::array group;
      simdjson::dom::object values;
      if (item["group"].get_array().get(group) || item["values"].get_object().get(values)) {
        Fail(at, "expected {\"group\": [...], \"values\": {...}}");
        return out;
      }
      for (simdjson::dom::element g : group) row.group.push_back(TypedValue(g, at + ".group"));
      for (auto field : values) {
        std::string label(field.key);
        row.values.emplace_back(label, Expected(field.value, at + ".values." + label));
      }
      out.push_back(std::move(row));
    }
    return out;
  }

  GoldenRow Row(simdjson::dom::element e, const std::string& at) {
    GoldenRow r;
    simdjson::dom::element f;
    if (e["trace"].get(f) || !ParseHex(std::string_view(String(f, at + ".trace")), &r.trace)) {
      Fail(at, "trace: 32 hex digits required");
    }
    if (e["span"].get(f) || !ParseHex(std::string_view(String(f, at + ".span")), &r.span)) {
      Fail(at, "span: 16 hex digits required");
    }
    if (!e["parent"].get(f) && !ParseHex(std::string_view(String(f, at + ".parent")), &r.parent)) {
      Fail(at, "parent: 16 hex digits");
    }
    if (e["service"].get(f)) Fail(at, "service required");
    else r.service = String(f, at + ".service");
    if (!e["name"].get(f)) r.name = String(f, at + ".name");
    double start_s = 0, duration_ms = 0;
    if (e["start_s"].get(f)) Fail(at, "start_s required");
    else start_s = Number(f, at + ".start_s");
    if (!e["duration_ms"].get(f)) duration_ms = Number(f, at + ".duration_ms");
    r.start_ns = kBaseEpochSeconds * kNanosPerSecond + std::llround(start_s * 1e9);
    r.end_ns = r.start_ns + std::llround(duration_ms * 1e6);
    if (!e["kind"].get(f)) {
      const std::string k = String(f, at + ".kind");
      static const std::pair<const char*, SpanKind> kKinds[] = {
          {"unspecified", SpanKind::kUnspecified}, {"internal", SpanKind::kInternal},
          {"server", SpanKind::kServer}, {"client", SpanKind::kClient},
          {"producer", SpanKind::kProducer}, {"consumer", SpanKind::kConsumer}};
      bool found = false;
      for (const auto& [name, kind] : kKinds) {
        if (k == name) r.kind = kind, found = true;
      }
      if (!found) Fail(at, "unknown kind " + k);
    }
    if (!e["status"].get(f)) {
      const std::string s = String(f, at + ".status");
      if (s == "error") r.status = StatusCode::kError;
      else if (s == "ok") r.status = StatusCode::kOk;
      else Fail(at, "status: error or ok");
    }
    if (!e["status_message"].get(f)) r.status_message = String(f, at + ".status_message");
    if (!e["library"].get(f)) r.library = String(f, at + ".library");
    if (!e["row_kind"].get(f)) {
      if (String(f, at + ".row_kind") != "span_event") Fail(at, "row_kind: span_event only");
      r.row_kind = RowKind::kSpanEvent;
      r.end_ns = r.start_ns;
    }
    simdjson::dom::object attrs;
    if (!e["attrs"].get_object().get(attrs)) {
      for (auto field : attrs) {
        const std::string where = at + ".attrs." + std::string(field.key);
        Attribute a;
        a.key = std::string(field.key);
        simdjson::dom::element v = field.value;
        simdjson::dom::element forced;
        switch (v.type()) {
          case simdjson::dom::element_type::STRING: a.type = ValueType::kString; a.str = String(v, where); break;
          case simdjson::dom::element_type::INT64: a.type = ValueType::kInt; a.i = int64_t(v); break;
          case simdjson::dom::element_type::DOUBLE: a.type = ValueType::kDouble; a.d = double(v); break;
          case simdjson::dom::element_type::BOOL: a.type = ValueType::kBool; a.b = bool(v); break;
          case simdjson::dom::element_type::OBJECT:  // {"f": x}: x as a float
            if (v["f"].get(forced)) {
              Fail(where, "only {\"f\": number} objects");
            } else {
              a.type = ValueType::kDouble;
              a.d = Number(forced, where + ".f");
            }
            break;
          default: Fail(where, "unsupported attribute value");
        }
        r.attrs.push_back(std::move(a));
      }
    }
    return r;
  }

  GoldenQuery Query(simdjson::dom::element e, const std::string& at) {
    GoldenQuery q;
    simdjson::dom::element f;
    if (e["name"].get(f)) Fail(at, "name required");
    else q.name = String(f, at + ".name");
    if (e["dataset"].get(f)) Fail(at, "dataset required");
    else q.dataset = String(f, at + ".dataset");
    if (e["spec"].get(f) || !f.is_object()) Fail(at, "spec object required");
    else q.spec_json = simdjson::minify(f);
    if (!e["expect_error"].get(f)) {
      if (f.is_string()) {
        q.expect_error.push_back(String(f, at + ".expect_error"));
      } else {
        simdjson::dom::array alternatives;
        if (f.get_array().get(alternatives)) Fail(at, "expect_error: string or array");
        for (simdjson::dom::element s : alternatives) q.expect_error.push_back(String(s, at));
      }
      if (q.expect_error.empty()) Fail(at, "expect_error: empty");
      return q;
    }
    simdjson::dom::element expect;
    if (e["expect"].get(expect)) {
      Fail(at, "expect or expect_error required (run oracle.py --write)");
      return q;
    }
    if (expect["results"].get(f)) Fail(at, "expect.results required");
    else q.results = Rows(f, false, at + ".expect.results");
    if (!expect["series"].get(f)) {
      q.has_series = true;
      q.series = Rows(f, true, at + ".expect.series");
    }
    return q;
  }

  GoldenCase Case(const fs::path& path) {
    GoldenCase c;
    c.file = path.filename().string();
    simdjson::padded_string text;
    if (simdjson::padded_string::load(path.string()).get(text)) {
      Fail("file", "cannot read");
      return c;
    }
    simdjson::dom::element doc;
    if (parser_.parse(text).get(doc)) {
      Fail("file", "not JSON");
      return c;
    }
    simdjson::dom::array rows, queries;
    if (doc["rows"].get_array().get(rows) || doc["queries"].get_array().get(queries)) {
      Fail("file", "rows and queries arrays required");
      return c;
    }
    size_t i = 0;
    for (simdjson::dom::element r : rows) c.rows.push_back(Row(r, "rows[" + std::to_string(i++) + "]"));
    i = 0;
    for (simdjson::dom::element q : queries) {
      c.queries.push_back(Query(q, "queries[" + std::to_string(i++) + "]"));
    }
    return c;
  }

 private:
  std::string file_;
  std::string error_;
  simdjson::dom::parser parser_;
};

// ---------------------------------------------------------------------------------------------
// Rows -> SpanBatch. Every string lives in the batch's arena.

SpanBatch MakeBatch(const std::vector<GoldenRow>& rows, size_t begin, size_t end) {
  SpanBatch batch;
  for (size_t k = begin; k < end; ++k) {
    const GoldenRow& g = rows[k];
    SpanRow r;
    r.row_kind = g.row_kind;
    r.trace_id = g.trace;
    r.span_id = g.span;
    r.parent_span_id = g.parent;
    r.start_ns = g.start_ns;
    r.end_ns = g.end_ns;
    r.name = batch.arena.Store(g.name);
    r.service_name = batch.arena.Store(g.service);
    r.kind = g.kind;
    r.status_code = g.status;
    r.status_message = batch.arena.Store(g.status_message);
    r.scope_name = batch.arena.Store(g.library);
    const uint32_t first = static_cast<uint32_t>(batch.attrs.size());
    for (const Attribute& a : g.attrs) {
      AttrView v = ViewOf(a);
      v.key = batch.arena.Store(a.key);
      v.str = batch.arena.Store(a.str);
      batch.attrs.push_back(v);
    }
    const uint32_t last = static_cast<uint32_t>(batch.attrs.size());
    r.resource_attrs = {first, first};
    r.scope_attrs = {first, first};
    r.attrs = {first, last};
    batch.rows.push_back(r);
  }
  return batch;
}

// ---------------------------------------------------------------------------------------------
// Formatting (failure messages).

std::string FormatNumber(double d) {
  std::ostringstream out;
  out.precision(17);
  out << d;
  return out.str();
}

std::string FormatValue(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kNull: return "null";
    case Value::Kind::kString: return "\"" + v.str + "\"";
    case Value::Kind::kInt: return std::to_string(v.i) + " (int)";
    case Value::Kind::kDouble: return FormatNumber(v.d) + " (float)";
    case Value::Kind::kBool: return v.b ? "true" : "false";
  }
  return "?";
}

std::string FormatGroup(const std::vector<Value>& group) {
  std::string s = "[";
  for (size_t i = 0; i < group.size(); ++i) s += (i ? ", " : "") + FormatValue(group[i]);
  return s + "]";
}

std::string FormatCounts(const std::vector<uint64_t>& counts) {
  std::string s = "[";
  for (size_t i = 0; i < counts.size(); ++i) s += (i ? "," : "") + std::to_string(counts[i]);
  return s + "]";
}

std::string FormatCalc(const CalcValue& v) {
  switch (v.kind) {
    case CalcValue::Kind::kNull: return "null";
    case CalcValue::Kind::kNumber: return FormatNumber(v.number);
    case CalcValue::Kind::kHeatmap:
      return "heatmap{lo=" + FormatNumber(v.heatmap.lo) + " hi=" + FormatNumber(v.heatmap.hi) +
             " counts=" + FormatCounts(v.heatmap.counts) + "}";
  }
  return "?";
}

std::string FormatExpected(const ExpectedValue& v) {
  switch (v.kind) {
    case ExpectedValue::Kind::kNull: return "null";
    case ExpectedValue::Kind::kNumber: return FormatNumber(v.number);
    case ExpectedValue::Kind::kHeatmap:
      return "heatmap{lo=" + FormatNumber(v.lo) + " hi=" + FormatNumber(v.hi) +
             " counts=" + FormatCounts(v.counts) + "}";
  }
  return "?";
}

std::string FormatActualRow(const QueryResult& r, const std::vector<Value>& group,
                            const std::vector<CalcValue>& values) {
  std::string s = FormatGroup(group) + " {";
  for (size_t c = 0; c < values.size() && c < r.calculations.size(); ++c) {
    s += (c ? ", " : "") + r.calculations[c].Label() + ": " + FormatCalc(values[c]);
  }
  return s + "}";
}

std::string FormatExpectedRow(const ExpectedRow& row) {
  std::string s = FormatGroup(row.group) + " {";
  for (size_t c = 0; c < row.values.size(); ++c) {
    s += (c ? ", " : "") + row.values[c].first + ": " + FormatExpected(row.values[c].second);
  }
  return s + "}";
}

// The whole actual result, for context (bounded).
std::string DumpResult(const QueryResult& r) {
  std::string s = "  actual results (" + std::to_string(r.results.size()) + " rows):\n";
  for (size_t i = 0; i < r.results.size() && i < 25; ++i) {
    s += "    " + FormatActualRow(r, r.results[i].group, r.results[i].values) + "\n";
  }
  if (r.results.size() > 25) s += "    ...\n";
  return s;
}

std::string DumpExpected(const std::vector<ExpectedRow>& rows) {
  std::string s = "  expected results (" + std::to_string(rows.size()) + " rows):\n";
  for (size_t i = 0; i < rows.size() && i < 25; ++i) s += "    " + FormatExpectedRow(rows[i]) + "\n";
  if (rows.size() > 25) s += "    ...\n";
  return s;
}

// ---------------------------------------------------------------------------------------------
// Comparison.

bool NumbersEqual(double expected, double actual) {
  if (expected == actual) return true;
  const double scale = std::max(std::fabs(expected), std::fabs(actual));
  return std::fabs(expected - actual) <= kRelativeTolerance * scale;
}

bool SameValue(const Value& expected, const Value& actual) {
  if (expected.kind != actual.kind) return false;
  if (expected.kind == Value::Kind::kDouble) return NumbersEqual(expected.d, actual.d);
  return expected == actual;
}

bool SameCalc(const ExpectedValue& e, const CalcValue& a) {
  switch (e.kind) {
    case ExpectedValue::Kind::kNull: return a.kind == CalcValue::Kind::kNull;
    case ExpectedValue::Kind::kNumber:
      return a.kind == CalcValue::Kind::kNumber && NumbersEqual(e.number, a.number);
    case ExpectedValue::Kind::kHeatmap:
      return a.kind == CalcValue::Kind::kHeatmap && NumbersEqual(e.lo, a.heatmap.lo) &&
             NumbersEqual(e.hi, a.heatmap.hi) && e.counts == a.heatmap.counts;
  }
  return false;
}

// Compares one expected row with one actual (group, values); appends differences to *diffs.
void CompareRow(const std::string& where, const ExpectedRow& e, const QueryResult& r,
                const std::vector<Value>& group, const std::vector<CalcValue>& values,
                std::vector<std::string>* diffs) {
  bool group_ok = e.group.size() == group.size();
  for (size_t i = 0; group_ok && i < group.size(); ++i) group_ok = SameValue(e.group[i], group[i]);
  if (!group_ok) {
    diffs->push_back(where + ": group expected " + FormatGroup(e.group) + ", actual " +
                     FormatGroup(group));
    return;
  }
  if (values.size() != r.calculations.size()) {
    diffs->push_back(where + ": " + std::to_string(values.size()) + " values for " +
                     std::to_string(r.calculations.size()) + " calculations");
    return;
  }
  for (const auto& [label, expected] : e.values) {
    size_t c = 0;
    while (c < r.calculations.size() && r.calculations[c].Label() != label) ++c;
    if (c == r.calculations.size()) {
      std::string labels;
      for (const auto& calc : r.calculations) labels += " " + calc.Label();
      diffs->push_back(where + ": no calculation labelled " + label + " (result has:" + labels + ")");
      continue;
    }
    if (!SameCalc(expected, values[c])) {
      diffs->push_back(where + " group " + FormatGroup(group) + " " + label + ": expected " +
                       FormatExpected(expected) + ", actual " + FormatCalc(values[c]));
    }
  }
}

std::vector<std::string> CompareResult(const GoldenQuery& q, const QueryResult& r) {
  std::vector<std::string> diffs;
  if (!q.results.empty() && q.results[0].values.size() != r.calculations.size()) {
    diffs.push_back("expected " + std::to_string(q.results[0].values.size()) +
                    " calculations, result has " + std::to_string(r.calculations.size()));
  }
  if (q.results.size() != r.results.size()) {
    diffs.push_back("expected " + std::to_string(q.results.size()) + " result rows, actual " +
                    std::to_string(r.results.size()));
  }
  for (size_t i = 0; i < std::min(q.results.size(), r.results.size()); ++i) {
    CompareRow("results[" + std::to_string(i) + "]", q.results[i], r, r.results[i].group,
               r.results[i].values, &diffs);
  }
  if (q.has_series) {
    if (q.series.size() != r.series.size()) {
      diffs.push_back("expected " + std::to_string(q.series.size()) + " series points, actual " +
                      std::to_string(r.series.size()));
    }
    for (size_t i = 0; i < std::min(q.series.size(), r.series.size()); ++i) {
      const std::string where = "series[" + std::to_string(i) + "]";
      const int64_t expected_ns = q.series[i].time_s * kNanosPerSecond;
      if (r.series[i].time_ns != expected_ns) {
        diffs.push_back(where + ": time expected " + std::to_string(expected_ns) + " ns, actual " +
                        std::to_string(r.series[i].time_ns));
        continue;
      }
      CompareRow(where, q.series[i], r, r.series[i].group, r.series[i].values, &diffs);
    }
  } else if (!r.series.empty()) {
    diffs.push_back("disable_series was set but the result has " +
                    std::to_string(r.series.size()) + " series points");
  }
  return diffs;
}

bool ContainsAny(std::string_view message, const std::vector<std::string>& needles) {
  for (const std::string& n : needles) {
    if (message.find(n) != std::string_view::npos) return true;
  }
  return false;
}

std::string JoinAlternatives(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "\" or \"" : "\"") + v[i];
  return s + "\"";
}

// ---------------------------------------------------------------------------------------------
// Passes.

struct PassTally {
  int passed = 0;
  int failed = 0;
};

// Runs every query of the case against `store`; reports each failure naming file/query/pass.
PassTally RunQueries(const GoldenCase& c, Store& store, const std::string& pass) {
  PassTally tally;
  for (const GoldenQuery& q : c.queries) {
    const std::string what = c.file + " :: " + q.name + " [" + pass + "]";
    bool ok = true;
    auto fail = [&](const std::string& message) {
      ok = false;
      ADD_FAILURE() << what << ": " << message;
    };
    StatusOr<query::QuerySpec> spec = ParseQuerySpecJson(q.spec_json);
    if (!q.expect_error.empty()) {
      Status error = spec.status();
      if (spec.ok()) {
        query::QueryRequest request{q.dataset, *spec, true};
        StatusOr<QueryResult> result = store.Query(request);
        if (result.ok()) {
          fail("expected InvalidArgument containing " + JoinAlternatives(q.expect_error) +
               ", but the query succeeded with " + std::to_string(result->results.size()) +
               " rows\n" + DumpResult(*result));
        }
        error = result.status();
      }
      if (!error.ok()) {
        if (error.code() != absl::StatusCode::kInvalidArgument) {
          fail("expected InvalidArgument, got " + error.ToString());
        } else if (!ContainsAny(std::string(error.message()), q.expect_error)) {
          fail("InvalidArgument message \"" + std::string(error.message()) +
               "\" contains none of " + JoinAlternatives(q.expect_error));
        }
      }
      ok ? ++tally.passed : ++tally.failed;
      continue;
    }
    if (!spec.ok()) {
      fail("ParseQuerySpecJson failed: " + spec.status().ToString() + "\n  spec: " + q.spec_json);
      ++tally.failed;
      continue;
    }
    query::QueryRequest request{q.dataset, *spec, !q.has_series};
    StatusOr<QueryResult> result = store.Query(request);
    if (!result.ok()) {
      fail("Store::Query failed: " + result.status().ToString() + "\n  spec: " + q.spec_json);
      ++tally.failed;
      continue;
    }
    std::vector<std::string> diffs = CompareResult(q, *result);
    if (!diffs.empty()) {
      std::string message = std::to_string(diffs.size()) + " difference(s):\n";
      for (size_t i = 0; i < diffs.size() && i < 30; ++i) message += "  " + diffs[i] + "\n";
      if (diffs.size() > 30) message += "  ...\n";
      message += "  spec: " + q.spec_json + "\n" + DumpExpected(q.results) + DumpResult(*result);
      fail(message);
    }
    // The JSON form must at least be JSON.
    const std::string json = QueryResultToJson(*result, "golden", "/query/golden", true);
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(json).get(doc) != simdjson::SUCCESS) {
      fail("QueryResultToJson output is not valid JSON: " + json.substr(0, 500));
    }
    ok ? ++tally.passed : ++tally.failed;
  }
  return tally;
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "waggle-golden-XXXXXX").string();
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    if (!path_.empty()) {
      std::error_code ec;
      fs::remove_all(path_, ec);
    }
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

StatusOr<std::unique_ptr<Store>> Open(const std::string& dir) {
  StoreOptions options;
  options.data_dir = dir;
  options.background_threads = false;
  options.wal_sync = WalSyncPolicy::kNone;
  options.head_max_age_ms = 0;
  options.query_threads = 2;
  return OpenEmbeddedStore(options);
}

// ---------------------------------------------------------------------------------------------

std::vector<std::string> CaseFiles() {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(WAGGLE_GOLDEN_CASES_DIR, ec)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string TestName(const testing::TestParamInfo<std::string>& info) {
  std::string name = fs::path(info.param).stem().string();
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
}

class GoldenTest : public testing::TestWithParam<std::string> {};

TEST(GoldenCases, DirectoryHasCases) {
  EXPECT_GE(CaseFiles().size(), 10u) << "no case files in " << WAGGLE_GOLDEN_CASES_DIR;
}

TEST_P(GoldenTest, HeadSegmentAndMixedGiveTheExpectedAnswers) {
  const fs::path path = GetParam();
  Loader loader(path.filename().string());
  const GoldenCase c = loader.Case(path);
  ASSERT_TRUE(loader.ok()) << loader.error();
  ASSERT_FALSE(c.rows.empty()) << c.file << ": no rows";
  std::string summary = c.file + ": " + std::to_string(c.queries.size()) + " queries;";
  auto note = [&](const std::string& pass, const PassTally& t) {
    summary += " " + pass + " " + std::to_string(t.passed) + "/" +
               std::to_string(t.passed + t.failed);
  };

  {  // head, then segment (flush, close, reopen)
    TempDir dir;
    ASSERT_FALSE(dir.path().empty()) << "mkdtemp failed";
    {
      auto store = Open(dir.path());
      ASSERT_TRUE(store.ok()) << c.file << ": open: " << store.status();
      SpanBatch batch = MakeBatch(c.rows, 0, c.rows.size());
      ASSERT_TRUE((*store)->Append(batch).ok()) << c.file << ": append failed";
      note("head", RunQueries(c, **store, "head"));
      Status flushed = (*store)->Flush();
      ASSERT_TRUE(flushed.ok()) << c.file << ": flush: " << flushed;
      Status closed = (*store)->Close();
      ASSERT_TRUE(closed.ok()) << c.file << ": close: " << closed;
    }
    auto store = Open(dir.path());
    ASSERT_TRUE(store.ok()) << c.file << ": reopen: " << store.status();
    StoreStats stats = (*store)->Stats();
    EXPECT_EQ(stats.head_rows, 0u) << c.file << " [segment]: rows left in the head after reopen";
    EXPECT_GE(stats.segments, 1u) << c.file << " [segment]: no segment after flush";
    EXPECT_EQ(stats.segment_rows, c.rows.size()) << c.file << " [segment]";
    note("segment", RunQueries(c, **store, "segment"));
    EXPECT_TRUE((*store)->Close().ok());
  }

  {  // mixed: the first half in a segment, the rest in the head
    TempDir dir;
    ASSERT_FALSE(dir.path().empty()) << "mkdtemp failed";
    auto store = Open(dir.path());
    ASSERT_TRUE(store.ok()) << c.file << ": open: " << store.status();
    const size_t half = c.rows.size() / 2;
    SpanBatch first = MakeBatch(c.rows, 0, half);
    SpanBatch second = MakeBatch(c.rows, half, c.rows.size());
    ASSERT_TRUE((*store)->Append(first).ok()) << c.file << ": append failed";
    Status flushed = (*store)->Flush();
    ASSERT_TRUE(flushed.ok()) << c.file << ": flush: " << flushed;
    ASSERT_TRUE((*store)->Append(second).ok()) << c.file << ": append failed";
    StoreStats stats = (*store)->Stats();
    EXPECT_EQ(stats.head_rows, c.rows.size() - half) << c.file << " [mixed]";
    EXPECT_EQ(stats.segment_rows, half) << c.file << " [mixed]";
    note("mixed", RunQueries(c, **store, "mixed"));
    EXPECT_TRUE((*store)->Close().ok());
  }
  std::cout << "[ golden   ] " << summary << std::endl;
}

INSTANTIATE_TEST_SUITE_P(Cases, GoldenTest, testing::ValuesIn(CaseFiles()), TestName);

}  // namespace
}  // namespace waggle
