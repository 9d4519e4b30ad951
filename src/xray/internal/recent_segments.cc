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
  if (ways_ == 0)
    return;
  const size_t set = SetOf(HashOf(key));
  __builtin_prefetch(&headers_[set]);
  // The set's slots too, for writing: a new id overwrites one, a known id is updated.
  const char *first = reinterpret_cast<const char *>(&slots_[set * kWays]);
  const char *end = reinterpret_cast<const char *>(&slots_[set * kWays + ways_]);
  for (const char *p = first; p < end; p += 64)
    __builtin_prefetch(p, /*rw=*/1);
}

size_t RecentSegments::Lookup(const Key &key, uint64_t hash) const {
  const size_t set = SetOf(hash);
  const SetHeader &h = headers_[set];
  const auto tag = static_cast<uint32_t>(hash);
  for (size_t w = 0; w < ways_; ++w) {
    const size_t i = set * kWays + w;
    if (h.recorded[w] != 0 && h.tag[w] == tag && slots_[i].key == key) return i;
  }
  return kNotFound;
}

void RecentSegments::Record(const Key &key, std::string_view service, bool completed) {
  if (ways_ == 0)
    return;
  const uint64_t hash = HashOf(key);
  size_t index = Lookup(key, hash);
  if (index == kNotFound) { // a new id: an empty way, else the one recorded first
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
    index = set * kWays + way;
    slots_[index] = Slot{key, Entry{}};
  }
  Entry &entry = slots_[index].entry;
  if (!service.empty())
    entry.service = service;
  entry.completed = entry.completed || completed;
}

const RecentSegments::Entry *RecentSegments::Find(const Key &key) const {
  if (ways_ == 0)
    return nullptr;
  const size_t index = Lookup(key, HashOf(key));
  return index == kNotFound ? nullptr : &slots_[index].entry;
}

} // namespace waggle::xray_internal
