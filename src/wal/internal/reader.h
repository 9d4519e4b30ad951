// Sequential reader of one WAL file, used by replay. Internal to src/wal.
//
// Reads through a bounded buffer (max(1 MiB, largest record) bytes), so a file of any size is
// replayed in bounded memory. Not thread-safe; one reader per file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "env/env.h"

namespace waggle::wal_internal {

class FileReader {
 public:
  enum class Result {
    kRecord,   // *record is the next intact record
    kEof,      // clean end of file
    kTorn,     // a frame that reaches the end of the file is incomplete or fails its CRC
    kCorrupt,  // a bad frame followed by more bytes (mid-file corruption)
  };

  // `file` must outlive the reader. Records longer than max_record_bytes are bad framing.
  FileReader(const RandomAccessFile* file, uint32_t max_record_bytes);

  // Checks the file header. Returns kRecord when it is intact (reading may go on), kTorn when
  // the file ends inside the header, kCorrupt for a wrong magic or file sequence. An unknown
  // format version is an error (FailedPrecondition), not corruption.
  StatusOr<Result> ReadHeader(uint64_t expected_seq);

  // Reads the next record. `*record` stays valid until the next call. After kTorn or
  // kCorrupt, remaining_bytes() is the number of bytes from the bad frame to the end of file.
  StatusOr<Result> Next(std::string_view* record);

  uint64_t offset() const { return offset_; }
  uint64_t remaining_bytes() const { return size_ - offset_; }

 private:
  // Makes [offset_, offset_ + n) available in the buffer (n <= size_ - offset_).
  StatusOr<const char*> Fetch(size_t n);

  const RandomAccessFile* const file_;
  const uint32_t max_record_bytes_;
  const uint64_t size_;
  uint64_t offset_ = 0;      // file offset of the next unread byte
  std::string buf_;          // scratch for reads
  std::string_view window_;  // bytes of the file starting at window_offset_
  uint64_t window_offset_ = 0;
};

}  // namespace waggle::wal_internal
