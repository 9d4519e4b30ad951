#include "api/query_json.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "api/json_writer.h"

namespace waggle {
namespace {

using query::CalcOp;
using query::CalcValue;
using query::FilterOp;
using query::QuerySpec;
using query::Value;

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kNov26At19h = 1'795'719'600;  // 2026-11-26T19:00:00Z

QuerySpec ParseOk(std::string_view json) {
  StatusOr<QuerySpec> spec = ParseQuerySpecJson(json);
  EXPECT_TRUE(spec.ok()) << json << " -> " << spec.status();
  return spec.ok() ? *spec : QuerySpec{};
}

// ParseQuerySpecJson(json) fails with InvalidArgument and a message containing `fragment`.
::testing::AssertionResult FailsWith(std::string_view json, std::string_view fragment) {
  StatusOr<QuerySpec> spec = ParseQuerySpecJson(json);
  if (spec.ok()) return ::testing::AssertionFailure() << json << " parsed";
  if (spec.status().code() != absl::StatusCode::kInvalidArgument) {
    return ::testing::AssertionFailure() << json << " -> " << spec.status();
  }
  if (std::string(spec.status().message()).find(fragment) == std::string::npos) {
    return ::testing::AssertionFailure()
           << json << " -> \"" << spec.status().message() << "\" lacks \"" << fragment << "\"";
  }
  return ::testing::AssertionSuccess();
}

// ---------------------------------------------------------------------------------------------
// Parsing

TEST(ParseQuerySpecJson, EmptyObjectIsTheDefaultSpec) {
  EXPECT_EQ(ParseOk("{}"), QuerySpec{});
  EXPECT_EQ(ParseOk(" { } "), QuerySpec{});
}

TEST(ParseQuerySpecJson, EveryCalculationOp) {
  for (int i = 0; i < query::kCalcOpCount; ++i) {
    CalcOp op = static_cast<CalcOp>(i);
    std::string name(query::CalcOpName(op));
    std::string json = query::CalcTakesColumn(op)
                           ? R"J({"calculations":[{"op":")J" + name + R"J(","column":"duration_ms"}]})J"
                           : R"J({"calculations":[{"op":")J" + name + R"J("}]})J";
    QuerySpec spec = ParseOk(json);
    ASSERT_EQ(spec.calculations.size(), 1u) << name;
    EXPECT_EQ(spec.calculations[0].op, op);
    EXPECT_EQ(spec.calculations[0].column, query::CalcTakesColumn(op) ? "duration_ms" : "");
  }
}

struct FilterCase {
  std::string json;
  query::Filter expected;
};

TEST(ParseQuerySpecJson, EveryFilterOpWithItsOperands) {
  const std::vector<FilterCase> cases = {
      {R"J({"column":"name","op":"=","value":"GET /"})J", {"name", FilterOp::kEq, {Value::String("GET /")}}},
      {R"J({"column":"code","op":"!=","value":200})J", {"code", FilterOp::kNe, {Value::Int(200)}}},
      {R"J({"column":"d","op":">","value":2.5})J", {"d", FilterOp::kGt, {Value::Double(2.5)}}},
      {R"J({"column":"d","op":">=","value":1.0})J", {"d", FilterOp::kGe, {Value::Double(1.0)}}},
      {R"J({"column":"d","op":"<","value":-7})J", {"d", FilterOp::kLt, {Value::Int(-7)}}},
      {R"J({"column":"d","op":"<=","value":1e3})J", {"d", FilterOp::kLe, {Value::Double(1000)}}},
      {R"J({"column":"error","op":"=","value":true})J", {"error", FilterOp::kEq, {Value::Bool(true)}}},
      {R"J({"column":"n","op":"=","value":18446744073709551615})J",
       {"n", FilterOp::kEq, {Value::Double(18446744073709551615.0)}}},
      {R"J({"column":"n","op":"=","value":-9223372036854775808})J",
       {"n", FilterOp::kEq, {Value::Int(INT64_MIN)}}},
      {R"J({"column":"u","op":"starts-with","value":"/api"})J", {"u", FilterOp::kStartsWith, {Value::String("/api")}}},
      {R"J({"column":"u","op":"does-not-start-with","value":"/x"})J", {"u", FilterOp::kDoesNotStartWith, {Value::String("/x")}}},
      {R"J({"column":"u","op":"ends-with","value":".js"})J", {"u", FilterOp::kEndsWith, {Value::String(".js")}}},
      {R"J({"column":"u","op":"does-not-end-with","value":".css"})J", {"u", FilterOp::kDoesNotEndWith, {Value::String(".css")}}},
      {R"J({"column":"u","op":"contains","value":"user"})J", {"u", FilterOp::kContains, {Value::String("user")}}},
      {R"J({"column":"u","op":"does-not-contain","value":"health"})J", {"u", FilterOp::kDoesNotContain, {Value::String("health")}}},
      {R"J({"column":"trace.parent_id","op":"exists"})J", {"trace.parent_id", FilterOp::kExists, {}}},
      {R"J({"column":"trace.parent_id","op":"does-not-exist","value":null})J", {"trace.parent_id", FilterOp::kDoesNotExist, {}}},
      {R"J({"column":"code","op":"in","value":["a",1,2.5,false]})J",
       {"code", FilterOp::kIn, {Value::String("a"), Value::Int(1), Value::Double(2.5), Value::Bool(false)}}},
      {R"J({"op":"not-in","value":[500],"column":"code"})J", {"code", FilterOp::kNotIn, {Value::Int(500)}}},
  };
  for (const FilterCase& c : cases) {
    QuerySpec spec = ParseOk(R"J({"filters":[)J" + c.json + "]}");
    ASSERT_EQ(spec.filters.size(), 1u) << c.json;
    EXPECT_EQ(spec.filters[0], c.expected) << c.json;
  }
}

TEST(ParseQuerySpecJson, FullSpec) {
  QuerySpec spec = ParseOk(R"J({
    "calculations": [{"op": "COUNT"}, {"op": "P99", "column": "duration_ms"}],
    "filters": [{"column": "service.name", "op": "=", "value": "api"}],
    "filter_combination": "OR",
    "breakdowns": ["name", "http.status_code"],
    "orders": [{"op": "P99", "column": "duration_ms", "order": "descending"},
               {"column": "name"}, {"op": "COUNT", "order": "ascending"}],
    "havings": [{"calculate_op": "COUNT", "op": ">", "value": 10},
                {"calculate_op": "P99", "column": "duration_ms", "op": "<=", "value": 250.5}],
    "limit": 50, "time_range": 3600, "end_time": 1800000000, "granularity": 60
  })J");
  QuerySpec expected;
  expected.calculations = {{CalcOp::kCount, ""}, {CalcOp::kP99, "duration_ms"}};
  expected.filters = {{"service.name", FilterOp::kEq, {Value::String("api")}}};
  expected.filter_combination = query::FilterCombination::kOr;
  expected.breakdowns = {"name", "http.status_code"};
  expected.orders = {{CalcOp::kP99, "duration_ms", true},
                     {std::nullopt, "name", false},
                     {CalcOp::kCount, "", false}};
  expected.havings = {{CalcOp::kCount, "", FilterOp::kGt, 10},
                      {CalcOp::kP99, "duration_ms", FilterOp::kLe, 250.5}};
  expected.limit = 50;
  expected.time_range = 3600;
  expected.end_time = 1'800'000'000;
  expected.granularity = 60;
  EXPECT_EQ(spec, expected);
}

TEST(ParseQuerySpecJson, NullMeansAbsentAndIdIsIgnored) {
  EXPECT_EQ(ParseOk(R"J({"id":"abc","limit":null,"filters":null,"calculations":null,
                        "calculated_fields":null,"compare_time_offset_seconds":null})J")
                .limit,
            std::nullopt);
  QuerySpec spec = ParseOk(R"J({"calculations":[{"op":"COUNT","column":null}],
                              "orders":[{"op":"COUNT","column":null,"order":null}]})J");
  EXPECT_EQ(spec.calculations[0].column, "");
  EXPECT_FALSE(spec.orders[0].descending);
}

TEST(ParseQuerySpecJson, TypeErrorsNameTheFieldPath) {
  EXPECT_TRUE(FailsWith(R"J({"filters":[{"column":"a","op":"exists"},{"column":"b","op":"exists"},
                                       {"column":"c","op":"=","value":{}}]})J",
                        "filters[2].value: expected a string, number or boolean"));
  EXPECT_TRUE(FailsWith(R"J({"filters":[{"column":"c","op":"=","value":[1]}]})J",
                        "filters[0].value: expected a string, number or boolean"));
  EXPECT_TRUE(FailsWith(R"J({"filters":[{"column":"c","op":"in","value":1}]})J",
                        "filters[0].value: in takes an array"));
  EXPECT_TRUE(FailsWith(R"J({"filters":[{"column":"c","op":"not-in","value":[1,null]}]})J",
                        "filters[0].value[1]: expected a string, number or boolean"));
  EXPECT_TRUE(FailsWith(R"J({"filters":[{"column":"c","op":"=="}]})J",
                        "filters[0].op: unknown operator \"==\""));
  EXPECT_TRUE(FailsWith(R"J({"filters":[{"op":"exists"}]})J", "filters[0].column: required"));
  EXPECT_TRUE(FailsWith(R"J({"filters":[{"column":7,"op":"exists"}]})J",
                        "filters[0].column: expected a string"));
  EXPECT_TRUE(FailsWith(R"J({"filters":[{"column":"a","op":"exists","extra":1}]})J",
                        "filters[0].extra: unknown field"));
  EXPECT_TRUE(FailsWith(R"J({"filters":{}})J", "filters: expected an array"));
  EXPECT_TRUE(FailsWith(R"J({"filters":["a"]})J", "filters[0]: expected an object"));
  EXPECT_TRUE(FailsWith(R"J({"calculations":[{"op":"p99","column":"d"}]})J",
                        "calculations[0].op: unknown calculation \"p99\""));
  EXPECT_TRUE(FailsWith(R"J({"calculations":[{"column":"d"}]})J", "calculations[0].op: required"));
  EXPECT_TRUE(FailsWith(R"J({"calculations":[{"op":"SUM","column":1}]})J",
                        "calculations[0].column: expected a string"));
  EXPECT_TRUE(FailsWith(R"J({"calculations":[{"op":"SUM","column":"d","name":"x"}]})J",
                        "calculations[0].name: unknown field"));
  EXPECT_TRUE(FailsWith(R"J({"breakdowns":["a",5]})J", "breakdowns[1]: expected a string"));
  EXPECT_TRUE(FailsWith(R"J({"orders":[{"column":"a","order":"up"}]})J",
                        "orders[0].order: expected \"ascending\" or \"descending\""));
  EXPECT_TRUE(FailsWith(R"J({"orders":[{"op":"NOPE"}]})J", "orders[0].op: unknown calculation"));
  EXPECT_TRUE(FailsWith(R"J({"havings":[{"calculate_op":"COUNT","op":">","value":"x"}]})J",
                        "havings[0].value: expected a number"));
  EXPECT_TRUE(FailsWith(R"J({"havings":[{"calculate_op":"COUNT","op":">"}]})J",
                        "havings[0].value: required"));
  EXPECT_TRUE(FailsWith(R"J({"havings":[{"op":">","value":1}]})J", "havings[0].calculate_op: required"));
  EXPECT_TRUE(FailsWith(R"J({"filter_combination":"and"})J",
                        "filter_combination: expected \"AND\" or \"OR\""));
  EXPECT_TRUE(FailsWith(R"J({"id":5})J", "id: expected a string"));
  for (std::string_view field : {"limit", "time_range", "start_time", "end_time", "granularity"}) {
    for (std::string_view bad : {"\"10\"", "1.5", "1e3", "true", "[]", "18446744073709551615"}) {
      std::string json = "{\"" + std::string(field) + "\":" + std::string(bad) + "}";
      EXPECT_TRUE(FailsWith(json, std::string(field) + ": expected an integer"));
    }
  }
}

TEST(ParseQuerySpecJson, UnknownAndUnsupportedKeys) {
  EXPECT_TRUE(FailsWith(R"J({"calculated_fields":[{"name":"x","expression":"1"}]})J",
                        "calculated_fields: not supported"));
  EXPECT_TRUE(FailsWith(R"J({"compare_time_offset_seconds":3600})J",
                        "compare_time_offset_seconds: not supported"));
  EXPECT_TRUE(FailsWith(R"J({"formulas":[]})J", "formulas: not supported"));
  EXPECT_TRUE(FailsWith(R"J({"limits":10})J", "limits: unknown field"));
  EXPECT_TRUE(FailsWith(R"J({"bogus":null})J", "bogus: unknown field"));
  EXPECT_TRUE(FailsWith(R"J({"limit":10,"limit":20})J", "limit: given twice"));
  EXPECT_TRUE(FailsWith(R"J({"filters":[{"column":"a","column":"b","op":"exists"}]})J",
                        "filters[0].column: given twice"));
}

TEST(ParseQuerySpecJson, MalformedBodies) {
  EXPECT_TRUE(FailsWith("", "invalid JSON"));
  EXPECT_TRUE(FailsWith("{", "invalid JSON"));
  EXPECT_TRUE(FailsWith(R"J({"limit":10} x)J", "invalid JSON"));
  EXPECT_TRUE(FailsWith("[]", "expected a JSON object"));
  EXPECT_TRUE(FailsWith("\"spec\"", "expected a JSON object"));
  std::string deep = R"J({"filters":[{"column":"a","op":"in","value":)J" + std::string(100, '[') +
                     std::string(100, ']') + "}]}";
  EXPECT_TRUE(FailsWith(deep, "nested deeper than"));
  std::string big = R"J({"breakdowns":[")J" + std::string(kMaxQuerySpecBytes, 'x') + R"J("]})J";
  EXPECT_TRUE(FailsWith(big, "larger than 1 MiB"));
}

TEST(ParseQuerySpecJson, RunsValidateSpec) {
  EXPECT_TRUE(FailsWith(R"J({"calculations":[{"op":"P99","column":"duration_ms"}],
                            "havings":[{"calculate_op":"P95","column":"duration_ms","op":">","value":1}]})J",
                        "havings[0]: no calculation P95(duration_ms) in the query"));
  EXPECT_TRUE(FailsWith(R"J({"calculations":[{"op":"COUNT"},{"op":"AVG"}]})J",
                        "calculations[1].column: required for AVG"));
  EXPECT_TRUE(FailsWith(R"J({"filters":[{"column":"a","op":"contains","value":3}]})J",
                        "filters[0].value: contains needs a string"));
  EXPECT_TRUE(FailsWith(R"J({"filters":[{"column":"a","op":"exists","value":3}]})J",
                        "filters[0].value: exists takes no value"));
  EXPECT_TRUE(FailsWith(R"J({"filters":[{"column":"a","op":"in","value":[]}]})J",
                        "filters[0].value: in needs at least one value"));
  EXPECT_TRUE(FailsWith(R"J({"filters":[{"column":"a","op":"="}]})J",
                        "filters[0].value: = needs exactly one value"));
  EXPECT_TRUE(FailsWith(R"J({"limit":0})J", "limit: must be between 1 and 10000"));
  EXPECT_TRUE(FailsWith(R"J({"time_range":60,"start_time":1800000000,"end_time":1800000060})J",
                        "time_range"));
  EXPECT_TRUE(FailsWith(R"J({"time_range":7200,"granularity":1})J", "granularity"));
}

TEST(ParseQuerySpecJson, SurvivesTruncatedAndCorruptedInput) {
  const std::string valid = R"J({"calculations":[{"op":"P99","column":"duration_ms"}],)J"
                            R"J("filters":[{"column":"a","op":"in","value":["x",1,2.5]}],)J"
                            R"J("breakdowns":["name"],"orders":[{"column":"name"}],"limit":5})J";
  ASSERT_TRUE(ParseQuerySpecJson(valid).ok());
  for (size_t n = 0; n < valid.size(); ++n) {
    EXPECT_FALSE(ParseQuerySpecJson(valid.substr(0, n)).ok()) << n;
  }
  uint32_t state = 12345;
  for (int round = 0; round < 2000; ++round) {
    std::string corrupted = valid;
    state = state * 1103515245 + 12345;
    corrupted[(state >> 8) % corrupted.size()] = static_cast<char>(state >> 24);
    (void)ParseQuerySpecJson(corrupted);  // must not crash
  }
}

// ---------------------------------------------------------------------------------------------
// Writing specs

QuerySpec RichSpec() {
  QuerySpec s;
  s.calculations = {{CalcOp::kCount, ""}, {CalcOp::kP99, "duration_ms"},
                    {CalcOp::kHeatmap, "duration_ms"}, {CalcOp::kCountDistinct, "user.id"}};
  s.filters = {
      {"name", FilterOp::kEq, {Value::String("GET \"/\" \xc3\xa9\n")}},
      {"d", FilterOp::kGt, {Value::Double(2.0)}},
      {"d", FilterOp::kLt, {Value::Double(1e20)}},
      {"d", FilterOp::kNe, {Value::Double(-0.125)}},
      {"code", FilterOp::kGe, {Value::Int(-3)}},
      {"error", FilterOp::kEq, {Value::Bool(false)}},
      {"u", FilterOp::kDoesNotContain, {Value::String("")}},
      {"p", FilterOp::kExists, {}},
      {"code", FilterOp::kNotIn, {Value::Int(500), Value::Double(501.0), Value::String("x"),
                                  Value::Bool(true)}},
  };
  s.filter_combination = query::FilterCombination::kOr;
  s.breakdowns = {"service.name", "http.status_code"};
  s.orders = {{CalcOp::kP99, "duration_ms", true}, {std::nullopt, "service.name", false}};
  s.havings = {{CalcOp::kCount, "", FilterOp::kGe, 2}, {CalcOp::kP99, "duration_ms", FilterOp::kNe, 0.5}};
  s.limit = 25;
  s.start_time = 1'800'000'000;
  s.end_time = 1'800'086'400;
  s.granularity = 3600;
  return s;
}

TEST(QuerySpecToJson, RoundTrips) {
  QuerySpec rich = RichSpec();
  ASSERT_TRUE(query::ValidateSpec(rich).ok()) << query::ValidateSpec(rich);
  EXPECT_EQ(ParseOk(QuerySpecToJson(rich, "q1")), rich) << QuerySpecToJson(rich, "q1");
  EXPECT_EQ(ParseOk(QuerySpecToJson(QuerySpec{}, "")), QuerySpec{});

  QuerySpec range;
  range.time_range = 600;
  range.limit = 10000;
  EXPECT_EQ(ParseOk(QuerySpecToJson(range, "x")), range);

  for (int i = 0; i < query::kCalcOpCount; ++i) {
    CalcOp op = static_cast<CalcOp>(i);
    QuerySpec one;
    one.calculations = {{op, query::CalcTakesColumn(op) ? "c" : ""}};
    EXPECT_EQ(ParseOk(QuerySpecToJson(one, "")), one) << query::CalcOpName(op);
  }
}

TEST(QuerySpecToJson, CanonicalGolden) {
  QuerySpec s;
  s.calculations = {{CalcOp::kP99, "duration_ms"}};
  s.filters = {{"d", FilterOp::kGt, {Value::Double(2.0)}}, {"p", FilterOp::kExists, {}},
               {"c", FilterOp::kIn, {Value::Int(1), Value::Double(1.5)}}};
  s.breakdowns = {"name"};
  s.orders = {{CalcOp::kP99, "duration_ms", true}};
  s.havings = {{CalcOp::kP99, "duration_ms", FilterOp::kGt, 100}};
  s.time_range = 3600;
  EXPECT_EQ(QuerySpecToJson(s, "abc"),
            R"J({"id":"abc","calculations":[{"op":"P99","column":"duration_ms"}],)J"
            R"J("filters":[{"column":"d","op":">","value":2.0},{"column":"p","op":"exists"},)J"
            R"J({"column":"c","op":"in","value":[1,1.5]}],"filter_combination":"AND",)J"
            R"J("breakdowns":["name"],"orders":[{"op":"P99","column":"duration_ms","order":"descending"}],)J"
            R"J("havings":[{"calculate_op":"P99","column":"duration_ms","op":">","value":100}],)J"
            R"J("time_range":3600})J");
  EXPECT_EQ(QuerySpecToJson(QuerySpec{}, ""),
            R"J({"id":"","calculations":[],"filters":[],"filter_combination":"AND",)J"
            R"J("breakdowns":[],"orders":[],"havings":[]})J");
}

// ---------------------------------------------------------------------------------------------
// Writing results

CalcValue Number(double v) {
  CalcValue c;
  c.kind = CalcValue::Kind::kNumber;
  c.number = v;
  return c;
}

CalcValue HeatmapValue(double lo, double hi, std::vector<uint64_t> counts) {
  CalcValue c;
  c.kind = CalcValue::Kind::kHeatmap;
  c.heatmap = {lo, hi, std::move(counts)};
  return c;
}

query::QueryResult SmallResult() {
  query::QueryResult r;
  r.breakdowns = {"service.name", "http.status_code"};
  r.calculations = {{CalcOp::kCount, ""}, {CalcOp::kP99, "duration_ms"},
                    {CalcOp::kHeatmap, "duration_ms"}, {CalcOp::kAvg, "size"}};
  r.window = {kNov26At19h * kSecond, (kNov26At19h + 120) * kSecond, 60 * kSecond};
  r.results = {
      {{Value::String("api"), Value::Int(200)},
       {Number(12), Number(250.5), HeatmapValue(0, 100, {3, 9}), CalcValue{}}},
      {{Value::Null(), Value::Bool(true)},
       {Number(1), Number(0.25), HeatmapValue(0, 100, {1, 0}), Number(7)}},
  };
  r.series = {
      {kNov26At19h * kSecond,
       {Value::String("api"), Value::Int(200)},
       {Number(5), Number(100), HeatmapValue(0, 100, {2, 3}), CalcValue{}}},
      {(kNov26At19h + 60) * kSecond,
       {Value::Null(), Value::Double(1.5)},
       {Number(1), CalcValue{}, HeatmapValue(0, 100, {1, 0}), Number(7)}},
  };
  r.stats = {1000, 13, 4, 2, 1'500'000};
  return r;
}

TEST(QueryResultToJson, CompleteGolden) {
  EXPECT_EQ(
      QueryResultToJson(SmallResult(), "r1", "/query/api/q1", true),
      R"J({"id":"r1","complete":true,"data":{"series":[)J"
      R"J({"time":"2026-11-26T19:00:00Z","data":{"service.name":"api","http.status_code":200,)J"
      R"J("COUNT":5,"P99(duration_ms)":100,"HEATMAP(duration_ms)":{"lo":0,"hi":100,"counts":[2,3]}}},)J"
      R"J({"time":"2026-11-26T19:01:00Z","data":{"service.name":null,"http.status_code":1.5,)J"
      R"J("COUNT":1,"HEATMAP(duration_ms)":{"lo":0,"hi":100,"counts":[1,0]},"AVG(size)":7}}],)J"
      R"J("results":[)J"
      R"J({"data":{"service.name":"api","http.status_code":200,"COUNT":12,"P99(duration_ms)":250.5,)J"
      R"J("HEATMAP(duration_ms)":{"lo":0,"hi":100,"counts":[3,9]}}},)J"
      R"J({"data":{"service.name":null,"http.status_code":true,"COUNT":1,"P99(duration_ms)":0.25,)J"
      R"J("HEATMAP(duration_ms)":{"lo":0,"hi":100,"counts":[1,0]},"AVG(size)":7}}],)J"
      R"J("stats":{"rows_examined":1000,"rows_matched":13,"chunks_scanned":4,"chunks_pruned":2,"rows_skipped":0,)J"
      R"J("elapsed_ms":1.5}},)J"
      R"J("links":{"query_url":"/query/api/q1","graph_image_url":""}})J");
}

TEST(QueryResultToJson, IncompleteOmitsData) {
  EXPECT_EQ(QueryResultToJson(SmallResult(), "r2", "/q", false),
            R"J({"id":"r2","complete":false,"links":{"query_url":"/q","graph_image_url":""}})J");
}

TEST(QueryResultToJson, CountsAreIntegersAndApproximationIsFlagged) {
  query::QueryResult r;
  r.calculations = {{CalcOp::kCount, ""}, {CalcOp::kConcurrency, ""},
                    {CalcOp::kCountDistinct, "user.id"}, {CalcOp::kSum, "x"}};
  r.results = {{{}, {Number(3e9), Number(2), Number(1234.0), Number(0.1)}}};
  r.count_distinct_approximate = true;
  std::string json = QueryResultToJson(r, "r", "", true);
  EXPECT_EQ(json,
            R"J({"id":"r","complete":true,"data":{"series":[],"results":[{"data":{"COUNT":3000000000,)J"
            R"J("CONCURRENCY":2,"COUNT_DISTINCT(user.id)":1234,"SUM(x)":0.1}}],)J"
            R"J("count_distinct_approximate":true,"count_distinct_relative_error":0.0081,)J"
            R"J("stats":{"rows_examined":0,"rows_matched":0,"chunks_scanned":0,"chunks_pruned":0,"rows_skipped":0,)J"
            R"J("elapsed_ms":0}},"links":{"query_url":"","graph_image_url":""}})J");
}

TEST(QueryResultToJson, SubSecondSeriesTimes) {
  query::QueryResult r;
  r.series = {{kNov26At19h * kSecond + 250'000'000, {}, {}}, {-kSecond, {}, {}}};
  std::string json = QueryResultToJson(r, "r", "", true);
  EXPECT_NE(json.find(R"J("time":"2026-11-26T19:00:00.25Z")J"), std::string::npos) << json;
  EXPECT_NE(json.find(R"J("time":"1969-12-31T23:59:59Z")J"), std::string::npos) << json;
}

TEST(QueryJson, ErrorsUseJsonError) {
  EXPECT_EQ(JsonError("limit: must be between 1 and 10000"),
            R"J({"error":"limit: must be between 1 and 10000"})J");
}

}  // namespace
}  // namespace waggle
