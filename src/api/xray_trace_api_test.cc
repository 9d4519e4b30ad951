#include "api/xray_trace_api.h"

#include <gtest/gtest.h>

#include "simdjson.h"
#include "store/testing/fake_store.h"

namespace waggle {
namespace {

constexpr std::string_view kSegment =
    R"({"name":"backend-flask","id":"70de5b6f19ff9a0a","trace_id":"1-5759e988-bd862e3fe1be46a994272793","start_time":100,"end_time":100.5,"annotations":{"k":"v"},"subsegments":[{"name":"child","id":"0f910026178b71eb","start_time":100.1,"end_time":100.2}]})";

std::string Quoted(std::string_view json) {
  std::string out = "\"";
  for (char c : json) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

HttpRequest Post(std::string path, std::string body) {
  HttpRequest r;
  r.method = "POST";
  r.path = std::move(path);
  r.body = std::move(body);
  r.headers.emplace_back("authorization", "AWS4-HMAC-SHA256 Credential=AKIA/20260101/us-east-1/xray/aws4_request");
  return r;
}

class XrayTraceApiTest : public ::testing::Test {
 protected:
  testing::FakeStore store_;
  Metrics metrics_;
  xray::SegmentIngester ingester_{&store_, &metrics_};
  XrayTraceApi api_{&store_, &ingester_, &metrics_};
  simdjson::dom::parser parser_;

  simdjson::dom::element Call(const HttpRequest& r, int want_status) {
    std::optional<HttpResponse> resp = api_.Handle(r);
    EXPECT_TRUE(resp.has_value());
    if (!resp) return {};
    EXPECT_EQ(resp->status, want_status) << resp->body;
    body_ = resp->body;
    headers_ = resp->headers;
    simdjson::dom::element e;
    EXPECT_EQ(parser_.parse(body_).get(e), simdjson::SUCCESS) << body_;
    return e;
  }
  std::string body_;
  std::vector<std::pair<std::string, std::string>> headers_;
};

TEST_F(XrayTraceApiTest, PutThenBatchGet) {
  std::string bad = R"({"id":"70de5b6f19ff9a0b","name":"x","trace_id":"1-zz","start_time":1,"end_time":2})";
  simdjson::dom::element put = Call(
      Post("/TraceSegments", "{\"TraceSegmentDocuments\": [" + Quoted(kSegment) + "," +
                                 Quoted(bad) + ", 7]}"),
      200);
  simdjson::dom::array unprocessed = put["UnprocessedTraceSegments"].get_array().value();
  ASSERT_EQ(unprocessed.size(), 2u) << body_;
  EXPECT_EQ(std::string_view(unprocessed.at(0)["ErrorCode"].get_string().value()), "InvalidSegment");
  EXPECT_EQ(std::string_view(unprocessed.at(1)["Id"].get_string().value()), "70de5b6f19ff9a0b");
  EXPECT_EQ(std::string_view(unprocessed.at(1)["ErrorCode"].get_string().value()), "InvalidTraceId");
  EXPECT_EQ(store_.rows().size(), 2u);

  simdjson::dom::element got = Call(
      Post("/Traces", R"({"TraceIds": ["1-5759e988-bd862e3fe1be46a994272793",
                                       "1-5759e988-bd862e3fe1be46a994272794", "nonsense"]})"),
      200);
  simdjson::dom::array traces = got["Traces"].get_array().value();
  ASSERT_EQ(traces.size(), 1u) << body_;
  simdjson::dom::element t = traces.at(0).value();
  EXPECT_EQ(std::string_view(t["Id"].get_string().value()), "1-5759e988-bd862e3fe1be46a994272793");
  EXPECT_DOUBLE_EQ(t["Duration"].get_double().value(), 0.5);
  EXPECT_FALSE(t["LimitExceeded"].get_bool().value());
  simdjson::dom::array segments = t["Segments"].get_array().value();
  ASSERT_EQ(segments.size(), 1u);
  EXPECT_EQ(std::string_view(segments.at(0)["Id"].get_string().value()), "70de5b6f19ff9a0a");
  std::string document(segments.at(0)["Document"].get_string().value());
  simdjson::dom::parser doc_parser;
  simdjson::dom::element doc = doc_parser.parse(document).value();
  EXPECT_EQ(std::string_view(doc["subsegments"].at(0)["name"].get_string().value()), "child");
  EXPECT_EQ(std::string_view(doc["annotations"]["k"].get_string().value()), "v");
  simdjson::dom::array missing = got["UnprocessedTraceIds"].get_array().value();
  ASSERT_EQ(missing.size(), 2u);
  EXPECT_EQ(std::string_view(missing.at(1).get_string().value()), "nonsense");
}

TEST_F(XrayTraceApiTest, BadRequestsGetAwsErrors) {
  for (auto [path, body] : {std::pair{"/TraceSegments", "not json"},
                            {"/TraceSegments", "{}"},
                            {"/TraceSegments", "[]"},
                            {"/Traces", "{\"TraceIds\": 5}"},
                            {"/Traces", "{\"TraceIds\": [5]}"}}) {
    simdjson::dom::element e = Call(Post(path, body), 400);
    EXPECT_EQ(std::string_view(e["__type"].get_string().value()), "InvalidRequestException");
    EXPECT_FALSE(std::string_view(e["message"].get_string().value()).empty());
    ASSERT_FALSE(headers_.empty());
    EXPECT_EQ(headers_[0].first, "x-amzn-ErrorType");
    EXPECT_EQ(headers_[0].second, "InvalidRequestException");
  }
  HttpRequest get = Post("/Traces", "");
  get.method = "GET";
  Call(get, 405);
  EXPECT_FALSE(api_.Handle(Post("/GetSamplingRules", "{}")).has_value());
}

}  // namespace
}  // namespace waggle
