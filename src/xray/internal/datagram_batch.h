// DatagramBatch: datagrams received into one buffer (waggle_xray-internal).
//
// Datagram i is a run of the buffer, and at least kPadding more bytes of the buffer follow it
// (spaces), so a parser that reads ahead in blocks (simdjson) can parse it where it lies.
// Datagrams keep the order they were added in but need not be adjacent: the receiver lets the
// kernel write each into a fixed-size slot and leaves a slot's unused tail in place.
//
// The buffer grows without initialising its new bytes (only what the kernel or Append writes
// is read), and Clear keeps it, so a recycled batch is filled without allocation or page faults.
//
// Thread-safety: none; one thread at a time (the daemon hands batches between threads under
// its mutex).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace waggle::xray_internal {

class DatagramBatch {
public:
  static constexpr size_t kPadding = 64;

  size_t size() const { return runs_.size(); }
  std::string_view operator[](size_t i) const {
    return std::string_view(buffer_.get() + runs_[i].begin, runs_[i].end - runs_[i].begin);
  }
  // Buffer bytes in use (what the batch costs while queued) and allocated.
  size_t used_bytes() const { return used_; }
  size_t capacity_bytes() const { return capacity_; }
  // Forgets the datagrams, keeps the buffer.
  void Clear() {
    used_ = 0;
    runs_.clear();
  }

  // Makes room for `bytes` past the bytes in use and returns where they start: the caller
  // writes there, then commits what it used. Valid until the next Reserve or Append.
  char *Reserve(size_t bytes);
  // Marks `bytes` past the end as in use. REQUIRES: a Reserve of at least that many since.
  void Commit(size_t bytes) { used_ += bytes; }
  // Adds the datagram at [offset, offset + length) of the buffer and writes its padding.
  // REQUIRES: offset + length + kPadding <= used_bytes().
  void Add(size_t offset, size_t length);
  // Adds a datagram made of the `head_length` bytes at `head_offset` in the buffer followed by
  // `tail` (not in the buffer), copied together to the end with their padding.
  void AppendJoined(size_t head_offset, size_t head_length, std::string_view tail);
  // Adds a copy of `datagram` at the end.
  void Append(std::string_view datagram) { AppendJoined(0, 0, datagram); }

private:
  struct Run {
    uint32_t begin, end;
  };
  std::unique_ptr<char[]> buffer_;
  size_t used_ = 0;
  size_t capacity_ = 0;
  std::vector<Run> runs_;
};

} // namespace waggle::xray_internal
