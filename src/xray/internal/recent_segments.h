// RecentSegments: what the ingester remembers about recently seen (sub)segment
// ids (waggle_xray-internal): the service each belongs to, so that a subsegment
// sent on its own (whose document names no segment) gets its segment's service
// name, and whether the document whose top-level id it is was completed, so
// that an in-progress document arriving after its completed one is recognised
// as late.
//
// Bounded: a set-associative table (sets of 4 ids chosen by the id's hash, a
// power of two of them, 1 to 2 x `capacity` slots in all; a capacity of 4 or
// less is one set of `capacity` slots, exactly FIFO). Recording a new id into a
// full set forgets the id recorded first in that set; re-recording an id
// updates it in place without refreshing it. So the table keeps about the last
// `capacity` ids: nearly every one of the last capacity/10, hardly any older
// than 10 x capacity (recent_segments_test.cc). Record and Find read one set
// header (tags and stamps of its ids, one cache line) and at most the slot of a
// matching id; they never erase or rehash.
//
// Thread-safety: not thread-safe; the ingester guards it with its mutex.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "model/span.h"

namespace waggle::xray_internal {

class RecentSegments {
public:
  using Key = std::pair<TraceId, SpanId>;
  struct Entry {
    std::string_view
        service; // empty: unknown. Views must outlive the table (interned).
    bool completed =
        false; // a completed document with this top-level id was seen
  };

  explicit RecentSegments(size_t capacity);

  // Records `key`. A non-empty `service` replaces the known one; `completed` is
  // sticky.
  void Record(const Key &key, std::string_view service, bool completed);
  // The entry for `key`, or nullptr. Valid until the next Record.
  const Entry *Find(const Key &key) const;
  // Hints that `key` is recorded or looked up soon (loads its set's header and slots).
  void Prefetch(const Key &key) const;

private:
  static constexpr size_t kWays = 4;
  // A set's bookkeeping, apart from its slots so that recording a new id reads
  // one cache line: per way the key's hash tag and when it was recorded (0:
  // empty; stamps compare modulo 2^32).
  struct SetHeader {
    uint32_t tag[kWays] = {};
    uint32_t recorded[kWays] = {};
  };
  struct Slot {
    Key key{};
    Entry entry;
  };

  static constexpr size_t kNotFound = ~size_t{0};
  // The set of a key's hash (its high half; the low half is the key's tag).
  size_t SetOf(uint64_t hash) const { return (hash >> 32) & set_mask_; }
  // The index in slots_ of the slot holding `key`, or kNotFound.
  size_t Lookup(const Key &key, uint64_t hash) const;

  size_t ways_ = 0;                // ways in use per set: kWays, or the capacity if smaller
  size_t set_mask_ = 0;            // sets - 1 (a power of two)
  std::vector<SetHeader> headers_; // one per set
  std::vector<Slot> slots_;        // set s has slots_[s * kWays, s * kWays + ways_)
  uint32_t next_stamp_ = 1;        // never 0; wraps after 2^32 records
};

} // namespace waggle::xray_internal
