#include "api/bubbleup_json.h"

#include <gtest/gtest.h>

#include "simdjson.h"

namespace waggle {
namespace {

using query::BubbleUpSelection;
using query::FilterOp;
using query::Value;

std::string ErrorOf(std::string_view body) {
  auto r = ParseBubbleUpJson(body);
  EXPECT_FALSE(r.ok()) << body;
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << body;
  return std::string(r.status().message());
}

TEST(BubbleUpJson, ParsesARegionSelection) {
  auto r = ParseBubbleUpJson(R"({"dataset": "api",
      "query": {"time_range": 600, "filters": [{"column": "name", "op": "=", "value": "GET /"}]},
      "selection": {"duration_ms": [500, 2000.5], "start_time": 1700000000,
                    "end_time": 1700000060.5},
      "columns": ["app.region", "status_code"], "limit": 5})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->dataset, "api");
  EXPECT_EQ(r->spec.time_range, 600);
  ASSERT_EQ(r->spec.filters.size(), 1u);
  EXPECT_EQ(r->spec.filters[0].values[0], Value::String("GET /"));
  EXPECT_EQ(r->selection.kind, BubbleUpSelection::Kind::kRegion);
  EXPECT_EQ(r->selection.column, "duration_ms");
  EXPECT_EQ(r->selection.lo, 500);
  EXPECT_EQ(r->selection.hi, 2000.5);
  EXPECT_EQ(r->selection.start_ns, int64_t{1'700'000'000} * 1'000'000'000);
  EXPECT_EQ(r->selection.end_ns, int64_t{1'700'000'060} * 1'000'000'000 + 500'000'000);
  EXPECT_EQ(r->columns, (std::vector<std::string>{"app.region", "status_code"}));
  EXPECT_EQ(r->limit, 5u);
}

TEST(BubbleUpJson, ParsesAFilterSelectionWithDefaults) {
  auto r = ParseBubbleUpJson(R"({"selection": {"filters": [
      {"column": "http.status_code", "op": ">=", "value": 500},
      {"column": "error", "op": "exists"}], "filter_combination": "OR"}})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->dataset, "__all__");
  EXPECT_EQ(r->selection.kind, BubbleUpSelection::Kind::kFilters);
  ASSERT_EQ(r->selection.filters.size(), 2u);
  EXPECT_EQ(r->selection.filters[0].op, FilterOp::kGe);
  EXPECT_EQ(r->selection.filters[1].op, FilterOp::kExists);
  EXPECT_EQ(r->selection.filter_combination, query::FilterCombination::kOr);
  EXPECT_TRUE(r->columns.empty());
  EXPECT_EQ(r->limit, query::kBubbleUpDefaultLimit);
  EXPECT_EQ(r->spec, query::QuerySpec{});
}

TEST(BubbleUpJson, BadFieldsAreNamed) {
  EXPECT_EQ(ErrorOf("[1]"), "body: expected a JSON object");
  EXPECT_EQ(ErrorOf("{}"), "selection: required");
  EXPECT_EQ(ErrorOf(R"({"selection": {}})").substr(0, 10), "selection:");
  EXPECT_EQ(ErrorOf(R"({"selection": {"duration_ms": [5, 1]}})"),
            "selection.duration_ms: lo must not exceed hi");
  EXPECT_EQ(ErrorOf(R"({"selection": {"duration_ms": [5]}})"),
            "selection.duration_ms: expected [lo, hi]");
  EXPECT_EQ(ErrorOf(R"({"selection": {"duration_ms": [1, "x"]}})"),
            "selection.duration_ms[1]: expected a number");
  EXPECT_EQ(ErrorOf(R"({"selection": {"duration_ms": [1, 2], "size": [1, 2]}})").substr(0, 15),
            "selection.size:");
  EXPECT_EQ(ErrorOf(R"({"selection": {"duration_ms": [1, 2], "start_time": "now"}})"),
            "selection.start_time: expected epoch seconds (a number)");
  EXPECT_EQ(ErrorOf(R"({"selection": {"duration_ms": [1, 2], "start_time": 20, "end_time": 10}})"),
            "selection.end_time: must be after start_time");
  EXPECT_EQ(ErrorOf(R"({"selection": {"filters": [{"column": "a", "op": "~", "value": 1}]}})"),
            "selection.filters[0].op: unknown operator \"~\"");
  EXPECT_EQ(ErrorOf(R"({"selection": {"filters": []}})"), "selection.filters: required");
  EXPECT_EQ(ErrorOf(R"({"selection": {"filters": [{"column": "a", "op": "exists"}],
                         "duration_ms": [1, 2]}})").substr(0, 10), "selection:");
  EXPECT_EQ(ErrorOf(R"({"selection": {"duration_ms": [1, 2]}, "query": {"time_range": "x"}})"),
            "query.time_range: expected an integer");
  EXPECT_EQ(ErrorOf(R"({"selection": {"duration_ms": [1, 2]}, "query": [1]})"),
            "query: expected a query spec object");
  EXPECT_EQ(ErrorOf(R"({"selection": {"duration_ms": [1, 2]}, "columns": ["a", 3]})"),
            "columns[1]: expected a column name");
  EXPECT_EQ(ErrorOf(R"({"selection": {"duration_ms": [1, 2]}, "limit": 0})"),
            "limit: expected an integer from 1 to 1000");
  EXPECT_EQ(ErrorOf(R"({"selection": {"duration_ms": [1, 2]}, "dataset": ""})"),
            "dataset: expected a service name or \"__all__\"");
  EXPECT_EQ(ErrorOf(R"({"selection": {"duration_ms": [1, 2]}, "colums": []})"),
            "colums: unknown field");
  EXPECT_EQ(ErrorOf(R"({"selection": {"duration_ms": [1, 2], "start_time": 1, "start_time": 2}})"),
            "selection.start_time: given twice");
  EXPECT_EQ(ErrorOf(R"({"limit": 1, "limit": 2, "selection": {"duration_ms": [1, 2]}})"),
            "limit: given twice");
}

TEST(BubbleUpJson, ResultShape) {
  query::BubbleUpResult result;
  result.selection_rows = 20;
  result.baseline_rows = 80;
  query::BubbleUpColumn col;
  col.column = "app.region";
  col.score = 0.8;
  query::BubbleUpBucket value;
  value.value = Value::String("eu-west");
  value.selection_count = 18;
  value.selection_fraction = 0.9;
  value.baseline_count = 8;
  value.baseline_fraction = 0.1;
  query::BubbleUpBucket range;
  range.kind = query::BubbleUpBucket::Kind::kRange;
  range.lo = 1;
  range.hi = 2.5;
  query::BubbleUpBucket missing;
  missing.kind = query::BubbleUpBucket::Kind::kMissing;
  col.buckets = {value, range, missing};
  result.columns.push_back(col);
  std::string json = BubbleUpResultToJson(result);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  EXPECT_EQ(uint64_t(doc["selection"]["rows"]), 20u);
  EXPECT_EQ(uint64_t(doc["baseline"]["rows"]), 80u);
  auto c = doc["columns"].at(0);
  EXPECT_EQ(std::string_view(c["column"]), "app.region");
  EXPECT_DOUBLE_EQ(double(c["score"]), 0.8);
  EXPECT_EQ(std::string_view(c["buckets"].at(0)["value"]), "eu-west");
  EXPECT_EQ(uint64_t(c["buckets"].at(0)["selection"]["count"]), 18u);
  EXPECT_DOUBLE_EQ(double(c["buckets"].at(0)["baseline"]["fraction"]), 0.1);
  EXPECT_NEAR(double(c["buckets"].at(0)["difference"]), 0.8, 1e-12);
  EXPECT_DOUBLE_EQ(double(c["buckets"].at(1)["range"].at(1)), 2.5);
  EXPECT_TRUE(bool(c["buckets"].at(2)["missing"]));
}

}  // namespace
}  // namespace waggle
