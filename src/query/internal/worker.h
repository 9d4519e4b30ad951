// QueryWorker: one executor thread's share of a query — consumes chunks into slots and
// aggregators. See executor.h for the whole plan.
//
// Thread-safety: a worker is used by one thread; after its thread joins, the executor reads it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "common/status.h"
#include "query/aggregate.h"
#include "query/chunk.h"
#include "query/internal/row_selector.h"
#include "query/internal/top_groups.h"
#include "query/query_spec.h"

namespace waggle::query::internal {

// Everything about a query that workers share, read-only.
struct PreparedQuery {
  QueryRequest request;
  std::vector<Calculation> calcs;
  std::unique_ptr<RowSelector> selector;
  TimeWindow window;
  BucketLayout layout;
  // Set when the answer is the `keep` best groups by calcs[calc] alone (see top_groups.h):
  // largest for MAX descending, smallest for MIN ascending.
  struct TopGroups {
    size_t calc;
    bool largest;
    size_t keep;
  };
  std::optional<TopGroups> top_groups;
};

class QueryWorker {
 public:
  explicit QueryWorker(const PreparedQuery& query);

  Status Consume(Chunk& chunk);

  size_t slots() const { return slot_keys_.size(); }
  std::string_view slot_key(uint32_t slot) const { return slot_keys_[slot]; }
  const Aggregator& aggregator(size_t calc) const { return *aggregators_[calc]; }
  Aggregator& aggregator(size_t calc) { return *aggregators_[calc]; }
  // Slot for `key`, created (and aggregators resized) on first sight.
  uint32_t SlotFor(std::string_view key);
  size_t MemoryBytes() const;
  const QueryStats& stats() const { return stats_; }

 private:
  static constexpr size_t kMaxFastBuckets = 1 << 16;
  static constexpr size_t kKeyBlockBytes = 64 << 10;
  // Copies `key` into the key arena (stable address).
  std::string_view StoreKey(std::string_view key);
  Status AssignSlots(Chunk& chunk, const std::vector<uint32_t>& rows);
  // Low-cardinality fast path for one or two breakdowns; returns the rows it assigned.
  // `start` may be null when the query has a single bucket.
  size_t AssignSlotsByIdentity(const int64_t* start, const std::vector<ColumnView>& cols,
                               const std::vector<uint32_t>& rows);
  // Chunk-local id of row's value in breakdown column c (see AssignSlotsByIdentity).
  uint32_t LocalValueId(size_t c, const ColumnView& col, uint32_t row);
  uint32_t SlotForRow(const std::vector<ColumnView>& cols, uint32_t row, uint32_t bucket);
  Status Feed(Chunk& chunk, size_t calc, const std::vector<uint32_t>& rows);
  // Top-groups pushdown: drops rows_ that cannot reach the kept groups, keeping each kept
  // row's key in bound_keys_ (NaN when it has no number); then offers the keys by slot.
  Status DropRowsOutsideTopGroups();
  void OfferToTopGroups();

  const PreparedQuery& query_;
  std::vector<std::unique_ptr<Aggregator>> aggregators_;  // one set (MakeAggregators)
  std::vector<std::string_view> slot_keys_;  // into key_blocks_
  std::vector<std::unique_ptr<char[]>> key_blocks_;
  char* key_next_ = nullptr;
  size_t key_left_ = 0;
  absl::flat_hash_map<absl::string_view, uint32_t> slot_of_key_;
  size_t key_bytes_ = 0;
  std::vector<uint32_t> bucket_slot_;  // no breakdowns: slot per bucket (kNoSlot = none yet)
  QueryStats stats_;
  std::optional<GroupExtremeThreshold> top_threshold_;
  std::vector<double> bound_keys_;

  // Per-chunk scratch, reused.
  ColumnCache columns_;
  std::vector<uint32_t> rows_;
  std::vector<uint32_t> slots_;
  std::vector<uint32_t> fed_slots_;
  std::vector<double> numbers_;
  std::vector<uint64_t> hashes_;
  std::vector<int64_t> starts_, ends_;
  std::string key_;
  absl::flat_hash_map<std::pair<uint64_t, uint64_t>, uint32_t> local_ids_[2];
  std::vector<int64_t> sparse_starts_;  // AssignSlots: start times of a chunk's few rows
  std::vector<uint32_t> code_ids_[2];  // dictionary code → local id (slot, on the all-codes path)
  uint32_t next_local_id_[2] = {0, 0};
  std::vector<uint32_t> slot_of_local_id_;
  std::vector<uint32_t> slot_of_code_bucket_;
  absl::flat_hash_map<uint64_t, uint32_t> packed_slot_;
};

}  // namespace waggle::query::internal
