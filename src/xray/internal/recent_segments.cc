#include "xray/internal/recent_segments.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace waggle::xray_internal {
namespace {

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
  ways_ = std::min(capacity, kWays); // a capacity up to kWays is one set: exactly FIFO
  const size_t sets = capacity <= kWays ? 1 : std::bit_ceil((capacity + kWays - 1) / kWays);
  set_mask_ = sets - 1;
  headers_.resize(sets);
  slots_.resize(sets * kWays);
}

void RecentSegments::Prefetch(const Key &key) const {
  if (ways_ != 0)
    __builtin_prefetch(&headers_[SetOf(HashOf(key))]);
}

const RecentSegments::Slot *RecentSegments::Lookup(const Key &key, uint64_t hash) const {
  const size_t set = SetOf(hash);
  const SetHeader &h = headers_[set];
  const auto tag = static_cast<uint32_t>(hash);
  for (size_t w = 0; w < ways_; ++w) {
    if (h.recorded[w] != 0 && h.tag[w] == tag && slots_[set * kWays + w].key == key)
      return &slots_[set * kWays + w];
  }
  return nullptr;
}

void RecentSegments::Record(const Key &key, std::string_view service, bool completed) {
  if (ways_ == 0)
    return;
  const uint64_t hash = HashOf(key);
  Slot *target = const_cast<Slot *>(Lookup(key, hash));
  if (target == nullptr) { // a new id: an empty way, else the one recorded first
    const size_t set = SetOf(hash);
    SetHeader &h = headers_[set];
    size_t way = 0;
    for (size_t w = 0; w < ways_; ++w) {
      if (h.recorded[w] == 0) {
        way = w;
        break;
      }
      if (next_stamp_ - h.recorded[w] > next_stamp_ - h.recorded[way])
        way = w;
    }
    h.tag[way] = static_cast<uint32_t>(hash);
    h.recorded[way] = next_stamp_;
    next_stamp_ = next_stamp_ + 1 == 0 ? 1 : next_stamp_ + 1;
    target = &slots_[set * kWays + way];
    *target = Slot{key, Entry{}};
  }
  if (!service.empty())
    target->entry.service = service;
  target->entry.completed = target->entry.completed || completed;
}

const RecentSegments::Entry *RecentSegments::Find(const Key &key) const {
  if (ways_ == 0)
    return nullptr;
  const Slot *slot = Lookup(key, HashOf(key));
  return slot == nullptr ? nullptr : &slot->entry;
}

} // namespace waggle::xray_internal
