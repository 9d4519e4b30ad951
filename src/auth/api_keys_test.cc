#include "auth/api_keys.h"

#include <string>

#include <gtest/gtest.h>

namespace waggle {
namespace {

HttpRequest Req(std::string remote, std::vector<std::pair<std::string, std::string>> headers) {
  HttpRequest r;
  r.method = "POST";
  r.path = "/v1/traces";
  r.remote_address = std::move(remote);
  r.headers = std::move(headers);
  return r;
}

TEST(ApiKeys, AcceptsConfiguredKeyInHoneycombHeader) {
  ApiKeys keys({"secret-1", "secret-2"});
  EXPECT_FALSE(keys.local_mode());
  EXPECT_TRUE(keys.Check(Req("10.0.0.5:1234", {{"x-honeycomb-team", "secret-2"}})).ok());
}

TEST(ApiKeys, AcceptsBearerToken) {
  ApiKeys keys({"secret-1"});
  EXPECT_TRUE(keys.Check(Req("10.0.0.5:1234", {{"authorization", "Bearer secret-1"}})).ok());
  EXPECT_TRUE(keys.Check(Req("10.0.0.5:1234", {{"authorization", "bearer  secret-1 "}})).ok());
}

TEST(ApiKeys, RejectsWrongOrMissingOrPrefixKey) {
  ApiKeys keys({"secret-1"});
  Status wrong = keys.Check(Req("127.0.0.1:1", {{"x-honeycomb-team", "secret-2"}}));
  EXPECT_TRUE(absl::IsUnauthenticated(wrong));
  EXPECT_NE(wrong.message().find("unknown API key"), std::string_view::npos);
  Status missing = keys.Check(Req("127.0.0.1:1", {}));
  EXPECT_TRUE(absl::IsUnauthenticated(missing));
  EXPECT_NE(missing.message().find("x-honeycomb-team"), std::string_view::npos);
  EXPECT_FALSE(keys.Check(Req("127.0.0.1:1", {{"x-honeycomb-team", "secret-"}})).ok());
  EXPECT_FALSE(keys.Check(Req("127.0.0.1:1", {{"x-honeycomb-team", "secret-12"}})).ok());
  EXPECT_FALSE(keys.Check(Req("127.0.0.1:1", {{"authorization", "Basic secret-1"}})).ok());
}

TEST(ApiKeys, LocalModeAcceptsLoopbackOnly) {
  ApiKeys keys({"", "  "});  // blank keys do not count
  EXPECT_TRUE(keys.local_mode());
  EXPECT_TRUE(keys.Check(Req("127.0.0.1:5000", {})).ok());
  EXPECT_TRUE(keys.Check(Req("127.1.2.3:5000", {{"x-honeycomb-team", "anything"}})).ok());
  EXPECT_TRUE(keys.Check(Req("[::1]:5000", {})).ok());
  EXPECT_TRUE(keys.Check(Req("::ffff:127.0.0.1", {})).ok());
  Status remote = keys.Check(Req("192.168.1.9:5000", {{"x-honeycomb-team", "k"}}));
  EXPECT_TRUE(absl::IsUnauthenticated(remote));
  EXPECT_NE(remote.message().find("no API keys are configured"), std::string_view::npos);
  EXPECT_NE(remote.message().find("192.168.1.9"), std::string_view::npos);
  EXPECT_FALSE(keys.Check(Req("", {})).ok());
}

TEST(ApiKeys, IsLoopback) {
  EXPECT_TRUE(ApiKeys::IsLoopback("127.0.0.1:80"));
  EXPECT_TRUE(ApiKeys::IsLoopback("127.0.0.1"));
  EXPECT_TRUE(ApiKeys::IsLoopback("[::1]:80"));
  EXPECT_TRUE(ApiKeys::IsLoopback("::1"));
  EXPECT_TRUE(ApiKeys::IsLoopback("[::ffff:127.0.0.1]:80"));
  EXPECT_FALSE(ApiKeys::IsLoopback("127.evil.com:80"));
  EXPECT_FALSE(ApiKeys::IsLoopback("1127.0.0.1:80"));
  EXPECT_FALSE(ApiKeys::IsLoopback("10.0.0.1:80"));
  EXPECT_FALSE(ApiKeys::IsLoopback("[::2]:80"));
  EXPECT_FALSE(ApiKeys::IsLoopback(""));
}

}  // namespace
}  // namespace waggle
