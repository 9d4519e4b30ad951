#include "xray/internal/recent_segments.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

namespace waggle::xray_internal {
namespace {

RecentSegments::Key RandomKey(std::mt19937_64 &rng) {
  RecentSegments::Key key;
  for (size_t i = 0; i < key.first.size(); i += 8) {
    const uint64_t v = rng();
    std::memcpy(key.first.data() + i, &v, 8);
  }
  const uint64_t v = rng();
  std::memcpy(key.second.data(), &v, 8);
  return key;
}

TEST(RecentSegments, RemembersServiceAndStickyCompletion) {
  RecentSegments recent(100);
  std::mt19937_64 rng(1);
  const RecentSegments::Key a = RandomKey(rng), b = RandomKey(rng);
  EXPECT_EQ(recent.Find(a), nullptr);
  recent.Record(a, "backend-flask", /*completed=*/true);
  recent.Record(a, "", /*completed=*/false); // empty service and false keep what is known
  ASSERT_NE(recent.Find(a), nullptr);
  EXPECT_EQ(recent.Find(a)->service, "backend-flask");
  EXPECT_TRUE(recent.Find(a)->completed);
  recent.Record(b, "", false);
  ASSERT_NE(recent.Find(b), nullptr);
  EXPECT_EQ(recent.Find(b)->service, "");
  EXPECT_FALSE(recent.Find(b)->completed);
  // Same trace, other span id: another key.
  RecentSegments::Key a2 = a;
  a2.second[0] ^= 1;
  EXPECT_EQ(recent.Find(a2), nullptr);
}

TEST(RecentSegments, SmallCapacityIsExactlyFifo) {
  RecentSegments recent(3);
  std::mt19937_64 rng(2);
  std::vector<RecentSegments::Key> keys;
  for (int i = 0; i < 5; ++i) keys.push_back(RandomKey(rng));
  for (int i = 0; i < 3; ++i) recent.Record(keys[i], "s", false);
  recent.Record(keys[0], "t", false); // an update does not refresh keys[0]
  recent.Record(keys[3], "s", false); // forgets keys[0], the first recorded
  EXPECT_EQ(recent.Find(keys[0]), nullptr);
  EXPECT_NE(recent.Find(keys[1]), nullptr);
  recent.Record(keys[4], "s", false);
  EXPECT_EQ(recent.Find(keys[1]), nullptr);
  EXPECT_NE(recent.Find(keys[2]), nullptr);
  EXPECT_NE(recent.Find(keys[3]), nullptr);
  EXPECT_NE(recent.Find(keys[4]), nullptr);
  EXPECT_EQ(RecentSegments(0).Find(keys[0]), nullptr);
}

TEST(RecentSegments, KeepsAboutTheLastCapacityIdsAndForgetsOlderOnes) {
  constexpr size_t kCapacity = 10'000;
  RecentSegments recent(kCapacity);
  std::mt19937_64 rng(3);
  std::vector<RecentSegments::Key> keys;
  for (size_t i = 0; i < 12 * kCapacity; ++i) {
    keys.push_back(RandomKey(rng));
    recent.Record(keys.back(), "s", false);
  }
  size_t last_found = 0, old_found = 0;
  for (size_t i = keys.size() - kCapacity / 10; i < keys.size(); ++i) {
    last_found += recent.Find(keys[i]) != nullptr;
  }
  for (size_t i = 0; i < 2 * kCapacity; ++i) old_found += recent.Find(keys[i]) != nullptr;
  EXPECT_GE(last_found, kCapacity / 10 * 99 / 100); // nearly all of the last capacity/10
  EXPECT_LT(old_found, 2 * kCapacity / 100);        // under 1% of ids 10+ capacities old
}

} // namespace
} // namespace waggle::xray_internal
