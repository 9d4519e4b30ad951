// ValueDistribution: one column's values counted on two sides (BubbleUp's selection and
// baseline), with bounded memory.
//
// Strings go to a value table holding at most kBubbleUpValueTableCapacity entries; when it is
// full it keeps the heavy hitters (the kBubbleUpKeptValues largest by selection count and as
// many by baseline count) and adds the dropped entries' counts to "other". Booleans have two
// fixed cells. Numbers go to a sparse fine histogram keyed by the top kFineBits bits of the
// double's order-preserving encoding (sign, exponent, 8 mantissa bits: every integer below 512
// has a cell of its own, wider values share cells 0.4% wide), each cell remembering the
// smallest and largest value it saw; Finish cuts the cells into ranges at quantiles of the
// union. Null and NaN count as "missing".
//
// Thread-safety: none; each worker owns its distributions and Merge folds them at the end.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "query/bubbleup.h"
#include "query/chunk.h"

namespace waggle::query::internal {

inline constexpr int kSelection = 0;
inline constexpr int kBaseline = 1;

class ValueDistribution {
 public:
  ValueDistribution() = default;

  // Counts col's value at rows[k] on side side[k] (kSelection or kBaseline).
  void Add(const ColumnView& col, const std::vector<uint32_t>& rows,
           const std::vector<uint8_t>& side);
  void Merge(ValueDistribution& other);

  // Estimated heap bytes held.
  size_t MemoryBytes() const;

  // The buckets with counts and fractions (over side_rows), every one of them, unordered.
  // Sets *approximate when some counts went to "other".
  std::vector<BubbleUpBucket> Finish(const std::array<uint64_t, 2>& side_rows,
                                     bool* approximate) const;

 private:
  using Counts = std::array<uint64_t, 2>;
  struct NumberCell {
    Counts counts{};
    double min = 0;
    double max = 0;
  };

  void AddString(std::string_view s, int side);
  void AddNumber(double v, int side);
  void PruneValues();
  void AppendRanges(const std::array<uint64_t, 2>& side_rows,
                    std::vector<BubbleUpBucket>* out) const;

  Counts missing_{};
  Counts other_{};
  std::array<Counts, 2> bools_{};  // [false, true]
  absl::node_hash_map<std::string, Counts> strings_;
  size_t string_bytes_ = 0;  // heap bytes of the keys of strings_
  absl::flat_hash_map<uint32_t, NumberCell> numbers_;
  bool pruned_ = false;
  // The last string looked up in the current Add call, to skip hashing runs of equal values.
  std::string_view last_view_;
  Counts* last_counts_ = nullptr;
};

// The cell of a number: the top bits of its order-preserving encoding (exposed for tests).
inline constexpr int kFineBits = 20;
uint32_t FineCell(double v);

}  // namespace waggle::query::internal
