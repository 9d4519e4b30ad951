#include "api/xray_sampling_api.h"

#include <gtest/gtest.h>

#include "simdjson.h"

namespace waggle {
namespace {

// The seed's aws/json/xray.json, verbatim.
constexpr std::string_view kSeedRule = R"({
    "SamplingRule": {
        "RuleName": "Cruddur",
        "ResourceARN": "*",
        "Priority": 9000,
        "FixedRate": 0.1,
        "ReservoirSize": 5,
        "ServiceName": "backend-flask",
        "ServiceType": "*",
        "Host": "*",
        "HTTPMethod": "*",
        "URLPath": "*",
        "Version": 1
    }
  })";

HttpRequest Post(std::string path, std::string body = "{}") {
  HttpRequest r;
  r.method = "POST";
  r.path = std::move(path);
  r.body = std::move(body);
  return r;
}

class XraySamplingApiTest : public ::testing::Test {
 protected:
  HttpResponse Call(std::string path, std::string body = "{}", std::string authorization = "") {
    HttpRequest r = Post(std::move(path), std::move(body));
    if (!authorization.empty()) r.headers.emplace_back("authorization", authorization);
    std::optional<HttpResponse> response = api_->Handle(r);
    EXPECT_TRUE(response.has_value());
    return response ? *response : HttpResponse{};
  }
  simdjson::dom::element Json(const HttpResponse& r) {
    simdjson::dom::element e;
    EXPECT_EQ(parser_.parse(r.body).get(e), simdjson::SUCCESS) << r.body;
    return e;
  }
  static std::string ErrorType(const HttpResponse& r) {
    for (const auto& [k, v] : r.headers) {
      if (k == "x-amzn-ErrorType") return v;
    }
    return "";
  }

  std::unique_ptr<MemEnv> env_ = NewMemEnv();
  double now_ = 1'700'000'000;
  std::unique_ptr<XraySamplingApi> api_ = [this] {
    EXPECT_TRUE(env_->CreateDirs("/data").ok());
    return std::make_unique<XraySamplingApi>("/data/xray-state.json", env_.get(),
                                             [this] { return now_; });
  }();
  simdjson::dom::parser parser_;
};

TEST_F(XraySamplingApiTest, OwnsOnlyItsPaths) {
  EXPECT_TRUE(XraySamplingApi::Owns("/SamplingTargets"));
  EXPECT_TRUE(XraySamplingApi::Owns("/Groups"));
  EXPECT_FALSE(XraySamplingApi::Owns("/TraceSegments"));
  EXPECT_FALSE(api_->Handle(Post("/api/v1/traces")).has_value());
  HttpRequest get = Post("/GetSamplingRules");
  get.method = "GET";
  EXPECT_EQ(api_->Handle(get)->status, 405);
}

TEST_F(XraySamplingApiTest, CreateSeedRuleReturnsTheRecord) {
  HttpResponse r = Call("/CreateSamplingRule", std::string(kSeedRule),
                        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/eu-central-1/xray/"
                        "aws4_request, SignedHeaders=host;x-amz-date, Signature=abc");
  ASSERT_EQ(r.status, 200) << r.body;
  auto rule = Json(r)["SamplingRuleRecord"]["SamplingRule"];
  EXPECT_EQ(std::string_view(rule["RuleName"]), "Cruddur");
  EXPECT_EQ(std::string_view(rule["RuleARN"]),
            "arn:aws:xray:eu-central-1:000000000000:sampling-rule/Cruddur");
  EXPECT_EQ(int64_t(rule["Priority"]), 9000);
  EXPECT_DOUBLE_EQ(double(rule["FixedRate"]), 0.1);
  EXPECT_EQ(int64_t(rule["ReservoirSize"]), 5);
  EXPECT_EQ(std::string_view(rule["ServiceName"]), "backend-flask");
  EXPECT_EQ(std::string_view(rule["ResourceARN"]), "*");
  EXPECT_EQ(int64_t(rule["Version"]), 1);
  EXPECT_TRUE(rule["Attributes"].is_object());
  EXPECT_DOUBLE_EQ(double(Json(r)["SamplingRuleRecord"]["CreatedAt"]), now_);

  HttpResponse again = Call("/CreateSamplingRule", std::string(kSeedRule));
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(ErrorType(again), "InvalidRequestException");
  EXPECT_EQ(std::string_view(Json(again)["__type"]), "InvalidRequestException");
  EXPECT_EQ(std::string_view(Json(again)["message"]), "a sampling rule named Cruddur already exists");
}

TEST_F(XraySamplingApiTest, GetSamplingRulesListsInMatchingOrder) {
  ASSERT_EQ(Call("/CreateSamplingRule", std::string(kSeedRule)).status, 200);
  HttpResponse r = Call("/GetSamplingRules");
  ASSERT_EQ(r.status, 200);
  simdjson::dom::array records = Json(r)["SamplingRuleRecords"];
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(std::string_view(records.at(0)["SamplingRule"]["RuleName"]), "Cruddur");
  EXPECT_EQ(std::string_view(records.at(1)["SamplingRule"]["RuleName"]), "Default");
  EXPECT_EQ(std::string_view(records.at(1)["SamplingRule"]["ServiceType"]), "*");
  EXPECT_TRUE(Json(r)["NextToken"].error() == simdjson::NO_SUCH_FIELD);
}

TEST_F(XraySamplingApiTest, InvalidRulesNameTheField) {
  std::string bad(kSeedRule);
  bad.replace(bad.find("9000"), 4, "0");
  HttpResponse r = Call("/CreateSamplingRule", bad);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(std::string_view(Json(r)["message"]), "Priority must be from 1 to 9999 (got 0)");
  std::string missing(kSeedRule);
  missing.replace(missing.find("\"Host\": \"*\","), 12, "");
  EXPECT_EQ(std::string_view(Json(Call("/CreateSamplingRule", missing))["message"]),
            "SamplingRule.Host is required");
  EXPECT_EQ(std::string_view(Json(Call("/CreateSamplingRule", "{"))["message"]),
            "request body is not valid JSON");
  EXPECT_EQ(std::string_view(Json(Call("/CreateSamplingRule", "[]"))["message"]),
            "request body must be a JSON object");
  std::string typed(kSeedRule);
  typed.replace(typed.find("5,"), 1, "\"five\"");
  EXPECT_EQ(std::string_view(Json(Call("/CreateSamplingRule", typed))["message"]),
            "SamplingRule.ReservoirSize must be an integer");
}

TEST_F(XraySamplingApiTest, UpdateAndDeleteRules) {
  ASSERT_EQ(Call("/CreateSamplingRule", std::string(kSeedRule)).status, 200);
  now_ += 60;
  HttpResponse u = Call("/UpdateSamplingRule",
                        R"({"SamplingRuleUpdate":{"RuleName":"Cruddur","FixedRate":0.5}})");
  ASSERT_EQ(u.status, 200) << u.body;
  EXPECT_DOUBLE_EQ(double(Json(u)["SamplingRuleRecord"]["SamplingRule"]["FixedRate"]), 0.5);
  EXPECT_DOUBLE_EQ(double(Json(u)["SamplingRuleRecord"]["ModifiedAt"]), now_);
  HttpResponse d = Call("/UpdateSamplingRule",
                        R"({"SamplingRuleUpdate":{"RuleName":"Default","Priority":5}})");
  EXPECT_EQ(d.status, 400);
  EXPECT_EQ(std::string_view(Json(d)["message"]),
            "only FixedRate and ReservoirSize of the Default rule can be changed");
  HttpResponse del = Call("/DeleteSamplingRule", R"({"RuleName":"Cruddur"})");
  ASSERT_EQ(del.status, 200);
  EXPECT_EQ(std::string_view(Json(del)["SamplingRuleRecord"]["SamplingRule"]["RuleName"]), "Cruddur");
  EXPECT_EQ(Call("/DeleteSamplingRule", R"({"RuleName":"Cruddur"})").status, 400);
  EXPECT_EQ(std::string_view(Json(Call("/DeleteSamplingRule", R"({"RuleName":"Default"})"))["message"]),
            "the Default sampling rule cannot be deleted");
}

TEST_F(XraySamplingApiTest, RuleLimitIsItsOwnError) {
  for (int i = 0; i < 24; ++i) {
    std::string body(kSeedRule);
    body.replace(body.find("Cruddur"), 7, "r" + std::to_string(i));
    ASSERT_EQ(Call("/CreateSamplingRule", body).status, 200);
  }
  HttpResponse r = Call("/CreateSamplingRule", std::string(kSeedRule));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorType(r), "RuleLimitExceededException");
}

TEST_F(XraySamplingApiTest, SamplingTargetsAndSummaries) {
  ASSERT_EQ(Call("/CreateSamplingRule", std::string(kSeedRule)).status, 200);
  HttpResponse r = Call("/SamplingTargets", R"({"SamplingStatisticsDocuments":[
      {"RuleName":"Cruddur","ClientID":"0123456789abcdef01234567","Timestamp":1700000000,
       "RequestCount":40,"SampledCount":9,"BorrowCount":1},
      {"RuleName":"Gone","ClientID":"0123456789abcdef01234567","Timestamp":1700000000,
       "RequestCount":1,"SampledCount":1}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto doc = Json(r);
  simdjson::dom::array targets = doc["SamplingTargetDocuments"];
  ASSERT_EQ(targets.size(), 1u);
  EXPECT_EQ(std::string_view(targets.at(0)["RuleName"]), "Cruddur");
  EXPECT_DOUBLE_EQ(double(targets.at(0)["FixedRate"]), 0.1);
  EXPECT_EQ(int64_t(targets.at(0)["ReservoirQuota"]), 5);
  EXPECT_DOUBLE_EQ(double(targets.at(0)["ReservoirQuotaTTL"]), now_ + 300);
  EXPECT_EQ(int64_t(targets.at(0)["Interval"]), 10);
  EXPECT_DOUBLE_EQ(double(doc["LastRuleModification"]), now_);
  simdjson::dom::array unprocessed = doc["UnprocessedStatistics"];
  ASSERT_EQ(unprocessed.size(), 1u);
  EXPECT_EQ(std::string_view(unprocessed.at(0)["RuleName"]), "Gone");

  HttpResponse s = Call("/SamplingStatisticSummaries");
  ASSERT_EQ(s.status, 200);
  simdjson::dom::array summaries = Json(s)["SamplingStatisticSummaries"];
  ASSERT_EQ(summaries.size(), 1u);
  EXPECT_EQ(std::string_view(summaries.at(0)["RuleName"]), "Cruddur");
  EXPECT_EQ(int64_t(summaries.at(0)["RequestCount"]), 40);
  EXPECT_EQ(int64_t(summaries.at(0)["SampledCount"]), 9);
  EXPECT_EQ(int64_t(summaries.at(0)["BorrowCount"]), 1);

  EXPECT_EQ(std::string_view(Json(Call("/SamplingTargets", R"({"SamplingStatisticsDocuments":[
      {"RuleName":"Cruddur","ClientID":"short","Timestamp":1,"RequestCount":1,"SampledCount":1}]})"))
                                 ["message"]),
            "SamplingStatisticsDocuments[].ClientID must be 24 characters long");
  EXPECT_EQ(Call("/SamplingTargets", "{}").status, 400);
}

TEST_F(XraySamplingApiTest, GroupsLifecycle) {
  HttpResponse c = Call("/CreateGroup",
                        R"j({"GroupName":"Cruddur","FilterExpression":"service(\"backend-flask\")"})j");
  ASSERT_EQ(c.status, 200) << c.body;
  auto group = Json(c)["Group"];
  EXPECT_EQ(std::string_view(group["GroupName"]), "Cruddur");
  EXPECT_EQ(std::string_view(group["FilterExpression"]), "service(\"backend-flask\")");
  std::string arn{std::string_view(group["GroupARN"])};
  EXPECT_EQ(arn.rfind("arn:aws:xray:us-east-1:000000000000:group/Cruddur/", 0), 0u);

  HttpResponse bad = Call("/CreateGroup", R"j({"GroupName":"Bad","FilterExpression":"service(\"x\""})j");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(std::string_view(Json(bad)["message"]),
            "invalid FilterExpression: expected ')' at 11, found end of expression");

  HttpResponse g = Call("/GetGroup", R"({"GroupARN":")" + arn + R"("})");
  ASSERT_EQ(g.status, 200);
  EXPECT_EQ(std::string_view(Json(g)["Group"]["GroupName"]), "Cruddur");

  HttpResponse u = Call("/UpdateGroup", R"({"GroupName":"Cruddur","FilterExpression":"fault",
      "InsightsConfiguration":{"InsightsEnabled":true,"NotificationsEnabled":false}})");
  ASSERT_EQ(u.status, 200) << u.body;
  EXPECT_EQ(std::string_view(Json(u)["Group"]["FilterExpression"]), "fault");
  EXPECT_TRUE(bool(Json(u)["Group"]["InsightsConfiguration"]["InsightsEnabled"]));

  simdjson::dom::array groups = Json(Call("/Groups"))["Groups"];
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(Call("/DeleteGroup", R"({"GroupName":"Cruddur"})").body, "{}");
  EXPECT_EQ(Call("/GetGroup", R"({"GroupName":"Cruddur"})").status, 400);
}

TEST_F(XraySamplingApiTest, StateSurvivesARestart) {
  ASSERT_EQ(Call("/CreateSamplingRule", std::string(kSeedRule)).status, 200);
  ASSERT_EQ(Call("/CreateGroup", R"({"GroupName":"Cruddur","FilterExpression":"ok"})").status, 200);
  ASSERT_EQ(Call("/UpdateSamplingRule",
                 R"({"SamplingRuleUpdate":{"RuleName":"Default","ReservoirSize":7}})").status,
            200);
  api_ = std::make_unique<XraySamplingApi>("/data/xray-state.json", env_.get(),
                                           [this] { return now_; });
  simdjson::dom::array records = Json(Call("/GetSamplingRules"))["SamplingRuleRecords"];
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(std::string_view(records.at(0)["SamplingRule"]["RuleName"]), "Cruddur");
  EXPECT_DOUBLE_EQ(double(records.at(0)["CreatedAt"]), now_);
  EXPECT_EQ(int64_t(records.at(1)["SamplingRule"]["ReservoirSize"]), 7);
  EXPECT_EQ(std::string_view(Json(Call("/GetGroup", R"({"GroupName":"Cruddur"})"))["Group"]
                                 ["FilterExpression"]),
            "ok");
  xray::TraceFacts fault_free;
  fault_free.ok = true;
  EXPECT_TRUE(xray::FilterExpression::Parse("group.name = \"Cruddur\"")
                  ->Matches(fault_free, api_->GroupResolver()));
}

TEST_F(XraySamplingApiTest, AnUnreadableStateFileIsSetAside) {
  ASSERT_TRUE(env_->WriteFileAtomic("/data/xray-state.json", "{not json").ok());
  api_ = std::make_unique<XraySamplingApi>("/data/xray-state.json", env_.get(),
                                           [this] { return now_; });
  EXPECT_TRUE(env_->FileExists("/data/xray-state.json.unreadable"));
  simdjson::dom::array records = Json(Call("/GetSamplingRules"))["SamplingRuleRecords"];
  EXPECT_EQ(records.size(), 1u);  // Default only
}

}  // namespace
}  // namespace waggle
