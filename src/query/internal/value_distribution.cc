#include "query/internal/value_distribution.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "absl/container/flat_hash_set.h"

namespace waggle::query::internal {
namespace {

constexpr uint8_t kString = static_cast<uint8_t>(ValueType::kString);
constexpr uint8_t kInt = static_cast<uint8_t>(ValueType::kInt);
constexpr uint8_t kDouble = static_cast<uint8_t>(ValueType::kDouble);
constexpr uint8_t kBool = static_cast<uint8_t>(ValueType::kBool);

double Fraction(uint64_t count, uint64_t rows) {
  return rows == 0 ? 0.0 : static_cast<double>(count) / static_cast<double>(rows);
}

BubbleUpBucket MakeBucket(BubbleUpBucket::Kind kind, const std::array<uint64_t, 2>& counts,
                          const std::array<uint64_t, 2>& side_rows) {
  BubbleUpBucket b;
  b.kind = kind;
  b.selection_count = counts[kSelection];
  b.baseline_count = counts[kBaseline];
  b.selection_fraction = Fraction(counts[kSelection], side_rows[kSelection]);
  b.baseline_fraction = Fraction(counts[kBaseline], side_rows[kBaseline]);
  return b;
}

bool NonZero(const std::array<uint64_t, 2>& c) { return c[0] != 0 || c[1] != 0; }

}  // namespace

uint32_t FineCell(double v) {
  if (v == 0) v = 0.0;
  uint64_t bits = std::bit_cast<uint64_t>(v);
  bits = (bits >> 63) ? ~bits : bits | (uint64_t{1} << 63);
  return static_cast<uint32_t>(bits >> (64 - kFineBits));
}

void ValueDistribution::Add(const ColumnView& col, const std::vector<uint32_t>& rows,
                            const std::vector<uint8_t>& side) {
  last_view_ = {};
  last_counts_ = nullptr;
  if (col.all_null()) {
    for (uint8_t s : side) ++missing_[s];
    return;
  }
  for (size_t k = 0; k < rows.size(); ++k) {
    const uint32_t r = rows[k];
    const int s = side[k];
    switch (col.TypeAt(r)) {
      case kString: AddString(col.strs[r], s); break;
      case kInt: AddNumber(static_cast<double>(col.ints[r]), s); break;
      case kDouble: AddNumber(col.doubles[r], s); break;
      case kBool: ++bools_[col.ints[r] != 0][s]; break;
      default: ++missing_[s]; break;
    }
  }
  last_view_ = {};
  last_counts_ = nullptr;
}

void ValueDistribution::AddString(std::string_view s, int side) {
  if (last_counts_ != nullptr && s == last_view_) {
    ++(*last_counts_)[side];
    return;
  }
  auto it = strings_.find(absl::string_view(s.data(), s.size()));
  if (it == strings_.end()) {
    if (strings_.size() >= kBubbleUpValueTableCapacity) PruneValues();
    it = strings_.emplace(std::string(s), Counts{}).first;
    string_bytes_ += it->first.capacity();
  }
  ++it->second[side];
  last_view_ = it->first;
  last_counts_ = &it->second;
}

void ValueDistribution::AddNumber(double v, int side) {
  if (std::isnan(v)) {
    ++missing_[side];
    return;
  }
  auto [it, inserted] = numbers_.try_emplace(FineCell(v));
  NumberCell& cell = it->second;
  if (inserted) {
    cell.min = v;
    cell.max = v;
  } else {
    cell.min = std::min(cell.min, v);
    cell.max = std::max(cell.max, v);
  }
  ++cell.counts[side];
}

void ValueDistribution::PruneValues() {
  // Keep the kBubbleUpKeptValues largest by selection count and by baseline count; ties break
  // by value so the outcome does not depend on the table's iteration order.
  std::vector<std::pair<const std::string*, Counts>> entries;
  entries.reserve(strings_.size());
  for (const auto& [value, c] : strings_) entries.emplace_back(&value, c);
  absl::flat_hash_set<const std::string*> keep;
  for (int side : {kSelection, kBaseline}) {
    const size_t n = std::min(kBubbleUpKeptValues, entries.size());
    std::partial_sort(entries.begin(), entries.begin() + n, entries.end(),
                      [side](const auto& a, const auto& b) {
                        if (a.second[side] != b.second[side]) return a.second[side] > b.second[side];
                        return *a.first < *b.first;
                      });
    for (size_t i = 0; i < n; ++i) {
      if (entries[i].second[side] > 0) keep.insert(entries[i].first);
    }
  }
  for (auto it = strings_.begin(); it != strings_.end();) {
    if (keep.contains(&it->first)) {
      ++it;
      continue;
    }
    other_[kSelection] += it->second[kSelection];
    other_[kBaseline] += it->second[kBaseline];
    string_bytes_ -= it->first.capacity();
    strings_.erase(it++);
  }
  pruned_ = true;
  last_view_ = {};
  last_counts_ = nullptr;
}

void ValueDistribution::Merge(ValueDistribution& other) {
  for (int s = 0; s < 2; ++s) {
    missing_[s] += other.missing_[s];
    other_[s] += other.other_[s];
    bools_[0][s] += other.bools_[0][s];
    bools_[1][s] += other.bools_[1][s];
  }
  pruned_ |= other.pruned_;
  for (auto& [value, c] : other.strings_) {
    auto it = strings_.find(value);
    if (it == strings_.end()) {
      if (strings_.size() >= kBubbleUpValueTableCapacity) PruneValues();
      it = strings_.emplace(value, Counts{}).first;
      string_bytes_ += it->first.capacity();
    }
    it->second[0] += c[0];
    it->second[1] += c[1];
  }
  for (const auto& [key, cell] : other.numbers_) {
    auto [it, inserted] = numbers_.try_emplace(key, cell);
    if (inserted) continue;
    it->second.counts[0] += cell.counts[0];
    it->second.counts[1] += cell.counts[1];
    it->second.min = std::min(it->second.min, cell.min);
    it->second.max = std::max(it->second.max, cell.max);
  }
  other = ValueDistribution();
  last_view_ = {};
  last_counts_ = nullptr;
}

size_t ValueDistribution::MemoryBytes() const {
  constexpr size_t kNodeOverhead = sizeof(std::string) + sizeof(Counts) + 16;
  return strings_.capacity() * (sizeof(void*) + 1) + strings_.size() * kNodeOverhead +
         string_bytes_ + numbers_.capacity() * (sizeof(uint32_t) + sizeof(NumberCell) + 1);
}

void ValueDistribution::AppendRanges(const std::array<uint64_t, 2>& side_rows,
                                     std::vector<BubbleUpBucket>* out) const {
  if (numbers_.empty()) return;
  std::vector<std::pair<uint32_t, const NumberCell*>> cells;
  cells.reserve(numbers_.size());
  uint64_t remaining = 0;
  for (const auto& [key, cell] : numbers_) {
    cells.emplace_back(key, &cell);
    remaining += cell.counts[0] + cell.counts[1];
  }
  std::sort(cells.begin(), cells.end());
  const bool one_per_cell = cells.size() <= kBubbleUpRanges;
  size_t ranges_left = kBubbleUpRanges;
  BubbleUpBucket range;
  Counts acc{};
  bool open = false;
  for (size_t i = 0; i < cells.size(); ++i) {
    const NumberCell& cell = *cells[i].second;
    if (!open) {
      range.lo = cell.min;
      acc = {};
      open = true;
    }
    range.hi = cell.max;
    acc[0] += cell.counts[0];
    acc[1] += cell.counts[1];
    // Cut when the range holds its share of what is left (quantiles of the union).
    const uint64_t held = acc[0] + acc[1];
    const bool last = i + 1 == cells.size();
    if (last || one_per_cell || held * ranges_left >= remaining) {
      BubbleUpBucket b = MakeBucket(BubbleUpBucket::Kind::kRange, acc, side_rows);
      b.lo = range.lo;
      b.hi = range.hi;
      out->push_back(b);
      remaining -= held;
      if (ranges_left > 1) --ranges_left;
      open = false;
    }
  }
}

std::vector<BubbleUpBucket> ValueDistribution::Finish(const std::array<uint64_t, 2>& side_rows,
                                                      bool* approximate) const {
  std::vector<BubbleUpBucket> out;
  for (const auto& [value, c] : strings_) {
    BubbleUpBucket b = MakeBucket(BubbleUpBucket::Kind::kValue, c, side_rows);
    b.value = Value::String(value);
    out.push_back(std::move(b));
  }
  for (int v = 0; v < 2; ++v) {
    if (!NonZero(bools_[v])) continue;
    BubbleUpBucket b = MakeBucket(BubbleUpBucket::Kind::kValue, bools_[v], side_rows);
    b.value = Value::Bool(v == 1);
    out.push_back(std::move(b));
  }
  AppendRanges(side_rows, &out);
  if (NonZero(missing_)) out.push_back(MakeBucket(BubbleUpBucket::Kind::kMissing, missing_, side_rows));
  if (NonZero(other_)) out.push_back(MakeBucket(BubbleUpBucket::Kind::kOther, other_, side_rows));
  *approximate = pruned_;
  return out;
}

}  // namespace waggle::query::internal
