// Exact order statistics: the values a full ascending sort of n doubles would put at a few
// wanted positions, without sorting.
//
// Large inputs take a radix route: doubles map to unsigned keys in the same order, one pass
// finds the key range, one counts keys into at most 2^14 equal-width buckets of it, one copies
// out only the values of the buckets that hold a wanted position, and a selection within each
// of those small parts finishes. That is three sequential passes over the data instead of the
// random accesses of a selection over all of it, and the values are read where they are
// (runs of a value store), never gathered. Small inputs are copied and selected.
//
// Thread-safety: RankSelector holds scratch memory; one instance per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace waggle::query::internal {

class RankSelector {
 public:
  // A run of values: n doubles at data.
  struct Part {
    const double* data;
    size_t n;
  };

  // out[i] = the value at 0-based position positions[i] (< n, any order, repeats allowed) of
  // the n >= 1 values of `parts` (read only) sorted ascending. No value may be NaN. Equal keys
  // mean equal values, except that -0.0 sorts before +0.0.
  void Select(std::span<const Part> parts, size_t n, const size_t* positions, size_t count,
              double* out);

 private:
  void SelectSmall(std::span<const Part> parts, size_t n, const size_t* positions, size_t count,
                   double* out);
  void SelectByBuckets(std::span<const Part> parts, const size_t* positions, size_t count,
                       double* out);

  std::vector<uint32_t> counts_;
  std::vector<size_t> sorted_;
  std::vector<double> values_;  // the small route's copy, or the wanted buckets' values
};

}  // namespace waggle::query::internal
