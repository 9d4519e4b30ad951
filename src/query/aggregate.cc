#include "query/aggregate.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "query/internal/select_ranks.h"

namespace waggle::query {

// The executor only calls the Add* matching input(); anything else is a bug in the caller.
void Aggregator::AddCount(const uint32_t*, size_t) {
  assert(false && "AddCount called on an aggregator whose input() is not kNone");
}
void Aggregator::AddNumbers(const uint32_t*, const double*, size_t) {
  assert(false && "AddNumbers called on an aggregator whose input() is not kNumber");
}
void Aggregator::AddHashes(const uint32_t*, const uint64_t*, size_t) {
  assert(false && "AddHashes called on an aggregator whose input() is not kHash");
}
void Aggregator::AddIntervals(const uint32_t*, const int64_t*, const int64_t*, size_t) {
  assert(false && "AddIntervals called on an aggregator whose input() is not kInterval");
}

namespace {

using internal::RankSelector;

CalcValue NumberValue(double number) {
  CalcValue value;
  value.kind = CalcValue::Kind::kNumber;
  value.number = number;
  return value;
}

CalcValue HeatmapValue(double lo, double hi, std::vector<uint64_t> counts) {
  CalcValue value;
  value.kind = CalcValue::Kind::kHeatmap;
  value.heatmap = Heatmap{lo, hi, std::move(counts)};
  return value;
}

// `other` is an aggregator of the same op as `self`, hence of the same class.
template <typename Concrete>
const Concrete& SameKind(const Aggregator& self, const Aggregator& other) {
  assert(self.op() == other.op());
  (void)self;
  return static_cast<const Concrete&>(other);
}

// Value-store pages recycled between queries: a fresh page costs a page fault per 4 KiB when
// first written, a recycled one is resident already. Only pages of kBytes are kept, at most
// kMaxKept of them (64 MiB), for the life of the process.
//
// Thread-safety: Take and Give are thread-safe.
class PagePool {
 public:
  static constexpr size_t kBytes = size_t{512} << 10;

  static std::byte* Take() {
    PagePool& pool = Instance();
    {
      std::lock_guard<std::mutex> lock(pool.mu_);
      if (!pool.free_.empty()) {
        std::byte* page = pool.free_.back();
        pool.free_.pop_back();
        return page;
      }
    }
    return new std::byte[kBytes];
  }

  static void Give(std::byte* page) {
    PagePool& pool = Instance();
    {
      std::lock_guard<std::mutex> lock(pool.mu_);
      if (pool.free_.size() < kMaxKept) {
        pool.free_.push_back(page);
        return;
      }
    }
    delete[] page;
  }

 private:
  static constexpr size_t kMaxKept = 128;
  static PagePool& Instance() {
    static PagePool* pool = new PagePool;  // never destroyed: used until the process ends
    return *pool;
  }
  std::mutex mu_;
  std::vector<std::byte*> free_;
};

// Frees a page of `bytes`, into the pool when it has the pool's size.
struct PageDeleter {
  size_t bytes = 0;
  void operator()(std::byte* page) const {
    if (bytes == PagePool::kBytes) {
      PagePool::Give(page);
    } else {
      delete[] page;
    }
  }
};

// ---------------------------------------------------------------------------------------------
// SlotLists: an append-only list of values per slot, all in one arena.
//
// Each slot owns a chain of runs carved out of shared pages. A slot's next run is as large as
// everything it holds so far (between kFirstRun and kMaxRun elements), so appending never
// moves stored values, unused capacity per slot is at most max(kFirstRun, min(its size,
// kMaxRun)) elements (plus under kFirstRun per page), and there is no reallocation peak (a
// growing std::vector briefly holds 3x its contents).
// Every run but a slot's last is full; the slot keeps a cursor into its last run, so an
// append touches only the slot's own entry and the value's destination.
template <typename T>
class SlotLists {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  void Resize(size_t slots) {
    if (slots > lists_.size()) lists_.resize(slots);
  }

  void Append(uint32_t slot, const T& value) {
    List& list = lists_[slot];
    if (list.cursor == list.tail_end) AddRun(list, 1);
    *list.cursor++ = value;
  }

  void AppendAll(uint32_t slot, const T* values, size_t n) {
    List& list = lists_[slot];
    while (n > 0) {
      if (list.cursor == list.tail_end) AddRun(list, n);
      const size_t take = std::min<size_t>(n, static_cast<size_t>(list.tail_end - list.cursor));
      list.cursor = std::copy(values, values + take, list.cursor);
      values += take;
      n -= take;
    }
  }

  size_t Count(uint32_t slot) const { return CountOf(lists_[slot]); }
  size_t slots() const { return lists_.size(); }

  // Calls fn(const T* data, size_t n) for each stored run of `slot`, in insertion order.
  template <typename Fn>
  void ForEachRun(uint32_t slot, Fn&& fn) const {
    const List& list = lists_[slot];
    for (uint32_t r = list.head; r != kNoRun; r = runs_[r].next) {
      const Run& run = runs_[r];
      const size_t size = r == list.tail ? static_cast<size_t>(list.cursor - run.data)
                                         : static_cast<size_t>(run.capacity);
      fn(static_cast<const T*>(run.data), size);
    }
  }

  // Calls fn(const T&) for every value of every slot.
  template <typename Fn>
  void ForEachValue(Fn&& fn) const {
    for (uint32_t slot = 0; slot < lists_.size(); ++slot) {
      ForEachRun(slot, [&fn](const T* data, size_t n) {
        for (size_t i = 0; i < n; ++i) fn(data[i]);
      });
    }
  }

  size_t MemoryBytes() const {
    return page_elements_ * sizeof(T) + pages_.capacity() * sizeof(pages_[0]) +
           runs_.capacity() * sizeof(Run) + lists_.capacity() * sizeof(List);
  }

 private:
  static constexpr uint32_t kNoRun = std::numeric_limits<uint32_t>::max();
  static constexpr size_t kFirstRun = 4;
  static constexpr size_t kMaxRun = 4096;
  static constexpr size_t kFirstPage = 1024;
  static constexpr size_t kMaxPage = 65536;
  static_assert(kMaxRun <= kMaxPage);

  struct Run {
    T* data;
    uint32_t capacity;
    uint32_t next;  // kNoRun for a slot's last run
  };
  struct List {
    T* cursor = nullptr;    // next free element of the last run
    T* tail_end = nullptr;  // end of the last run
    uint64_t count_before_tail = 0;
    uint32_t head = kNoRun;
    uint32_t tail = kNoRun;
  };

  size_t CountOf(const List& list) const {
    if (list.tail == kNoRun) return 0;
    return list.count_before_tail + static_cast<size_t>(list.cursor - runs_[list.tail].data);
  }

  // Links a fresh run to the end of `list` (whose last run is full), sized for `pending` more
  // values and the list's growth, and points the cursor at it.
  void AddRun(List& list, size_t pending) {
    const size_t count = CountOf(list);
    const size_t wanted = std::clamp<size_t>(std::max(count, pending), kFirstRun, kMaxRun);
    size_t capacity = 0;
    T* data = Carve(wanted, &capacity);
    const uint32_t index = static_cast<uint32_t>(runs_.size());
    runs_.push_back(Run{data, static_cast<uint32_t>(capacity), kNoRun});
    if (list.tail == kNoRun) {
      list.head = index;
    } else {
      runs_[list.tail].next = index;
    }
    list.tail = index;
    list.count_before_tail = count;
    list.cursor = data;
    list.tail_end = data + capacity;
  }

  // Storage for between kFirstRun and `wanted` elements (as many as the current page allows).
  T* Carve(size_t wanted, size_t* capacity) {
    if (page_size_ - page_used_ < kFirstRun) {
      const size_t next_page = pages_.empty() ? kFirstPage : std::min(kMaxPage, page_size_ * 2);
      page_size_ = std::max(next_page, wanted);
      const size_t bytes = page_size_ * sizeof(T);
      pages_.emplace_back(bytes == PagePool::kBytes ? PagePool::Take() : new std::byte[bytes],
                          PageDeleter{bytes});
      page_elements_ += page_size_;
      page_used_ = 0;
    }
    *capacity = std::min(wanted, page_size_ - page_used_);
    T* data = reinterpret_cast<T*>(pages_.back().get()) + page_used_;
    page_used_ += *capacity;
    return data;
  }

  std::vector<List> lists_;
  std::vector<Run> runs_;
  std::vector<std::unique_ptr<std::byte[], PageDeleter>> pages_;  // sizes in their deleters
  size_t page_size_ = 0;      // elements in pages_.back()
  size_t page_used_ = 0;      // elements of pages_.back() handed out
  size_t page_elements_ = 0;  // elements in all pages
};

// ---------------------------------------------------------------------------------------------
// COUNT: rows per slot. Never null: a bucket without rows counts 0.
class CountAggregator final : public Aggregator {
 public:
  CalcOp op() const override { return CalcOp::kCount; }
  AggInput input() const override { return AggInput::kNone; }
  void Resize(size_t slots) override {
    if (slots > counts_.size()) counts_.resize(slots, 0);
  }

  void AddCount(const uint32_t* slots, size_t n) override {
    for (size_t k = 0; k < n; ++k) ++counts_[slots[k]];
  }

  void MergeSlot(uint32_t slot, const Aggregator& other, uint32_t other_slot) override {
    counts_[slot] += SameKind<CountAggregator>(*this, other).counts_[other_slot];
  }

  void FinalizeGroup(const uint32_t* bucket_slots, const BucketLayout& layout, CalcValue* summary,
                     CalcValue* per_bucket) const override {
    uint64_t total = 0;
    for (size_t b = 0; b < layout.count; ++b) {
      uint64_t count = bucket_slots[b] == kNoSlot ? 0 : counts_[bucket_slots[b]];
      total += count;
      if (per_bucket) per_bucket[b] = NumberValue(static_cast<double>(count));
    }
    *summary = NumberValue(static_cast<double>(total));
  }

  size_t MemoryBytes() const override { return counts_.capacity() * sizeof(counts_[0]); }

 private:
  std::vector<uint64_t> counts_;
};

// ---------------------------------------------------------------------------------------------
// SUM AVG MIN MAX and RATE_*: running statistics per slot. NaN values are skipped.

struct NumberStats {
  double sum = 0;
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  uint64_t count = 0;

  void Add(double v) {
    sum += v;
    min = std::min(min, v);
    max = std::max(max, v);
    ++count;
  }
  void Merge(const NumberStats& other) {
    sum += other.sum;
    min = std::min(min, other.min);
    max = std::max(max, other.max);
    count += other.count;
  }
};

// The statistic a SUM/AVG/MIN/MAX (or the X of a RATE_X) reports.
enum class Statistic : uint8_t { kSum, kAvg, kMin, kMax };

// Null (nullopt) when there were no values.
std::optional<double> StatisticOf(const NumberStats& stats, Statistic statistic) {
  if (stats.count == 0) return std::nullopt;
  switch (statistic) {
    case Statistic::kSum: return stats.sum;
    case Statistic::kAvg: return stats.sum / static_cast<double>(stats.count);
    case Statistic::kMin: return stats.min;
    case Statistic::kMax: return stats.max;
  }
  return std::nullopt;
}

CalcValue ToCalcValue(std::optional<double> number) {
  return number ? NumberValue(*number) : CalcValue{};
}

class NumberStatsAggregator final : public Aggregator {
 public:
  // `rate`: report per-bucket differences of the statistic (RATE_*) instead of the statistic.
  NumberStatsAggregator(CalcOp op, Statistic statistic, bool rate)
      : op_(op), statistic_(statistic), rate_(rate) {}

  CalcOp op() const override { return op_; }
  AggInput input() const override { return AggInput::kNumber; }
  void Resize(size_t slots) override {
    if (slots > stats_.size()) stats_.resize(slots);
  }

  void AddNumbers(const uint32_t* slots, const double* values, size_t n) override {
    for (size_t k = 0; k < n; ++k) {
      if (!std::isnan(values[k])) stats_[slots[k]].Add(values[k]);
    }
  }

  void MergeSlot(uint32_t slot, const Aggregator& other, uint32_t other_slot) override {
    stats_[slot].Merge(SameKind<NumberStatsAggregator>(*this, other).stats_[other_slot]);
  }

  void FinalizeGroup(const uint32_t* bucket_slots, const BucketLayout& layout, CalcValue* summary,
                     CalcValue* per_bucket) const override {
    if (rate_) {
      FinalizeRate(bucket_slots, layout, summary, per_bucket);
    } else {
      FinalizeStatistic(bucket_slots, layout, summary, per_bucket);
    }
  }

  size_t MemoryBytes() const override { return stats_.capacity() * sizeof(NumberStats); }

 private:
  NumberStats StatsOf(uint32_t slot) const { return slot == kNoSlot ? NumberStats{} : stats_[slot]; }

  void FinalizeStatistic(const uint32_t* bucket_slots, const BucketLayout& layout,
                         CalcValue* summary, CalcValue* per_bucket) const {
    NumberStats group;
    for (size_t b = 0; b < layout.count; ++b) {
      NumberStats bucket = StatsOf(bucket_slots[b]);
      group.Merge(bucket);
      if (per_bucket) per_bucket[b] = ToCalcValue(StatisticOf(bucket, statistic_));
    }
    *summary = ToCalcValue(StatisticOf(group, statistic_));
  }

  // Bucket i: X(i) - X(i-1), null unless both buckets have values. Summary: mean of the
  // non-null differences.
  void FinalizeRate(const uint32_t* bucket_slots, const BucketLayout& layout, CalcValue* summary,
                    CalcValue* per_bucket) const {
    std::optional<double> previous;
    double difference_sum = 0;
    size_t differences = 0;
    for (size_t b = 0; b < layout.count; ++b) {
      std::optional<double> current = StatisticOf(StatsOf(bucket_slots[b]), statistic_);
      std::optional<double> difference;
      if (current && previous) difference = *current - *previous;
      if (difference) {
        difference_sum += *difference;
        ++differences;
      }
      if (per_bucket) per_bucket[b] = ToCalcValue(difference);
      previous = current;
    }
    *summary = differences == 0
                   ? CalcValue{}
                   : NumberValue(difference_sum / static_cast<double>(differences));
  }

  CalcOp op_;
  Statistic statistic_;
  bool rate_;
  std::vector<NumberStats> stats_;
};

// ---------------------------------------------------------------------------------------------
// Percentiles and HEATMAP keep every value, in a StoredNumbers shared by all of them that read
// the same column of one query (MakeAggregators).

// Thousandths of the percentile ops; 0 for other ops.
uint32_t PercentilePerMille(CalcOp op) {
  switch (op) {
    case CalcOp::kP001: return 1;
    case CalcOp::kP01: return 10;
    case CalcOp::kP05: return 50;
    case CalcOp::kP10: return 100;
    case CalcOp::kP20: return 200;
    case CalcOp::kP25: return 250;
    case CalcOp::kP50: return 500;
    case CalcOp::kP75: return 750;
    case CalcOp::kP80: return 800;
    case CalcOp::kP90: return 900;
    case CalcOp::kP95: return 950;
    case CalcOp::kP99: return 990;
    case CalcOp::kP999: return 999;
    default: return 0;
  }
}

// Nearest rank: the 0-based index ceil(q*n)-1 into n > 0 sorted values, clamped to [0, n-1].
// q = per_mille/1000 is exact in integers (every Honeycomb percentile is a whole number of
// thousandths), which avoids ceil() of a product like 0.999*1000 landing one off.
size_t NearestRankIndex(uint32_t per_mille, size_t n) {
  const size_t rank = (static_cast<size_t>(per_mille) * n + 999) / 1000;  // ceil(q*n)
  return std::min(rank == 0 ? 0 : rank - 1, n - 1);
}

// The non-NaN values of one column per slot, and the percentiles wanted of them, all computed
// together for a group (one multi-rank selection over its stored runs).
//
// Thread-safety: used by one thread at a time, const calls included (PercentilesOf caches).
class StoredNumbers {
 public:
  // One group's percentiles, in AddPercentile order; NaN where there are no values (stored
  // values are never NaN).
  struct Percentiles {
    std::vector<double> summary;     // [percentile], over the whole group
    std::vector<double> per_bucket;  // [bucket * percentiles + percentile]; empty unless asked
  };

  void Resize(size_t slots) { values_.Resize(slots); }

  void Add(const uint32_t* slots, const double* values, size_t n) {
    for (size_t k = 0; k < n; ++k) {
      if (!std::isnan(values[k])) values_.Append(slots[k], values[k]);
    }
    cache_.valid = false;
  }

  // Makes the values of `other`'s slot part of `slot` without copying them: `other` is kept
  // alive and must not change any more (the executor merges finished workers).
  void MergeSlot(uint32_t slot, std::shared_ptr<const StoredNumbers> other, uint32_t other_slot) {
    if (borrowed_.size() <= slot) borrowed_.resize(slot + 1);
    borrowed_[slot].push_back(Borrowed{std::move(other), other_slot});
    cache_.valid = false;
  }

  // Calls fn(const double* data, size_t n) for each stored run of `slot`'s values.
  template <typename Fn>
  void ForEachRun(uint32_t slot, Fn&& fn) const {
    values_.ForEachRun(slot, fn);
    if (slot >= borrowed_.size()) return;
    for (const Borrowed& b : borrowed_[slot]) b.store->ForEachRun(b.slot, fn);
  }

  // Calls fn(double) for every value of every slot.
  template <typename Fn>
  void ForEachValue(Fn&& fn) const {
    for (uint32_t slot = 0; slot < std::max(values_.slots(), borrowed_.size()); ++slot) {
      ForEachRun(slot, [&fn](const double* data, size_t n) {
        for (size_t i = 0; i < n; ++i) fn(data[i]);
      });
    }
  }

  // The stored values (borrowed ones are counted by their own store while it scans); the
  // finalisation scratch is not counted (the budget covers scanning).
  size_t MemoryBytes() const { return values_.MemoryBytes(); }

  // Adds a percentile to compute (once however often it is asked for); returns its position in
  // Percentiles.
  size_t AddPercentile(uint32_t per_mille) {
    const auto it = std::find(per_milles_.begin(), per_milles_.end(), per_mille);
    if (it != per_milles_.end()) return static_cast<size_t>(it - per_milles_.begin());
    per_milles_.push_back(per_mille);
    cache_.valid = false;
    return per_milles_.size() - 1;
  }

  // Every percentile of the group whose slot in bucket b is bucket_slots[b] (kNoSlot: none),
  // b < buckets, and of each bucket when `per_bucket`. Asking again for the same group (as
  // each percentile of the group does in turn) reuses the answer. The reference is valid until
  // the next call of any method but values() and MemoryBytes().
  const Percentiles& PercentilesOf(const uint32_t* bucket_slots, size_t buckets,
                                   bool per_bucket) const {
    if (!cache_.valid || cache_.per_bucket != per_bucket ||
        !std::equal(cache_.bucket_slots.begin(), cache_.bucket_slots.end(), bucket_slots,
                    bucket_slots + buckets)) {
      cache_.valid = false;  // stays so if Compute throws (bad_alloc)
      cache_.bucket_slots.assign(bucket_slots, bucket_slots + buckets);
      cache_.per_bucket = per_bucket;
      Compute(bucket_slots, buckets, per_bucket, &cache_.percentiles);
      cache_.valid = true;
    }
    return cache_.percentiles;
  }

 private:
  static constexpr double kNoValue = std::numeric_limits<double>::quiet_NaN();

  struct Cache {
    bool valid = false;
    bool per_bucket = false;
    std::vector<uint32_t> bucket_slots;
    Percentiles percentiles;
  };

  // Selects the percentiles of each bucket's values (when asked for), then of the whole
  // group's, reading the stored runs where they are.
  void Compute(const uint32_t* bucket_slots, size_t buckets, bool per_bucket,
               Percentiles* out) const {
    const size_t wanted = per_milles_.size();
    out->summary.assign(wanted, kNoValue);
    out->per_bucket.assign(per_bucket ? buckets * wanted : 0, kNoValue);
    if (wanted == 0) return;
    group_parts_.clear();
    size_t total = 0, buckets_with_values = 0, last_bucket_with_values = 0;
    for (size_t b = 0; b < buckets; ++b) {
      if (bucket_slots[b] == kNoSlot) continue;
      const size_t first_part = group_parts_.size();
      size_t n = 0;
      ForEachRun(bucket_slots[b], [&](const double* data, size_t count) {
        if (count > 0) group_parts_.push_back({data, count});
        n += count;
      });
      if (n == 0) continue;
      total += n;
      ++buckets_with_values;
      last_bucket_with_values = b;
      if (per_bucket) {
        SelectPercentiles(std::span(group_parts_).subspan(first_part), n, &out->per_bucket[b * wanted]);
      }
    }
    if (per_bucket && buckets_with_values == 1) {  // the whole is that one bucket
      const double* only = &out->per_bucket[last_bucket_with_values * wanted];
      std::copy(only, only + wanted, out->summary.begin());
    } else if (total > 0) {
      SelectPercentiles(group_parts_, total, out->summary.data());
    }
  }

  // Writes every percentile of the n > 0 values in `parts` to out[0, wanted).
  void SelectPercentiles(std::span<const RankSelector::Part> parts, size_t n, double* out) const {
    indices_.clear();
    for (uint32_t per_mille : per_milles_) indices_.push_back(NearestRankIndex(per_mille, n));
    selector_.Select(parts, n, indices_.data(), indices_.size(), out);
  }

  struct Borrowed {
    std::shared_ptr<const StoredNumbers> store;
    uint32_t slot;
  };

  SlotLists<double> values_;
  std::vector<uint32_t> per_milles_;
  mutable Cache cache_;
  std::vector<std::vector<Borrowed>> borrowed_;  // by slot
  // Finalisation scratch, reused from group to group.
  mutable std::vector<RankSelector::Part> group_parts_;
  mutable std::vector<size_t> indices_;
  mutable RankSelector selector_;
};

// Base of the aggregators that answer from a StoredNumbers. Only the lead (the first aggregator
// made for its store) takes values, merges them and counts their memory; the others are fed
// nothing (AggInput::kShared). See MakeAggregators.
class StoredNumbersAggregator : public Aggregator {
 public:
  StoredNumbersAggregator(std::shared_ptr<StoredNumbers> store, bool lead)
      : store_(std::move(store)), lead_(lead) {}

  AggInput input() const override { return lead_ ? AggInput::kNumber : AggInput::kShared; }
  void Resize(size_t slots) override { store_->Resize(slots); }

  void AddNumbers(const uint32_t* slots, const double* values, size_t n) override {
    assert(lead_ && "AddNumbers called on an aggregator whose input() is kShared");
    store_->Add(slots, values, n);
  }

  // `other` is this aggregator's counterpart in another set made from the same calculations,
  // so it leads its store iff this one does.
  void MergeSlot(uint32_t slot, const Aggregator& other, uint32_t other_slot) override {
    if (!lead_) return;
    store_->MergeSlot(slot, SameKind<StoredNumbersAggregator>(*this, other).store_, other_slot);
  }

  size_t MemoryBytes() const override { return lead_ ? store_->MemoryBytes() : 0; }

 protected:
  const StoredNumbers& store() const { return *store_; }

 private:
  std::shared_ptr<StoredNumbers> store_;
  bool lead_;
};

CalcValue NumberOrNull(double number) {
  return std::isnan(number) ? CalcValue{} : NumberValue(number);
}

// P001..P999: the nearest rank (NearestRankIndex) of the group's or bucket's values; null
// without values.
class PercentileAggregator final : public StoredNumbersAggregator {
 public:
  PercentileAggregator(CalcOp op, const std::shared_ptr<StoredNumbers>& store, bool lead)
      : StoredNumbersAggregator(store, lead),
        op_(op),
        position_(store->AddPercentile(PercentilePerMille(op))) {}

  CalcOp op() const override { return op_; }

  void FinalizeGroup(const uint32_t* bucket_slots, const BucketLayout& layout, CalcValue* summary,
                     CalcValue* per_bucket) const override {
    const StoredNumbers::Percentiles& percentiles =
        store().PercentilesOf(bucket_slots, layout.count, per_bucket != nullptr);
    *summary = NumberOrNull(percentiles.summary[position_]);
    if (!per_bucket) return;
    const size_t wanted = percentiles.summary.size();
    for (size_t b = 0; b < layout.count; ++b) {
      per_bucket[b] = NumberOrNull(percentiles.per_bucket[b * wanted + position_]);
    }
  }

 private:
  CalcOp op_;
  size_t position_;  // in StoredNumbers::Percentiles
};

// HEATMAP: counts of values in kHeatmapBuckets equal-width buckets of the query-wide range.
// Non-finite values (NaN, ±inf) have no place in a finite range and are not counted; a bucket
// or group without finite values is null.
class HeatmapAggregator final : public StoredNumbersAggregator {
 public:
  using StoredNumbersAggregator::StoredNumbersAggregator;

  CalcOp op() const override { return CalcOp::kHeatmap; }

  void ExtendRange(double* lo, double* hi) const override {
    store().ForEachValue([lo, hi](double v) {
      if (!std::isfinite(v)) return;
      *lo = std::min(*lo, v);
      *hi = std::max(*hi, v);
    });
  }

  void SetHeatmapRange(double lo, double hi) override {
    lo_ = lo;
    hi_ = hi;
  }

  void FinalizeGroup(const uint32_t* bucket_slots, const BucketLayout& layout, CalcValue* summary,
                     CalcValue* per_bucket) const override {
    std::vector<uint64_t> group_counts(kHeatmapBuckets, 0);
    bool group_has_values = false;
    for (size_t b = 0; b < layout.count; ++b) {
      const uint32_t slot = bucket_slots[b];
      if (!per_bucket) {
        group_has_values |= CountInto(slot, &group_counts);
        continue;
      }
      per_bucket[b] = CalcValue{};
      if (slot == kNoSlot) continue;
      std::vector<uint64_t> counts(kHeatmapBuckets, 0);
      if (!CountInto(slot, &counts)) continue;
      group_has_values = true;
      for (size_t i = 0; i < kHeatmapBuckets; ++i) group_counts[i] += counts[i];
      per_bucket[b] = HeatmapValue(lo_, hi_, std::move(counts));
    }
    *summary = group_has_values ? HeatmapValue(lo_, hi_, std::move(group_counts)) : CalcValue{};
  }

 private:
  // Adds the finite values of `slot` (kNoSlot: none) to `counts`; false when there were none.
  bool CountInto(uint32_t slot, std::vector<uint64_t>* counts) const {
    if (slot == kNoSlot) return false;
    bool counted = false;
    store().ForEachRun(slot, [&](const double* data, size_t n) {
      for (size_t i = 0; i < n; ++i) {
        if (!std::isfinite(data[i])) continue;
        ++(*counts)[BucketOf(data[i])];
        counted = true;
      }
    });
    return counted;
  }

  // floor((v - lo) / (hi - lo) * N) clamped to [0, N-1]; everything is bucket 0 when hi <= lo.
  size_t BucketOf(double v) const {
    if (!(hi_ > lo_)) return 0;
    const double width = hi_ - lo_;
    // A range wider than the largest double is measured in halves.
    const double fraction = std::isfinite(width) ? (v - lo_) / width
                                                 : (v / 2 - lo_ / 2) / (hi_ / 2 - lo_ / 2);
    const double position = fraction * static_cast<double>(kHeatmapBuckets);
    if (!(position >= 0)) return 0;
    if (position >= static_cast<double>(kHeatmapBuckets - 1)) return kHeatmapBuckets - 1;
    size_t bucket = static_cast<size_t>(position);
    if (!std::isfinite(width)) return bucket;
    // The division above may round across an edge; the edges are lo + i * (width / N).
    const double step = width / static_cast<double>(kHeatmapBuckets);
    if (bucket + 1 < kHeatmapBuckets && v >= lo_ + static_cast<double>(bucket + 1) * step) ++bucket;
    if (bucket > 0 && v < lo_ + static_cast<double>(bucket) * step) --bucket;
    return bucket;
  }

  double lo_ = 0;
  double hi_ = 0;
};

// Whether `op` answers from stored values (a StoredNumbersAggregator).
bool KeepsValues(CalcOp op) { return op == CalcOp::kHeatmap || IsPercentile(op); }

// `op` keeps values (KeepsValues).
std::unique_ptr<Aggregator> MakeStoredNumbersAggregator(CalcOp op,
                                                        std::shared_ptr<StoredNumbers> store,
                                                        bool lead) {
  if (op == CalcOp::kHeatmap) return std::make_unique<HeatmapAggregator>(std::move(store), lead);
  return std::make_unique<PercentileAggregator>(op, store, lead);
}

// ---------------------------------------------------------------------------------------------
// COUNT_DISTINCT

// HyperLogLog over pre-hashed 64-bit values: precision 14 (16384 one-byte registers), the
// original estimator with the small-range (linear counting) correction. With 64-bit hashes no
// large-range correction is needed. Relative standard error 1.04/sqrt(16384) ~ 0.81%.
class HyperLogLog {
 public:
  static constexpr int kPrecision = 14;
  static constexpr size_t kRegisters = size_t{1} << kPrecision;

  void Add(uint64_t hash) {
    const size_t index = hash >> (64 - kPrecision);
    // Rank = leading zeros of the remaining 50 bits + 1; the sentinel bit caps it at 51.
    const uint64_t rest = (hash << kPrecision) | (uint64_t{1} << (kPrecision - 1));
    const uint8_t rank = static_cast<uint8_t>(std::countl_zero(rest) + 1);
    registers_[index] = std::max(registers_[index], rank);
  }

  void Merge(const HyperLogLog& other) {
    for (size_t i = 0; i < kRegisters; ++i) {
      registers_[i] = std::max(registers_[i], other.registers_[i]);
    }
  }

  double Estimate() const {
    std::array<uint32_t, 64> registers_with_rank{};
    for (uint8_t rank : registers_) ++registers_with_rank[rank];
    double inverse_sum = 0;  // sum over registers of 2^-rank
    for (size_t rank = 0; rank < registers_with_rank.size(); ++rank) {
      inverse_sum += std::ldexp(static_cast<double>(registers_with_rank[rank]),
                                -static_cast<int>(rank));
    }
    const double m = static_cast<double>(kRegisters);
    const double alpha = 0.7213 / (1 + 1.079 / m);
    const double raw = alpha * m * m / inverse_sum;
    const uint32_t empty_registers = registers_with_rank[0];
    if (raw <= 2.5 * m && empty_registers > 0) return m * std::log(m / empty_registers);
    return raw;
  }

 private:
  std::array<uint8_t, kRegisters> registers_{};
};

// One slot's distinct hashes: the exact set until it holds more than kCountDistinctExactLimit
// hashes, then a HyperLogLog (and the set is released).
struct DistinctSketch {
  absl::flat_hash_set<uint64_t> exact;
  std::unique_ptr<HyperLogLog> hll;

  bool approximate() const { return hll != nullptr; }
  bool empty() const { return !hll && exact.empty(); }

  void Add(uint64_t hash) {
    if (hll) {
      hll->Add(hash);
      return;
    }
    exact.insert(hash);
    if (exact.size() > kCountDistinctExactLimit) SwitchToHll();
  }

  void Merge(const DistinctSketch& other) {
    if (other.hll) {
      if (!hll) SwitchToHll();
      hll->Merge(*other.hll);
      return;
    }
    for (uint64_t hash : other.exact) Add(hash);
  }

  double Count() const {
    return hll ? std::round(hll->Estimate()) : static_cast<double>(exact.size());
  }

  // Approximate heap bytes: the set's slots and control bytes, or the registers.
  size_t HeapBytes() const {
    return exact.capacity() * (sizeof(uint64_t) + 1) + (hll ? sizeof(HyperLogLog) : 0);
  }

  void SwitchToHll() {
    hll = std::make_unique<HyperLogLog>();
    for (uint64_t hash : exact) hll->Add(hash);
    absl::flat_hash_set<uint64_t>().swap(exact);
  }
};
static_assert(std::is_nothrow_move_constructible_v<DistinctSketch>,
              "growing the per-slot vector must move sketches, not copy them");

class CountDistinctAggregator final : public Aggregator {
 public:
  CalcOp op() const override { return CalcOp::kCountDistinct; }
  AggInput input() const override { return AggInput::kHash; }
  void Resize(size_t slots) override {
    if (slots > sketches_.size()) sketches_.resize(slots);
  }

  void AddHashes(const uint32_t* slots, const uint64_t* hashes, size_t n) override {
    for (size_t k = 0; k < n; ++k) {
      DistinctSketch& sketch = sketches_[slots[k]];
      if (sketch.hll) {
        sketch.hll->Add(hashes[k]);
        continue;
      }
      const size_t capacity_before = sketch.exact.capacity();
      sketch.Add(hashes[k]);
      if (sketch.hll || sketch.exact.capacity() != capacity_before) {
        heap_bytes_ += sketch.HeapBytes();
        heap_bytes_ -= capacity_before * (sizeof(uint64_t) + 1);
      }
    }
  }

  void MergeSlot(uint32_t slot, const Aggregator& other, uint32_t other_slot) override {
    DistinctSketch& sketch = sketches_[slot];
    const size_t bytes_before = sketch.HeapBytes();
    sketch.Merge(SameKind<CountDistinctAggregator>(*this, other).sketches_[other_slot]);
    heap_bytes_ += sketch.HeapBytes();
    heap_bytes_ -= bytes_before;
  }

  // Per bucket: the slot's count. Summary: the count of the union of the group's slots,
  // merged into a temporary sketch (which may itself switch to HyperLogLog).
  void FinalizeGroup(const uint32_t* bucket_slots, const BucketLayout& layout, CalcValue* summary,
                     CalcValue* per_bucket) const override {
    const DistinctSketch* only = nullptr;
    size_t buckets_with_values = 0;
    for (size_t b = 0; b < layout.count; ++b) {
      const DistinctSketch* sketch = SketchOf(bucket_slots[b]);
      if (per_bucket) per_bucket[b] = sketch ? NumberValue(sketch->Count()) : CalcValue{};
      if (sketch) {
        only = sketch;
        ++buckets_with_values;
      }
    }
    if (buckets_with_values <= 1) {
      *summary = only ? NumberValue(only->Count()) : CalcValue{};
      return;
    }
    DistinctSketch group;
    for (size_t b = 0; b < layout.count; ++b) {
      if (const DistinctSketch* sketch = SketchOf(bucket_slots[b])) group.Merge(*sketch);
    }
    if (group.approximate()) summary_approximate_ = true;
    *summary = NumberValue(group.Count());
  }

  size_t MemoryBytes() const override {
    return sketches_.capacity() * sizeof(DistinctSketch) + heap_bytes_;
  }

  // A slot, or a group summary finalized so far, went past the exact limit.
  bool approximate() const override {
    if (summary_approximate_) return true;
    return std::any_of(sketches_.begin(), sketches_.end(),
                       [](const DistinctSketch& s) { return s.approximate(); });
  }

 private:
  // Null for kNoSlot and for slots without values.
  const DistinctSketch* SketchOf(uint32_t slot) const {
    if (slot == kNoSlot || sketches_[slot].empty()) return nullptr;
    return &sketches_[slot];
  }

  std::vector<DistinctSketch> sketches_;
  size_t heap_bytes_ = 0;  // sum of sketches_[i].HeapBytes()
  mutable bool summary_approximate_ = false;
};

// ---------------------------------------------------------------------------------------------
// CONCURRENCY

// A span as the closed set of nanoseconds it is open at: [start, end) becomes
// [start, end - 1], and a zero-length (or inverted) span is open at its start instant only.
struct ClosedInterval {
  int64_t first_ns;
  int64_t last_ns;
};

class ConcurrencyAggregator final : public Aggregator {
 public:
  CalcOp op() const override { return CalcOp::kConcurrency; }
  AggInput input() const override { return AggInput::kInterval; }
  void Resize(size_t slots) override { intervals_.Resize(slots); }

  void AddIntervals(const uint32_t* slots, const int64_t* start_ns, const int64_t* end_ns,
                    size_t n) override {
    for (size_t k = 0; k < n; ++k) {
      const int64_t last = end_ns[k] > start_ns[k] ? end_ns[k] - 1 : start_ns[k];
      intervals_.Append(slots[k], ClosedInterval{start_ns[k], last});
    }
  }

  void MergeSlot(uint32_t slot, const Aggregator& other, uint32_t other_slot) override {
    SameKind<ConcurrencyAggregator>(*this, other)
        .intervals_.ForEachRun(other_slot, [&](const ClosedInterval* data, size_t n) {
          intervals_.AppendAll(slot, data, n);
        });
  }

  // Bucket i: the most of the group's spans (from any bucket) open at one instant of the
  // bucket; 0 when none is. Summary: the most over all buckets.
  void FinalizeGroup(const uint32_t* bucket_slots, const BucketLayout& layout, CalcValue* summary,
                     CalcValue* per_bucket) const override {
    std::vector<uint64_t> peaks = BucketPeaks(bucket_slots, layout);
    uint64_t overall = 0;
    for (size_t b = 0; b < layout.count; ++b) {
      overall = std::max(overall, peaks[b]);
      if (per_bucket) per_bucket[b] = NumberValue(static_cast<double>(peaks[b]));
    }
    *summary = NumberValue(static_cast<double>(overall));
  }

  size_t MemoryBytes() const override { return intervals_.MemoryBytes(); }

 private:
  // Sweep over sorted first/last instants. The open count at t is
  // #{first <= t} - #{last < t}; it only rises at a first instant, so a bucket's maximum is
  // reached at the bucket's start or at a first instant inside it.
  std::vector<uint64_t> BucketPeaks(const uint32_t* bucket_slots,
                                    const BucketLayout& layout) const {
    std::vector<int64_t> firsts, lasts;
    size_t total = 0;
    for (size_t b = 0; b < layout.count; ++b) {
      if (bucket_slots[b] != kNoSlot) total += intervals_.Count(bucket_slots[b]);
    }
    firsts.reserve(total);
    lasts.reserve(total);
    for (size_t b = 0; b < layout.count; ++b) {
      if (bucket_slots[b] == kNoSlot) continue;
      intervals_.ForEachRun(bucket_slots[b], [&](const ClosedInterval* data, size_t n) {
        for (size_t i = 0; i < n; ++i) {
          firsts.push_back(data[i].first_ns);
          lasts.push_back(data[i].last_ns);
        }
      });
    }
    std::sort(firsts.begin(), firsts.end());
    std::sort(lasts.begin(), lasts.end());

    size_t opened = 0;  // firsts <= the sweep instant
    size_t closed = 0;  // lasts < the sweep instant
    auto open_at = [&](int64_t t) -> uint64_t {
      while (opened < total && firsts[opened] <= t) ++opened;
      while (closed < total && lasts[closed] < t) ++closed;
      return opened - closed;
    };
    std::vector<uint64_t> peaks(layout.count, 0);
    for (size_t b = 0; b < layout.count; ++b) {
      const int64_t bucket_start = layout.start_ns + static_cast<int64_t>(b) * layout.width_ns;
      const int64_t bucket_end = bucket_start + layout.width_ns;
      uint64_t peak = open_at(bucket_start);
      while (opened < total && firsts[opened] < bucket_end) {
        peak = std::max(peak, open_at(firsts[opened]));
      }
      peaks[b] = peak;
    }
    return peaks;
  }

  SlotLists<ClosedInterval> intervals_;
};

}  // namespace

std::unique_ptr<Aggregator> MakeAggregator(CalcOp op) {
  switch (op) {
    case CalcOp::kCount: return std::make_unique<CountAggregator>();
    case CalcOp::kConcurrency: return std::make_unique<ConcurrencyAggregator>();
    case CalcOp::kSum: return std::make_unique<NumberStatsAggregator>(op, Statistic::kSum, false);
    case CalcOp::kAvg: return std::make_unique<NumberStatsAggregator>(op, Statistic::kAvg, false);
    case CalcOp::kMin: return std::make_unique<NumberStatsAggregator>(op, Statistic::kMin, false);
    case CalcOp::kMax: return std::make_unique<NumberStatsAggregator>(op, Statistic::kMax, false);
    case CalcOp::kRateAvg:
      return std::make_unique<NumberStatsAggregator>(op, Statistic::kAvg, true);
    case CalcOp::kRateSum:
      return std::make_unique<NumberStatsAggregator>(op, Statistic::kSum, true);
    case CalcOp::kRateMax:
      return std::make_unique<NumberStatsAggregator>(op, Statistic::kMax, true);
    case CalcOp::kCountDistinct: return std::make_unique<CountDistinctAggregator>();
    case CalcOp::kHeatmap: case CalcOp::kP001: case CalcOp::kP01: case CalcOp::kP05:
    case CalcOp::kP10: case CalcOp::kP20: case CalcOp::kP25: case CalcOp::kP50:
    case CalcOp::kP75: case CalcOp::kP80: case CalcOp::kP90: case CalcOp::kP95:
    case CalcOp::kP99: case CalcOp::kP999:
      return MakeStoredNumbersAggregator(op, std::make_shared<StoredNumbers>(), true);
  }
  assert(false && "unknown CalcOp");
  return std::make_unique<CountAggregator>();
}

std::vector<std::unique_ptr<Aggregator>> MakeAggregators(const std::vector<Calculation>& calcs) {
  std::vector<std::unique_ptr<Aggregator>> aggregators;
  // The store of each column read by a calculation that keeps values; few, searched linearly.
  std::vector<std::pair<std::string_view, std::shared_ptr<StoredNumbers>>> stores;
  for (const Calculation& calc : calcs) {
    if (!KeepsValues(calc.op)) {
      aggregators.push_back(MakeAggregator(calc.op));
      continue;
    }
    auto it = std::find_if(stores.begin(), stores.end(),
                           [&](const auto& store) { return store.first == calc.column; });
    const bool lead = it == stores.end();
    if (lead) it = stores.emplace(stores.end(), calc.column, std::make_shared<StoredNumbers>());
    aggregators.push_back(MakeStoredNumbersAggregator(calc.op, it->second, lead));
  }
  return aggregators;
}

}  // namespace waggle::query
