#include "store/internal/column_codec.h"

#include <cmath>
#include <limits>
#include <random>

#include <gtest/gtest.h>

namespace waggle::store_internal {
namespace {

std::vector<int64_t> RoundTripInts(const std::vector<int64_t>& v, IntEncoding* enc = nullptr) {
  std::string buf;
  EncodeInts(v, &buf);
  if (enc) *enc = static_cast<IntEncoding>(buf[0]);
  ByteReader in(buf);
  std::vector<int64_t> out;
  EXPECT_TRUE(DecodeInts(&in, v.size(), &out));
  EXPECT_TRUE(in.empty());
  return out;
}

TEST(ColumnCodec, VarintAndZigZagExtremes) {
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{1}, INT64_MAX, INT64_MIN}) {
    EXPECT_EQ(UnZigZag(ZigZag(v)), v);
    std::string buf;
    PutZigZag(&buf, v);
    ByteReader in(buf);
    int64_t back;
    ASSERT_TRUE(in.ReadZigZag(&back));
    EXPECT_EQ(back, v);
  }
  const std::string overlong_bytes(11, '\xff');
  ByteReader overlong(overlong_bytes);
  uint64_t x;
  EXPECT_FALSE(overlong.ReadVarint(&x));
}

TEST(ColumnCodec, IntsChooseEachEncodingAndRoundTrip) {
  IntEncoding enc;
  std::vector<int64_t> constant(1000, 42);
  EXPECT_EQ(RoundTripInts(constant, &enc), constant);
  EXPECT_EQ(enc, IntEncoding::kConst);

  std::vector<int64_t> times;
  for (int i = 0; i < 1000; ++i) times.push_back(1'700'000'000'000'000'000 + i * 1000 + (i % 7) * 3000);
  EXPECT_EQ(RoundTripInts(times, &enc), times);
  EXPECT_EQ(enc, IntEncoding::kDelta);

  std::mt19937_64 rng(7);
  std::vector<int64_t> small;
  for (int i = 0; i < 1000; ++i) small.push_back(static_cast<int64_t>(rng() % 5) + 100);
  EXPECT_EQ(RoundTripInts(small, &enc), small);
  EXPECT_EQ(enc, IntEncoding::kBitPack);

  std::vector<int64_t> runs;
  for (int i = 0; i < 1000; ++i) runs.push_back(int64_t{i / 250} * 1'000'000'000);
  EXPECT_EQ(RoundTripInts(runs, &enc), runs);
  EXPECT_EQ(enc, IntEncoding::kRle);

  std::vector<int64_t> random;
  for (int i = 0; i < 1000; ++i) random.push_back(static_cast<int64_t>(rng() % 1000) * (i % 2 ? -1 : 1) * (i % 3 ? 1 : 1'000'000'000'000));
  EXPECT_EQ(RoundTripInts(random), random);
}

TEST(ColumnCodec, IntsEdgeCases) {
  EXPECT_TRUE(RoundTripInts({}).empty());
  EXPECT_EQ(RoundTripInts({INT64_MAX}), std::vector<int64_t>{INT64_MAX});
  std::vector<int64_t> extremes = {INT64_MIN, INT64_MAX, 0, INT64_MIN, -1, INT64_MAX};
  EXPECT_EQ(RoundTripInts(extremes), extremes);
  std::vector<int64_t> wide_delta = {INT64_MIN, INT64_MAX, INT64_MIN + 2, INT64_MAX - 2};
  EXPECT_EQ(RoundTripInts(wide_delta), wide_delta);
}

TEST(ColumnCodec, BitPackAllWidths) {
  for (int width = 0; width <= 64; ++width) {
    std::vector<uint64_t> v;
    uint64_t mask = width == 64 ? ~0ull : (1ull << width) - 1;
    // Long enough that most values take the word-at-a-time path, and the tail the byte path.
    for (uint64_t i = 0; i < 1000; ++i) v.push_back((i * 0x9e3779b97f4a7c15ull) & mask);
    std::string buf = "pre";  // packing appends after what the buffer holds
    PackBits(v, width, &buf);
    ASSERT_EQ(buf.substr(0, 3), "pre");
    buf.erase(0, 3);
    EXPECT_EQ(buf.size(), (v.size() * width + 7) / 8);
    ByteReader in(buf);
    std::vector<uint64_t> out;
    ASSERT_TRUE(UnpackBits(&in, v.size(), width, &out)) << width;
    EXPECT_EQ(out, v) << width;
  }
}

TEST(ColumnCodec, DoublesKeepBitsIncludingNanAndInf) {
  std::vector<double> v = {0.0, -0.0, 1.5, std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity(),
                           std::numeric_limits<double>::quiet_NaN(),
                           std::numeric_limits<double>::denorm_min(),
                           std::numeric_limits<double>::max()};
  std::string buf;
  EncodeDoubles(v, &buf);
  ByteReader in(buf);
  std::vector<double> out;
  ASSERT_TRUE(DecodeDoubles(&in, v.size(), &out));
  ASSERT_EQ(out.size(), v.size());
  for (size_t i = 0; i < v.size(); ++i) EXPECT_EQ(DoubleBits(out[i]), DoubleBits(v[i])) << i;

  std::vector<double> nans(10, std::numeric_limits<double>::quiet_NaN());
  buf.clear();
  EncodeDoubles(nans, &buf);
  EXPECT_EQ(buf[0], static_cast<char>(DoubleEncoding::kConst));
  ByteReader in2(buf);
  out.clear();
  ASSERT_TRUE(DecodeDoubles(&in2, nans.size(), &out));
  EXPECT_TRUE(std::isnan(out[9]));
}

TEST(ColumnCodec, StringsDictAndPlain) {
  std::vector<std::string> storage;
  for (int i = 0; i < 500; ++i) storage.push_back(i % 3 == 0 ? "GET /api/activities/home" : i % 3 == 1 ? "" : "postgres");
  std::vector<std::string_view> low(storage.begin(), storage.end());
  std::string buf;
  EncodeStrings(low, &buf);
  EXPECT_EQ(buf[0], static_cast<char>(StringEncoding::kDict));
  ByteReader in(buf);
  DecodedStrings out;
  ASSERT_TRUE(DecodeStrings(&in, low.size(), &out));
  EXPECT_TRUE(out.dict_encoded);
  EXPECT_EQ(out.dict.size(), 3u);
  EXPECT_EQ(out.values, low);

  std::vector<std::string> unique;
  unique.push_back(std::string(100000, 'x'));  // very long
  unique.push_back("");
  for (int i = 0; i < 300; ++i) unique.push_back("user-" + std::to_string(i * 7919));
  std::vector<std::string_view> high(unique.begin(), unique.end());
  buf.clear();
  EncodeStrings(high, &buf);
  EXPECT_EQ(buf[0], static_cast<char>(StringEncoding::kPlain));
  ByteReader in2(buf);
  DecodedStrings out2;
  ASSERT_TRUE(DecodeStrings(&in2, high.size(), &out2));
  EXPECT_EQ(out2.values, high);

  buf.clear();
  EncodeStrings({}, &buf);
  ByteReader in3(buf);
  DecodedStrings out3;
  EXPECT_TRUE(DecodeStrings(&in3, 0, &out3));
  EXPECT_TRUE(out3.values.empty());
}

// By-id dictionaries: equal strings under several ids share one entry, the bytes equal
// EncodeStrings', one scratch serves many blocks, and all-distinct blocks go plain early.
TEST(ColumnCodec, StringsByIdMatchStringsWhateverTheIds) {
  StringEncodeScratch scratch;
  std::vector<std::string> storage;
  std::vector<uint32_t> ids;
  for (int i = 0; i < 600; ++i) {
    storage.push_back(i % 4 == 0 ? "backend-flask" : i % 4 == 1 ? "postgres" : "cognito");
    ids.push_back(static_cast<uint32_t>(i % 4 == 0 ? 7 + (i % 3) : i % 4));  // 3 ids, one string
  }
  std::vector<std::string> unique;
  std::vector<uint32_t> unique_ids;
  for (int i = 0; i < 300; ++i) {
    unique.push_back("f81d4fae-7dec-11d0-a765-00a0c9" + std::to_string(100000 + i));
    unique_ids.push_back(static_cast<uint32_t>(1000 + i));
  }
  for (int round = 0; round < 3; ++round) {  // the scratch carries over between blocks
    for (const auto* block : {&storage, &unique}) {
      const auto& block_ids = block == &storage ? ids : unique_ids;
      std::vector<std::string_view> views(block->begin(), block->end());
      std::string by_id, by_string;
      EncodeStringsById(views, block_ids, &scratch, &by_id);
      EncodeStrings(views, &by_string);
      EXPECT_EQ(by_id, by_string);
      ByteReader in(by_id);
      DecodedStrings out;
      ASSERT_TRUE(DecodeStrings(&in, views.size(), &out));
      EXPECT_EQ(out.values, views);
      if (block == &storage) {
        EXPECT_EQ(out.dict.size(), 3u);
      }
    }
  }
}

// A window materialises exactly its values, whatever the encoding, and consumes the block.
TEST(ColumnCodec, StringsDecodeAWindowOnly) {
  std::vector<std::vector<std::string>> blocks(4);
  for (int i = 0; i < 200; ++i) {
    const std::string uuid = "f81d4fae-7dec-11d0-a765-00a0c91e" + std::to_string(1000 + i % 37);
    blocks[0].push_back(uuid);                                    // UUID dictionary
    blocks[1].push_back("f81d4fae-7dec-11d0-a765-00a0c9" + std::to_string(100000 + i));  // plain UUIDs
    blocks[2].push_back(i % 3 ? "GET /home" : "");               // text dictionary
    blocks[3].push_back("user-" + std::to_string(i * 7919));      // plain text
  }
  for (const auto& block : blocks) {
    std::vector<std::string_view> views(block.begin(), block.end());
    std::string buf;
    EncodeStrings(views, &buf);
    for (auto [first, count] : {std::pair<size_t, size_t>{0, 200}, {0, 1}, {37, 5}, {199, 1},
                                {150, 500}, {200, 3}}) {
      ByteReader in(buf);
      DecodedStrings out;
      ASSERT_TRUE(DecodeStrings(&in, views.size(), &out, first, count)) << first;
      EXPECT_TRUE(in.empty());
      ASSERT_EQ(out.values.size(), views.size());
      for (size_t i = 0; i < views.size(); ++i) {
        const bool in_window = i >= first && i - first < count;
        EXPECT_EQ(out.values[i], in_window ? views[i] : std::string_view()) << i;
      }
    }
  }
}

std::vector<std::string> RoundTripStrings(const std::vector<std::string>& v, uint8_t* enc) {
  std::vector<std::string_view> views(v.begin(), v.end());
  std::string buf;
  EncodeStrings(views, &buf);
  *enc = static_cast<uint8_t>(buf[0]);
  ByteReader in(buf);
  DecodedStrings out;
  EXPECT_TRUE(DecodeStrings(&in, v.size(), &out));
  EXPECT_TRUE(in.empty());
  return std::vector<std::string>(out.values.begin(), out.values.end());
}

// Every byte value at every position of hex strings and UUIDs: packed exactly when it is a
// lowercase hex digit (and the dashes are in place), kept as text otherwise, and round-tripped
// byte for byte either way (the word-at-a-time checks against the per-byte definition).
TEST(ColumnCodec, HexAndUuidPackingCheckEveryByteValueAtEveryPosition) {
  const std::string hex40 = "0123456789abcdef0123456789abcdef01234567";
  const std::string uuid = "01234567-89ab-cdef-0123-456789abcdef";
  uint8_t enc;
  for (int c = 0; c < 256; ++c) {
    const bool digit = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    for (size_t at = 0; at < hex40.size(); ++at) {
      std::vector<std::string> v = {hex40, hex40};
      v[1][at] = static_cast<char>(c);
      ASSERT_EQ(RoundTripStrings(v, &enc), v) << c << " at " << at;
      ASSERT_EQ((enc & ~kStringBaseMask) == kStringHex, digit) << c << " at " << at;
    }
    for (size_t at = 0; at < uuid.size(); ++at) {
      std::vector<std::string> v = {uuid, uuid};
      v[1][at] = static_cast<char>(c);
      const bool dash_place = at == 8 || at == 13 || at == 18 || at == 23;
      const bool packs = dash_place ? c == '-' : digit;
      ASSERT_EQ(RoundTripStrings(v, &enc), v) << c << " at " << at;
      ASSERT_EQ((enc & ~kStringBaseMask) == kStringUuid, packs) << c << " at " << at;
    }
  }
}

TEST(ColumnCodec, StringsPackUuidsAndHexExactly) {
  std::mt19937_64 rng(3);
  auto hex = [&](size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s.push_back("0123456789abcdef"[rng() % 16]);
    return s;
  };
  auto uuid = [&] {
    std::string s = hex(32);
    for (size_t at : {8u, 13u, 18u, 23u}) s.insert(at, "-");
    return s;
  };
  uint8_t enc;
  std::vector<std::string> ids, uuids, repeated;
  for (int i = 0; i < 300; ++i) {
    ids.push_back(hex(32));
    uuids.push_back(uuid());
    repeated.push_back(uuids[i / 10 * 10]);
  }
  EXPECT_EQ(RoundTripStrings(ids, &enc), ids);
  EXPECT_EQ(enc, kStringHex | static_cast<uint8_t>(StringEncoding::kPlain));
  EXPECT_EQ(RoundTripStrings(uuids, &enc), uuids);
  EXPECT_EQ(enc, kStringUuid | static_cast<uint8_t>(StringEncoding::kPlain));
  EXPECT_EQ(RoundTripStrings(repeated, &enc), repeated);
  EXPECT_EQ(enc, kStringUuid | static_cast<uint8_t>(StringEncoding::kDict));
  std::vector<std::string> short_hex = {"00", "ff", "0a", "a0"};
  EXPECT_EQ(RoundTripStrings(short_hex, &enc), short_hex);
  EXPECT_EQ(enc & ~kStringBaseMask, kStringHex);

  // Anything not exactly canonical stays text and round-trips byte for byte.
  std::string upper_uuid = uuid();
  upper_uuid[0] = 'A';
  std::string moved_dash = hex(9) + "-" + hex(3) + "-" + hex(4) + "-" + hex(4) + "-" + hex(12);
  const std::vector<std::vector<std::string>> plain_cases = {
      {ids[0], "ABCDEF0123456789ABCDEF0123456789"},  // uppercase hex
      {ids[0], hex(31)},                             // odd length
      {hex(33)},                                     // odd length alone
      {"0x" + hex(30), ids[1]},                      // 0x prefix
      {ids[0], hex(30)},                             // hex of two lengths
      {upper_uuid},                                  // uppercase UUID
      {moved_dash},                                  // dashes in the wrong places
      {"{" + uuids[0] + "}"},                        // braces
      {hex(32) + "g"},                               // non-hex digit
      {uuids[0], ids[0]},                            // UUID and hex mixed
      {""},                                          // empty
      {"", ids[0]},
  };
  for (const auto& v : plain_cases) {
    EXPECT_EQ(RoundTripStrings(v, &enc), v);
    EXPECT_EQ(enc & ~kStringBaseMask, 0) << v[0];
  }

  // Truncated packed input and unknown flags are rejected.
  std::vector<std::string_view> views(uuids.begin(), uuids.end());
  std::string buf;
  EncodeStrings(views, &buf);
  for (size_t cut : {size_t{1}, size_t{10}, buf.size() - 1}) {
    ByteReader in(std::string_view(buf).substr(0, cut));
    DecodedStrings out;
    EXPECT_FALSE(DecodeStrings(&in, views.size(), &out));
  }
  buf[0] = static_cast<char>(kStringUuid | kStringHex);
  ByteReader in(buf);
  DecodedStrings out;
  EXPECT_FALSE(DecodeStrings(&in, views.size(), &out));
}

TEST(ColumnCodec, ValidityPicksCheapestKindAndRoundTrips) {
  auto round_trip = [](const std::vector<uint8_t>& valid) {
    std::string buf;
    EncodeValidity(valid, &buf);
    ByteReader in(buf);
    std::vector<uint8_t> out;
    size_t non_null = 0;
    EXPECT_TRUE(DecodeValidity(&in, valid.size(), &out, &non_null));
    EXPECT_TRUE(in.empty());
    size_t expected = 0;
    for (uint8_t b : valid) expected += b;
    EXPECT_EQ(non_null, expected);
    for (size_t i = 0; i < valid.size(); ++i) EXPECT_EQ(out.empty() ? 1 : out[i], valid[i]) << i;
    return static_cast<uint8_t>(buf[0]);
  };
  std::vector<uint8_t> sparse(8192, 0), mostly(8192, 1), runs(8192, 0);
  for (size_t i = 0; i < 8192; i += 500) sparse[i] = 1;
  for (size_t i = 3; i < 8192; i += 700) mostly[i] = 0;
  mostly[8191] = 0;
  for (size_t i = 1000; i < 5000; ++i) runs[i] = 1;
  EXPECT_EQ(round_trip(sparse), 4);
  EXPECT_EQ(round_trip(mostly), 5);
  EXPECT_EQ(round_trip(runs), 3);
  std::vector<uint8_t> first_null(100, 1);
  first_null[0] = 0;
  round_trip(first_null);
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<uint8_t> v(1 + rng() % 300);
    const uint64_t density = rng() % 5;
    for (auto& b : v) b = (rng() % 4) < density ? 1 : 0;
    round_trip(v);
  }
  // Malformed lists and runs are rejected.
  for (std::string bad : {std::string("\x03\x02\x05\x06", 4), std::string("\x04\x02\x09\x00", 4),
                          std::string("\x04\x01\x0a", 3), std::string("\x05\x0b", 2),
                          std::string("\x03\x02\x00\x00", 4), std::string("\x06", 1)}) {
    ByteReader in(bad);
    std::vector<uint8_t> out;
    size_t non_null;
    EXPECT_FALSE(DecodeValidity(&in, 10, &out, &non_null)) << static_cast<int>(bad[0]);
  }
}

TEST(ColumnCodec, ValidityKinds) {
  for (std::vector<uint8_t> valid : {std::vector<uint8_t>{}, std::vector<uint8_t>(9, 1),
                                     std::vector<uint8_t>(9, 0),
                                     std::vector<uint8_t>{1, 0, 0, 1, 1, 0, 1, 0, 1, 1}}) {
    std::string buf;
    EncodeValidity(valid, &buf);
    ByteReader in(buf);
    std::vector<uint8_t> out;
    size_t non_null = 0;
    ASSERT_TRUE(DecodeValidity(&in, valid.size(), &out, &non_null));
    size_t expected = 0;
    for (uint8_t b : valid) expected += b;
    EXPECT_EQ(non_null, expected);
    for (size_t i = 0; i < valid.size(); ++i) EXPECT_EQ(out.empty() ? 1 : out[i], valid[i]);
  }
}

TEST(ColumnCodec, CompressionRoundTripAndFallback) {
  std::string compressible(100000, 'a');
  std::mt19937_64 rng(1);
  std::string random;
  for (int i = 0; i < 1000; ++i) random.push_back(static_cast<char>(rng()));
  for (Compression c : {Compression::kZstd, Compression::kLz4, Compression::kNone}) {
    for (const std::string& raw : {compressible, random, std::string()}) {
      std::string stored, scratch;
      CompressBlock(raw, c, 3, &stored);
      if (&raw == &compressible && c != Compression::kNone) {
        EXPECT_LT(stored.size(), 2000u);
      }
      if (&raw == &random) {
        EXPECT_EQ(stored[0], static_cast<char>(Compression::kNone));
      }
      std::string_view back;
      ASSERT_TRUE(DecompressBlock(stored, 1 << 20, &scratch, &back).ok());
      EXPECT_EQ(back, raw);
    }
  }
  std::string stored, scratch;
  CompressBlock(compressible, Compression::kZstd, 3, &stored);
  std::string_view back;
  EXPECT_FALSE(DecompressBlock(stored, 1000, &scratch, &back).ok());  // raw length cap
  stored[stored.size() / 2] ^= 0x55;
  stored.resize(stored.size() - 3);
  EXPECT_FALSE(DecompressBlock(stored, 1 << 20, &scratch, &back).ok());
}

// Large random blocks skip the compressor; large blocks of varied but non-random bytes (hex
// text: 4 bits of entropy per byte) are still compressed.
TEST(ColumnCodec, RandomBlocksAreStoredRawAndTextStillCompresses) {
  std::mt19937_64 rng(7);
  std::string random, hex_text;
  for (int i = 0; i < 65536; ++i) {
    random.push_back(static_cast<char>(rng()));
    hex_text.push_back("0123456789abcdef"[rng() % 16]);
  }
  for (const std::string* raw : {&random, &hex_text}) {
    std::string stored, scratch;
    CompressBlock(*raw, Compression::kZstd, 3, &stored);
    EXPECT_EQ(stored[0], static_cast<char>(raw == &random ? Compression::kNone : Compression::kZstd));
    if (raw == &hex_text) {
      EXPECT_LT(stored.size(), raw->size() * 6 / 10);
    }
    std::string_view back;
    ASSERT_TRUE(DecompressBlock(stored, 1 << 20, &scratch, &back).ok());
    EXPECT_EQ(back, *raw);
  }
}

TEST(ColumnCodec, DecodersRejectGarbageWithoutCrashing) {
  std::mt19937_64 rng(99);
  for (int iter = 0; iter < 3000; ++iter) {
    std::string junk;
    size_t len = rng() % 40;
    for (size_t i = 0; i < len; ++i) junk.push_back(static_cast<char>(rng() % 8 == 0 ? rng() % 5 : rng()));
    size_t n = rng() % 100;
    ByteReader a(junk);
    std::vector<int64_t> ints;
    (void)DecodeInts(&a, n, &ints);
    ByteReader b(junk);
    std::vector<double> doubles;
    (void)DecodeDoubles(&b, n, &doubles);
    ByteReader c(junk);
    DecodedStrings strs;
    (void)DecodeStrings(&c, n, &strs);
    ByteReader d(junk);
    std::vector<uint8_t> valid;
    size_t nn;
    (void)DecodeValidity(&d, n, &valid, &nn);
    std::string scratch;
    std::string_view raw;
    (void)DecompressBlock(junk, 1 << 16, &scratch, &raw);
  }
  std::string huge_runs;
  huge_runs.push_back(static_cast<char>(IntEncoding::kRle));
  PutVarint(&huge_runs, 1);
  PutZigZag(&huge_runs, 5);
  PutVarint(&huge_runs, uint64_t{1} << 60);
  ByteReader in(huge_runs);
  std::vector<int64_t> out;
  EXPECT_FALSE(DecodeInts(&in, 10, &out));
}

}  // namespace
}  // namespace waggle::store_internal
