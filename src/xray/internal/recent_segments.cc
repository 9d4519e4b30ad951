#include "xray/internal/recent_segments.h"

namespace waggle::xray_internal {

void RecentSegments::Record(const Key &key, std::string_view service,
                            bool completed) {
  if (capacity_ == 0)
    return;
  auto [it, inserted] = map_.try_emplace(key);
  if (!service.empty())
    it->second.service = service;
  it->second.completed = it->second.completed || completed;
  if (!inserted)
    return;
  order_.push_back(key);
  if (order_.size() > capacity_) {
    map_.erase(order_.front());
    order_.pop_front();
  }
}

const RecentSegments::Entry *RecentSegments::Find(const Key &key) const {
  auto it = map_.find(key);
  return it == map_.end() ? nullptr : &it->second;
}

} // namespace waggle::xray_internal
