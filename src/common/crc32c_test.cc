#include "common/crc32c.h"

#include <string>

#include <gtest/gtest.h>

namespace waggle {
namespace {

TEST(Crc32c, MatchesKnownVectors) {
  // RFC 3720 B.4 test vectors.
  std::string zeros(32, '\0');
  EXPECT_EQ(crc32c::Value(zeros), 0x8a9136aau);
  std::string ones(32, '\xff');
  EXPECT_EQ(crc32c::Value(ones), 0x62a8ab43u);
  EXPECT_EQ(crc32c::Value(std::string_view("123456789")), 0xe3069283u);
}

TEST(Crc32c, ExtendEqualsWhole) {
  std::string s = "hello, write-ahead log with a few more bytes";
  uint32_t whole = crc32c::Value(s);
  uint32_t part = crc32c::Extend(crc32c::Value(s.data(), 7), s.data() + 7, s.size() - 7);
  EXPECT_EQ(whole, part);
}

TEST(Crc32c, MaskRoundTrips) {
  uint32_t crc = crc32c::Value(std::string_view("abc"));
  EXPECT_NE(crc32c::Mask(crc), crc);
  EXPECT_EQ(crc32c::Unmask(crc32c::Mask(crc)), crc);
}

TEST(Crc32c, AcceleratedMatchesPortable) {
  std::string s;
  uint64_t x = 12345;
  for (int i = 0; i < 1000; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    s.push_back(static_cast<char>(x >> 56));
  }
  // Every length and alignment up to a few words, and with a non-zero initial CRC.
  for (size_t off = 0; off < 9; ++off) {
    for (size_t n = 0; n + off <= 80; ++n) {
      EXPECT_EQ(crc32c::Extend(0, s.data() + off, n),
                crc32c::internal::ExtendPortable(0, s.data() + off, n));
      EXPECT_EQ(crc32c::Extend(0xdeadbeef, s.data() + off, n),
                crc32c::internal::ExtendPortable(0xdeadbeef, s.data() + off, n));
    }
  }
  EXPECT_EQ(crc32c::Value(s), crc32c::internal::ExtendPortable(0, s.data(), s.size()));
}

}  // namespace
}  // namespace waggle
