#include "net/internal/body_decoder.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"

#include "net/internal/test_util.h"

namespace waggle::net_internal {
namespace {

using net_test::Compress;

std::string Sample() {
  std::string s;
  for (int i = 0; i < 50000; ++i) s += std::to_string(i * 7919 % 10007) + ",";
  return s;
}

TEST(DecodeBody, GzipRoundTrip) {
  const std::string plain = Sample();
  std::string out = "stale";
  ASSERT_TRUE(DecodeBody("gzip", Compress(plain), 1 << 20, &out).ok());
  EXPECT_EQ(out, plain);
  ASSERT_TRUE(DecodeBody(" GZIP ", Compress(plain), plain.size(), &out).ok());
  EXPECT_EQ(out, plain) << "a limit equal to the size is allowed";
}

TEST(DecodeBody, MultiMemberGzip) {
  std::string out;
  ASSERT_TRUE(DecodeBody("gzip", Compress("hello ") + Compress("world"), 100, &out).ok());
  EXPECT_EQ(out, "hello world");
}

TEST(DecodeBody, DeflateZlibAndRaw) {
  const std::string plain = Sample();
  std::string out;
  ASSERT_TRUE(DecodeBody("deflate", Compress(plain, 15), 1 << 20, &out).ok());
  EXPECT_EQ(out, plain);
  ASSERT_TRUE(DecodeBody("deflate", Compress(plain, -15), 1 << 20, &out).ok());
  EXPECT_EQ(out, plain);
}

TEST(DecodeBody, LimitIsOnInflatedSize) {
  const std::string plain = Sample();
  std::string out;
  const Status s = DecodeBody("gzip", Compress(plain), plain.size() - 1, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  const Status d = DecodeBody("deflate", Compress(plain, 15), plain.size() - 1, &out);
  EXPECT_EQ(d.code(), absl::StatusCode::kResourceExhausted) << d;
}

TEST(DecodeBody, BombWithLyingTrailerIsStopped) {
  std::string bomb = Compress(std::string(50 << 20, 'z'));
  // Claim a tiny ISIZE so the fast path is tempted; zlib must still enforce the limit.
  bomb[bomb.size() - 4] = 10;
  bomb[bomb.size() - 3] = bomb[bomb.size() - 2] = bomb[bomb.size() - 1] = 0;
  std::string out;
  EXPECT_EQ(DecodeBody("gzip", bomb, 1 << 20, &out).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_LE(out.capacity(), (2u << 20) + 64);
}

TEST(DecodeBody, CorruptStreams) {
  std::string out;
  Status s = DecodeBody("gzip", "definitely not gzip", 1000, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(s.message(), "invalid gzip body: ")) << s;

  std::string gz = Compress(Sample());
  std::string truncated = gz.substr(0, gz.size() - 10);
  s = DecodeBody("gzip", truncated, 1 << 20, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("unexpected end"), std::string::npos) << s;

  std::string flipped = gz;
  flipped[flipped.size() - 6] ^= 0x55;  // CRC mismatch
  EXPECT_EQ(DecodeBody("gzip", flipped, 1 << 20, &out).code(), absl::StatusCode::kInvalidArgument);

  EXPECT_EQ(DecodeBody("gzip", "", 10, &out).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeBody("gzip", gz + "junk", 1 << 20, &out).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeBody("deflate", Compress("abc", 15) + "x", 10, &out).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(DecodeBody, IdentityAndUnknown) {
  std::string out;
  ASSERT_TRUE(DecodeBody("identity", "abc", 3, &out).ok());
  EXPECT_EQ(out, "abc");
  EXPECT_EQ(DecodeBody("", "abcd", 3, &out).code(), absl::StatusCode::kResourceExhausted);
  const Status s = DecodeBody("br", "abc", 10, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(s.message().find("br"), std::string::npos);
  EXPECT_EQ(DecodeBody("gzip, br", "abc", 10, &out).code(), absl::StatusCode::kUnimplemented);
  EXPECT_TRUE(IsIdentityEncoding(""));
  EXPECT_TRUE(IsIdentityEncoding("Identity"));
  EXPECT_FALSE(IsIdentityEncoding("gzip"));
}

}  // namespace
}  // namespace waggle::net_internal
