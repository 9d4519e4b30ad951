#include "xray/internal/datagram_batch.h"

#include <algorithm>
#include <cstring>

namespace waggle::xray_internal {

char *DatagramBatch::Reserve(size_t bytes) {
  if (capacity_ - used_ < bytes) {
    const size_t capacity = std::max(used_ + bytes, 2 * capacity_);
    std::unique_ptr<char[]> grown(new char[capacity]); // uninitialised: see the header
    if (used_ > 0)
      std::memcpy(grown.get(), buffer_.get(), used_);
    buffer_ = std::move(grown);
    capacity_ = capacity;
  }
  return buffer_.get() + used_;
}

void DatagramBatch::Add(size_t offset, size_t length) {
  std::memset(buffer_.get() + offset + length, ' ', kPadding);
  runs_.push_back({static_cast<uint32_t>(offset), static_cast<uint32_t>(offset + length)});
}

void DatagramBatch::AppendJoined(size_t head_offset, size_t head_length, std::string_view tail) {
  const size_t length = head_length + tail.size();
  char *to = Reserve(length + kPadding); // may move the buffer: the head is copied after
  if (head_length > 0)
    std::memcpy(to, buffer_.get() + head_offset, head_length);
  if (!tail.empty())
    std::memcpy(to + head_length, tail.data(), tail.size());
  const size_t offset = used_;
  Commit(length + kPadding);
  Add(offset, length);
}

} // namespace waggle::xray_internal
