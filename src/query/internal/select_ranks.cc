#include "query/internal/select_ranks.h"

#include <algorithm>
#include <cstring>

namespace waggle::query::internal {
namespace {

constexpr size_t kRadixMinValues = size_t{1} << 15;  // below: an in-place selection is as fast
constexpr uint64_t kMaxBuckets = uint64_t{1} << 14;  // the counts stay in L1/L2

// An unsigned key with the order of the doubles (negative ones flipped entirely, positive
// ones with the sign bit set).
inline uint64_t OrderedKey(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return (bits >> 63) ? ~bits : bits | (uint64_t{1} << 63);
}

// Reorders data[lo, hi) so that data[i] is the value a full sort would put at i, for every i in
// the ascending range [first, last) (all within [lo, hi); repeats allowed). Selects the wanted
// index nearest the middle first, then the indices on either side within the part of the data
// on that side only, so each further selection runs over a shrinking part of the data.
void SelectIndices(double* data, size_t lo, size_t hi, const size_t* first, const size_t* last) {
  if (first == last) return;
  const size_t middle = lo + (hi - lo) / 2;
  const size_t* pick = std::lower_bound(first, last, middle);
  if (pick == last || (pick != first && middle - pick[-1] < *pick - middle)) --pick;
  const size_t index = *pick;
  std::nth_element(data + lo, data + index, data + hi);
  SelectIndices(data, lo, index, first, std::lower_bound(first, last, index));
  SelectIndices(data, index + 1, hi, std::upper_bound(first, last, index), last);
}

}  // namespace

void RankSelector::Select(std::span<const Part> parts, size_t n, const size_t* positions,
                          size_t count, double* out) {
  if (count == 0) return;
  if (n < kRadixMinValues) {
    SelectSmall(parts, n, positions, count, out);
  } else {
    SelectByBuckets(parts, positions, count, out);
  }
}

void RankSelector::SelectSmall(std::span<const Part> parts, size_t n, const size_t* positions,
                               size_t count, double* out) {
  values_.clear();
  values_.reserve(n);
  for (const Part& p : parts) values_.insert(values_.end(), p.data, p.data + p.n);
  sorted_.assign(positions, positions + count);
  std::sort(sorted_.begin(), sorted_.end());
  SelectIndices(values_.data(), 0, values_.size(), sorted_.data(), sorted_.data() + sorted_.size());
  for (size_t i = 0; i < count; ++i) out[i] = values_[positions[i]];
}

void RankSelector::SelectByBuckets(std::span<const Part> parts, const size_t* positions,
                                   size_t count, double* out) {
  uint64_t lo = UINT64_MAX, hi = 0;
  for (const Part& p : parts) {
    for (size_t i = 0; i < p.n; ++i) {
      const uint64_t k = OrderedKey(p.data[i]);
      lo = std::min(lo, k);
      hi = std::max(hi, k);
    }
  }
  if (lo == hi) {
    std::fill(out, out + count, parts.front().data[0]);
    return;
  }
  int shift = 0;
  while (((hi - lo) >> shift) >= kMaxBuckets) ++shift;
  const size_t buckets = static_cast<size_t>((hi - lo) >> shift) + 1;
  counts_.assign(buckets, 0);
  for (const Part& p : parts) {
    for (size_t i = 0; i < p.n; ++i) ++counts_[(OrderedKey(p.data[i]) - lo) >> shift];
  }

  // The bucket of each wanted position (ascending), and where each such bucket's values go in
  // values_: counts_ then marks a wanted bucket with 1 + its index in `wanted`, others with 0.
  sorted_.assign(positions, positions + count);
  std::sort(sorted_.begin(), sorted_.end());
  struct Wanted {
    size_t bucket, below, size, offset;
  };
  std::vector<Wanted> wanted;
  size_t below = 0, bucket = 0;
  for (size_t p : sorted_) {
    while (below + counts_[bucket] <= p) below += counts_[bucket++];
    if (wanted.empty() || wanted.back().bucket != bucket) {
      const size_t offset = wanted.empty() ? 0 : wanted.back().offset + wanted.back().size;
      wanted.push_back(Wanted{bucket, below, counts_[bucket], offset});
    }
  }
  std::fill(counts_.begin(), counts_.end(), 0);
  for (size_t w = 0; w < wanted.size(); ++w) counts_[wanted[w].bucket] = static_cast<uint32_t>(w + 1);
  values_.resize(wanted.back().offset + wanted.back().size);
  std::vector<size_t> next;
  for (const Wanted& w : wanted) next.push_back(w.offset);
  for (const Part& p : parts) {
    for (size_t i = 0; i < p.n; ++i) {
      const uint32_t mark = counts_[(OrderedKey(p.data[i]) - lo) >> shift];
      if (mark != 0) values_[next[mark - 1]++] = p.data[i];
    }
  }

  // Within each wanted bucket's values, the positions it holds.
  std::vector<size_t> ranks;
  for (const Wanted& w : wanted) {
    ranks.clear();
    for (size_t p : sorted_) {
      if (p >= w.below && p < w.below + w.size) ranks.push_back(w.offset + p - w.below);
    }
    SelectIndices(values_.data(), w.offset, w.offset + w.size, ranks.data(),
                  ranks.data() + ranks.size());
  }
  for (size_t i = 0; i < count; ++i) {
    const size_t p = positions[i];
    const Wanted& w = *std::find_if(wanted.begin(), wanted.end(), [p](const Wanted& x) {
      return p >= x.below && p < x.below + x.size;
    });
    out[i] = values_[w.offset + p - w.below];
  }
}

}  // namespace waggle::query::internal
