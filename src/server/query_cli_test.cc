#include "server/query_cli.h"

#include <gtest/gtest.h>

namespace waggle {
namespace {

TEST(QueryCli, ShorthandFlagsBecomeASpec) {
  QueryCommandOptions o;
  o.calcs = {"COUNT", "P99(duration_ms)"};
  o.breakdowns = {"name"};
  o.filters = {"http.status_code >= 500", "service.name in backend-flask, db", "error exists"};
  o.orders = {"P99(duration_ms) desc"};
  o.limit = 5;
  o.time_range = "2h";
  StatusOr<std::string> json = BuildQuerySpecJson(o, "");
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_NE(json->find("\"P99\""), std::string::npos) << *json;
  EXPECT_NE(json->find("\"duration_ms\""), std::string::npos);
  EXPECT_NE(json->find("500"), std::string::npos);
  EXPECT_EQ(json->find("\"500\""), std::string::npos) << "500 must stay a number: " << *json;
  EXPECT_NE(json->find("\"backend-flask\""), std::string::npos);
  EXPECT_NE(json->find("7200"), std::string::npos);
  EXPECT_NE(json->find("\"descending\""), std::string::npos);
}

TEST(QueryCli, FlagsExtendAJsonSpec) {
  QueryCommandOptions o;
  o.breakdowns = {"service.name"};
  StatusOr<std::string> json =
      BuildQuerySpecJson(o, R"({"calculations":[{"op":"COUNT"}],"breakdowns":["name"]})");
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_NE(json->find("\"name\""), std::string::npos);
  EXPECT_NE(json->find("\"service.name\""), std::string::npos);
}

TEST(QueryCli, BadShorthandIsAClearError) {
  QueryCommandOptions o;
  o.calcs = {"P98(duration_ms)"};
  EXPECT_EQ(BuildQuerySpecJson(o, "").status().code(), absl::StatusCode::kInvalidArgument);
  o.calcs.clear();
  o.filters = {"duration_ms ~ 5"};
  StatusOr<std::string> bad = BuildQuerySpecJson(o, "");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unknown op"), std::string_view::npos);
  o.filters.clear();
  o.time_range = "soon";
  EXPECT_FALSE(BuildQuerySpecJson(o, "").ok());
}

TEST(QueryCli, RendersResultsAsATable) {
  std::string result = R"json({"id":"x","complete":true,"data":{"series":[],"results":[
    {"data":{"name":"GET /a","COUNT":12,"P99(duration_ms)":35.25,
             "HEATMAP(duration_ms)":{"lo":0,"hi":10,"counts":[0,1,8]}}},
    {"data":{"name":null,"COUNT":3}}]}})json";
  StatusOr<std::string> table =
      RenderQueryTable(result, {"name"}, {"COUNT", "P99(duration_ms)", "HEATMAP(duration_ms)"});
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_NE(table->find("GET /a  12     35.2500"), std::string::npos) << *table;
  EXPECT_NE(table->find("0  ▁█ 10"), std::string::npos) << *table;  // a zero bucket is blank
  EXPECT_NE(table->find("2 groups"), std::string::npos);
  EXPECT_FALSE(RenderQueryTable("{}", {}, {"COUNT"}).ok());
}

}  // namespace
}  // namespace waggle
