// CRC-32C (Castagnoli), used to checksum WAL records and segment blocks.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace waggle::crc32c {

// Extends `init_crc` (the CRC of a preceding byte range, or 0) over `n` bytes at `data`.
// Uses the SSE4.2 CRC32 instruction when the CPU has it (checked once at run time), else a
// slicing-by-8 table.
uint32_t Extend(uint32_t init_crc, const void* data, size_t n);

namespace internal {
// The table implementation, whatever the CPU (tests compare it with Extend).
uint32_t ExtendPortable(uint32_t init_crc, const void* data, size_t n);
// True when Extend uses the CPU's CRC32 instruction.
bool HardwareAccelerated();
}  // namespace internal

inline uint32_t Value(const void* data, size_t n) { return Extend(0, data, n); }
inline uint32_t Value(std::string_view s) { return Extend(0, s.data(), s.size()); }

// Masked form for storing a CRC alongside data that may itself contain CRCs.
inline uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }
inline uint32_t Unmask(uint32_t masked) {
  uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

}  // namespace waggle::crc32c
