#include "xray/groups.h"

#include <gtest/gtest.h>

namespace waggle::xray {
namespace {

TEST(GroupSet, SeedCruddurGroup) {
  GroupSet groups;
  StatusOr<Group> g = groups.Create("Cruddur", "service(\"backend-flask\")", std::nullopt,
                                    "us-east-1");
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->name, "Cruddur");
  EXPECT_EQ(g->arn.rfind("arn:aws:xray:us-east-1:000000000000:group/Cruddur/", 0), 0u) << g->arn;
  EXPECT_EQ(g->arn.size(), std::string("arn:aws:xray:us-east-1:000000000000:group/Cruddur/").size() + 26);
  TraceFacts trace;
  trace.services.push_back(ServiceFacts{});
  trace.services[0].name = "backend-flask";
  EXPECT_TRUE(g->expression->Matches(trace));
  StatusOr<Group> by_arn = groups.Get("", g->arn);
  ASSERT_TRUE(by_arn.ok());
  EXPECT_EQ(by_arn->name, "Cruddur");
  EXPECT_TRUE(FilterExpression::Parse("group.name = \"Cruddur\"")->Matches(trace, groups.Resolver()));
  EXPECT_TRUE(FilterExpression::Parse("group.arn = \"" + g->arn + "\"")->Matches(trace, groups.Resolver()));
}

TEST(GroupSet, Errors) {
  GroupSet groups;
  EXPECT_EQ(groups.Create("Default", "", std::nullopt, "us-east-1").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(groups.Create(std::string(33, 'g'), "", std::nullopt, "us-east-1").status().code(),
            absl::StatusCode::kInvalidArgument);
  StatusOr<Group> bad = groups.Create("G", "service(\"x\"", std::nullopt, "us-east-1");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(),
            "invalid FilterExpression: expected ')' at 11, found end of expression");
  ASSERT_TRUE(groups.Create("G", "", std::nullopt, "us-east-1").ok());
  EXPECT_EQ(groups.Create("G", "", std::nullopt, "us-east-1").status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(groups.Get("H", "").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(groups.Get("", "").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(groups.Delete("H", "").code(), absl::StatusCode::kNotFound);
}

TEST(GroupSet, UpdateAndDelete) {
  GroupSet groups;
  ASSERT_TRUE(groups.Create("G", "ok", InsightsConfiguration{true, false}, "us-east-1").ok());
  EXPECT_EQ(groups.Update("G", "", "fault = ", std::nullopt).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(groups.Get("G", "")->filter_expression, "ok");  // unchanged after a failed update
  StatusOr<Group> u = groups.Update("G", "", "fault", std::nullopt);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->filter_expression, "fault");
  EXPECT_EQ(u->insights->insights_enabled, true);  // kept
  u = groups.Update("G", "", std::nullopt, InsightsConfiguration{false, std::nullopt});
  EXPECT_EQ(u->insights->insights_enabled, false);
  EXPECT_EQ(groups.List().size(), 1u);
  ASSERT_TRUE(groups.Delete("G", "").ok());
  EXPECT_TRUE(groups.List().empty());
}

TEST(GroupSet, LimitAndRestore) {
  GroupSet groups;
  for (size_t i = 0; i < kMaxGroups; ++i) {
    ASSERT_TRUE(groups.Create("g" + std::to_string(i), "", std::nullopt, "us-east-1").ok());
  }
  EXPECT_EQ(groups.Create("one-more", "", std::nullopt, "us-east-1").status().code(),
            absl::StatusCode::kResourceExhausted);
  Group good{"a", "arn:a", "ok", std::nullopt, nullptr};
  Group bad{"b", "arn:b", "ok AND", std::nullopt, nullptr};
  EXPECT_FALSE(groups.Restore({good, bad}).ok());
  ASSERT_EQ(groups.List().size(), 1u);
  EXPECT_NE(groups.List()[0].expression, nullptr);
}

}  // namespace
}  // namespace waggle::xray
