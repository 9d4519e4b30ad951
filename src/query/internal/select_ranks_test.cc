#include "query/internal/select_ranks.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace waggle::query::internal {
namespace {

// Every position of `values` (or a sample of them) against a full sort.
void ExpectSortedPositions(std::vector<double> values, std::vector<size_t> positions) {
  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  std::vector<double> out(positions.size());
  // The values as uneven parts, as a value store keeps them.
  std::vector<RankSelector::Part> parts;
  for (size_t at = 0, len = 1; at < values.size(); at += len, len = len * 3 + 1) {
    parts.push_back({values.data() + at, std::min(len, values.size() - at)});
  }
  RankSelector selector;
  selector.Select(parts, values.size(), positions.data(), positions.size(), out.data());
  for (size_t i = 0; i < positions.size(); ++i) {
    // -0.0 and +0.0 compare equal; every other value must be the sorted one exactly.
    EXPECT_EQ(out[i], sorted[positions[i]]) << "position " << positions[i] << " of " << values.size();
  }
}

std::vector<size_t> PercentilePositions(size_t n) {
  std::vector<size_t> p;
  for (double q : {0.999, 0.5, 0.0, 0.95, 0.99, 0.001, 0.5, 1.0}) {
    p.push_back(std::min(n - 1, static_cast<size_t>(q * static_cast<double>(n))));
  }
  return p;  // unsorted, with a repeat, both ends
}

TEST(RankSelector, LogNormalDurationsLargeAndSmall) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> duration(3.0, 1.2);
  for (size_t n : {1u, 2u, 1000u, 40'000u, 300'000u}) {
    std::vector<double> v(n);
    for (double& x : v) x = duration(rng);
    ExpectSortedPositions(v, PercentilePositions(n));
  }
}

TEST(RankSelector, NegativesZerosInfinitiesAndHugeRange) {
  std::mt19937_64 rng(11);
  std::vector<double> v;
  for (int i = 0; i < 50'000; ++i) {
    switch (rng() % 8) {
      case 0: v.push_back(-std::ldexp(1.0, static_cast<int>(rng() % 2000) - 1000)); break;
      case 1: v.push_back(0.0); break;
      case 2: v.push_back(std::numeric_limits<double>::infinity()); break;
      case 3: v.push_back(-std::numeric_limits<double>::infinity()); break;
      case 4: v.push_back(std::numeric_limits<double>::denorm_min()); break;
      default: v.push_back(std::ldexp(static_cast<double>(rng() % 1000), static_cast<int>(rng() % 600) - 300));
    }
  }
  std::vector<size_t> all;
  for (size_t i = 0; i < v.size(); i += 97) all.push_back(i);
  all.push_back(v.size() - 1);
  ExpectSortedPositions(v, all);
}

// Buckets that hold most of the data (many repeats, one outlier stretching the key range).
TEST(RankSelector, ConcentratedValuesAndAllEqual) {
  std::vector<double> v(100'000, 5.0);
  ExpectSortedPositions(v, PercentilePositions(v.size()));
  for (size_t i = 0; i < v.size(); i += 3) v[i] = 5.0 + static_cast<double>(i % 7) * 1e-9;
  v[12345] = 1e300;
  ExpectSortedPositions(v, PercentilePositions(v.size()));
}

}  // namespace
}  // namespace waggle::query::internal
