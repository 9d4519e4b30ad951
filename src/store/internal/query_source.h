// The embedded store's ChunkSource (query/chunk.h): chunks over in-memory heads (slices of
// kHeadChunkRows rows) and segment blocks, exposing the fixed columns under their Honeycomb
// names (see QueryColumnFor) and attributes by key.
//
// Lifetime and threading: the source holds shared_ptrs to every head and segment of the read
// snapshot, so tasks stay valid after the store's lock is released. Frozen heads and segments
// are immutable and read lazily on the executor's threads. The active head is mutable: its
// chunks are materialised eagerly while the caller holds the store's lock (AddActiveHead).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "query/chunk.h"
#include "store/internal/head.h"
#include "store/internal/segment_reader.h"

namespace waggle::store_internal {

inline constexpr size_t kHeadChunkRows = 16384;

class StoreChunkSource final : public query::ChunkSource {
 public:
  // PlanScan first calls `fill` with the plan; it adds the snapshot's heads and segments,
  // holding the store's lock while it does.
  using Filler = std::function<void(StoreChunkSource&, const query::ScanPlan&)>;
  explicit StoreChunkSource(Filler fill) : fill_(std::move(fill)) {}

  // The active head's columns named by the plan are copied now: call with the store's lock held.
  void AddActiveHead(std::shared_ptr<const Head> head, const query::ScanPlan& plan);
  void AddFrozenHead(std::shared_ptr<const Head> head) { frozen_.push_back(std::move(head)); }
  void AddSegment(std::shared_ptr<Segment> segment) { segments_.push_back(std::move(segment)); }

  std::vector<query::ChunkTask> PlanScan(const query::ScanPlan& plan) override;
  uint64_t chunks_pruned() const override { return pruned_; }

 private:
  Filler fill_;
  std::vector<std::shared_ptr<query::Chunk>> active_chunks_;
  std::vector<std::shared_ptr<const Head>> frozen_;
  std::vector<std::shared_ptr<Segment>> segments_;
  uint64_t pruned_ = 0;
};

}  // namespace waggle::store_internal
