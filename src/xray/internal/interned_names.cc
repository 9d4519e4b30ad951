#include "xray/internal/interned_names.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_set.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace waggle::xray_internal {
namespace {

// The process-wide table. Never destroyed, so views into it stay valid during
// static destruction too. node_hash_set: an entry's string never moves.
struct Table {
  absl::Mutex mu;
  absl::node_hash_set<std::string> names ABSL_GUARDED_BY(mu);
};

Table &GlobalTable() {
  static Table *table = new Table();
  return *table;
}

std::string_view InternGlobal(std::string_view name) {
  Table &t = GlobalTable();
  absl::MutexLock lock(&t.mu);
  auto it = t.names.find(absl::string_view(name.data(), name.size()));
  if (it != t.names.end())
    return *it;
  if (t.names.size() >= kMaxInternedNames)
    return {};
  return *t.names.emplace(name).first;
}

// A quick hash of `s` for the direct-mapped cache: its length and its first and
// last 8 bytes (names that differ only in between share a slot, which costs a
// miss, never a wrong answer: hits compare the whole name).
size_t QuickHash(std::string_view s) {
  uint64_t h = s.size() * 0x9E3779B97F4A7C15ull;
  if (s.size() >= 8) {
    uint64_t head, tail;
    std::memcpy(&head, s.data(), 8);
    std::memcpy(&tail, s.data() + s.size() - 8, 8);
    h = (h ^ head) * 0xff51afd7ed558ccdull;
    h = (h ^ tail ^ (h >> 29)) * 0xc4ceb9fe1a85ec53ull;
  } else {
    for (char c : s)
      h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  }
  return static_cast<size_t>(h ^ (h >> 32));
}

} // namespace

std::string_view InternName(std::string_view name) {
  // Per thread, first: the most recent name per slot, a view into the global
  // table (the few names of a workload hit here without hashing the whole
  // name or probing a map). Empty slots never match: `name` is never empty
  // there (an empty name goes on to the map).
  constexpr size_t kRecentSlots = 512;
  thread_local std::array<std::string_view, kRecentSlots> recent;
  std::string_view &slot = recent[QuickHash(name) % kRecentSlots];
  if (!name.empty() && slot == name)
    return slot;
  // Then: name -> view into the global table (the cache's own keys may
  // move; its values do not). Bounded like the table; cleared when full.
  thread_local absl::flat_hash_map<std::string, std::string_view> cache;
  auto it = cache.find(absl::string_view(name.data(), name.size()));
  if (it != cache.end()) {
    slot = it->second;
    return it->second;
  }
  std::string_view interned = InternGlobal(name);
  if (interned.empty())
    return {};
  if (cache.size() >= kMaxInternedNames)
    cache.clear();
  cache.emplace(name, interned);
  slot = interned;
  return interned;
}

} // namespace waggle::xray_internal
