#include "wire/otlp_encode.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "wire/internal/protobuf_reader.h"
#include "wire/otlp.h"

namespace waggle {
namespace {

Span MakeSpan(std::string service, uint8_t id, uint8_t parent) {
  Span s;
  s.trace_id.fill(0x11);
  s.span_id.fill(id);
  s.parent_span_id.fill(parent);
  s.start_ns = 1'700'000'000'000'000'000 + id;
  s.end_ns = s.start_ns + 5'000'000;
  s.name = "span-" + std::to_string(id);
  s.service_name = std::move(service);
  s.kind = SpanKind::kServer;
  s.scope_name = "cruddur";
  s.scope_version = "1.0";
  s.attributes = {{"app.now", ValueType::kString, "2023-03-01T00:00:00", 0, 0, false},
                  {"app.result_length", ValueType::kInt, "", 3, 0, false},
                  {"cache.hit", ValueType::kBool, "", 0, 0, true},
                  {"ratio", ValueType::kDouble, "", 0, 0.125, false}};
  return s;
}

// Compares everything ToSpan reproduces (service.name comes first, from the resource).
void ExpectSameSpan(const Span& want, const Span& got) {
  EXPECT_EQ(got.row_kind, want.row_kind);
  EXPECT_EQ(got.trace_id, want.trace_id);
  EXPECT_EQ(got.span_id, want.span_id);
  EXPECT_EQ(got.parent_span_id, want.parent_span_id);
  EXPECT_EQ(got.start_ns, want.start_ns);
  EXPECT_EQ(got.end_ns, want.end_ns);
  EXPECT_EQ(got.name, want.name);
  EXPECT_EQ(got.service_name, want.service_name);
  EXPECT_EQ(got.kind, want.kind);
  EXPECT_EQ(got.status_code, want.status_code);
  EXPECT_EQ(got.status_message, want.status_message);
  EXPECT_EQ(got.trace_state, want.trace_state);
  EXPECT_EQ(got.flags, want.flags);
  EXPECT_EQ(got.scope_name, want.scope_name);
  EXPECT_EQ(got.scope_version, want.scope_version);
  EXPECT_EQ(got.link_trace_id, want.link_trace_id);
  EXPECT_EQ(got.link_span_id, want.link_span_id);
  std::vector<Attribute> attrs;
  for (const Attribute& a : got.attributes) {
    if (a.key != "service.name") attrs.push_back(a);
  }
  ASSERT_EQ(attrs.size(), want.attributes.size());
  for (size_t i = 0; i < attrs.size(); ++i) {
    EXPECT_EQ(attrs[i].key, want.attributes[i].key);
    EXPECT_EQ(attrs[i].type, want.attributes[i].type);
    EXPECT_EQ(attrs[i].str, want.attributes[i].str);
    EXPECT_EQ(attrs[i].i, want.attributes[i].i);
    EXPECT_EQ(attrs[i].d, want.attributes[i].d);
    EXPECT_EQ(attrs[i].b, want.attributes[i].b);
  }
}

TEST(EncodeOtlpTracesProtobuf, RoundTripsThroughTheDecoder) {
  std::vector<Span> spans;
  spans.push_back(MakeSpan("frontend-react-js", 1, 0));
  spans.push_back(MakeSpan("backend-flask", 2, 1));
  spans.push_back(MakeSpan("frontend-react-js", 3, 1));
  spans[1].status_code = StatusCode::kError;
  spans[1].status_message = "db timeout";
  spans[1].trace_state = "rojo=1";
  spans[1].flags = 1;
  spans[2].scope_name = "other";
  Span event;
  event.row_kind = RowKind::kSpanEvent;
  event.trace_id = spans[1].trace_id;
  event.span_id = spans[1].span_id;
  event.start_ns = event.end_ns = spans[1].start_ns + 10;
  event.name = "exception";
  event.service_name = "backend-flask";
  event.scope_name = "cruddur";
  event.scope_version = "1.0";
  event.parent_name = spans[1].name;
  event.attributes = {{"exception.message", ValueType::kString, "boom", 0, 0, false}};
  Span link;
  link.row_kind = RowKind::kLink;
  link.trace_id = spans[1].trace_id;
  link.span_id = spans[1].span_id;
  link.start_ns = link.end_ns = spans[1].start_ns;
  link.service_name = "backend-flask";
  link.scope_name = "cruddur";
  link.scope_version = "1.0";
  link.parent_name = spans[1].name;
  link.link_trace_id.fill(0x22);
  link.link_span_id.fill(0x33);
  spans.push_back(event);
  spans.push_back(link);

  std::string body = EncodeOtlpTracesProtobuf(spans);
  auto batch = DecodeOtlpTracesProtobuf(body);
  ASSERT_TRUE(batch.ok()) << batch.status();
  ASSERT_EQ(batch->rows.size(), 5u);
  // Grouped by service then scope: frontend(cruddur: 1), frontend(other: 3), backend(2 + children).
  ExpectSameSpan(spans[0], ToSpan(*batch, 0));
  ExpectSameSpan(spans[2], ToSpan(*batch, 1));
  ExpectSameSpan(spans[1], ToSpan(*batch, 2));
  ExpectSameSpan(event, ToSpan(*batch, 3));
  ExpectSameSpan(link, ToSpan(*batch, 4));
  EXPECT_EQ(batch->rows[0].service_name, "frontend-react-js");
  EXPECT_EQ(batch->rows[2].service_name, "backend-flask");
}

TEST(EncodeOtlpTracesProtobuf, EmptyInputIsEmptyRequest) {
  EXPECT_EQ(EncodeOtlpTracesProtobuf({}), "");
}

TEST(OtlpResponses, SuccessIsEmpty) {
  EXPECT_EQ(EncodeExportTraceResponseProtobuf(0, ""), "");
  EXPECT_EQ(EncodeExportTraceResponseJson(0, ""), "{}");
}

TEST(OtlpResponses, PartialSuccess) {
  EXPECT_EQ(EncodeExportTraceResponseJson(3, "bad \"ids\""),
            R"({"partialSuccess":{"rejectedSpans":"3","errorMessage":"bad \"ids\""}})");
  EXPECT_EQ(EncodeExportTraceResponseJson(0, "warning"),
            R"({"partialSuccess":{"errorMessage":"warning"}})");
  std::string pb = EncodeExportTraceResponseProtobuf(3, "bad");
  EXPECT_EQ(pb, std::string("\x0a\x07\x08\x03\x12\x03" "bad", 9));
}

TEST(OtlpResponses, RpcStatus) {
  EXPECT_EQ(EncodeRpcStatusJson(3, "trace_id must be 16 bytes\n"),
            R"({"code":3,"message":"trace_id must be 16 bytes\n"})");
  EXPECT_EQ(EncodeRpcStatusProtobuf(3, "x"), std::string("\x08\x03\x12\x01x", 5));
  std::string neg = EncodeRpcStatusProtobuf(-1, "");
  wire_internal::ProtoReader r(neg);
  ASSERT_TRUE(r.Next());
  EXPECT_EQ(static_cast<int32_t>(r.scalar()), -1);
  // Invalid UTF-8 in a message still yields valid JSON.
  EXPECT_EQ(EncodeRpcStatusJson(13, "a\xff"), "{\"code\":13,\"message\":\"a\xEF\xBF\xBD\"}");
}

}  // namespace
}  // namespace waggle
