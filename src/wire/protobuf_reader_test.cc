#include "wire/internal/protobuf_reader.h"

#include <string>

#include <gtest/gtest.h>

#include "wire/internal/protobuf_writer.h"

namespace waggle::wire_internal {
namespace {

std::string Bytes(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

TEST(ReadVarint, DecodesOneAndMultiByteValues) {
  std::string in = Bytes({0x01, 0xAC, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                          0xFF, 0x01});
  const auto* p = reinterpret_cast<const uint8_t*>(in.data());
  const auto* end = p + in.size();
  uint64_t v;
  ASSERT_TRUE(ReadVarint(&p, end, &v));
  EXPECT_EQ(v, 1u);
  ASSERT_TRUE(ReadVarint(&p, end, &v));
  EXPECT_EQ(v, 300u);
  ASSERT_TRUE(ReadVarint(&p, end, &v));
  EXPECT_EQ(v, UINT64_MAX);
  EXPECT_EQ(p, end);
}

TEST(ReadVarint, RejectsElevenBytesOverflowAndTruncation) {
  uint64_t v;
  std::string eleven = Bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01});
  const auto* p = reinterpret_cast<const uint8_t*>(eleven.data());
  EXPECT_FALSE(ReadVarint(&p, p + eleven.size(), &v));

  std::string overflow = Bytes({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02});
  p = reinterpret_cast<const uint8_t*>(overflow.data());
  EXPECT_FALSE(ReadVarint(&p, p + overflow.size(), &v));

  std::string truncated = Bytes({0x80, 0x80});
  p = reinterpret_cast<const uint8_t*>(truncated.data());
  EXPECT_FALSE(ReadVarint(&p, p + truncated.size(), &v));
  p = nullptr;
  EXPECT_FALSE(ReadVarint(&p, p, &v));  // empty input
}

TEST(ProtoReader, ReadsEveryWireType) {
  std::string msg;
  ProtoWriter w(&msg);
  w.VarintField(1, 150);
  w.Fixed64Field(2, 0x1122334455667788ull);
  w.BytesField(3, "hello");
  w.Fixed32Field(4, 0xDEADBEEF);
  ProtoReader r(msg);
  ASSERT_TRUE(r.Next());
  EXPECT_EQ(r.field(), 1u);
  EXPECT_EQ(r.wire_type(), WireType::kVarint);
  EXPECT_EQ(r.scalar(), 150u);
  ASSERT_TRUE(r.Next());
  EXPECT_EQ(r.wire_type(), WireType::kFixed64);
  EXPECT_EQ(r.scalar(), 0x1122334455667788ull);
  ASSERT_TRUE(r.Next());
  EXPECT_EQ(r.wire_type(), WireType::kLen);
  EXPECT_EQ(r.bytes(), "hello");
  EXPECT_EQ(r.bytes().data(), msg.data() + 14);  // zero copy: a view into the input
  ASSERT_TRUE(r.Next());
  EXPECT_EQ(r.wire_type(), WireType::kFixed32);
  EXPECT_EQ(r.scalar(), 0xDEADBEEFu);
  EXPECT_FALSE(r.Next());
  EXPECT_TRUE(r.ok());
}

TEST(ProtoReader, SkipsUnknownFieldsOfEveryType) {
  std::string msg;
  ProtoWriter w(&msg);
  w.VarintField(100, 1);
  w.Fixed64Field(101, 2);
  w.BytesField(102, std::string(300, 'x'));  // two-byte length
  w.Fixed32Field(103, 3);
  w.BytesField(7, "wanted");
  ProtoReader r(msg);
  std::string_view found;
  while (r.Next()) {
    if (r.field() == 7) found = r.bytes();
  }
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(found, "wanted");
}

TEST(ProtoReader, TruncatedVarintValue) {
  std::string msg = Bytes({0x08, 0x80});
  ProtoReader r(msg);
  EXPECT_FALSE(r.Next());
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.ErrorString(), "truncated or overlong varint at byte 1");
}

TEST(ProtoReader, LengthPastEnd) {
  std::string msg = Bytes({0x0A, 0x05, 'a', 'b'});
  ProtoReader r(msg);
  EXPECT_FALSE(r.Next());
  EXPECT_STREQ(r.error(), "length past end of message");
}

TEST(ProtoReader, HugeLengthDoesNotWrap) {
  std::string msg = Bytes({0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01});
  ProtoReader r(msg);
  EXPECT_FALSE(r.Next());
  EXPECT_STREQ(r.error(), "length past end of message");
}

TEST(ProtoReader, TruncatedFixed) {
  std::string f64 = Bytes({0x09, 1, 2, 3, 4, 5, 6, 7});
  ProtoReader r64(f64);
  EXPECT_FALSE(r64.Next());
  EXPECT_STREQ(r64.error(), "truncated fixed64");
  std::string f32 = Bytes({0x0D, 1, 2, 3});
  ProtoReader r32(f32);
  EXPECT_FALSE(r32.Next());
  EXPECT_STREQ(r32.error(), "truncated fixed32");
}

TEST(ProtoReader, RejectsGroupsBadWireTypesAndFieldZero) {
  for (int tag : {0x0B /*start group*/, 0x0C /*end group*/}) {
    std::string msg = Bytes({tag, 0x00});
    ProtoReader r(msg);
    EXPECT_FALSE(r.Next());
    EXPECT_STREQ(r.error(), "groups are not supported");
  }
  for (int tag : {0x0E, 0x0F}) {
    std::string msg = Bytes({tag, 0x00});
    ProtoReader r(msg);
    EXPECT_FALSE(r.Next());
    EXPECT_STREQ(r.error(), "invalid wire type");
  }
  std::string zero = Bytes({0x00, 0x00});
  ProtoReader r(zero);
  EXPECT_FALSE(r.Next());
  EXPECT_STREQ(r.error(), "invalid field number");
  // Field number 2^32 (tag does not fit 32 bits after the shift).
  std::string big = Bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x00});
  ProtoReader rb(big);
  EXPECT_FALSE(rb.Next());
  EXPECT_STREQ(rb.error(), "invalid field number");
}

TEST(ProtoReader, StopsAfterFirstError) {
  std::string msg = Bytes({0x08, 0x01, 0x0A, 0x09});
  ProtoReader r(msg);
  EXPECT_TRUE(r.Next());
  EXPECT_FALSE(r.Next());
  EXPECT_FALSE(r.Next());
  EXPECT_EQ(r.error_offset(), 4u);
}

// Builds `depth` messages nested in field 1.
std::string Nested(int depth) {
  std::string msg;
  for (int i = 0; i < depth; ++i) {
    std::string outer;
    ProtoWriter(&outer).BytesField(1, msg);
    msg = std::move(outer);
  }
  return msg;
}

// Descends through field 1 as far as it goes; returns the deepest reader's status.
bool Descend(ProtoReader r, int* levels) {
  while (r.Next()) {
    if (r.field() == 1 && r.wire_type() == WireType::kLen) {
      ++*levels;
      return Descend(r.Child(), levels);
    }
  }
  return r.ok();
}

TEST(ProtoReader, NestingDepthGuard) {
  int levels = 0;
  EXPECT_TRUE(Descend(ProtoReader(Nested(8), 8), &levels));
  EXPECT_EQ(levels, 8);
  levels = 0;
  std::string nine = Nested(9);
  EXPECT_FALSE(Descend(ProtoReader(nine, 8), &levels));
  EXPECT_EQ(levels, 9);
}

TEST(ProtoReader, ChildErrorOffsetsAreAbsolute) {
  std::string inner = Bytes({0x08, 0x80});  // truncated varint
  std::string msg;
  ProtoWriter w(&msg);
  w.VarintField(2, 5);
  w.BytesField(1, inner);
  ProtoReader r(msg);
  ASSERT_TRUE(r.Next());
  ASSERT_TRUE(r.Next());
  ProtoReader child = r.Child();
  EXPECT_FALSE(child.Next());
  EXPECT_EQ(child.error_offset(), 5u);  // 2 bytes of field 2, 2 of header, 1 into the child
}

TEST(ProtoWriter, NestedLengthsRoundTrip) {
  std::string msg;
  ProtoWriter w(&msg);
  size_t outer = w.BeginLen(1);
  w.BytesField(2, std::string(200, 'y'));  // inner body needs a two-byte length
  w.EndLen(outer);
  ProtoReader r(msg);
  ASSERT_TRUE(r.Next());
  EXPECT_EQ(r.bytes().size(), 203u);
  ProtoReader c = r.Child();
  ASSERT_TRUE(c.Next());
  EXPECT_EQ(c.bytes(), std::string(200, 'y'));
  EXPECT_EQ(msg.size(), 206u);
}

}  // namespace
}  // namespace waggle::wire_internal
