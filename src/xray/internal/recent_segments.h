// RecentSegments: what the ingester remembers about recently seen (sub)segment
// ids (waggle_xray-internal): the service each belongs to, so that a subsegment
// sent on its own (whose document names no segment) gets its segment's service
// name, and whether the document whose top-level id it is was completed, so
// that an in-progress document arriving after its completed one is recognised
// as late.
//
// Bounded: at most `capacity` ids; recording a new id beyond that forgets the
// one recorded first (FIFO by first recording; re-recording an id updates it in
// place without refreshing it).
//
// Thread-safety: not thread-safe; the ingester guards it with its mutex.
#pragma once

#include <cstddef>
#include <deque>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
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

  explicit RecentSegments(size_t capacity) : capacity_(capacity) {}

  // Records `key`. A non-empty `service` replaces the known one; `completed` is
  // sticky.
  void Record(const Key &key, std::string_view service, bool completed);
  // The entry for `key`, or nullptr. Valid until the next Record.
  const Entry *Find(const Key &key) const;
  size_t size() const { return map_.size(); }

private:
  const size_t capacity_;
  absl::flat_hash_map<Key, Entry> map_;
  std::deque<Key>
      order_; // invariant: the keys of map_, in order of first recording
};

} // namespace waggle::xray_internal
