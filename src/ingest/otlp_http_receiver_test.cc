#include "ingest/otlp_http_receiver.h"

#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/testing/fake_store.h"

#include "wire/otlp.h"

namespace waggle {
namespace {

using testing::FakeStore;

// Minimal protobuf writer for building ExportTraceServiceRequest bodies by hand.
std::string Varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}
std::string Len(int field, const std::string& payload) {
  return Varint(static_cast<uint64_t>(field) << 3 | 2) + Varint(payload.size()) + payload;
}
std::string Fixed64(int field, uint64_t v) {
  std::string out = Varint(static_cast<uint64_t>(field) << 3 | 1);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
  return out;
}

std::string ProtobufRequest() {
  std::string trace_id(16, '\x11');
  std::string span_id(8, '\x22');
  std::string span = Len(1, trace_id) + Len(2, span_id) + Len(5, "GET /api/activities/home") +
                     Varint(6 << 3) + Varint(2) + Fixed64(7, 1'700'000'000'000'000'000ull) +
                     Fixed64(8, 1'700'000'000'050'000'000ull);
  std::string service =
      Len(1, Len(1, "service.name") + Len(2, Len(1, "backend-flask")));  // KeyValue
  std::string resource_field = Len(1, service);  // ResourceSpans.resource
  std::string scope_spans = Len(2, span);          // ScopeSpans{spans}
  std::string resource_spans = resource_field + Len(2, scope_spans);
  return Len(1, resource_spans);
}

constexpr char kJsonRequest[] = R"({"resourceSpans":[{"resource":{"attributes":[
  {"key":"service.name","value":{"stringValue":"frontend-react-js"}}]},
  "scopeSpans":[{"spans":[{"traceId":"5B8EFFF798038103D269B633813FC60C",
  "spanId":"EEE19B7EC3C1B174","name":"fetch","kind":3,
  "startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000100000000"}]}]}]})";

HttpRequest Post(std::string content_type, std::string body) {
  HttpRequest r;
  r.method = "POST";
  r.path = "/v1/traces";
  r.remote_address = "127.0.0.1:40000";
  r.headers = {{"content-type", std::move(content_type)}};
  r.body = std::move(body);
  return r;
}

std::string_view HeaderOf(const HttpResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return {};
}

struct Fixture : ::testing::Test {
  FakeStore store;
  ApiKeys local_keys;
  Metrics metrics;
  OtlpHttpReceiver receiver{&store, &local_keys, &metrics};
};

using OtlpHttpReceiverTest = Fixture;

TEST_F(OtlpHttpReceiverTest, ProtobufSuccessStoresSpansAndEchoesContentType) {
  HttpResponse r = receiver.HandleTraces(Post("application/x-protobuf", ProtobufRequest()));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/x-protobuf");
  EXPECT_EQ(r.body, EncodeExportTraceResponseProtobuf(0, ""));
  EXPECT_EQ(HeaderOf(r, "Access-Control-Allow-Origin"), "*");
  ASSERT_EQ(store.rows().size(), 1u);
  EXPECT_EQ(store.rows()[0].name, "GET /api/activities/home");
  EXPECT_EQ(store.rows()[0].service_name, "backend-flask");
  EXPECT_EQ(metrics.GetCounter("waggle_spans_received_total", "")->Value(), 1u);
  EXPECT_EQ(metrics.GetCounter("waggle_rows_stored_total", "")->Value(), 1u);

  HttpResponse r2 = receiver.HandleTraces(Post("application/protobuf", ProtobufRequest()));
  EXPECT_EQ(r2.status, 200);
  EXPECT_EQ(r2.content_type, "application/protobuf");
}

TEST_F(OtlpHttpReceiverTest, JsonWithCharsetParameter) {
  HttpResponse r = receiver.HandleTraces(Post("Application/JSON; charset=utf-8", kJsonRequest));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, EncodeExportTraceResponseJson(0, ""));
  ASSERT_EQ(store.rows().size(), 1u);
  EXPECT_EQ(store.rows()[0].service_name, "frontend-react-js");
  EXPECT_EQ(ToHex(store.rows()[0].trace_id), "5b8efff798038103d269b633813fc60c");
}

TEST_F(OtlpHttpReceiverTest, EmptyRequestIsSuccess) {
  HttpResponse r = receiver.HandleTraces(Post("application/x-protobuf", ""));
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(store.rows().empty());
}

TEST_F(OtlpHttpReceiverTest, UnsupportedMediaType) {
  HttpResponse r = receiver.HandleTraces(Post("text/plain", "hello"));
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_NE(r.body.find("text/plain"), std::string::npos) << r.body;
  EXPECT_EQ(receiver.rejected("unsupported_media_type")->Value(), 1u);
}

TEST_F(OtlpHttpReceiverTest, GarbageProtobufIs400InProtobuf) {
  HttpResponse r = receiver.HandleTraces(Post("application/x-protobuf", "\x0a\xff\xff\x01zz"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.content_type, "application/x-protobuf");
  EXPECT_NE(r.body.find("invalid OTLP protobuf"), std::string::npos);
  EXPECT_TRUE(store.rows().empty());
  EXPECT_EQ(receiver.rejected("decode")->Value(), 1u);
}

TEST_F(OtlpHttpReceiverTest, InvalidJsonIs400InJson) {
  HttpResponse r = receiver.HandleTraces(Post("application/json", "{\"resourceSpans\": [}"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_NE(r.body.find("invalid OTLP JSON"), std::string::npos) << r.body;
}

TEST_F(OtlpHttpReceiverTest, StoreOverloadIs503WithRetryAfter) {
  store.FailAppendsWith(absl::ResourceExhaustedError("WAL queue full"));
  HttpResponse r = receiver.HandleTraces(Post("application/json", kJsonRequest));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(HeaderOf(r, "Retry-After"), "1");
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_NE(r.body.find("WAL queue full"), std::string::npos);
  EXPECT_EQ(receiver.rejected("overload")->Value(), 1u);
}

TEST_F(OtlpHttpReceiverTest, StoreFailureIs500) {
  store.FailAppendsWith(absl::InternalError("disk on fire"));
  HttpResponse r = receiver.HandleTraces(Post("application/x-protobuf", ProtobufRequest()));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(HeaderOf(r, "Retry-After"), "");
  EXPECT_EQ(receiver.rejected("store")->Value(), 1u);
}

TEST_F(OtlpHttpReceiverTest, MethodNotAllowedAndPreflight) {
  HttpRequest get = Post("application/json", "");
  get.method = "GET";
  EXPECT_EQ(receiver.HandleTraces(get).status, 405);
  HttpRequest options = Post("", "");
  options.method = "OPTIONS";
  HttpResponse r = receiver.HandleTraces(options);
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(HeaderOf(r, "Access-Control-Allow-Origin"), "*");
  EXPECT_NE(HeaderOf(r, "Access-Control-Allow-Methods").find("POST"), std::string_view::npos);
  std::string_view allowed = HeaderOf(r, "Access-Control-Allow-Headers");
  for (const char* h : {"content-type", "x-honeycomb-team", "traceparent"}) {
    EXPECT_NE(allowed.find(h), std::string_view::npos) << h;
  }
}

TEST(OtlpHttpReceiverTransportError, UsesRequestEncoding) {
  HttpResponse pb = OtlpHttpReceiver::TransportError("application/x-protobuf", 413, "too big");
  EXPECT_EQ(pb.status, 413);
  EXPECT_EQ(pb.content_type, "application/x-protobuf");
  EXPECT_EQ(pb.body, EncodeRpcStatusProtobuf(8, "too big"));
  HttpResponse js = OtlpHttpReceiver::TransportError("application/json; charset=utf-8", 400,
                                                     "invalid gzip body");
  EXPECT_EQ(js.content_type, "application/json");
  EXPECT_EQ(js.body, EncodeRpcStatusJson(3, "invalid gzip body"));
  HttpResponse busy = OtlpHttpReceiver::TransportError("text/plain", 503, "queue full");
  EXPECT_EQ(busy.content_type, "application/json");
  EXPECT_EQ(HeaderOf(busy, "Retry-After"), "1");
  EXPECT_EQ(HeaderOf(busy, "Access-Control-Allow-Origin"), "*");
}

TEST(OtlpHttpReceiverAuth, BadKeyIs401AndNothingStored) {
  FakeStore store;
  ApiKeys keys({"right"});
  Metrics metrics;
  OtlpHttpReceiver receiver(&store, &keys, &metrics);
  HttpRequest req = Post("application/x-protobuf", ProtobufRequest());
  req.headers.emplace_back("x-honeycomb-team", "wrong");
  HttpResponse r = receiver.HandleTraces(req);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.content_type, "application/x-protobuf");
  EXPECT_TRUE(store.rows().empty());
  EXPECT_EQ(receiver.rejected("auth")->Value(), 1u);
  req.headers.back().second = "right";
  EXPECT_EQ(receiver.HandleTraces(req).status, 200);
  EXPECT_EQ(store.rows().size(), 1u);
}

}  // namespace
}  // namespace waggle
