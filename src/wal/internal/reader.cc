#include "wal/internal/reader.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "wal/internal/format.h"

namespace waggle::wal_internal {
namespace {

constexpr size_t kReadChunk = 1 << 20;

}  // namespace

std::string FileName(uint64_t seq) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "wal-%016llx.log", static_cast<unsigned long long>(seq));
  return buf;
}

bool ParseFileName(std::string_view name, uint64_t* seq) {
  constexpr std::string_view kPrefix = "wal-", kSuffix = ".log";
  if (name.size() != kPrefix.size() + 16 + kSuffix.size()) return false;
  if (name.substr(0, kPrefix.size()) != kPrefix) return false;
  if (name.substr(kPrefix.size() + 16) != kSuffix) return false;
  uint64_t v = 0;
  for (char c : name.substr(kPrefix.size(), 16)) {
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else return false;
    v = v << 4 | static_cast<uint64_t>(d);
  }
  *seq = v;
  return true;
}

FileReader::FileReader(const RandomAccessFile* file, uint32_t max_record_bytes)
    : file_(file), max_record_bytes_(max_record_bytes), size_(file->Size()) {}

StatusOr<const char*> FileReader::Fetch(size_t n) {
  if (offset_ >= window_offset_ && offset_ + n <= window_offset_ + window_.size()) {
    return window_.data() + (offset_ - window_offset_);
  }
  size_t want = static_cast<size_t>(std::min<uint64_t>(std::max(n, kReadChunk), size_ - offset_));
  if (buf_.size() < want) buf_.resize(want);
  ASSIGN_OR_RETURN(window_, file_->Read(offset_, want, buf_.data()));
  window_offset_ = offset_;
  if (window_.size() < n) {
    return absl::DataLossError(absl::StrCat("WAL file shrank while reading at offset ", offset_));
  }
  return window_.data();
}

StatusOr<FileReader::Result> FileReader::ReadHeader(uint64_t expected_seq) {
  if (size_ < kFileHeaderSize) return Result::kTorn;
  ASSIGN_OR_RETURN(const char* p, Fetch(kFileHeaderSize));
  if (std::string_view(p, sizeof(kMagic)) != std::string_view(kMagic, sizeof(kMagic))) {
    return Result::kCorrupt;
  }
  uint16_t version = static_cast<uint16_t>(static_cast<uint8_t>(p[6]) |
                                           static_cast<uint8_t>(p[7]) << 8);
  if (version != kFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "unsupported WAL format version ", version, " (this build reads version ",
        kFormatVersion, ")"));
  }
  if (GetFixed64(p + 8) != expected_seq) return Result::kCorrupt;
  offset_ = kFileHeaderSize;
  return Result::kRecord;
}

StatusOr<FileReader::Result> FileReader::Next(std::string_view* record) {
  const uint64_t left = size_ - offset_;
  if (left == 0) return Result::kEof;
  if (left < kRecordHeaderSize) return Result::kTorn;
  ASSIGN_OR_RETURN(const char* h, Fetch(kRecordHeaderSize));
  const uint32_t length = GetFixed32(h + 4);
  const uint8_t type = static_cast<uint8_t>(h[8]);
  const uint64_t frame = kRecordHeaderSize + uint64_t{length};
  const bool reaches_end = frame >= left;
  if (type != kFullRecord || length > max_record_bytes_) {
    return reaches_end ? Result::kTorn : Result::kCorrupt;
  }
  if (frame > left) return Result::kTorn;
  ASSIGN_OR_RETURN(const char* p, Fetch(static_cast<size_t>(frame)));
  const uint32_t expected = crc32c::Unmask(GetFixed32(p));
  const uint32_t actual = crc32c::Value(p + 4, static_cast<size_t>(frame) - 4);
  if (expected != actual) return reaches_end ? Result::kTorn : Result::kCorrupt;
  *record = std::string_view(p + kRecordHeaderSize, length);
  offset_ += frame;
  return Result::kRecord;
}

}  // namespace waggle::wal_internal
