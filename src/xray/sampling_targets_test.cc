#include "xray/sampling_targets.h"

#include <gtest/gtest.h>

namespace waggle::xray {
namespace {

class SamplingTargetsTest : public ::testing::Test {
 protected:
  double now_ = 1'700'000'000;
  SamplingTargets targets_{[this] { return now_; }};
  RuleLookup lookup_ = [](std::string_view name) -> std::optional<RuleReservoir> {
    if (name == "Cruddur") return RuleReservoir{0.1, 5};
    if (name == "Default") return RuleReservoir{0.05, 1};
    return std::nullopt;
  };

  SamplingTargetDocument ReportOne(const std::string& client, int64_t requests,
                                   const std::string& rule = "Cruddur") {
    SamplingTargetsResult r =
        targets_.Report({SamplingStatisticsDocument{rule, client, now_, requests, 1, 0}}, lookup_);
    EXPECT_EQ(r.targets.size(), 1u);
    return r.targets.empty() ? SamplingTargetDocument{} : r.targets[0];
  }
};

TEST_F(SamplingTargetsTest, SingleClientGetsTheWholeReservoir) {
  SamplingTargetDocument t = ReportOne("a", 100);
  EXPECT_EQ(t.rule_name, "Cruddur");
  EXPECT_DOUBLE_EQ(t.fixed_rate, 0.1);
  EXPECT_EQ(t.reservoir_quota, 5);
  EXPECT_EQ(t.reservoir_quota_ttl, now_ + 300);
  EXPECT_EQ(t.interval, 10);
}

TEST_F(SamplingTargetsTest, ReservoirSplitsByRequestShareAndAddsUp) {
  ReportOne("a", 300);
  ReportOne("b", 100);
  ReportOne("c", 100);
  // Exact shares 3, 1, 1 of 5.
  EXPECT_EQ(ReportOne("a", 300).reservoir_quota, 3);
  EXPECT_EQ(ReportOne("b", 100).reservoir_quota, 1);
  EXPECT_EQ(ReportOne("c", 100).reservoir_quota, 1);
}

TEST_F(SamplingTargetsTest, LargestRemainderRoundingTiesByClientId) {
  // Three equal clients share 5: 1.67 each -> 2, 2, 1 (ties go to the smaller client id).
  ReportOne("a", 10);
  ReportOne("b", 10);
  ReportOne("c", 10);
  int64_t qa = ReportOne("a", 10).reservoir_quota;
  int64_t qb = ReportOne("b", 10).reservoir_quota;
  int64_t qc = ReportOne("c", 10).reservoir_quota;
  EXPECT_EQ(qa, 2);
  EXPECT_EQ(qb, 2);
  EXPECT_EQ(qc, 1);
  EXPECT_EQ(qa + qb + qc, 5);
}

TEST_F(SamplingTargetsTest, ManyClientsSomeGetZero) {
  for (int i = 0; i < 8; ++i) ReportOne("client" + std::to_string(i), 10);
  int64_t total = 0, zeros = 0;
  for (int i = 0; i < 8; ++i) {
    int64_t q = ReportOne("client" + std::to_string(i), 10).reservoir_quota;
    total += q;
    zeros += q == 0;
  }
  EXPECT_EQ(total, 5);
  EXPECT_EQ(zeros, 3);
}

TEST_F(SamplingTargetsTest, IdleClientsExpire) {
  ReportOne("a", 100);
  ReportOne("b", 100);
  now_ += kActiveClientSeconds + 1;  // a and b go quiet; only b comes back
  EXPECT_EQ(ReportOne("b", 100).reservoir_quota, 5);
}

TEST_F(SamplingTargetsTest, ZeroRequestsEverywhereSplitsEvenly) {
  ReportOne("a", 0);
  // 5 over 2 clients: 2 each, and the remaining 1 goes to the smaller client id.
  EXPECT_EQ(ReportOne("b", 0).reservoir_quota, 2);
  EXPECT_EQ(ReportOne("a", 0).reservoir_quota, 3);
}

TEST_F(SamplingTargetsTest, UnknownRulesAreUnprocessed) {
  SamplingTargetsResult r = targets_.Report(
      {SamplingStatisticsDocument{"Gone", "a", now_, 1, 1, 0},
       SamplingStatisticsDocument{"Default", "a", now_, 4, 1, 1}},
      lookup_);
  ASSERT_EQ(r.unprocessed.size(), 1u);
  EXPECT_EQ(r.unprocessed[0].rule_name, "Gone");
  EXPECT_EQ(r.unprocessed[0].error_code, "ResourceNotFoundException");
  ASSERT_EQ(r.targets.size(), 1u);
  EXPECT_EQ(r.targets[0].rule_name, "Default");
  EXPECT_EQ(r.targets[0].reservoir_quota, 1);
}

TEST_F(SamplingTargetsTest, StatisticsAreSummedOverTheWindow) {
  targets_.Report({SamplingStatisticsDocument{"Cruddur", "a", now_, 100, 15, 1},
                   SamplingStatisticsDocument{"Default", "a", now_, 4, 1, 1}},
                  lookup_);
  now_ += 10;
  targets_.Report({SamplingStatisticsDocument{"Cruddur", "b", now_, 50, 10, 0}}, lookup_);
  std::vector<SamplingStatisticSummary> s = targets_.Summaries();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].rule_name, "Cruddur");
  EXPECT_EQ(s[0].request_count, 150);
  EXPECT_EQ(s[0].sampled_count, 25);
  EXPECT_EQ(s[0].borrow_count, 1);
  EXPECT_EQ(s[0].timestamp, 1'700'000'000);  // the first bucket's start
  EXPECT_EQ(s[1].rule_name, "Default");
  EXPECT_EQ(s[1].request_count, 4);
  now_ += kSummaryWindowSeconds - 5;  // the first report's bucket leaves the window
  s = targets_.Summaries();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].request_count, 50);
  targets_.ForgetRule("Cruddur");
  EXPECT_TRUE(targets_.Summaries().empty());
}

}  // namespace
}  // namespace waggle::xray
