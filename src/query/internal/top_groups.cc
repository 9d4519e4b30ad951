#include "query/internal/top_groups.h"

#include <algorithm>

namespace waggle::query::internal {

void GroupExtremeThreshold::Offer(uint32_t slot, double key) {
  if (slot >= best_.size()) {
    best_.resize(slot + 1);
    listed_.resize(slot + 1, 0);
  }
  if (!listed_[slot]) {
    listed_[slot] = 1;
    best_[slot] = key;
    candidates_.push_back(slot);
  } else if (key > best_[slot]) {
    best_[slot] = key;
  }
}

void GroupExtremeThreshold::Settle() {
  if (candidates_.size() < keep_ || (active_ && candidates_.size() < 2 * keep_)) return;
  auto better = [this](uint32_t a, uint32_t b) { return best_[a] > best_[b]; };
  std::nth_element(candidates_.begin(), candidates_.begin() + static_cast<std::ptrdiff_t>(keep_ - 1),
                   candidates_.end(), better);
  threshold_ = best_[candidates_[keep_ - 1]];
  active_ = true;
  // Slots past keep_ are at or below the threshold; one that later offers a key >= threshold
  // is listed again with that key (its own earlier rows are below it, so its best stays exact
  // for ranking purposes).
  for (size_t i = keep_; i < candidates_.size(); ++i) listed_[candidates_[i]] = 0;
  candidates_.resize(keep_);
}

}  // namespace waggle::query::internal
