// WAL on-disk framing (docs/formats/wal.md). Internal to src/wal.
//
// File:   header = "WAGWAL" | version u16 LE | file seq u64 LE        (16 bytes)
// Record: masked crc32c u32 LE | length u32 LE | type u8 | payload    (9 + length bytes)
//         the CRC covers the length, type and payload bytes.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "common/crc32c.h"

namespace waggle::wal_internal {

inline constexpr char kMagic[6] = {'W', 'A', 'G', 'W', 'A', 'L'};
inline constexpr uint16_t kFormatVersion = 1;
inline constexpr size_t kFileHeaderSize = 16;
inline constexpr size_t kRecordHeaderSize = 9;
inline constexpr uint8_t kFullRecord = 1;  // the only record type of version 1

inline void PutFixed32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
inline void PutFixed64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
inline uint32_t GetFixed32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t{static_cast<uint8_t>(p[i])} << (8 * i);
  return v;
}
inline uint64_t GetFixed64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<uint8_t>(p[i])} << (8 * i);
  return v;
}

inline std::string EncodeFileHeader(uint64_t seq) {
  std::string h(kFileHeaderSize, '\0');
  std::memcpy(h.data(), kMagic, sizeof(kMagic));
  h[6] = static_cast<char>(kFormatVersion & 0xff);
  h[7] = static_cast<char>(kFormatVersion >> 8);
  PutFixed64(h.data() + 8, seq);
  return h;
}

// Fills the 9-byte record header for `payload` into `out`. The CRC is computed here, so
// callers can do it outside any lock.
inline void EncodeRecordHeader(std::string_view payload, char out[kRecordHeaderSize]) {
  PutFixed32(out + 4, static_cast<uint32_t>(payload.size()));
  out[8] = static_cast<char>(kFullRecord);
  uint32_t crc = crc32c::Extend(0, out + 4, 5);
  crc = crc32c::Extend(crc, payload.data(), payload.size());
  PutFixed32(out, crc32c::Mask(crc));
}

// "wal-<seq as 16 lowercase hex digits>.log"
std::string FileName(uint64_t seq);
// Parses a name made by FileName; false for anything else.
bool ParseFileName(std::string_view name, uint64_t* seq);

}  // namespace waggle::wal_internal
