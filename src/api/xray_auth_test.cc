#include "api/xray_auth.h"

#include <chrono>

#include <gtest/gtest.h>

#include "api/api_handlers.h"
#include "store/testing/fake_store.h"
#include "xray/segment_ingester.h"

namespace waggle {
namespace {

constexpr char kKeyId[] = "AKIDTEST";
constexpr char kSecret[] = "secretkey";

TEST(XrayAuth, XrayPathsAreTheSingleSegmentPascalCaseOnes) {
  for (std::string_view p :
       {"/TraceSegments", "/Traces", "/GetSamplingRules", "/SamplingTargets", "/CreateGroup",
        "/Groups", "/TraceSummaries", "/TraceGraph", "/ServiceGraph",
        "/TimeSeriesServiceStatistics", "/SomeFutureOperation"}) {
    EXPECT_TRUE(IsXrayRestPath(p)) << p;
  }
  for (std::string_view p : {"", "/", "/api/v1/traces", "/1/auth", "/v1/traces", "/healthz",
                             "/readyz", "/metrics", "/Traces/x", "Traces", "/traces"}) {
    EXPECT_FALSE(IsXrayRestPath(p)) << p;
  }
}

std::string AmzNow(int64_t offset_seconds = 0) {
  std::time_t t =
      std::chrono::system_clock::to_time_t(std::chrono::system_clock::now()) + offset_seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

HttpRequest Post(std::string path, std::string body) {
  HttpRequest r;
  r.method = "POST";
  r.path = std::move(path);
  r.body = std::move(body);
  r.remote_address = "10.0.0.7:5000";
  r.headers = {{"host", "waggle:8080"}, {"content-type", "application/json"}};
  return r;
}

HttpRequest Signed(std::string path, std::string body, const char* secret = kSecret,
                   int64_t offset_seconds = 0) {
  HttpRequest r = Post(std::move(path), std::move(body));
  EXPECT_TRUE(SignSigV4(&r, {kKeyId, secret}, "eu-west-1", "xray", AmzNow(offset_seconds)).ok());
  return r;
}

class XrayAuthApiTest : public ::testing::Test {
 protected:
  testing::FakeStore store_;
  Metrics metrics_;
  ApiKeys keys_{{"honeycomb-key"}};
  xray::SegmentIngester ingester_{&store_, &metrics_};
  SigV4Verifier verifier_{{{kKeyId, kSecret}}, SigV4VerifierOptions{"xray", 15 * 60, nullptr}};
  ApiHandlers api_{&store_, &keys_, &metrics_,
                   ApiOptions{"dev", "local", "", "", &ingester_, &verifier_}};

  void ExpectDenied(const HttpRequest& r, std::string_view code) {
    std::optional<HttpResponse> resp = api_.Handle(r);
    ASSERT_TRUE(resp.has_value());
    EXPECT_EQ(resp->status, 403) << resp->body;
    EXPECT_NE(resp->body.find("\"__type\":\"" + std::string(code) + "\""), std::string::npos)
        << resp->body;
    bool header = false;
    for (const auto& [k, v] : resp->headers) header |= k == "x-amzn-ErrorType" && v == code;
    EXPECT_TRUE(header);
  }
};

TEST_F(XrayAuthApiTest, SignedRequestsAreHandled) {
  std::optional<HttpResponse> rules = api_.Handle(Signed("/GetSamplingRules", "{}"));
  ASSERT_TRUE(rules.has_value());
  EXPECT_EQ(rules->status, 200) << rules->body;
  std::optional<HttpResponse> put =
      api_.Handle(Signed("/TraceSegments", R"({"TraceSegmentDocuments":[]})"));
  ASSERT_TRUE(put.has_value());
  EXPECT_EQ(put->status, 200) << put->body;
}

TEST_F(XrayAuthApiTest, UnknownOperationsGetAwsErrorsAfterAuthentication) {
  std::optional<HttpResponse> unknown = api_.Handle(Signed("/GetNothing", "{}"));
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(unknown->status, 404) << unknown->body;
  EXPECT_NE(unknown->body.find("\"__type\":\"UnknownOperationException\""), std::string::npos)
      << unknown->body;
  ExpectDenied(Post("/GetNothing", "{}"), "MissingAuthenticationTokenException");
}

TEST_F(XrayAuthApiTest, UnsignedWrongAndStaleRequestsAreDenied) {
  ExpectDenied(Post("/GetSamplingRules", "{}"), "MissingAuthenticationTokenException");
  ExpectDenied(Post("/TraceSegments", "{}"), "MissingAuthenticationTokenException");
  ExpectDenied(Post("/TraceSummaries", "{}"), "MissingAuthenticationTokenException");
  ExpectDenied(Signed("/GetSamplingRules", "{}", "wrong-secret"), "InvalidSignatureException");
  ExpectDenied(Signed("/GetSamplingRules", "{}", kSecret, -3600), "InvalidSignatureException");
  HttpRequest tampered = Signed("/CreateGroup", R"({"GroupName":"a"})");
  tampered.body = R"({"GroupName":"b"})";
  ExpectDenied(tampered, "InvalidSignatureException");
  HttpRequest other_key = Post("/Groups", "{}");
  ASSERT_TRUE(SignSigV4(&other_key, {"AKIDOTHER", kSecret}, "eu-west-1", "xray", AmzNow()).ok());
  ExpectDenied(other_key, "UnrecognizedClientException");
  HttpRequest garbage = Post("/Groups", "{}");
  garbage.headers.emplace_back("authorization", "AWS4-HMAC-SHA256 Credential=x");
  ExpectDenied(garbage, "IncompleteSignatureException");
}

TEST_F(XrayAuthApiTest, OtherPathsKeepTheirOwnAuth) {
  HttpRequest r;
  r.method = "GET";
  r.path = "/api/v1/traces";
  r.remote_address = "10.0.0.7:5000";
  r.headers = {{"x-honeycomb-team", "honeycomb-key"}};
  std::optional<HttpResponse> resp = api_.Handle(r);
  ASSERT_TRUE(resp.has_value());
  EXPECT_EQ(resp->status, 200) << resp->body;
  r.path = "/healthz";
  r.headers.clear();
  EXPECT_EQ(api_.Handle(r)->status, 200);
}

TEST(XrayAuth, WithoutCredentialsEverythingIsAccepted) {
  EXPECT_FALSE(CheckXraySignature(nullptr, Post("/GetSamplingRules", "{}")).has_value());
  SigV4Verifier none({});
  EXPECT_FALSE(CheckXraySignature(&none, Post("/GetSamplingRules", "{}")).has_value());
  EXPECT_FALSE(CheckXraySignature(&none, Signed("/GetSamplingRules", "{}", "any")).has_value());
}

}  // namespace
}  // namespace waggle
