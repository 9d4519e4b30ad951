#include <string>

#include <gtest/gtest.h>

#include "wire/otlp.h"

namespace waggle {
namespace {

const AttrView* Find(const SpanBatch& b, AttrRange range, std::string_view key) {
  for (uint32_t i = range.begin; i < range.end; ++i) {
    if (b.attrs[i].key == key) return &b.attrs[i];
  }
  return nullptr;
}

std::string ErrorOf(const std::string& body) {
  auto r = DecodeOtlpTracesJson(body);
  return r.ok() ? "OK" : std::string(r.status().message());
}

// One span inside the usual envelope; `span` is the span object's members.
std::string OneSpan(const std::string& span, const std::string& resource_attrs =
                                                 R"([{"key":"service.name","value":{"stringValue":"backend-flask"}}])") {
  return R"({"resourceSpans":[{"resource":{"attributes":)" + resource_attrs +
         R"(},"scopeSpans":[{"scope":{"name":"s","version":"1"},"spans":[{)" + span + "}]}]}]}";
}

constexpr char kIds[] =
    R"("traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174")";

TEST(DecodeOtlpJson, FullSpanFromTheSpec) {
  std::string body = R"({
    "resourceSpans": [{
      "resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": "backend-flask"}},
        {"key": "host.cpus", "value": {"intValue": "8"}}]},
      "scopeSpans": [{
        "scope": {"name": "my.library", "version": "1.0.0",
                  "attributes": [{"key": "my.scope.attribute", "value": {"stringValue": "x"}}]},
        "spans": [{
          "traceId": "5B8EFFF798038103D269B633813FC60C",
          "spanId": "EEE19B7EC3C1B174",
          "parentSpanId": "EEE19B7EC3C1B173",
          "traceState": "rojo=1",
          "name": "I'm a server span \u00e9",
          "startTimeUnixNano": "1544712660000000000",
          "endTimeUnixNano": 1544712661000000000,
          "kind": 2,
          "flags": 769,
          "droppedAttributesCount": 0,
          "attributes": [
            {"key": "my.span.attr", "value": {"stringValue": "some value"}},
            {"key": "app.result_length", "value": {"intValue": 42}},
            {"key": "neg", "value": {"intValue": "-9223372036854775808"}},
            {"key": "ok", "value": {"boolValue": true}},
            {"key": "ratio", "value": {"doubleValue": 0.5}},
            {"key": "nan", "value": {"doubleValue": "NaN"}},
            {"key": "blob", "value": {"bytesValue": "AP8Q"}},
            {"key": "list", "value": {"arrayValue": {"values": [
              {"stringValue": "a"}, {"intValue": "2"}, {"boolValue": false},
              {"arrayValue": {}}, {}]}}},
            {"key": "http", "value": {"kvlistValue": {"values": [
              {"key": "method", "value": {"stringValue": "GET"}},
              {"key": "req", "value": {"kvlistValue": {"values": [
                {"key": "size", "value": {"intValue": 12}}]}}}]}}}
          ],
          "events": [{"timeUnixNano": "1544712660500000000", "name": "exception",
                      "attributes": [{"key": "exception.message", "value": {"stringValue": "e"}}]}],
          "links": [{"traceId": "00000000000000000000000000000001", "spanId": "0000000000000002",
                     "traceState": "a=b", "flags": 1}],
          "status": {"code": 2, "message": "it broke"},
          "someFutureField": {"nested": [1, 2, 3]}
        }]
      }]
    }]
  })";
  auto r = DecodeOtlpTracesJson(body);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rows.size(), 3u);
  const SpanRow& span = r->rows[0];
  EXPECT_EQ(ToHex(span.trace_id), "5b8efff798038103d269b633813fc60c");
  EXPECT_EQ(ToHex(span.span_id), "eee19b7ec3c1b174");
  EXPECT_EQ(ToHex(span.parent_span_id), "eee19b7ec3c1b173");
  EXPECT_EQ(span.trace_state, "rojo=1");
  EXPECT_EQ(span.name, "I'm a server span \xC3\xA9");
  EXPECT_EQ(span.start_ns, 1544712660000000000);
  EXPECT_EQ(span.end_ns, 1544712661000000000);
  EXPECT_EQ(span.kind, SpanKind::kServer);
  EXPECT_EQ(span.flags, 769u);
  EXPECT_EQ(span.status_code, StatusCode::kError);
  EXPECT_EQ(span.status_message, "it broke");
  EXPECT_EQ(span.service_name, "backend-flask");
  EXPECT_EQ(span.scope_name, "my.library");
  EXPECT_EQ(span.scope_version, "1.0.0");
  EXPECT_EQ(span.scope_attrs.size(), 1u);
  EXPECT_EQ(Find(*r, span.resource_attrs, "host.cpus")->i, 8);
  EXPECT_EQ(Find(*r, span.attrs, "my.span.attr")->str, "some value");
  EXPECT_EQ(Find(*r, span.attrs, "app.result_length")->i, 42);
  EXPECT_EQ(Find(*r, span.attrs, "neg")->i, INT64_MIN);
  EXPECT_TRUE(Find(*r, span.attrs, "ok")->b);
  EXPECT_EQ(Find(*r, span.attrs, "ratio")->d, 0.5);
  EXPECT_TRUE(std::isnan(Find(*r, span.attrs, "nan")->d));
  EXPECT_EQ(Find(*r, span.attrs, "blob")->str, "AP8Q");
  EXPECT_EQ(Find(*r, span.attrs, "list")->str, R"(["a",2,false,[],null])");
  EXPECT_EQ(Find(*r, span.attrs, "http.method")->str, "GET");
  EXPECT_EQ(Find(*r, span.attrs, "http.req.size")->i, 12);

  const SpanRow& ev = r->rows[1];
  EXPECT_EQ(ev.row_kind, RowKind::kSpanEvent);
  EXPECT_EQ(ev.span_id, span.span_id);
  EXPECT_EQ(ev.start_ns, 1544712660500000000);
  EXPECT_EQ(ev.parent_name, span.name);
  EXPECT_EQ(Find(*r, ev.attrs, "exception.message")->str, "e");
  const SpanRow& ln = r->rows[2];
  EXPECT_EQ(ln.row_kind, RowKind::kLink);
  EXPECT_EQ(ToHex(ln.link_trace_id), "00000000000000000000000000000001");
  EXPECT_EQ(ToHex(ln.link_span_id), "0000000000000002");
  EXPECT_EQ(ln.trace_state, "a=b");
  EXPECT_EQ(ln.flags, 1u);
}

TEST(DecodeOtlpJson, IdsAreCaseInsensitiveAndEmptyParentIsRoot) {
  auto lower = DecodeOtlpTracesJson(OneSpan(
      R"("traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","parentSpanId":"")"));
  auto upper = DecodeOtlpTracesJson(OneSpan(kIds));
  ASSERT_TRUE(lower.ok()) << lower.status();
  ASSERT_TRUE(upper.ok()) << upper.status();
  EXPECT_EQ(lower->rows[0].trace_id, upper->rows[0].trace_id);
  EXPECT_EQ(lower->rows[0].span_id, upper->rows[0].span_id);
  EXPECT_TRUE(IsZero(lower->rows[0].parent_span_id));
}

TEST(DecodeOtlpJson, Int64AsStringsAndNumbers) {
  auto r = DecodeOtlpTracesJson(OneSpan(std::string(kIds) +
                                        R"(,"startTimeUnixNano":1,"endTimeUnixNano":"9223372036854775807",)"
                                        R"("attributes":[{"key":"a","value":{"intValue":"-5"}},)"
                                        R"({"key":"b","value":{"intValue":9007199254740993}},)"
                                        R"({"key":"c","value":{"intValue":1e3}}])"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->rows[0].start_ns, 1);
  EXPECT_EQ(r->rows[0].end_ns, INT64_MAX);
  EXPECT_EQ(Find(*r, r->rows[0].attrs, "a")->i, -5);
  EXPECT_EQ(Find(*r, r->rows[0].attrs, "b")->i, 9007199254740993);
  EXPECT_EQ(Find(*r, r->rows[0].attrs, "c")->i, 1000);

  EXPECT_EQ(ErrorOf(OneSpan(std::string(kIds) + R"(,"startTimeUnixNano":"12x")")),
            "resourceSpans[0].scopeSpans[0].spans[0]: startTimeUnixNano must be an integer in "
            "[0, 9223372036854775807] (a number or a decimal string)");
  EXPECT_NE(ErrorOf(OneSpan(std::string(kIds) + R"(,"endTimeUnixNano":-1)")).find("endTimeUnixNano"),
            std::string::npos);
  EXPECT_EQ(ErrorOf(OneSpan(std::string(kIds) +
                            R"(,"attributes":[{"key":"k","value":{"intValue":"9223372036854775808"}}])")),
            "resourceSpans[0].scopeSpans[0].spans[0]: attribute \"k\": bad intValue");
}

TEST(DecodeOtlpJson, SnakeCaseKeysAreUnknownAndIgnored) {
  // trace_id/span_id are not OTLP/JSON keys: the span has no ids.
  EXPECT_EQ(ErrorOf(OneSpan(
                R"("trace_id":"5b8efff798038103d269b633813fc60c","span_id":"eee19b7ec3c1b174")")),
            "resourceSpans[0].scopeSpans[0].spans[0]: traceId must be 16 bytes, got 0");
  auto r = DecodeOtlpTracesJson(R"({"resource_spans":[{"scopeSpans":[]}]})");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->rows.empty());
  auto r2 = DecodeOtlpTracesJson(OneSpan(std::string(kIds) + R"(,"start_time_unix_nano":"5")"));
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->rows[0].start_ns, 0);
}

TEST(DecodeOtlpJson, IdErrors) {
  EXPECT_EQ(ErrorOf(OneSpan(R"("traceId":"5b8efff798038103d269b633813fc6","spanId":"eee19b7ec3c1b174")")),
            "resourceSpans[0].scopeSpans[0].spans[0]: traceId must be 16 bytes, got 15");
  EXPECT_EQ(ErrorOf(OneSpan(R"("traceId":"5b8efff798038103d269b633813fc6zz","spanId":"eee19b7ec3c1b174")")),
            "resourceSpans[0].scopeSpans[0].spans[0]: traceId must be 32 hex digits, got "
            "\"5b8efff798038103d269b633813fc6zz\"");
  EXPECT_EQ(ErrorOf(OneSpan(R"("traceId":"00000000000000000000000000000000","spanId":"eee19b7ec3c1b174")")),
            "resourceSpans[0].scopeSpans[0].spans[0]: traceId must not be all zeros");
  EXPECT_EQ(ErrorOf(OneSpan(R"("traceId":"5b8efff798038103d269b633813fc60c","spanId":"0000000000000000")")),
            "resourceSpans[0].scopeSpans[0].spans[0]: spanId must not be all zeros");
  EXPECT_EQ(ErrorOf(OneSpan(std::string(kIds) + R"(,"parentSpanId":"abcd")")),
            "resourceSpans[0].scopeSpans[0].spans[0]: parentSpanId must be 8 bytes, got 2");
  EXPECT_EQ(ErrorOf(OneSpan(R"("traceId":5,"spanId":"eee19b7ec3c1b174")")),
            "resourceSpans[0].scopeSpans[0].spans[0]: traceId must be a string");
  // Base64 ids (the protobuf-JSON default) are not OTLP/JSON.
  EXPECT_NE(ErrorOf(OneSpan(R"("traceId":"W47/95gDgQPSabYzgT/GDA==","spanId":"eee19b7ec3c1b174")"))
                .find("traceId must be 32 hex digits"),
            std::string::npos);
  EXPECT_EQ(ErrorOf(OneSpan(std::string(kIds) +
                            R"(,"links":[{"traceId":"01","spanId":"0000000000000002"}])")),
            "resourceSpans[0].scopeSpans[0].spans[0].links[0]: traceId must be 16 bytes, got 1");
}

TEST(DecodeOtlpJson, GarbageAndWrongShapes) {
  std::string err = ErrorOf("{\"resourceSpans\": [");
  EXPECT_EQ(err.rfind("invalid JSON: ", 0), 0u) << err;
  EXPECT_EQ(ErrorOf("").rfind("invalid JSON: ", 0), 0u);
  EXPECT_EQ(ErrorOf("\x01\x02garbage").rfind("invalid JSON: ", 0), 0u);
  EXPECT_EQ(ErrorOf("[1,2]"), "request must be a JSON object");
  EXPECT_EQ(ErrorOf(R"({"resourceSpans":{}})"), "resourceSpans must be an array");
  EXPECT_EQ(ErrorOf(R"({"resourceSpans":[{"scopeSpans":[{"spans":7}]}]})"),
            "resourceSpans[0].scopeSpans[0]: spans must be an array");
  EXPECT_EQ(ErrorOf(R"({"resourceSpans":[{"scopeSpans":[{"spans":[[]]}]}]})"),
            "resourceSpans[0].scopeSpans[0].spans[0]: span must be an object");
  EXPECT_EQ(ErrorOf(OneSpan(std::string(kIds) + R"(,"attributes":{})")),
            "resourceSpans[0].scopeSpans[0].spans[0]: attributes must be an array");
  EXPECT_EQ(ErrorOf(OneSpan(std::string(kIds) + R"(,"name":5)")),
            "resourceSpans[0].scopeSpans[0].spans[0]: name must be a string");
  EXPECT_EQ(ErrorOf(OneSpan(std::string(kIds) +
                            R"(,"events":[{"timeUnixNano":"x"}])")),
            "resourceSpans[0].scopeSpans[0].spans[0].events[0]: timeUnixNano must be an integer "
            "in [0, 9223372036854775807] (a number or a decimal string)");
  // Nulls mean "absent".
  auto r = DecodeOtlpTracesJson(OneSpan(std::string(kIds) +
                                        R"(,"name":null,"events":null,"attributes":null,"status":null)"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->rows.size(), 1u);
  EXPECT_EQ(DecodeOtlpTracesJson("{}")->rows.size(), 0u);
}

TEST(DecodeOtlpJson, EnumNamesAreAcceptedToo) {
  auto r = DecodeOtlpTracesJson(OneSpan(std::string(kIds) +
                                        R"(,"kind":"SPAN_KIND_CLIENT","status":{"code":"STATUS_CODE_OK"})"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->rows[0].kind, SpanKind::kClient);
  EXPECT_EQ(r->rows[0].status_code, StatusCode::kOk);
}

TEST(DecodeOtlpJson, DeepKvlistBecomesJsonAndNestingIsGuarded) {
  std::string v = R"({"stringValue":"leaf"})";
  for (const char* k : {"f", "e", "d", "c", "b"}) {
    v = std::string(R"({"kvlistValue":{"values":[{"key":")") + k + R"(","value":)" + v + "}]}}";
  }
  auto r = DecodeOtlpTracesJson(
      OneSpan(std::string(kIds) + R"(,"attributes":[{"key":"a","value":)" + v + "}]"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Find(*r, r->rows[0].attrs, "a.b.c.d.e")->str, R"({"f":"leaf"})");

  std::string deep = R"({"intValue":1})";
  for (int i = 0; i < 40; ++i) deep = R"({"arrayValue":{"values":[)" + deep + "]}}";
  EXPECT_EQ(ErrorOf(OneSpan(std::string(kIds) + R"(,"attributes":[{"key":"a","value":)" + deep +
                            "}]")),
            "resourceSpans[0].scopeSpans[0].spans[0]: attribute value nesting too deep");
}

TEST(DecodeOtlpJson, ServiceNameDefaults) {
  auto r = DecodeOtlpTracesJson(OneSpan(kIds, "[]"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows[0].service_name, "unknown_service");
}

TEST(DecodeOtlpJson, StringsOutliveTheParser) {
  auto a = DecodeOtlpTracesJson(OneSpan(std::string(kIds) + R"(,"name":"first \"quoted\"")"));
  auto b = DecodeOtlpTracesJson(OneSpan(std::string(kIds) + R"(,"name":"second-second-second")"));
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->rows[0].name, "first \"quoted\"");
  EXPECT_EQ(a->rows[0].service_name, "backend-flask");
  EXPECT_EQ(b->rows[0].name, "second-second-second");
}

}  // namespace
}  // namespace waggle
