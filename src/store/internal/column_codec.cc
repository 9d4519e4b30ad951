#include "store/internal/column_codec.h"

#include <lz4.h>
#include <zstd.h>

#include <algorithm>
#include <bit>
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

// Sizes of every int encoding for `v` (non-empty).
struct IntPlan {
  size_t plain = 0, delta = 0, bitpack = 0, rle = 0;
  uint64_t gcd = 1;
  int64_t min = 0;
  int width = 0;
  bool constant = true;
};

IntPlan PlanInts(std::span<const int64_t> v) {
  IntPlan p;
  int64_t min = v[0], max = v[0];
  uint64_t gcd = 0;
  size_t n_runs = 0, run_start = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    p.plain += VarintLength(ZigZag(v[i]));
    min = std::min(min, v[i]);
    max = std::max(max, v[i]);
    if (i > 0) gcd = std::gcd(gcd, Magnitude(WrapSub(v[i], v[i - 1])));
    if (i + 1 == v.size() || v[i + 1] != v[run_start]) {
      p.rle += VarintLength(ZigZag(v[run_start])) + VarintLength(i + 1 - run_start);
      ++n_runs;
      run_start = i + 1;
    }
  }
  p.constant = n_runs == 1;
  p.rle += VarintLength(n_runs);
  if (gcd == 0 || gcd > static_cast<uint64_t>(INT64_MAX)) gcd = 1;
  p.gcd = gcd;
  p.delta = VarintLength(gcd) + VarintLength(ZigZag(v[0]));
  for (size_t i = 1; i < v.size(); ++i) {
    p.delta += VarintLength(ZigZag(WrapSub(v[i], v[i - 1]) / static_cast<int64_t>(gcd)));
  }
  p.min = min;
  p.width = BitWidth(static_cast<uint64_t>(max) - static_cast<uint64_t>(min));
  p.bitpack = VarintLength(ZigZag(min)) + 1 + (v.size() * p.width + 7) / 8;
  return p;
}

}  // namespace

int BitWidth(uint64_t max_value) { return max_value == 0 ? 0 : 64 - std::countl_zero(max_value); }

void PackBits(std::span<const uint64_t> values, int width, std::string* out) {
  if (width == 0) return;
  const uint64_t mask = width == 64 ? ~0ull : (1ull << width) - 1;
  unsigned __int128 acc = 0;
  int bits = 0;
  out->reserve(out->size() + (values.size() * width + 7) / 8);
  for (uint64_t x : values) {
    acc |= static_cast<unsigned __int128>(x & mask) << bits;
    bits += width;
    while (bits >= 8) {
      out->push_back(static_cast<char>(static_cast<uint8_t>(acc)));
      acc >>= 8;
      bits -= 8;
    }
  }
  if (bits > 0) out->push_back(static_cast<char>(static_cast<uint8_t>(acc)));
}

bool UnpackBits(ByteReader* in, size_t n, int width, std::vector<uint64_t>* out) {
  if (width < 0 || width > 64 || n > kMaxBlockRows) return false;
  if (width == 0) {
    out->insert(out->end(), n, 0);
    return true;
  }
  std::string_view bytes;
  if (!in->ReadBytes((n * width + 7) / 8, &bytes)) return false;
  const uint64_t mask = width == 64 ? ~0ull : (1ull << width) - 1;
  unsigned __int128 acc = 0;
  int bits = 0;
  size_t pos = 0;
  out->reserve(out->size() + n);
  for (size_t i = 0; i < n; ++i) {
    while (bits < width) {
      acc |= static_cast<unsigned __int128>(static_cast<uint8_t>(bytes[pos++])) << bits;
      bits += 8;
    }
    out->push_back(static_cast<uint64_t>(acc) & mask);
    acc >>= width;
    bits -= width;
  }
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
    std::vector<uint64_t> offsets(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      offsets[i] = static_cast<uint64_t>(v[i]) - static_cast<uint64_t>(p.min);
    }
    PackBits(offsets, p.width, out);
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
    case IntEncoding::kPlain:
      for (size_t i = 0; i < n; ++i) {
        int64_t x;
        if (!in->ReadZigZag(&x)) return false;
        out->push_back(x);
      }
      return true;
    case IntEncoding::kDelta: {
      uint64_t gcd;
      int64_t x;
      if (n == 0) return true;
      if (!in->ReadVarint(&gcd) || !in->ReadZigZag(&x)) return false;
      out->push_back(x);
      for (size_t i = 1; i < n; ++i) {
        int64_t q;
        if (!in->ReadZigZag(&q)) return false;
        x = WrapAdd(x, static_cast<int64_t>(static_cast<uint64_t>(q) * gcd));
        out->push_back(x);
      }
      return true;
    }
    case IntEncoding::kBitPack: {
      int64_t min;
      uint8_t width;
      if (!in->ReadZigZag(&min) || !in->ReadByte(&width)) return false;
      std::vector<uint64_t> offsets;
      if (!UnpackBits(in, n, width, &offsets)) return false;
      for (uint64_t o : offsets) out->push_back(WrapAdd(min, static_cast<int64_t>(o)));
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

void EncodeStrings(std::span<const std::string_view> v, std::string* out) {
  absl::flat_hash_map<std::string_view, uint32_t> index;
  std::vector<std::string_view> dict;
  std::vector<int64_t> codes;
  codes.reserve(v.size());
  size_t plain_size = 0, dict_bytes = 0;
  for (std::string_view s : v) {
    plain_size += VarintLength(s.size()) + s.size();
    auto [it, inserted] = index.try_emplace(s, static_cast<uint32_t>(dict.size()));
    if (inserted) {
      dict.push_back(s);
      dict_bytes += VarintLength(s.size()) + s.size();
    }
    codes.push_back(it->second);
  }
  size_t code_bytes = (v.size() * BitWidth(dict.empty() ? 0 : dict.size() - 1) + 7) / 8 + 3;
  if (!v.empty() && dict_bytes + code_bytes + VarintLength(dict.size()) <= plain_size) {
    out->push_back(static_cast<char>(StringEncoding::kDict));
    PutVarint(out, dict.size());
    for (std::string_view s : dict) PutLengthPrefixed(out, s);
    EncodeInts(codes, out);
    return;
  }
  out->push_back(static_cast<char>(StringEncoding::kPlain));
  for (std::string_view s : v) PutLengthPrefixed(out, s);
}

bool DecodeStrings(ByteReader* in, size_t n, DecodedStrings* out) {
  if (n > kMaxBlockRows) return false;
  uint8_t enc;
  if (!in->ReadByte(&enc)) return false;
  out->values.reserve(out->values.size() + n);
  if (enc == static_cast<uint8_t>(StringEncoding::kPlain)) {
    out->dict_encoded = false;
    for (size_t i = 0; i < n; ++i) {
      std::string_view s;
      if (!in->ReadLengthPrefixed(&s)) return false;
      out->values.push_back(s);
    }
    return true;
  }
  if (enc != static_cast<uint8_t>(StringEncoding::kDict)) return false;
  out->dict_encoded = true;
  uint64_t dict_size;
  if (!in->ReadVarint(&dict_size) || dict_size > n || dict_size > in->remaining()) return false;
  out->dict.clear();
  for (uint64_t i = 0; i < dict_size; ++i) {
    std::string_view s;
    if (!in->ReadLengthPrefixed(&s)) return false;
    out->dict.push_back(s);
  }
  std::vector<int64_t> codes;
  if (!DecodeInts(in, n, &codes)) return false;
  out->codes.clear();
  out->codes.reserve(n);
  for (int64_t c : codes) {
    if (c < 0 || static_cast<uint64_t>(c) >= dict_size) return false;
    out->codes.push_back(static_cast<uint32_t>(c));
    out->values.push_back(out->dict[static_cast<size_t>(c)]);
  }
  return true;
}

void EncodeValidity(std::span<const uint8_t> valid, std::string* out) {
  size_t non_null = 0;
  for (uint8_t b : valid) non_null += b != 0;
  if (non_null == valid.size()) {
    out->push_back(0);
    return;
  }
  if (non_null == 0) {
    out->push_back(1);
    return;
  }
  out->push_back(2);
  std::string bitmap((valid.size() + 7) / 8, '\0');
  for (size_t i = 0; i < valid.size(); ++i) {
    if (valid[i]) bitmap[i / 8] = static_cast<char>(bitmap[i / 8] | (1 << (i % 8)));
  }
  out->append(bitmap);
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
  std::string_view bitmap;
  if (kind != 2 || !in->ReadBytes((n + 7) / 8, &bitmap)) return false;
  valid->resize(n);
  *non_null = 0;
  for (size_t i = 0; i < n; ++i) {
    (*valid)[i] = (static_cast<uint8_t>(bitmap[i / 8]) >> (i % 8)) & 1;
    *non_null += (*valid)[i];
  }
  return true;
}

void CompressBlock(std::string_view raw, Compression preferred, int zstd_level, std::string* out) {
  std::string compressed;
  if (preferred == Compression::kZstd && raw.size() >= 64) {
    compressed.resize(ZSTD_compressBound(raw.size()));
    size_t n = ZSTD_compress(compressed.data(), compressed.size(), raw.data(), raw.size(),
                             zstd_level);
    compressed.resize(ZSTD_isError(n) ? 0 : n);
  } else if (preferred == Compression::kLz4 && raw.size() >= 64 && raw.size() < (1u << 30)) {
    compressed.resize(LZ4_compressBound(static_cast<int>(raw.size())));
    int n = LZ4_compress_default(raw.data(), compressed.data(), static_cast<int>(raw.size()),
                                 static_cast<int>(compressed.size()));
    compressed.resize(n > 0 ? static_cast<size_t>(n) : 0);
  }
  bool use = !compressed.empty() && compressed.size() < raw.size() - raw.size() / 32;
  out->push_back(static_cast<char>(use ? preferred : Compression::kNone));
  PutVarint(out, raw.size());
  out->append(use ? std::string_view(compressed) : raw);
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
