#include "model/span.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace waggle {
namespace {

TEST(StringArena, CopiesStayValidAcrossBlocksMovesAndLargeStrings) {
  StringArena arena;
  std::vector<std::string> originals;
  std::vector<std::string_view> views;
  for (int i = 0; i < 5000; ++i) {  // ~150 KiB: several blocks
    originals.push_back("value-" + std::to_string(i) + std::string(static_cast<size_t>(i % 40), 'x'));
    views.push_back(arena.Store(originals.back()));
  }
  const std::string large(100'000, 'L');  // over a quarter block: its own allocation
  const std::string_view large_view = arena.Store(large);
  EXPECT_EQ(arena.Store(""), std::string_view());
  StringArena moved = std::move(arena);
  for (size_t i = 0; i < views.size(); ++i) {
    ASSERT_EQ(views[i], originals[i]);
    EXPECT_NE(views[i].data(), originals[i].data());
  }
  EXPECT_EQ(large_view, large);
  size_t bytes = large.size();
  for (const std::string& s : originals) bytes += s.size();
  EXPECT_EQ(moved.size(), bytes);
}

TEST(StringArena, ClearReusesItsFirstBlock) {
  StringArena arena;
  const char* first = arena.Store("abc").data();
  for (int i = 0; i < 3000; ++i) arena.Store(std::string(100, 'y'));
  arena.Clear();
  EXPECT_EQ(arena.size(), 0u);
  const std::string_view again = arena.Store("def");
  EXPECT_EQ(again, "def");
  EXPECT_EQ(again.data(), first);
}

TEST(SpanModel, ParseHexChecksEveryByteValueAtEveryPosition) {
  const std::string good = "0123456789abcdefABCDEF0123456789";
  TraceId t;
  ASSERT_TRUE(ParseHex(good, &t));
  EXPECT_EQ(ToHex(t), "0123456789abcdefabcdef0123456789");
  for (size_t pos = 0; pos < good.size(); ++pos) {
    for (int b = 0; b < 256; ++b) {
      std::string s = good;
      s[pos] = static_cast<char>(b);
      const bool hex = (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F');
      TraceId parsed{};
      parsed[0] = 0x5a;
      ASSERT_EQ(ParseHex(s, &parsed), hex) << "byte " << b << " at " << pos;
      if (!hex) {
        EXPECT_EQ(parsed[0], 0x5a) << "a failed parse leaves the id as it was";
      }
    }
  }
}

TEST(SpanModel, HexRoundTrip) {
  TraceId t;
  ASSERT_TRUE(ParseHex("4BF92F3577B34DA6a3ce929d0e0e4736", &t));
  EXPECT_EQ(ToHex(t), "4bf92f3577b34da6a3ce929d0e0e4736");
  SpanId s;
  ASSERT_TRUE(ParseHex("00f067aa0ba902b7", &s));
  EXPECT_EQ(ToHex(s), "00f067aa0ba902b7");
  EXPECT_FALSE(ParseHex("00f067aa0ba902b", &s));
  EXPECT_FALSE(ParseHex("00f067aa0ba902bz", &s));
  EXPECT_FALSE(ParseHex("4bf92f3577b34da6a3ce929d0e0e47", &t));
}

TEST(SpanModel, ToSpanMergesAttributeLevels) {
  SpanBatch b;
  AttrView service;
  service.key = "service.name";
  service.str = "api";
  AttrView k1;
  k1.key = "k";
  k1.type = ValueType::kInt;
  k1.i = 1;
  AttrView k2 = k1;
  k2.i = 2;
  b.attrs = {service, k1, k2};
  SpanRow r;
  r.name = "GET /";
  r.resource_attrs = {0, 2};
  r.attrs = {2, 3};
  b.rows.push_back(r);
  Span s = ToSpan(b, 0);
  ASSERT_EQ(s.attributes.size(), 2u);
  EXPECT_EQ(s.attributes[1].key, "k");
  EXPECT_EQ(s.attributes[1].i, 2);  // own attribute wins
  EXPECT_EQ(s.name, "GET /");
  EXPECT_EQ(b.span_count(), 1u);
}

TEST(SpanModel, SameBytesAgreesWithEquality) {
  std::string a, b;
  for (size_t n = 0; n <= 40; ++n) {
    a.assign(n, 'x');
    b = a;
    EXPECT_TRUE(SameBytes(a, b)) << n;
    EXPECT_TRUE(SameBytes(a, a)) << n;
    for (size_t i = 0; i < n; ++i) {
      b = a;
      b[i] = 'y';
      EXPECT_FALSE(SameBytes(a, b)) << n << " " << i;
    }
    EXPECT_FALSE(SameBytes(a, a + "x")) << n;
  }
}

}  // namespace
}  // namespace waggle
