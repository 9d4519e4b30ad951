// Value encodings for one column block of a segment (docs/formats/segment.md, "Blocks").
//
// Each Encode* function appends a self-describing encoding (one encoding byte, then the body)
// chosen by what is smallest for the given values; the matching Decode* reads exactly `n`
// values back. Decoders take untrusted bytes: malformed input yields false, never a crash,
// an out-of-bounds read or an allocation larger than O(n + input size).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "common/status.h"
#include "store/internal/coding.h"

namespace waggle::store_internal {

// Upper bound on rows per block accepted by decoders (writers use kBlockRows).
inline constexpr size_t kMaxBlockRows = 1 << 20;

enum class IntEncoding : uint8_t {
  kConst = 0,    // zigzag varint value
  kPlain = 1,    // zigzag varints
  kDelta = 2,    // varint gcd, zigzag first, zigzag (delta / gcd) varints
  kBitPack = 3,  // zigzag min, u8 width, (value - min) bit-packed LSB first
  kRle = 4,      // varint runs, then (zigzag value, varint length) per run
};
enum class DoubleEncoding : uint8_t { kConst = 0, kPlain = 1 };  // IEEE-754 bits, LE
enum class StringEncoding : uint8_t {
  kPlain = 0,   // values
  kDict = 1,    // varint dict size, entries, then codes as an int encoding
  kSameAs = 2,  // varint column index: every value equals that column's value in the row
};
// Flags or-ed into the string encoding byte: how values (plain) or entries (dict) are stored.
// No flag: varint length + bytes. kStringUuid: every one is a canonical lowercase UUID
// (8-4-4-4-12 hex digits), stored as its 16 bytes. kStringHex: every one is lowercase hex of
// the same even length 2*L (L >= 1, a varint L follows the encoding byte), stored as L bytes.
inline constexpr uint8_t kStringUuid = 0x10;
inline constexpr uint8_t kStringHex = 0x20;
inline constexpr uint8_t kStringBaseMask = 0x0f;

void EncodeInts(std::span<const int64_t> values, std::string* out);
bool DecodeInts(ByteReader* in, size_t n, std::vector<int64_t>* out);  // appends n values

void EncodeDoubles(std::span<const double> values, std::string* out);
bool DecodeDoubles(ByteReader* in, size_t n, std::vector<double>* out);  // appends n values

void EncodeStrings(std::span<const std::string_view> values, std::string* out);

// Hashes strings with XXH3 (absl's hash of std::string_view falls back to std::hash).
struct StringViewHash {
  size_t operator()(std::string_view s) const;
};
// Reusable memory of EncodeStringsById (one per writing thread).
struct StringEncodeScratch {
  // By id: the dictionary entry, valid while id_block[id] == block (a counter per call).
  std::vector<uint32_t> entry_of_id;
  std::vector<uint32_t> id_block;
  uint32_t block = 0;
  absl::flat_hash_map<std::string_view, uint32_t, StringViewHash> entry_of_string;
  std::vector<std::string_view> dict;
  std::vector<int64_t> codes;
};
// EncodeStrings where ids[i] names values[i]'s string (equal ids: equal strings; equal
// strings may have several ids), so a string is hashed once per distinct id, not per row; with
// `ids` empty every string is hashed. The encoding is the same either way.
void EncodeStringsById(std::span<const std::string_view> values, std::span<const uint32_t> ids,
                       StringEncodeScratch* scratch, std::string* out);

// Strings decoded from a block. Views point into the bytes that were decoded.
struct DecodedStrings {
  bool dict_encoded = false;
  std::unique_ptr<std::string> text;    // owns the text of UUID/hex values (views point here)
  std::vector<std::string_view> dict;   // dict_encoded only
  std::vector<uint32_t> codes;          // dict_encoded only; one per value
  std::vector<std::string_view> values;
};
// Decodes n values. With a window, only values [first, first + count) are materialised (the
// others come back as empty views, and the dictionary and codes are not kept): a read of a few
// rows of a block does not expand every UUID in it.
bool DecodeStrings(ByteReader* in, size_t n, DecodedStrings* out, size_t first = 0,
                   size_t count = SIZE_MAX);

// Bit-packing of unsigned values of `width` bits (0..64), LSB first.
void PackBits(std::span<const uint64_t> values, int width, std::string* out);
bool UnpackBits(ByteReader* in, size_t n, int width, std::vector<uint64_t>* out);
int BitWidth(uint64_t max_value);

// Validity of n rows: u8 kind, then: 0 all valid; 1 all null; 2 bitmap of ceil(n/8) bytes;
// 3 runs (varint count, varint lengths alternating valid/null, starting with valid; only the
// first may be 0); 4 valid rows listed, 5 null rows listed (varint count, then varint gaps:
// first row, then row - previous - 1). The writer picks the smallest (ties: lower kind).
// `valid` has one byte (0/1) per row.
void EncodeValidity(std::span<const uint8_t> valid, std::string* out);
// The same for `rows` rows of which the caller knows `non_null` are valid: `valid` is read only
// when some but not all are (it may be empty otherwise).
void EncodeValidity(size_t rows, size_t non_null, std::span<const uint8_t> valid, std::string* out);
// Sets *valid to n bytes (or leaves it empty when all rows are valid) and *non_null.
bool DecodeValidity(ByteReader* in, size_t n, std::vector<uint8_t>* valid, size_t* non_null);

enum class Compression : uint8_t { kNone = 0, kZstd = 1, kLz4 = 2 };

// Appends [u8 compression][varint raw length][payload] to *out, using `preferred` only when it
// makes the block at least ~3% smaller.
void CompressBlock(std::string_view raw, Compression preferred, int zstd_level, std::string* out);
// Inverse of CompressBlock. *raw points into `stored` or into *scratch. Rejects raw lengths
// above max_raw_bytes.
Status DecompressBlock(std::string_view stored, size_t max_raw_bytes, std::string* scratch,
                       std::string_view* raw);

}  // namespace waggle::store_internal
