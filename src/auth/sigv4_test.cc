#include "auth/sigv4.h"

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace waggle {
namespace {

// AWS's published Signature Version 4 test suite: credentials, date, region and service.
constexpr char kSuiteKeyId[] = "AKIDEXAMPLE";
constexpr char kSuiteSecret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr char kSuiteDate[] = "20150830T123600Z";
constexpr int64_t kSuiteUnixSeconds = 1440938160;  // 2015-08-30T12:36:00Z
constexpr char kSuiteScope[] =
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ";

using Headers = std::vector<std::pair<std::string, std::string>>;

HttpRequest Req(std::string method, std::string path, std::string query, Headers extra = {},
                std::string body = "") {
  HttpRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.query = std::move(query);
  r.headers = {{"host", "example.amazonaws.com"}, {"x-amz-date", kSuiteDate}};
  for (auto& h : extra) r.headers.push_back(std::move(h));
  r.body = std::move(body);
  return r;
}

SigV4Verifier SuiteVerifier(int64_t now = kSuiteUnixSeconds, std::string service = "") {
  SigV4VerifierOptions options;
  options.service = std::move(service);
  options.now_unix_seconds = [now] { return now; };
  return SigV4Verifier({{kSuiteKeyId, kSuiteSecret}}, options);
}

void Authorize(HttpRequest* r, std::string_view signed_headers, std::string_view signature) {
  r->headers.emplace_back("authorization", std::string(kSuiteScope) +
                                               "SignedHeaders=" + std::string(signed_headers) +
                                               ", Signature=" + std::string(signature));
}

struct SuiteCase {
  const char* name;
  HttpRequest request;
  const char* signed_headers;
  const char* signature;
};

std::vector<SuiteCase> SuiteCases() {
  return {
      {"get-vanilla", Req("GET", "/", ""), "host;x-amz-date",
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"post-vanilla", Req("POST", "/", ""), "host;x-amz-date",
       "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
      {"get-vanilla-query-order-key-case", Req("GET", "/", "Param2=value2&Param1=value1"),
       "host;x-amz-date", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
      {"get-vanilla-query-order-value", Req("GET", "/", "Param1=value2&Param1=value1"),
       "host;x-amz-date", "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"},
      {"get-vanilla-query-unreserved",
       Req("GET", "/",
           "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz="
           "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"),
       "host;x-amz-date", "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"},
      {"get-vanilla-utf8-query", Req("GET", "/", "\xE1\x88\xB4=bar"), "host;x-amz-date",
       "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
      {"get-unreserved",
       Req("GET", "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", ""),
       "host;x-amz-date", "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
      {"get-utf8", Req("GET", "/\xE1\x88\xB4", ""), "host;x-amz-date",
       "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
      {"get-relative-relative", Req("GET", "/example1/example2/../..", ""), "host;x-amz-date",
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"get-header-key-duplicate",
       Req("GET", "/", "",
           {{"my-header1", "value2"}, {"my-header1", "value2"}, {"my-header1", "value1"}}),
       "host;my-header1;x-amz-date",
       "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
      {"get-header-value-order",
       Req("GET", "/", "",
           {{"my-header1", "value4"},
            {"my-header1", "value1"},
            {"my-header1", "value3"},
            {"my-header1", "value2"}}),
       "host;my-header1;x-amz-date",
       "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"},
      {"get-header-value-trim",
       Req("GET", "/", "", {{"my-header1", " value1"}, {"my-header2", "\"a   b   c\""}}),
       "host;my-header1;my-header2;x-amz-date",
       "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
      {"post-header-value-case", Req("POST", "/", "", {{"my-header1", "VALUE1"}}),
       "host;my-header1;x-amz-date",
       "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"},
      {"post-vanilla-query", Req("POST", "/", "Param1=value1"), "host;x-amz-date",
       "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"},
      {"post-x-www-form-urlencoded",
       Req("POST", "/", "",
           {{"content-type", "application/x-www-form-urlencoded"}, {"content-length", "13"}},
           "Param1=value1"),
       "content-type;host;x-amz-date",
       "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"},
  };
}

TEST(SigV4, AwsTestSuiteVectorsVerify) {
  SigV4Verifier verifier = SuiteVerifier();
  for (SuiteCase& c : SuiteCases()) {
    Authorize(&c.request, c.signed_headers, c.signature);
    StatusOr<SigV4Identity> id = verifier.Verify(c.request);
    ASSERT_TRUE(id.ok()) << c.name << ": " << id.status();
    EXPECT_EQ(id->access_key_id, kSuiteKeyId);
    EXPECT_EQ(id->region, "us-east-1");
    EXPECT_EQ(id->service, "service");
  }
}

TEST(SigV4, CanonicalRequestOfGetVanillaMatchesTheSuite) {
  StatusOr<std::string> creq = SigV4CanonicalRequest(Req("GET", "/", ""), {"host", "x-amz-date"});
  ASSERT_TRUE(creq.ok());
  EXPECT_EQ(*creq,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(SigV4, CanonicalUriAndQuery) {
  EXPECT_EQ(SigV4CanonicalUri(""), "/");
  EXPECT_EQ(SigV4CanonicalUri("//"), "/");
  EXPECT_EQ(SigV4CanonicalUri("//example//"), "/example/");
  EXPECT_EQ(SigV4CanonicalUri("/./example/../a/./b"), "/a/b");
  EXPECT_EQ(SigV4CanonicalUri("/example space/"), "/example%20space/");
  // A path as sent on the wire is encoded once more (every service but S3).
  EXPECT_EQ(SigV4CanonicalUri("/a%20b"), "/a%2520b");
  EXPECT_EQ(SigV4CanonicalUri("/TraceSegments"), "/TraceSegments");
  EXPECT_EQ(SigV4CanonicalQuery(""), "");
  EXPECT_EQ(SigV4CanonicalQuery("b=2&a=1&a=0"), "a=0&a=1&b=2");
  EXPECT_EQ(SigV4CanonicalQuery("Param1"), "Param1=");
  EXPECT_EQ(SigV4CanonicalQuery("a=x%2fy&c=%7e&d=a+b"), "a=x%2Fy&c=~&d=a%2Bb");
}

TEST(SigV4, SignThenVerifyRoundTrips) {
  HttpRequest r = Req("POST", "/TraceSegments", "", {{"content-type", "application/json"}},
                      R"({"TraceSegmentDocuments":[]})");
  ASSERT_TRUE(
      SignSigV4(&r, {kSuiteKeyId, kSuiteSecret}, "eu-west-1", "xray", kSuiteDate, {"content-type"})
          .ok());
  EXPECT_TRUE(SuiteVerifier(kSuiteUnixSeconds, "xray").Verify(r).ok());
  // The expected service is enforced.
  Status wrong_service = SuiteVerifier(kSuiteUnixSeconds, "s3").Verify(r).status();
  EXPECT_EQ(SigV4ErrorCode(wrong_service), "InvalidSignatureException");
  EXPECT_NE(std::string(wrong_service.message()).find("correct service: 's3'"), std::string::npos);
}

HttpRequest SignedPost() {
  HttpRequest r =
      Req("POST", "/GetSamplingRules", "", {{"content-type", "application/json"}}, "{}");
  EXPECT_TRUE(
      SignSigV4(&r, {kSuiteKeyId, kSuiteSecret}, "us-east-1", "xray", kSuiteDate, {"content-type"})
          .ok());
  return r;
}

void ExpectError(const StatusOr<SigV4Identity>& result, std::string_view code,
                 std::string_view message_part) {
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(absl::IsUnauthenticated(result.status()));
  EXPECT_EQ(SigV4ErrorCode(result.status()), code) << result.status();
  EXPECT_NE(std::string(result.status().message()).find(message_part), std::string::npos)
      << result.status();
}

void SetHeader(HttpRequest* r, const std::string& name, std::string value) {
  for (auto& [k, v] : r->headers) {
    if (k == name) v = value;
  }
}

TEST(SigV4, TamperedRequestsAreRejected) {
  SigV4Verifier verifier = SuiteVerifier();
  constexpr std::string_view kMismatch = "The request signature we calculated does not match";
  HttpRequest body = SignedPost();
  body.body = "{ }";
  ExpectError(verifier.Verify(body), "InvalidSignatureException", kMismatch);

  HttpRequest header = SignedPost();
  SetHeader(&header, "content-type", "text/plain");
  ExpectError(verifier.Verify(header), "InvalidSignatureException", kMismatch);

  HttpRequest path = SignedPost();
  path.path = "/CreateSamplingRule";
  ExpectError(verifier.Verify(path), "InvalidSignatureException", kMismatch);

  HttpRequest signature = SignedPost();
  std::string auth(signature.Header("authorization"));
  auth.back() = auth.back() == '0' ? '1' : '0';
  SetHeader(&signature, "authorization", auth);
  ExpectError(verifier.Verify(signature), "InvalidSignatureException", kMismatch);

  HttpRequest dropped = SignedPost();
  std::erase_if(dropped.headers, [](const auto& h) { return h.first == "content-type"; });
  ExpectError(verifier.Verify(dropped), "InvalidSignatureException", "'content-type'");

  HttpRequest wrong_secret = Req("POST", "/GetSamplingRules", "", {}, "{}");
  ASSERT_TRUE(
      SignSigV4(&wrong_secret, {kSuiteKeyId, "not-the-secret"}, "us-east-1", "xray", kSuiteDate)
          .ok());
  ExpectError(verifier.Verify(wrong_secret), "InvalidSignatureException", kMismatch);
}

TEST(SigV4, ContentSha256MustMatchTheBody) {
  SigV4Verifier verifier = SuiteVerifier();
  HttpRequest r = SignedPost();
  r.headers.emplace_back("x-amz-content-sha256", std::string(64, 'a'));
  ExpectError(verifier.Verify(r), "InvalidSignatureException", "x-amz-content-sha256");
  HttpRequest unsigned_payload = SignedPost();
  unsigned_payload.headers.emplace_back("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
  ExpectError(verifier.Verify(unsigned_payload), "IncompleteSignatureException", "not supported");
}

TEST(SigV4, UnknownAccessKeyIsUnrecognized) {
  HttpRequest r = Req("POST", "/GetSamplingRules", "", {}, "{}");
  ASSERT_TRUE(SignSigV4(&r, {"AKIDOTHER", kSuiteSecret}, "us-east-1", "xray", kSuiteDate).ok());
  ExpectError(SuiteVerifier().Verify(r), "UnrecognizedClientException",
              "The security token included in the request is invalid");
}

TEST(SigV4, DatesMoreThanFifteenMinutesAwayAreRejected) {
  HttpRequest r = SignedPost();
  EXPECT_TRUE(SuiteVerifier(kSuiteUnixSeconds + 15 * 60).Verify(r).ok());
  EXPECT_TRUE(SuiteVerifier(kSuiteUnixSeconds - 15 * 60).Verify(r).ok());
  ExpectError(SuiteVerifier(kSuiteUnixSeconds + 15 * 60 + 1).Verify(r), "InvalidSignatureException",
              "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z "
              "(20150830T125101Z - 15 min.)");
  ExpectError(SuiteVerifier(kSuiteUnixSeconds - 3600).Verify(r), "InvalidSignatureException",
              "Signature not yet current");
}

TEST(SigV4, MissingAndMalformedAuthorization) {
  SigV4Verifier verifier = SuiteVerifier();
  ExpectError(verifier.Verify(Req("POST", "/GetSamplingRules", "")),
              "MissingAuthenticationTokenException", "Missing Authentication Token");
  ExpectError(verifier.Verify(Req("GET", "/", "X-Amz-Signature=abc&X-Amz-Credential=x")),
              "IncompleteSignatureException", "presigned");

  HttpRequest no_date = SignedPost();
  std::erase_if(no_date.headers, [](const auto& h) { return h.first == "x-amz-date"; });
  ExpectError(verifier.Verify(no_date), "IncompleteSignatureException", "X-Amz-Date");

  HttpRequest bad_date = SignedPost();
  SetHeader(&bad_date, "x-amz-date", "2015-08-30T12:36:00Z");
  ExpectError(verifier.Verify(bad_date), "IncompleteSignatureException", "YYYYMMDD");

  HttpRequest other_day = SignedPost();
  SetHeader(&other_day, "x-amz-date", "20150831T000000Z");
  ExpectError(SuiteVerifier(kSuiteUnixSeconds + 11 * 3600 + 24 * 60).Verify(other_day),
              "InvalidSignatureException", "Date in Credential scope does not match");

  HttpRequest no_host = Req("POST", "/", "");
  no_host.headers.emplace_back(
      "authorization",
      std::string(kSuiteScope) + "SignedHeaders=x-amz-date, Signature=" + std::string(64, 'a'));
  ExpectError(verifier.Verify(no_host), "IncompleteSignatureException", "'Host'");
}

TEST(SigV4, ParserRejectsMalformedHeadersWithClearMessages) {
  const std::string sig = "Signature=" + std::string(64, 'a');
  const std::string cred = "Credential=AKID/20150830/us-east-1/xray/aws4_request";
  struct Bad {
    std::string header;
    std::string message_part;
  };
  std::vector<Bad> cases = {
      {"", "not AWS Signature Version 4"},
      {"Bearer abc", "not AWS Signature Version 4"},
      {"AWS4-HMAC-SHA256", "not AWS Signature Version 4"},
      {"AWS4-HMAC-SHA256X Credential=a", "not AWS Signature Version 4"},
      {"AWS4-HMAC-SHA256 ", "not AWS Signature Version 4"},
      {"AWS4-HMAC-SHA256 Credential", "unexpected component"},
      {"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host", "requires 'Signature' parameter"},
      {"AWS4-HMAC-SHA256 SignedHeaders=host, " + sig, "requires 'Credential' parameter"},
      {"AWS4-HMAC-SHA256 " + cred + ", " + cred + ", SignedHeaders=host, " + sig, "twice"},
      {"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=abc", "64 lowercase hex"},
      {"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=" + std::string(64, 'A'),
       "64 lowercase hex"},
      {"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=Host, " + sig, "lowercase header names"},
      {"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;;x, " + sig, "lowercase header names"},
      {"AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/xray, SignedHeaders=host, " + sig,
       "Credential must have the form"},
      {"AWS4-HMAC-SHA256 Credential=AKID/2015-08-30/r/xray/aws4_request, SignedHeaders=host, " +
           sig,
       "YYYYMMDD"},
      {"AWS4-HMAC-SHA256 Credential=AKID/20150830/r/xray/aws4, SignedHeaders=host, " + sig,
       "valid terminator"},
      {"AWS4-HMAC-SHA256 Credential=AKID/20150830//xray/aws4_request, SignedHeaders=host, " + sig,
       "empty or over-long"},
      {"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, " + sig + ", Extra=1",
       "unexpected component"},
      {"AWS4-HMAC-SHA256 " + std::string(5000, 'x'), "longer than 4096"},
  };
  std::string many = "AWS4-HMAC-SHA256 " + cred + ", " + sig + ", SignedHeaders=h";
  for (int i = 0; i < 70; ++i) many += ";h";
  cases.push_back({many, "more than 64"});
  for (const Bad& c : cases) {
    StatusOr<SigV4Authorization> a = ParseSigV4Authorization(c.header);
    ASSERT_FALSE(a.ok()) << c.header;
    EXPECT_EQ(SigV4ErrorCode(a.status()), "IncompleteSignatureException");
    EXPECT_NE(std::string(a.status().message()).find(c.message_part), std::string::npos)
        << c.header.substr(0, 100) << " → " << a.status();
    EXPECT_LT(a.status().message().size(), 400u);
  }
}

TEST(SigV4, ParserAcceptsAnyOrderAndSpacing) {
  StatusOr<SigV4Authorization> a = ParseSigV4Authorization(
      "AWS4-HMAC-SHA256  Signature=" + std::string(64, 'b') +
      ",SignedHeaders=host;x-amz-date ,  Credential=AKID/20150830/eu-west-1/xray/aws4_request");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->access_key_id, "AKID");
  EXPECT_EQ(a->date, "20150830");
  EXPECT_EQ(a->region, "eu-west-1");
  EXPECT_EQ(a->service, "xray");
  EXPECT_EQ(a->signed_headers, (std::vector<std::string>{"host", "x-amz-date"}));
  EXPECT_EQ(a->signature, std::string(64, 'b'));
}

TEST(SigV4, AmzDate) {
  EXPECT_EQ(*ParseAmzDate("20150830T123600Z"), kSuiteUnixSeconds);
  EXPECT_EQ(*ParseAmzDate("19700101T000000Z"), 0);
  EXPECT_EQ(*ParseAmzDate("20240229T235959Z"), 1709251199);
  for (const char* bad : {"", "20150830T123600", "20151330T123600Z", "20150830T246000Z",
                          "2015083OT123600Z", "20150830 123600Z", "00000000T000000Z"}) {
    EXPECT_FALSE(ParseAmzDate(bad).ok()) << bad;
  }
}

TEST(SigV4, ErrorCodeIsEmptyForOtherStatuses) {
  EXPECT_EQ(SigV4ErrorCode(OkStatus()), "");
  EXPECT_EQ(SigV4ErrorCode(absl::UnauthenticatedError("x")), "");
}

TEST(SigV4, VerifierWithoutCredentialsIsDisabled) {
  SigV4Verifier none({});
  EXPECT_FALSE(none.enabled());
  EXPECT_EQ(SuiteVerifier().size(), 1u);
  ExpectError(none.Verify(SignedPost()), "UnrecognizedClientException", "security token");
}

}  // namespace
}  // namespace waggle
