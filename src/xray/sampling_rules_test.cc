#include "xray/sampling_rules.h"

#include <gtest/gtest.h>

namespace waggle::xray {
namespace {

// The seed's xray.json rule.
SamplingRule Cruddur() {
  SamplingRule r;
  r.rule_name = "Cruddur";
  r.priority = 9000;
  r.fixed_rate = 0.1;
  r.reservoir_size = 5;
  r.service_name = "backend-flask";
  return r;
}

SamplingRequest Request(std::string service, std::string type = "", std::string host = "",
                        std::string method = "", std::string path = "") {
  SamplingRequest r;
  r.service_name = std::move(service);
  r.service_type = std::move(type);
  r.host = std::move(host);
  r.http_method = std::move(method);
  r.url_path = std::move(path);
  return r;
}

TEST(GlobMatch, StarsAndQuestionMarks) {
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("*", "anything"));
  EXPECT_TRUE(GlobMatch("backend-*", "backend-flask"));
  EXPECT_TRUE(GlobMatch("*-flask", "backend-flask"));
  EXPECT_TRUE(GlobMatch("b?ck*k", "backend-flask"));
  EXPECT_TRUE(GlobMatch("/api/*/home", "/api/activities/home"));
  EXPECT_TRUE(GlobMatch("BACKEND-FLASK", "backend-flask"));  // case-insensitive
  EXPECT_FALSE(GlobMatch("?", ""));
  EXPECT_FALSE(GlobMatch("backend", "backend-flask"));
  EXPECT_FALSE(GlobMatch("*-node", "backend-flask"));
  EXPECT_FALSE(GlobMatch("a?c", "abbc"));
  EXPECT_TRUE(GlobMatch("a**b*c", "axxbyyc"));
  EXPECT_FALSE(GlobMatch("", "x"));
  EXPECT_TRUE(GlobMatch("", ""));
  // Pathological patterns stay fast (no exponential backtracking).
  EXPECT_FALSE(GlobMatch(std::string(30, '*') + "b", std::string(10000, 'a')));
}

TEST(ValidateSamplingRule, AcceptsSeedRule) { EXPECT_TRUE(ValidateSamplingRule(Cruddur()).ok()); }

TEST(ValidateSamplingRule, RejectsOutOfRangeFields) {
  auto bad = [](auto mutate) {
    SamplingRule r = Cruddur();
    mutate(r);
    Status s = ValidateSamplingRule(r);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    return std::string(s.message());
  };
  EXPECT_EQ(bad([](SamplingRule& r) { r.priority = 0; }), "Priority must be from 1 to 9999 (got 0)");
  EXPECT_EQ(bad([](SamplingRule& r) { r.priority = 10000; }),
            "Priority must be from 1 to 9999 (got 10000)");
  EXPECT_EQ(bad([](SamplingRule& r) { r.fixed_rate = 1.5; }), "FixedRate must be from 0 to 1 (got 1.5)");
  EXPECT_EQ(bad([](SamplingRule& r) { r.reservoir_size = -1; }).substr(0, 13), "ReservoirSize");
  EXPECT_EQ(bad([](SamplingRule& r) { r.version = 2; }), "Version must be 1 (got 2)");
  EXPECT_EQ(bad([](SamplingRule& r) { r.rule_name = std::string(33, 'x'); }),
            "RuleName must be 1 to 32 characters long (got 33)");
  EXPECT_EQ(bad([](SamplingRule& r) { r.rule_name = ""; }),
            "RuleName must be 1 to 32 characters long (got 0)");
  EXPECT_EQ(bad([](SamplingRule& r) { r.http_method = std::string(11, 'G'); }).substr(0, 10),
            "HTTPMethod");
  EXPECT_EQ(bad([](SamplingRule& r) { r.url_path = std::string(129, '/'); }).substr(0, 7), "URLPath");
  EXPECT_EQ(bad([](SamplingRule& r) {
              for (int i = 0; i < 6; ++i) r.attributes["k" + std::to_string(i)] = "v";
            }),
            "Attributes may hold at most 5 entries");
  SamplingRule ok = Cruddur();
  ok.fixed_rate = 1;
  ok.priority = 9999;
  ok.reservoir_size = 0;
  EXPECT_TRUE(ValidateSamplingRule(ok).ok());
}

TEST(SamplingRuleSet, DefaultRuleAlwaysExists) {
  SamplingRuleSet rules;
  std::vector<SamplingRuleRecord> list = rules.List();
  ASSERT_EQ(list.size(), 1u);
  const SamplingRule& d = list[0].rule;
  EXPECT_EQ(d.rule_name, "Default");
  EXPECT_EQ(d.rule_arn, "arn:aws:xray:us-east-1::sampling-rule/Default");
  EXPECT_EQ(d.priority, 10000);
  EXPECT_EQ(d.reservoir_size, 1);
  EXPECT_DOUBLE_EQ(d.fixed_rate, 0.05);
  EXPECT_EQ(d.service_type, "*");
  EXPECT_EQ(rules.Delete("Default", "", 1).status().code(), absl::StatusCode::kFailedPrecondition);
  SamplingRule again = Cruddur();
  again.rule_name = "Default";
  EXPECT_EQ(rules.Create(again, 1, "us-east-1").status().code(), absl::StatusCode::kAlreadyExists);
}

TEST(SamplingRuleSet, DefaultOnlyRateAndReservoirChange) {
  SamplingRuleSet rules;
  SamplingRuleUpdate u;
  u.rule_name = "Default";
  u.fixed_rate = 0.5;
  u.reservoir_size = 3;
  ASSERT_TRUE(rules.Update(u, 7).ok());
  EXPECT_DOUBLE_EQ(rules.Find("Default")->rule.fixed_rate, 0.5);
  EXPECT_EQ(rules.Find("Default")->rule.reservoir_size, 3);
  EXPECT_EQ(rules.last_modification(), 7);
  u.host = "example.com";
  EXPECT_EQ(rules.Update(u, 8).status().code(), absl::StatusCode::kFailedPrecondition);
  SamplingRuleUpdate by_arn;
  by_arn.rule_arn = "arn:aws:xray:us-east-1::sampling-rule/Default";
  by_arn.fixed_rate = 0.25;
  ASSERT_TRUE(rules.Update(by_arn, 9).ok());
  EXPECT_DOUBLE_EQ(rules.Find("Default")->rule.fixed_rate, 0.25);
}

TEST(SamplingRuleSet, CreateUpdateDelete) {
  SamplingRuleSet rules;
  StatusOr<SamplingRuleRecord> created = rules.Create(Cruddur(), 100, "eu-west-1");
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->rule.rule_arn, "arn:aws:xray:eu-west-1:000000000000:sampling-rule/Cruddur");
  EXPECT_EQ(created->created_at, 100);
  EXPECT_EQ(rules.Create(Cruddur(), 101, "eu-west-1").status().code(),
            absl::StatusCode::kAlreadyExists);

  SamplingRuleUpdate u;
  u.rule_name = "Cruddur";
  u.fixed_rate = 0.2;
  u.url_path = "/api/*";
  StatusOr<SamplingRuleRecord> updated = rules.Update(u, 150);
  ASSERT_TRUE(updated.ok());
  EXPECT_DOUBLE_EQ(updated->rule.fixed_rate, 0.2);
  EXPECT_EQ(updated->rule.url_path, "/api/*");
  EXPECT_EQ(updated->rule.service_name, "backend-flask");
  EXPECT_EQ(updated->created_at, 100);
  EXPECT_EQ(updated->modified_at, 150);
  u.priority = 0;
  EXPECT_EQ(rules.Update(u, 151).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(rules.Find("Cruddur")->rule.priority, 9000);  // a rejected update changes nothing

  SamplingRuleUpdate missing;
  missing.rule_name = "Nope";
  EXPECT_EQ(rules.Update(missing, 1).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(rules.Delete("", "", 1).status().code(), absl::StatusCode::kInvalidArgument);

  StatusOr<SamplingRuleRecord> deleted =
      rules.Delete("", "arn:aws:xray:eu-west-1:000000000000:sampling-rule/Cruddur", 200);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->rule.rule_name, "Cruddur");
  EXPECT_EQ(rules.Find("Cruddur"), nullptr);
  EXPECT_EQ(rules.last_modification(), 200);
}

TEST(SamplingRuleSet, RuleLimit) {
  SamplingRuleSet rules;
  for (size_t i = 1; i < kMaxSamplingRules; ++i) {
    SamplingRule r = Cruddur();
    r.rule_name = "r" + std::to_string(i);
    ASSERT_TRUE(rules.Create(r, 1, "us-east-1").ok());
  }
  SamplingRule one_more = Cruddur();
  EXPECT_EQ(rules.Create(one_more, 1, "us-east-1").status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(SamplingRuleSet, MatchesByPriorityThenName) {
  SamplingRuleSet rules;
  ASSERT_TRUE(rules.Create(Cruddur(), 1, "us-east-1").ok());
  SamplingRule api = Cruddur();
  api.rule_name = "Api";
  api.priority = 100;
  api.url_path = "/api/*";
  api.http_method = "GET";
  ASSERT_TRUE(rules.Create(api, 1, "us-east-1").ok());
  SamplingRule tie = api;
  tie.rule_name = "Aardvark";  // same priority, sorts first by name
  tie.host = "internal.*";
  ASSERT_TRUE(rules.Create(tie, 1, "us-east-1").ok());

  SamplingRequest req =
      Request("backend-flask", "AWS::EC2::Instance", "example.com", "GET", "/api/activities/home");
  EXPECT_EQ(rules.Match(req).rule.rule_name, "Api");
  req.host = "internal.example";
  EXPECT_EQ(rules.Match(req).rule.rule_name, "Aardvark");
  req.http_method = "post";  // Api wants GET
  EXPECT_EQ(rules.Match(req).rule.rule_name, "Cruddur");
  req.service_name = "frontend";
  EXPECT_EQ(rules.Match(req).rule.rule_name, "Default");
  // Empty request fields are not checked.
  EXPECT_EQ(rules.Match(Request("backend-flask")).rule.rule_name, "Aardvark");

  std::vector<SamplingRuleRecord> list = rules.List();
  ASSERT_EQ(list.size(), 4u);
  EXPECT_EQ(list[0].rule.rule_name, "Aardvark");
  EXPECT_EQ(list[1].rule.rule_name, "Api");
  EXPECT_EQ(list[2].rule.rule_name, "Cruddur");
  EXPECT_EQ(list[3].rule.rule_name, "Default");
}

TEST(SamplingRuleSet, AttributesMustBePresentAndMatch) {
  SamplingRule r = Cruddur();
  r.attributes["tier"] = "gold*";
  SamplingRequest req = Request("backend-flask");
  EXPECT_FALSE(RuleMatches(r, req));
  req.attributes["tier"] = "silver";
  EXPECT_FALSE(RuleMatches(r, req));
  req.attributes["tier"] = "Golden";
  EXPECT_TRUE(RuleMatches(r, req));
}

TEST(SamplingRuleSet, RestoreKeepsValidRulesAndAddsDefault) {
  SamplingRuleSet rules;
  SamplingRuleRecord good{Cruddur(), 5, 6};
  SamplingRuleRecord bad{Cruddur(), 5, 6};
  bad.rule.rule_name = "Bad";
  bad.rule.fixed_rate = 7;
  Status s = rules.Restore({good, bad}, 6);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(rules.Find("Cruddur"), nullptr);
  EXPECT_EQ(rules.Find("Bad"), nullptr);
  EXPECT_NE(rules.Find("Default"), nullptr);
  EXPECT_EQ(rules.last_modification(), 6);
}

}  // namespace
}  // namespace waggle::xray
