#include "xray/internal/recent_segments.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace waggle::xray_internal {
namespace {

constexpr size_t kMaxWays = 4;

uint64_t HashOf(const RecentSegments::Key &key) {
  // Trace and span ids are random (W3C and X-Ray ids both carry random bits), so a few of
  // their bytes mixed by a multiply spread keys evenly over the sets.
  uint64_t t, s;
  std::memcpy(&t, key.first.data() + 8, sizeof(t));
  std::memcpy(&s, key.second.data(), sizeof(s));
  return (t ^ (s * 0x9E3779B97F4A7C15ull)) * 0xBF58476D1CE4E5B9ull;
}

} // namespace

RecentSegments::RecentSegments(size_t capacity) {
  if (capacity == 0)
    return;
  if (capacity <= kMaxWays) { // one set: exactly FIFO
    ways_ = capacity;
    slots_.resize(capacity);
    return;
  }
  ways_ = kMaxWays;
  const size_t sets = std::bit_ceil((capacity + ways_ - 1) / ways_);
  set_mask_ = sets - 1;
  slots_.resize(sets * ways_);
}

size_t RecentSegments::SetOf(const Key &key) const {
  return ((HashOf(key) >> 32) & set_mask_) * ways_;
}

void RecentSegments::Record(const Key &key, std::string_view service,
                            bool completed) {
  if (ways_ == 0)
    return;
  Slot *set = &slots_[SetOf(key)];
  Slot *target = nullptr;
  for (size_t w = 0; w < ways_; ++w) {
    if (set[w].recorded != 0 && set[w].key == key) {
      target = &set[w];
      break;
    }
  }
  if (target == nullptr) { // a new id: take an empty slot, else the first recorded
    target = &set[0];
    for (size_t w = 0; w < ways_; ++w) {
      if (set[w].recorded == 0) {
        target = &set[w];
        break;
      }
      // Stamps compare modulo 2^32: older means further behind next_stamp_.
      if (next_stamp_ - set[w].recorded > next_stamp_ - target->recorded)
        target = &set[w];
    }
    *target = Slot{key, Entry{}, next_stamp_};
    next_stamp_ = next_stamp_ + 1 == 0 ? 1 : next_stamp_ + 1;
  }
  if (!service.empty())
    target->entry.service = service;
  target->entry.completed = target->entry.completed || completed;
}

const RecentSegments::Entry *RecentSegments::Find(const Key &key) const {
  if (ways_ == 0)
    return nullptr;
  const Slot *set = &slots_[SetOf(key)];
  for (size_t w = 0; w < ways_; ++w) {
    if (set[w].recorded != 0 && set[w].key == key)
      return &set[w].entry;
  }
  return nullptr;
}

} // namespace waggle::xray_internal
