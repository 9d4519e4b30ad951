// Top-groups pushdown: when a query keeps only its `keep` best groups by one MAX (or MIN)
// calculation and computes nothing else, a row can matter only if its value reaches the
// keep-th best group extreme. GroupExtremeThreshold tracks that bound while a worker scans,
// so the worker skips the other rows before grouping them.
//
// Why skipping is exact: the threshold T never exceeds the keep-th best extreme among all
// rows (a worker sees a subset, and T only rises). Every group whose extreme is >= the final
// T has its extreme row admitted (that row was >= T when it was seen), so its MAX/MIN comes
// out exact; groups with a smaller extreme may come out partial, but at least `keep` groups
// (ties included) outrank them, so the answer's groups and values are those of a full scan.
//
// Thread-safety: one instance per worker thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace waggle::query::internal {

class GroupExtremeThreshold {
 public:
  // keep >= 1. Keys are "larger is better" (a MIN query negates its values).
  explicit GroupExtremeThreshold(size_t keep) : keep_(keep) {}

  // False once `keep` groups are known whose best key exceeds `key`; NaN never may enter once
  // the threshold is active.
  bool MayEnter(double key) const { return !active_ || key >= threshold_; }
  bool active() const { return active_; }
  double threshold() const { return threshold_; }

  // Records that group `slot` has a row with `key` (not NaN).
  void Offer(uint32_t slot, double key);
  // Raises the threshold from the groups offered so far; cheap to call after every batch
  // (amortised O(1) per offer: it sorts only when the candidate list has doubled).
  void Settle();

 private:
  size_t keep_;
  bool active_ = false;
  double threshold_ = 0;
  std::vector<double> best_;       // per slot; meaningful only while listed_
  std::vector<uint8_t> listed_;    // per slot: in candidates_
  std::vector<uint32_t> candidates_;  // every slot whose best may still be >= threshold_
};

}  // namespace waggle::query::internal
