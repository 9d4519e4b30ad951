#include "store/internal/column_codec.h"

#include <lz4.h>
#include <xxhash.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <memory>
#include <numeric>

#include "absl/container/flat_hash_map.h"

namespace waggle::store_internal {
namespace {

uint64_t Magnitude(int64_t v) {
  return v < 0 ? ~static_cast<uint64_t>(v) + 1 : static_cast<uint64_t>(v);
}

int64_t WrapSub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}
int64_t WrapAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

// Sizes of the int encodings for `v` (non-empty) that may be chosen; one that cannot beat
// bit-packing (EncodeInts prefers bit-pack, then run-length, delta, plain on ties) is left at
// SIZE_MAX without being sized. Lower bounds: plain >= n bytes, delta >= n + 1, run-length
// >= 2 bytes per run + 1.
struct IntPlan {
  size_t plain = SIZE_MAX, delta = SIZE_MAX, bitpack = 0, rle = SIZE_MAX;
  uint64_t gcd = 1;
  int64_t min = 0;
  int width = 0;
  bool constant = true;
};

IntPlan PlanInts(std::span<const int64_t> v) {
  IntPlan p;
  const size_t n = v.size();
  int64_t min = v[0], max = v[0];
  size_t n_runs = 1;
  for (size_t i = 1; i < n; ++i) {
    min = std::min(min, v[i]);
    max = std::max(max, v[i]);
    n_runs += v[i] != v[i - 1];
  }
  p.constant = n_runs == 1;
  p.min = min;
  p.width = BitWidth(static_cast<uint64_t>(max) - static_cast<uint64_t>(min));
  p.bitpack = VarintLength(ZigZag(min)) + 1 + (n * p.width + 7) / 8;
  if (p.constant) return p;
  if (2 * n_runs + 1 <= p.bitpack) {
    p.rle = VarintLength(n_runs);
    size_t run_start = 0;
    for (size_t i = 1; i <= n; ++i) {
      if (i == n || v[i] != v[run_start]) {
        p.rle += VarintLength(ZigZag(v[run_start])) + VarintLength(i - run_start);
        run_start = i;
      }
    }
  }
  if (n + 1 <= p.bitpack) {
    uint64_t gcd = 0;
    for (size_t i = 1; i < n && gcd != 1; ++i) gcd = std::gcd(gcd, Magnitude(WrapSub(v[i], v[i - 1])));
    if (gcd == 0 || gcd > static_cast<uint64_t>(INT64_MAX)) gcd = 1;
    p.gcd = gcd;
    p.delta = VarintLength(gcd) + VarintLength(ZigZag(v[0]));
    for (size_t i = 1; i < n; ++i) {
      p.delta += VarintLength(ZigZag(WrapSub(v[i], v[i - 1]) / static_cast<int64_t>(gcd)));
    }
  }
  if (n <= p.bitpack) {
    p.plain = 0;
    for (size_t i = 0; i < n; ++i) p.plain += VarintLength(ZigZag(v[i]));
  }
  return p;
}

}  // namespace

int BitWidth(uint64_t max_value) { return max_value == 0 ? 0 : 64 - std::countl_zero(max_value); }

namespace {

// Appends the low `width` bits of each value(i), i < n, packed little-endian. Widths up to 56
// OR each value into an unaligned 8-byte window (8 spare bytes, trimmed at the end); wider ones
// go through a 128-bit accumulator.
template <typename ValueAt>
void PackBitsOf(size_t n, int width, ValueAt value, std::string* out) {
  if (width == 0) return;
  const uint64_t mask = width == 64 ? ~0ull : (1ull << width) - 1;
  const size_t at = out->size(), bytes = (n * width + 7) / 8;
  if (width <= 56) {
    out->resize(at + bytes + 8, '\0');
    auto* dst = reinterpret_cast<uint8_t*>(out->data() + at);
    uint64_t bit = 0;
    for (size_t i = 0; i < n; ++i, bit += width) {
      uint64_t word;
      std::memcpy(&word, dst + bit / 8, 8);
      word |= (value(i) & mask) << (bit % 8);
      std::memcpy(dst + bit / 8, &word, 8);
    }
    out->resize(at + bytes);
    return;
  }
  out->reserve(at + bytes);
  unsigned __int128 acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; ++i) {
    acc |= static_cast<unsigned __int128>(value(i) & mask) << bits;
    bits += width;
    while (bits >= 8) {
      out->push_back(static_cast<char>(static_cast<uint8_t>(acc)));
      acc >>= 8;
      bits -= 8;
    }
  }
  if (bits > 0) out->push_back(static_cast<char>(static_cast<uint8_t>(acc)));
}

}  // namespace

void PackBits(std::span<const uint64_t> values, int width, std::string* out) {
  PackBitsOf(values.size(), width, [values](size_t i) { return values[i]; }, out);
}

namespace {

// Unpacks n little-endian `width`-bit values (1..64) from `bytes` (at least ceil(n*width/8)
// bytes) into out[0..n). Values whose 8-byte window lies inside `bytes` are read with one
// unaligned load; the rest (the tail, and widths over 56) byte by byte.
void UnpackBitsInto(std::string_view bytes, size_t n, int width, uint64_t* out) {
  const uint64_t mask = width == 64 ? ~0ull : (1ull << width) - 1;
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t i = 0;
  if (width <= 56) {
    for (; i < n; ++i) {
      const size_t bit = i * static_cast<size_t>(width);
      const size_t byte = bit >> 3;
      if (byte + 8 > bytes.size()) break;
      uint64_t word;
      std::memcpy(&word, p + byte, 8);
      out[i] = (word >> (bit & 7)) & mask;
    }
  }
  for (; i < n; ++i) {
    const size_t bit = i * static_cast<size_t>(width);
    unsigned __int128 acc = 0;
    const size_t first = bit >> 3, last = (bit + width - 1) >> 3;
    for (size_t b = first; b <= last; ++b) {
      acc |= static_cast<unsigned __int128>(p[b]) << (8 * (b - first));
    }
    out[i] = static_cast<uint64_t>(acc >> (bit & 7)) & mask;
  }
}

bool ReadPacked(ByteReader* in, size_t n, int width, std::string_view* bytes) {
  if (width < 0 || width > 64 || n > kMaxBlockRows) return false;
  return in->ReadBytes((n * static_cast<size_t>(width) + 7) / 8, bytes);
}

}  // namespace

bool UnpackBits(ByteReader* in, size_t n, int width, std::vector<uint64_t>* out) {
  std::string_view bytes;
  if (!ReadPacked(in, n, width, &bytes)) return false;
  const size_t old = out->size();
  out->resize(old + n, 0);
  if (width > 0) UnpackBitsInto(bytes, n, width, out->data() + old);
  return true;
}

void EncodeInts(std::span<const int64_t> v, std::string* out) {
  if (v.empty()) {
    out->push_back(static_cast<char>(IntEncoding::kPlain));
    return;
  }
  IntPlan p = PlanInts(v);
  if (p.constant) {
    out->push_back(static_cast<char>(IntEncoding::kConst));
    PutZigZag(out, v[0]);
    return;
  }
  size_t best = std::min({p.plain, p.delta, p.bitpack, p.rle});
  if (best == p.bitpack) {
    out->push_back(static_cast<char>(IntEncoding::kBitPack));
    PutZigZag(out, p.min);
    out->push_back(static_cast<char>(p.width));
    const uint64_t base = static_cast<uint64_t>(p.min);
    auto offset = [v, base](size_t i) { return static_cast<uint64_t>(v[i]) - base; };
    PackBitsOf(v.size(), p.width, offset, out);
  } else if (best == p.rle) {
    out->push_back(static_cast<char>(IntEncoding::kRle));
    size_t n_runs = 0;
    for (size_t i = 0; i < v.size(); ++i) n_runs += (i == 0 || v[i] != v[i - 1]);
    PutVarint(out, n_runs);
    size_t start = 0;
    for (size_t i = 1; i <= v.size(); ++i) {
      if (i == v.size() || v[i] != v[start]) {
        PutZigZag(out, v[start]);
        PutVarint(out, i - start);
        start = i;
      }
    }
  } else if (best == p.delta) {
    out->push_back(static_cast<char>(IntEncoding::kDelta));
    PutVarint(out, p.gcd);
    PutZigZag(out, v[0]);
    for (size_t i = 1; i < v.size(); ++i) {
      PutZigZag(out, WrapSub(v[i], v[i - 1]) / static_cast<int64_t>(p.gcd));
    }
  } else {
    out->push_back(static_cast<char>(IntEncoding::kPlain));
    for (int64_t x : v) PutZigZag(out, x);
  }
}

bool DecodeInts(ByteReader* in, size_t n, std::vector<int64_t>* out) {
  if (n > kMaxBlockRows) return false;
  uint8_t enc;
  if (!in->ReadByte(&enc)) return false;
  out->reserve(out->size() + n);
  switch (static_cast<IntEncoding>(enc)) {
    case IntEncoding::kConst: {
      int64_t x;
      if (!in->ReadZigZag(&x)) return false;
      out->insert(out->end(), n, x);
      return true;
    }
    case IntEncoding::kPlain: {
      const size_t old = out->size();
      out->resize(old + n);
      int64_t* values = out->data() + old;
      for (size_t i = 0; i < n; ++i) {
        if (!in->ReadZigZag(&values[i])) return false;
      }
      return true;
    }
    case IntEncoding::kDelta: {
      uint64_t gcd;
      int64_t x;
      if (n == 0) return true;
      if (!in->ReadVarint(&gcd) || !in->ReadZigZag(&x)) return false;
      const size_t old = out->size();
      out->resize(old + n);
      int64_t* values = out->data() + old;
      values[0] = x;
      for (size_t i = 1; i < n; ++i) {
        int64_t q;
        if (!in->ReadZigZag(&q)) return false;
        x = WrapAdd(x, static_cast<int64_t>(static_cast<uint64_t>(q) * gcd));
        values[i] = x;
      }
      return true;
    }
    case IntEncoding::kBitPack: {
      int64_t min;
      uint8_t width;
      if (!in->ReadZigZag(&min) || !in->ReadByte(&width)) return false;
      std::string_view bytes;
      if (!ReadPacked(in, n, width, &bytes)) return false;
      const size_t old = out->size();
      out->resize(old + n, 0);
      int64_t* values = out->data() + old;
      // int64_t and uint64_t may alias: the offsets land in place, then min is added.
      if (width > 0) UnpackBitsInto(bytes, n, width, reinterpret_cast<uint64_t*>(values));
      for (size_t i = 0; i < n; ++i) values[i] = WrapAdd(min, values[i]);
      return true;
    }
    case IntEncoding::kRle: {
      uint64_t runs;
      if (!in->ReadVarint(&runs) || runs > n) return false;
      size_t total = 0;
      for (uint64_t r = 0; r < runs; ++r) {
        int64_t x;
        uint64_t len;
        if (!in->ReadZigZag(&x) || !in->ReadVarint(&len) || len > n - total) return false;
        out->insert(out->end(), static_cast<size_t>(len), x);
        total += len;
      }
      return total == n;
    }
  }
  return false;
}

void EncodeDoubles(std::span<const double> v, std::string* out) {
  bool constant = !v.empty();
  for (double d : v) constant = constant && DoubleBits(d) == DoubleBits(v[0]);
  if (constant) {
    out->push_back(static_cast<char>(DoubleEncoding::kConst));
    PutFixed64(out, DoubleBits(v[0]));
    return;
  }
  out->push_back(static_cast<char>(DoubleEncoding::kPlain));
  for (double d : v) PutFixed64(out, DoubleBits(d));
}

bool DecodeDoubles(ByteReader* in, size_t n, std::vector<double>* out) {
  if (n > kMaxBlockRows) return false;
  uint8_t enc;
  uint64_t bits;
  if (!in->ReadByte(&enc)) return false;
  if (enc == static_cast<uint8_t>(DoubleEncoding::kConst)) {
    if (!in->ReadFixed64(&bits)) return false;
    out->insert(out->end(), n, BitsDouble(bits));
    return true;
  }
  if (enc != static_cast<uint8_t>(DoubleEncoding::kPlain) || in->remaining() / 8 < n) return false;
  out->reserve(out->size() + n);
  for (size_t i = 0; i < n; ++i) {
    if (!in->ReadFixed64(&bits)) return false;
    out->push_back(BitsDouble(bits));
  }
  return true;
}

namespace {

enum class Shape { kText, kUuid, kHex };

// The value of each lowercase hex digit; -1 for every other byte (uppercase included: not
// packable).
constexpr std::array<int8_t, 256> kHexValue = [] {
  std::array<int8_t, 256> t{};
  t.fill(-1);
  for (int c = '0'; c <= '9'; ++c) t[c] = static_cast<int8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[c] = static_cast<int8_t>(c - 'a' + 10);
  return t;
}();

inline int HexDigit(char c) { return kHexValue[static_cast<uint8_t>(c)]; }

// Eight characters at a time as one little-endian word (SWAR): every byte stays below 0x80
// after the first check, so the per-byte additions below never carry into the next byte.
static_assert(std::endian::native == std::endian::little, "hex packing assumes little-endian");
constexpr uint64_t kEachByte = 0x0101010101010101ull;

inline uint64_t Load8(const char* p) {
  uint64_t x;
  std::memcpy(&x, p, 8);
  return x;
}

// Whether all 8 bytes of `x` are lowercase hex digits.
inline bool EightLowerHex(uint64_t x) {
  constexpr uint64_t kHigh = 0x80 * kEachByte;
  if (x & kHigh) return false;
  const uint64_t ge_0 = x + (0x80 - '0') * kEachByte;      // high bit set: byte >= '0'
  const uint64_t gt_9 = x + (0x80 - '9' - 1) * kEachByte;  // byte > '9'
  const uint64_t ge_a = x + (0x80 - 'a') * kEachByte;      // byte >= 'a'
  const uint64_t gt_f = x + (0x80 - 'f' - 1) * kEachByte;  // byte > 'f'
  return (((ge_0 & ~gt_9) | (ge_a & ~gt_f)) & kHigh) == kHigh;
}

// The 4 bytes 8 lowercase hex digits spell, first digit in the high nibble of the first byte.
// REQUIRES: EightLowerHex(x).
inline uint32_t PackEightHex(uint64_t x) {
  // '0'..'9' keep their low nibble; 'a'..'f' (bit 6 set) have low nibbles 1..6, plus 9.
  const uint64_t nibbles = (x & (0x0f * kEachByte)) + ((x >> 6) & kEachByte) * 9;
  constexpr uint64_t kLowBytes = 0x00ff00ff00ff00ffull;
  uint64_t pairs = ((nibbles & kLowBytes) << 4) | ((nibbles >> 8) & kLowBytes);
  pairs = (pairs | (pairs >> 8)) & 0x0000ffff0000ffffull;
  return static_cast<uint32_t>(pairs | (pairs >> 16));
}

// A canonical UUID's 32 digits as four words (the dashes at 8, 13, 18 and 23 left out).
// REQUIRES: s.size() == 36.
inline void UuidDigitWords(std::string_view s, uint64_t words[4]) {
  const char* p = s.data();
  uint32_t a, b;
  words[0] = Load8(p);
  std::memcpy(&a, p + 9, 4);
  std::memcpy(&b, p + 14, 4);
  words[1] = a | uint64_t{b} << 32;
  std::memcpy(&a, p + 19, 4);
  std::memcpy(&b, p + 24, 4);
  words[2] = a | uint64_t{b} << 32;
  words[3] = Load8(p + 28);
}

bool IsLowerHex(std::string_view s) {
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    if (!EightLowerHex(Load8(s.data() + i))) return false;
  }
  for (; i < s.size(); ++i) {
    if (HexDigit(s[i]) < 0) return false;
  }
  return true;
}

bool IsCanonicalUuid(std::string_view s) {
  if (s.size() != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') return false;
  uint64_t words[4];
  UuidDigitWords(s, words);
  return EightLowerHex(words[0]) && EightLowerHex(words[1]) && EightLowerHex(words[2]) &&
         EightLowerHex(words[3]);
}

// The packed shape shared by every value of `v` (non-empty), and for kHex the byte length.
Shape ClassifyStrings(std::span<const std::string_view> v, size_t* hex_bytes) {
  bool uuid = true, hex = !v[0].empty() && v[0].size() % 2 == 0;
  for (std::string_view s : v) {
    uuid = uuid && IsCanonicalUuid(s);
    hex = hex && s.size() == v[0].size() && IsLowerHex(s);
    if (!uuid && !hex) return Shape::kText;
  }
  *hex_bytes = v[0].size() / 2;
  return uuid ? Shape::kUuid : Shape::kHex;
}

void PutPacked(std::string* out, std::string_view s, Shape shape) {
  if (shape == Shape::kText) {
    PutLengthPrefixed(out, s);
    return;
  }
  const size_t at = out->size();
  out->resize(at + (shape == Shape::kUuid ? 16 : s.size() / 2));
  char* dst = out->data() + at;
  if (shape == Shape::kUuid) {
    uint64_t words[4];
    UuidDigitWords(s, words);
    for (uint64_t w : words) {
      const uint32_t packed = PackEightHex(w);
      std::memcpy(dst, &packed, 4);
      dst += 4;
    }
    return;
  }
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8, dst += 4) {
    const uint32_t packed = PackEightHex(Load8(s.data() + i));
    std::memcpy(dst, &packed, 4);
  }
  for (; i + 1 < s.size(); i += 2) {
    *dst++ = static_cast<char>(HexDigit(s[i]) << 4 | HexDigit(s[i + 1]));
  }
}

// Reads one value of `shape` (`width` bytes when packed); packed values are expanded into
// `text`, which has capacity for them (no reallocation: views stay valid).
bool ReadPacked(ByteReader* in, Shape shape, size_t width, std::string* text,
                std::string_view* s) {
  if (shape == Shape::kText) return in->ReadLengthPrefixed(s);
  std::string_view raw;
  if (!in->ReadBytes(width, &raw)) return false;
  static constexpr char kDigits[] = "0123456789abcdef";
  const size_t begin = text->size();
  for (size_t i = 0; i < width; ++i) {
    if (shape == Shape::kUuid && (i == 4 || i == 6 || i == 8 || i == 10)) text->push_back('-');
    const uint8_t b = static_cast<uint8_t>(raw[i]);
    text->push_back(kDigits[b >> 4]);
    text->push_back(kDigits[b & 15]);
  }
  *s = std::string_view(text->data() + begin, text->size() - begin);
  return true;
}

}  // namespace

size_t StringViewHash::operator()(std::string_view s) const {
  return static_cast<size_t>(XXH3_64bits(s.data(), s.size()));
}

namespace {

// Writes v (whose distinct values are `dict`, v[i] == dict[codes[i]]) dictionary-coded or
// plain, whichever is smaller, packed as UUIDs or hex when every value allows.
void EncodeStringValues(std::span<const std::string_view> v, std::span<const std::string_view> dict,
                        std::span<const int64_t> codes, std::string* out) {
  size_t hex_bytes = 0;
  const Shape shape = dict.empty() ? Shape::kText : ClassifyStrings(dict, &hex_bytes);
  const size_t width = shape == Shape::kUuid ? 16 : hex_bytes;
  auto size_of = [&](std::string_view s) {
    return shape == Shape::kText ? VarintLength(s.size()) + s.size() : width;
  };
  size_t plain_size = 0, dict_bytes = 0;
  if (shape == Shape::kText) {
    for (std::string_view s : v) plain_size += size_of(s);
    for (std::string_view s : dict) dict_bytes += size_of(s);
  } else {
    plain_size = v.size() * width;
    dict_bytes = dict.size() * width;
  }
  uint8_t flags = shape == Shape::kUuid ? kStringUuid : shape == Shape::kHex ? kStringHex : 0;
  size_t code_bytes = (v.size() * BitWidth(dict.empty() ? 0 : dict.size() - 1) + 7) / 8 + 3;
  const bool use_dict =
      !v.empty() && dict_bytes + code_bytes + VarintLength(dict.size()) <= plain_size;
  out->push_back(static_cast<char>(
      static_cast<uint8_t>(use_dict ? StringEncoding::kDict : StringEncoding::kPlain) | flags));
  if (shape == Shape::kHex) PutVarint(out, hex_bytes);
  if (use_dict) {
    PutVarint(out, dict.size());
    for (std::string_view s : dict) PutPacked(out, s, shape);
    EncodeInts(codes, out);
    return;
  }
  for (std::string_view s : v) PutPacked(out, s, shape);
}

}  // namespace

void EncodeStrings(std::span<const std::string_view> v, std::string* out) {
  StringEncodeScratch scratch;
  EncodeStringsById(v, {}, &scratch, out);
}

void EncodeStringsById(std::span<const std::string_view> v, std::span<const uint32_t> ids,
                       StringEncodeScratch* scratch, std::string* out) {
  if (++scratch->block == 0) {  // the counter wrapped: forget every stamp
    std::fill(scratch->id_block.begin(), scratch->id_block.end(), 0);
    scratch->block = 1;
  }
  const uint32_t block = scratch->block;
  scratch->entry_of_string.clear();
  scratch->dict.clear();
  scratch->codes.clear();
  auto entry_of_string = [scratch](std::string_view s) {
    auto [entry, added] =
        scratch->entry_of_string.try_emplace(s, static_cast<uint32_t>(scratch->dict.size()));
    if (added) scratch->dict.push_back(s);
    return entry->second;
  };
  constexpr size_t kProbe = 64;  // a block whose first values are all distinct goes plain
  for (size_t i = 0; i < v.size(); ++i) {
    if (i == kProbe && scratch->dict.size() == kProbe && v.size() >= 4 * kProbe) {
      EncodeStringValues(v, v, {}, out);  // a dictionary as long as the values never wins
      return;
    }
    if (ids.empty()) {  // every string hashed
      scratch->codes.push_back(entry_of_string(v[i]));
      continue;
    }
    const uint32_t id = ids[i];
    if (id >= scratch->id_block.size()) {
      const size_t size = std::max<size_t>(id + 1, scratch->id_block.size() * 2);
      scratch->id_block.resize(size, 0);
      scratch->entry_of_id.resize(size);
    }
    if (scratch->id_block[id] != block) {
      scratch->id_block[id] = block;
      scratch->entry_of_id[id] = entry_of_string(v[i]);
    }
    scratch->codes.push_back(scratch->entry_of_id[id]);
  }
  EncodeStringValues(v, scratch->dict, scratch->codes, out);
}

bool DecodeStrings(ByteReader* in, size_t n, DecodedStrings* out, size_t first, size_t count) {
  if (n > kMaxBlockRows) return false;
  first = std::min(first, n);
  count = std::min(count, n - first);
  const bool whole = first == 0 && count == n;
  auto wanted = [&](size_t i) { return i - first < count; };
  uint8_t enc;
  if (!in->ReadByte(&enc)) return false;
  const uint8_t base = enc & kStringBaseMask, flags = enc & ~kStringBaseMask;
  Shape shape = Shape::kText;
  uint64_t width = 0;
  if (flags == kStringUuid) {
    shape = Shape::kUuid;
    width = 16;
  } else if (flags == kStringHex) {
    shape = Shape::kHex;
    if (!in->ReadVarint(&width) || width == 0 || width > in->remaining()) return false;
  } else if (flags != 0) {
    return false;
  }
  const size_t text_len = shape == Shape::kUuid ? 36 : 2 * width;
  auto reserve_text = [&](uint64_t values, uint64_t expanded) {
    if (shape == Shape::kText) return true;
    if (values > 0 && in->remaining() / width < values) return false;  // bounds the allocation
    out->text = std::make_unique<std::string>();
    out->text->reserve(expanded * text_len);
    return true;
  };
  // A value not wanted is stepped over: its bytes read, its view left empty.
  auto skip = [&](std::string_view* s) {
    *s = std::string_view();
    std::string_view ignored;
    return shape == Shape::kText ? in->ReadLengthPrefixed(&ignored) : in->ReadBytes(width, &ignored);
  };
  out->values.reserve(out->values.size() + n);
  if (base == static_cast<uint8_t>(StringEncoding::kPlain)) {
    out->dict_encoded = false;
    if (!reserve_text(n, count)) return false;
    for (size_t i = 0; i < n; ++i) {
      std::string_view s;
      if (!(wanted(i) ? ReadPacked(in, shape, width, out->text.get(), &s) : skip(&s))) return false;
      out->values.push_back(s);
    }
    return true;
  }
  if (base != static_cast<uint8_t>(StringEncoding::kDict)) return false;
  uint64_t dict_size;
  if (!in->ReadVarint(&dict_size) || dict_size > n || dict_size > in->remaining()) return false;
  if (!reserve_text(dict_size, whole ? dict_size : count)) return false;
  // Entries as stored; packed ones are expanded when a wanted value uses them.
  std::vector<std::string_view> stored(dict_size);
  for (std::string_view& s : stored) {
    if (!(shape == Shape::kText ? in->ReadLengthPrefixed(&s) : in->ReadBytes(width, &s))) return false;
  }
  std::vector<int64_t> codes;
  if (!DecodeInts(in, n, &codes)) return false;
  out->dict.assign(dict_size, std::string_view());
  std::vector<uint8_t> expanded(shape == Shape::kText ? 0 : dict_size, 0);
  auto entry = [&](size_t c) {
    if (shape == Shape::kText) return stored[c];
    if (!expanded[c]) {
      ByteReader packed(stored[c]);
      ReadPacked(&packed, shape, width, out->text.get(), &out->dict[c]);
      expanded[c] = 1;
    }
    return out->dict[c];
  };
  if (shape == Shape::kText) out->dict = stored;
  bool codes_ok = true;
  for (int64_t c : codes) codes_ok &= c >= 0 && static_cast<uint64_t>(c) < dict_size;
  if (!codes_ok) return false;
  const size_t at = out->values.size();
  out->values.resize(at + n);
  std::string_view* values = out->values.data() + at;
  if (!whole) {  // only the window's values; the dictionary is partly expanded, not kept
    for (size_t i = first; i < first + count; ++i) values[i] = entry(static_cast<size_t>(codes[i]));
    out->dict_encoded = false;
    out->dict.clear();
    out->codes.clear();
    return true;
  }
  for (size_t c = 0; c < dict_size; ++c) entry(c);
  out->codes.resize(n);
  for (size_t i = 0; i < n; ++i) {
    out->codes[i] = static_cast<uint32_t>(codes[i]);
    values[i] = out->dict[out->codes[i]];
  }
  out->dict_encoded = true;
  return true;
}

void EncodeValidity(std::span<const uint8_t> valid, std::string* out) {
  size_t non_null = 0;
  for (uint8_t v : valid) non_null += v != 0;
  EncodeValidity(valid.size(), non_null, valid, out);
}

void EncodeValidity(size_t rows, size_t non_null, std::span<const uint8_t> valid, std::string* out) {
  const size_t n = rows;
  size_t transitions = 0;
  if (non_null == n) {
    out->push_back(0);
    return;
  }
  if (non_null == 0) {
    out->push_back(1);
    return;
  }
  for (size_t i = 1; i < n; ++i) transitions += (valid[i] != 0) != (valid[i - 1] != 0);
  // Each encoding's exact size, computed only when it might beat the bitmap: runs cost at
  // least a byte per run plus the count, a listed row at least a byte plus the count.
  const size_t bitmap_bytes = (n + 7) / 8;
  constexpr size_t kWorse = SIZE_MAX;
  size_t run_bytes = kWorse, valid_gaps = kWorse, null_gaps = kWorse;
  size_t runs = 1;  // runs start with a valid run (possibly empty)
  uint8_t state = 1;
  if (transitions + 2 <= bitmap_bytes) {
    run_bytes = 0;
    size_t run_len = 0;
    for (size_t i = 0; i < n; ++i) {
      const uint8_t b = valid[i] != 0;
      if (b != state) {
        run_bytes += VarintLength(run_len);
        ++runs;
        run_len = 0;
        state = b;
      }
      ++run_len;
    }
    run_bytes += VarintLength(run_len) + VarintLength(runs);
  }
  auto gap_bytes = [&](uint8_t want, size_t count) {
    size_t bytes = VarintLength(count), last = 0, seen = 0;
    for (size_t i = 0; i < n; ++i) {
      if ((valid[i] != 0) != want) continue;
      bytes += VarintLength(seen++ == 0 ? i : i - last - 1);
      last = i;
    }
    return bytes;
  };
  if (non_null < bitmap_bytes) valid_gaps = gap_bytes(1, non_null);
  if (n - non_null < bitmap_bytes) null_gaps = gap_bytes(0, n - non_null);
  const size_t bitmap = bitmap_bytes;
  const size_t best = std::min({bitmap, run_bytes, valid_gaps, null_gaps});
  if (best == bitmap) {
    out->push_back(2);
    const size_t at = out->size();
    out->resize(at + bitmap, '\0');
    for (size_t i = 0; i < n; ++i) {
      if (valid[i]) (*out)[at + i / 8] = static_cast<char>((*out)[at + i / 8] | (1 << (i % 8)));
    }
  } else if (best == run_bytes) {
    out->push_back(3);
    PutVarint(out, runs);
    size_t len = 0;
    state = 1;
    for (size_t i = 0; i < n; ++i) {
      const uint8_t b = valid[i] != 0;
      if (b != state) {
        PutVarint(out, len);
        len = 0;
        state = b;
      }
      ++len;
    }
    PutVarint(out, len);
  } else {
    const uint8_t want = best == valid_gaps ? 1 : 0;
    out->push_back(want ? 4 : 5);
    PutVarint(out, want ? non_null : n - non_null);
    size_t prev = 0;
    bool first = true;
    for (size_t i = 0; i < n; ++i) {
      if ((valid[i] != 0) != (want != 0)) continue;
      PutVarint(out, first ? i : i - prev - 1);
      first = false;
      prev = i;
    }
  }
}

bool DecodeValidity(ByteReader* in, size_t n, std::vector<uint8_t>* valid, size_t* non_null) {
  uint8_t kind;
  if (n > kMaxBlockRows || !in->ReadByte(&kind)) return false;
  valid->clear();
  if (kind == 0) {
    *non_null = n;
    return true;
  }
  if (kind == 1) {
    valid->assign(n, 0);
    *non_null = 0;
    return true;
  }
  if (kind == 3) {
    uint64_t runs;
    if (!in->ReadVarint(&runs) || runs > n + 1) return false;
    valid->reserve(n);
    uint8_t state = 1;
    for (uint64_t r = 0; r < runs; ++r, state ^= 1) {
      uint64_t len;
      if (!in->ReadVarint(&len) || len > n - valid->size() || (len == 0 && r > 0)) return false;
      valid->insert(valid->end(), static_cast<size_t>(len), state);
    }
    if (valid->size() != n) return false;
  } else if (kind == 4 || kind == 5) {
    const uint8_t listed = kind == 4 ? 1 : 0;
    uint64_t count;
    if (!in->ReadVarint(&count) || count > n) return false;
    valid->assign(n, listed ^ 1);
    uint64_t pos = 0;
    for (uint64_t k = 0; k < count; ++k) {
      uint64_t gap;
      if (!in->ReadVarint(&gap) || gap >= n) return false;
      pos = k == 0 ? gap : pos + gap + 1;
      if (pos >= n) return false;
      (*valid)[pos] = listed;
    }
  } else {
    std::string_view bitmap;
    if (kind != 2 || !in->ReadBytes((n + 7) / 8, &bitmap)) return false;
    valid->resize(n);
    for (size_t i = 0; i < n; ++i) (*valid)[i] = (static_cast<uint8_t>(bitmap[i / 8]) >> (i % 8)) & 1;
  }
  *non_null = 0;
  for (uint8_t b : *valid) *non_null += b;
  return true;
}

namespace {

// Whether `raw` looks like random bytes (span ids, packed random UUIDs), which zstd does not
// shrink by CompressBlock's 1/32: the byte entropy of an evenly spread 1 KiB sample is above
// 7.7 bits (uniform bytes measure about 7.8 on such a sample; text, varints and dictionary
// codes far less). Skipping zstd there cut the flush's instructions by 4% for 1% more bytes on
// the ingest workload (blocks of UUIDv4s, whose fixed version bits zstd's entropy coder finds).
bool LooksIncompressible(std::string_view raw) {
  constexpr size_t kSample = 1024;
  if (raw.size() < 4 * kSample) return false;  // small blocks: just try
  uint32_t counts[256] = {};
  const size_t stride = raw.size() / kSample;
  for (size_t i = 0; i < kSample; ++i) ++counts[static_cast<uint8_t>(raw[i * stride])];
  double sum = 0;  // sum of c * log2(c)
  for (uint32_t c : counts) sum += c > 1 ? c * std::log2(static_cast<double>(c)) : 0;
  const double bits = std::log2(static_cast<double>(kSample)) - sum / kSample;
  return bits > 7.7;
}

}  // namespace

void CompressBlock(std::string_view raw, Compression preferred, int zstd_level, std::string* out) {
  if (preferred != Compression::kNone && LooksIncompressible(raw)) preferred = Compression::kNone;
  // The envelope is written in place: header, then the compressed payload straight into *out
  // (no temporary buffer); it is rewritten with the raw bytes when compression does not pay.
  const size_t start = out->size();
  out->push_back(static_cast<char>(Compression::kNone));
  PutVarint(out, raw.size());
  const size_t header = out->size();
  size_t n = 0;
  if (preferred == Compression::kZstd && raw.size() >= 64) {
    // One compression context per thread, reused: ZSTD_compress would allocate and initialise
    // a fresh context (hundreds of KiB) per block. Output is identical to ZSTD_compress.
    struct CctxDeleter {
      void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
    };
    thread_local std::unique_ptr<ZSTD_CCtx, CctxDeleter> cctx(ZSTD_createCCtx());
    out->resize(header + ZSTD_compressBound(raw.size()));
    size_t r = cctx ? ZSTD_compressCCtx(cctx.get(), out->data() + header, out->size() - header,
                                        raw.data(), raw.size(), zstd_level)
                    : ZSTD_compress(out->data() + header, out->size() - header, raw.data(),
                                    raw.size(), zstd_level);
    n = ZSTD_isError(r) ? 0 : r;
  } else if (preferred == Compression::kLz4 && raw.size() >= 64 && raw.size() < (1u << 30)) {
    out->resize(header + LZ4_compressBound(static_cast<int>(raw.size())));
    int r = LZ4_compress_default(raw.data(), out->data() + header, static_cast<int>(raw.size()),
                                 static_cast<int>(out->size() - header));
    n = r > 0 ? static_cast<size_t>(r) : 0;
  }
  if (n > 0 && n < raw.size() - raw.size() / 32) {
    (*out)[start] = static_cast<char>(preferred);
    out->resize(header + n);
    return;
  }
  out->resize(header);
  out->append(raw);
}

Status DecompressBlock(std::string_view stored, size_t max_raw_bytes, std::string* scratch,
                       std::string_view* raw) {
  ByteReader in(stored);
  uint8_t kind;
  uint64_t raw_len;
  if (!in.ReadByte(&kind) || !in.ReadVarint(&raw_len)) {
    return absl::DataLossError("truncated block header");
  }
  if (raw_len > max_raw_bytes) return absl::DataLossError("block raw length out of range");
  std::string_view payload = in.rest();
  switch (static_cast<Compression>(kind)) {
    case Compression::kNone:
      if (payload.size() != raw_len) return absl::DataLossError("block length mismatch");
      *raw = payload;
      return OkStatus();
    case Compression::kZstd: {
      scratch->resize(raw_len);
      size_t n = ZSTD_decompress(scratch->data(), raw_len, payload.data(), payload.size());
      if (ZSTD_isError(n) || n != raw_len) return absl::DataLossError("bad zstd block");
      *raw = *scratch;
      return OkStatus();
    }
    case Compression::kLz4: {
      scratch->resize(raw_len);
      int n = LZ4_decompress_safe(payload.data(), scratch->data(),
                                  static_cast<int>(std::min<size_t>(payload.size(), INT32_MAX)),
                                  static_cast<int>(raw_len));
      if (n < 0 || static_cast<uint64_t>(n) != raw_len) return absl::DataLossError("bad lz4 block");
      *raw = *scratch;
      return OkStatus();
    }
  }
  return absl::DataLossError("unknown block compression");
}

}  // namespace waggle::store_internal
