#include "query/internal/top_groups.h"

#include <gtest/gtest.h>

namespace waggle::query::internal {
namespace {

TEST(GroupExtremeThreshold, InactiveUntilKeepGroupsAreKnown) {
  GroupExtremeThreshold t(3);
  t.Offer(0, 5);
  t.Offer(0, 9);  // the same group twice is still one group
  t.Offer(1, 1);
  t.Settle();
  EXPECT_FALSE(t.active());
  EXPECT_TRUE(t.MayEnter(-100));
  t.Offer(2, 7);
  t.Settle();
  ASSERT_TRUE(t.active());
  EXPECT_EQ(t.threshold(), 1);  // groups' best: 9, 1, 7
  EXPECT_TRUE(t.MayEnter(1));   // ties may enter
  EXPECT_FALSE(t.MayEnter(0.5));
}

TEST(GroupExtremeThreshold, RisesWithBetterGroupsAndNeverPassesTheKeepthBest) {
  GroupExtremeThreshold t(2);
  t.Offer(0, 1);
  t.Offer(1, 2);
  t.Settle();
  EXPECT_EQ(t.threshold(), 1);
  t.Offer(2, 10);
  t.Offer(3, 8);
  t.Settle();
  EXPECT_EQ(t.threshold(), 8);
  // A dropped group comes back with a better key and counts once.
  t.Offer(0, 20);
  t.Offer(0, 30);
  t.Offer(4, 9);
  t.Settle();
  EXPECT_EQ(t.threshold(), 10);  // best: 30 (group 0), 10 (group 2)
}

}  // namespace
}  // namespace waggle::query::internal
