// RowSelector: which rows of a chunk a query reads — the time window, the dataset, the
// query's filters (AND or OR) and any filters that always apply (AND).
//
// Thread-safety: immutable after construction; Select may run on many threads at once (each
// with its own ColumnCache).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "common/status.h"
#include "query/chunk.h"
#include "query/internal/filter_eval.h"
#include "query/query_spec.h"

namespace waggle::query::internal {

// Column views of the chunk being processed, each fetched once per chunk.
class ColumnCache {
 public:
  void Reset(Chunk* chunk) {
    chunk_ = chunk;
    views_.clear();
    presence_views_.clear();
  }
  StatusOr<ColumnView> Get(const std::string& name);
  // Types only (see Chunk::ColumnPresence); the full view when it is already fetched.
  StatusOr<ColumnView> GetPresence(const std::string& name);

 private:
  Chunk* chunk_ = nullptr;
  absl::flat_hash_map<std::string, ColumnView> views_;
  absl::flat_hash_map<std::string, ColumnView> presence_views_;
};

class RowSelector {
 public:
  RowSelector(int64_t start_ns, int64_t end_ns, const std::string& dataset,
              const std::vector<Filter>& filters, FilterCombination combination,
              const std::vector<Filter>& required = {});

  // Rows of the cache's chunk that pass, ascending.
  Status Select(Chunk& chunk, ColumnCache& columns, std::vector<uint32_t>* rows) const;
  // Every column Select reads.
  std::vector<std::string> Columns() const;
  bool has_dataset() const { return dataset_filter_ != nullptr; }

 private:
  int64_t start_ns_, end_ns_;
  std::unique_ptr<CompiledFilter> dataset_filter_;  // service.name = dataset; null for __all__
  std::vector<CompiledFilter> filters_;
  bool filters_or_;
  std::vector<CompiledFilter> required_;
};

}  // namespace waggle::query::internal
