#include "query/internal/row_selector.h"

#include <algorithm>
#include <numeric>

namespace waggle::query::internal {

StatusOr<ColumnView> ColumnCache::Get(const std::string& name) {
  auto it = views_.find(name);
  if (it != views_.end()) return it->second;
  ASSIGN_OR_RETURN(ColumnView view, chunk_->Column(name));
  views_.emplace(name, view);
  return view;
}

StatusOr<ColumnView> ColumnCache::GetPresence(const std::string& name) {
  if (auto it = views_.find(name); it != views_.end()) return it->second;
  if (auto it = presence_views_.find(name); it != presence_views_.end()) return it->second;
  ASSIGN_OR_RETURN(ColumnView view, chunk_->ColumnPresence(name));
  presence_views_.emplace(name, view);
  return view;
}

RowSelector::RowSelector(int64_t start_ns, int64_t end_ns, const std::string& dataset,
                         const std::vector<Filter>& filters, FilterCombination combination,
                         const std::vector<Filter>& required)
    : start_ns_(start_ns), end_ns_(end_ns), filters_or_(combination == FilterCombination::kOr) {
  if (!dataset.empty() && dataset != kAllDatasets) {
    dataset_filter_ = std::make_unique<CompiledFilter>(
        Filter{"service.name", FilterOp::kEq, {Value::String(dataset)}});
  }
  for (const Filter& f : filters) filters_.emplace_back(f);
  for (const Filter& f : required) required_.emplace_back(f);
}

std::vector<std::string> RowSelector::Columns() const {
  std::vector<std::string> out;
  auto add = [&](const std::string& c) {
    if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
  };
  if (dataset_filter_) add(dataset_filter_->column());
  for (const CompiledFilter& f : required_) add(f.column());
  for (const CompiledFilter& f : filters_) add(f.column());
  return out;
}

Status RowSelector::Select(Chunk& chunk, ColumnCache& columns, std::vector<uint32_t>* rows) const {
  const size_t n = chunk.rows();
  rows->clear();
  if (chunk.StartsWithin(start_ns_, end_ns_)) {
    rows->resize(n);
    std::iota(rows->begin(), rows->end(), uint32_t{0});
  } else {
    ASSIGN_OR_RETURN(const int64_t* start, chunk.start_ns());
    for (size_t r = 0; r < n; ++r) {
      if (start[r] >= start_ns_ && start[r] < end_ns_) rows->push_back(static_cast<uint32_t>(r));
    }
  }
  auto narrow = [&](const CompiledFilter& f) -> Status {
    if (rows->empty()) return OkStatus();
    ASSIGN_OR_RETURN(ColumnView col, f.presence_only() ? columns.GetPresence(f.column())
                                                       : columns.Get(f.column()));
    f.Narrow(col, rows);
    return OkStatus();
  };
  if (dataset_filter_) RETURN_IF_ERROR(narrow(*dataset_filter_));
  for (const CompiledFilter& f : required_) RETURN_IF_ERROR(narrow(f));
  if (filters_.empty() || rows->empty()) return OkStatus();
  if (!filters_or_) {
    for (const CompiledFilter& f : filters_) RETURN_IF_ERROR(narrow(f));
    return OkStatus();
  }
  std::vector<uint8_t> match(rows->size(), 0);
  for (const CompiledFilter& f : filters_) {
    ASSIGN_OR_RETURN(ColumnView col, f.presence_only() ? columns.GetPresence(f.column())
                                                       : columns.Get(f.column()));
    f.MarkMatches(col, *rows, &match);
  }
  size_t kept = 0;
  for (size_t k = 0; k < rows->size(); ++k) {
    if (match[k]) (*rows)[kept++] = (*rows)[k];
  }
  rows->resize(kept);
  return OkStatus();
}

}  // namespace waggle::query::internal
