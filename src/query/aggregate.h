// Aggregators: the per-calculation state of a running query, kept for many "slots" at once
// (one slot per (group, time bucket) a worker has seen), fed column-wise.
//
// Contract:
// - The executor owns slot numbering: Resize(n) makes slots [0, n) exist (new ones empty);
//   slots never shrink.
// - Inputs come in batches of parallel arrays; `slots[k]` is the slot row k belongs to.
//   Which Add* an aggregator takes is fixed by its op (Input() below); rows whose value is
//   not of the input kind (e.g. a string for SUM) are not passed at all.
// - MergeSlot folds another aggregator's slot (same op, e.g. another worker's) into one of ours.
// - Aggregators made together by MakeAggregators may share state (see there); such a set is
//   used as a whole: every member is resized and merged with its counterpart of another set
//   made from the same calculations.
// - FinalizeGroup turns the slots of one group, one per time bucket (kNoSlot where the group
//   had no rows in that bucket), into the group's summary value and one value per bucket.
//
// Exactness: COUNT, SUM, AVG, MIN, MAX, percentiles (nearest rank: the smallest value v with
// at least ceil(q*n) values <= v), HEATMAP and CONCURRENCY are exact. COUNT_DISTINCT is exact up
// to kCountDistinctExactLimit distinct values per slot, then HyperLogLog (precision 14,
// relative standard error kCountDistinctRelativeError) and reports approximate().
//
// Thread-safety: an Aggregator, and the whole set it was made with by MakeAggregators, is used
// by one thread at a time (const calls included: finalisation fills shared caches).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "query/query_spec.h"

namespace waggle::query {

inline constexpr uint32_t kNoSlot = UINT32_MAX;
inline constexpr size_t kHeatmapBuckets = 50;

// What an aggregator consumes per row.
enum class AggInput : uint8_t {
  kNone,      // COUNT: only the slot
  kNumber,    // SUM AVG MIN MAX P* HEATMAP RATE_*: the value as a double (ints converted)
  kHash,      // COUNT_DISTINCT: a 64-bit hash of the typed value (hash.h: HashString, HashInt, ...)
  kInterval,  // CONCURRENCY: the row's [start_ns, end_ns)
  kShared,    // nothing: another aggregator of its set takes the values (MakeAggregators)
};

// Time buckets of a query: bucket i covers [start_ns + i*width_ns, ...).
struct BucketLayout {
  int64_t start_ns = 0;
  int64_t width_ns = 1;
  size_t count = 1;
};

class Aggregator {
 public:
  virtual ~Aggregator() = default;

  virtual CalcOp op() const = 0;
  virtual AggInput input() const = 0;
  virtual void Resize(size_t slots) = 0;

  virtual void AddCount(const uint32_t* slots, size_t n);
  virtual void AddNumbers(const uint32_t* slots, const double* values, size_t n);
  virtual void AddHashes(const uint32_t* slots, const uint64_t* hashes, size_t n);
  virtual void AddIntervals(const uint32_t* slots, const int64_t* start_ns,
                            const int64_t* end_ns, size_t n);

  // `other` has the same op().
  virtual void MergeSlot(uint32_t slot, const Aggregator& other, uint32_t other_slot) = 0;

  // HEATMAP needs one value range for the whole query: the executor calls ExtendRange on
  // every final aggregator, then SetHeatmapRange with the union, before FinalizeGroup.
  virtual void ExtendRange(double* lo, double* hi) const { (void)lo; (void)hi; }
  virtual void SetHeatmapRange(double lo, double hi) { (void)lo; (void)hi; }

  // `bucket_slots` has layout.count entries. `per_bucket` (may be null: no series wanted)
  // receives layout.count values.
  virtual void FinalizeGroup(const uint32_t* bucket_slots, const BucketLayout& layout,
                             CalcValue* summary, CalcValue* per_bucket) const = 0;

  // Heap bytes held (for the query memory budget).
  virtual size_t MemoryBytes() const = 0;
  // Some slot's answer is approximate (COUNT_DISTINCT past the exact limit).
  virtual bool approximate() const { return false; }
};

// One aggregator for `op` alone.
std::unique_ptr<Aggregator> MakeAggregator(CalcOp op);

// The aggregators of one query's calculations, index-aligned with `calcs`. The percentiles
// (P001..P999) and HEATMAPs of one column share one store of its values: the first of them
// (the lead) takes the values (input() kNumber), merges them in MergeSlot and counts them in
// MemoryBytes; the others take nothing (kShared), merge nothing and count nothing. All the
// percentiles a store serves are computed together, once per group: finalising the group for
// one of them caches the rest until the store or the group changes.
std::vector<std::unique_ptr<Aggregator>> MakeAggregators(const std::vector<Calculation>& calcs);

}  // namespace waggle::query
