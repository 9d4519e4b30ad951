#include "xray/internal/interned_names.h"

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

} // namespace

std::string_view InternName(std::string_view name) {
  // Per thread: name -> view into the global table (the cache's own keys may
  // move; its values do not). Bounded like the table; cleared when full.
  thread_local absl::flat_hash_map<std::string, std::string_view> cache;
  auto it = cache.find(absl::string_view(name.data(), name.size()));
  if (it != cache.end())
    return it->second;
  std::string_view interned = InternGlobal(name);
  if (interned.empty())
    return {};
  if (cache.size() >= kMaxInternedNames)
    cache.clear();
  cache.emplace(name, interned);
  return interned;
}

} // namespace waggle::xray_internal
