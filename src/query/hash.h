// Type-tagged 64-bit hashes of typed values, the input of COUNT_DISTINCT (AggInput::kHash).
//
// Contract:
// - Equal values of one type hash equally, in every process and on every run (the seeds are
//   fixed), so hashes from different workers can be merged.
// - Values of different types hash differently (each type hashes with its own seed): the
//   string "1", the int 1, the double 1.0 and the bool true are four distinct values.
// - Doubles hash by value: -0.0 and 0.0 are one value, and every NaN is one value.
// - Hashes are XXH3 outputs, well mixed in all 64 bits (HyperLogLog relies on that).
//
// Thread-safety: pure functions.
#pragma once

#include <xxhash.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>

namespace waggle::query {

inline constexpr uint64_t kStringHashSeed = 0x5374'7269'6e67'0001ULL;
inline constexpr uint64_t kIntHashSeed = 0x496e'7436'3400'0002ULL;
inline constexpr uint64_t kDoubleHashSeed = 0x446f'7562'6c65'0003ULL;
inline constexpr uint64_t kBoolHashSeed = 0x426f'6f6c'0000'0004ULL;

inline uint64_t HashString(std::string_view s) {
  return XXH3_64bits_withSeed(s.data(), s.size(), kStringHashSeed);
}

inline uint64_t HashInt(int64_t v) {
  return XXH3_64bits_withSeed(&v, sizeof v, kIntHashSeed);
}

inline uint64_t HashDouble(double v) {
  if (v == 0) v = 0.0;  // -0.0 == 0.0
  if (std::isnan(v)) v = std::numeric_limits<double>::quiet_NaN();
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return XXH3_64bits_withSeed(&bits, sizeof bits, kDoubleHashSeed);
}

inline uint64_t HashBool(bool v) {
  const uint8_t byte = v ? 1 : 0;
  return XXH3_64bits_withSeed(&byte, sizeof byte, kBoolHashSeed);
}

}  // namespace waggle::query
