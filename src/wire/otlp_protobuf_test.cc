#include <cstring>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "wire/internal/protobuf_writer.h"
#include "wire/otlp.h"

namespace waggle {
namespace {

using wire_internal::ProtoWriter;

// Tiny builders for hand-made OTLP messages. Each returns the serialized message body.
std::string Msg(const std::function<void(ProtoWriter&)>& fill) {
  std::string out;
  ProtoWriter w(&out);
  fill(w);
  return out;
}
std::string Str(std::string_view s) { return Msg([&](ProtoWriter& w) { w.BytesField(1, s); }); }
std::string Int(int64_t i) {
  return Msg([&](ProtoWriter& w) { w.VarintField(3, static_cast<uint64_t>(i)); });
}
std::string Kv(std::string_view key, const std::string& any_value) {
  return Msg([&](ProtoWriter& w) {
    w.BytesField(1, key);
    w.BytesField(2, any_value);
  });
}
std::string KvList(const std::vector<std::string>& kvs) {
  std::string list = Msg([&](ProtoWriter& w) {
    for (const auto& kv : kvs) w.BytesField(1, kv);
  });
  return Msg([&](ProtoWriter& w) { w.BytesField(6, list); });
}
std::string Array(const std::vector<std::string>& values) {
  std::string list = Msg([&](ProtoWriter& w) {
    for (const auto& v : values) w.BytesField(1, v);
  });
  return Msg([&](ProtoWriter& w) { w.BytesField(5, list); });
}

// Decoded batches hold views into their body; this keeps test bodies alive.
const std::string& Keep(std::string body) {
  static std::deque<std::string> bodies;
  return bodies.emplace_back(std::move(body));
}

std::string Id(size_t n, uint8_t fill) { return std::string(n, static_cast<char>(fill)); }

struct SpanSpec {
  std::string trace_id = Id(16, 0xAB);
  std::string span_id = Id(8, 0x01);
  std::string parent_id;
  std::string name = "GET /api/activities/home";
  uint64_t start = 1'700'000'000'000'000'000;
  uint64_t end = 1'700'000'000'250'000'000;
  std::vector<std::string> attrs;   // KeyValue bodies
  std::vector<std::string> extra;   // raw fields appended at the end
};

std::string SpanMsg(const SpanSpec& s) {
  std::string out = Msg([&](ProtoWriter& w) {
    w.BytesField(1, s.trace_id);
    w.BytesField(2, s.span_id);
    if (!s.parent_id.empty()) w.BytesField(4, s.parent_id);
    w.BytesField(5, s.name);
    w.Fixed64Field(7, s.start);
    w.Fixed64Field(8, s.end);
    for (const auto& a : s.attrs) w.BytesField(9, a);
  });
  for (const auto& e : s.extra) out += e;
  return out;
}

std::string ScopeSpans(const std::vector<std::string>& spans, std::string scope = "") {
  return Msg([&](ProtoWriter& w) {
    if (!scope.empty()) w.BytesField(1, scope);
    for (const auto& s : spans) w.BytesField(2, s);
  });
}
std::string Resource(const std::vector<std::string>& attrs) {
  return Msg([&](ProtoWriter& w) {
    for (const auto& a : attrs) w.BytesField(1, a);
  });
}
std::string ResourceSpans(const std::string& resource, const std::vector<std::string>& scopes) {
  return Msg([&](ProtoWriter& w) {
    if (!resource.empty()) w.BytesField(1, resource);
    for (const auto& s : scopes) w.BytesField(2, s);
  });
}
std::string Request(const std::vector<std::string>& resource_spans) {
  return Msg([&](ProtoWriter& w) {
    for (const auto& r : resource_spans) w.BytesField(1, r);
  });
}
std::string OneSpanRequest(const SpanSpec& s) {
  return Request({ResourceSpans(Resource({Kv("service.name", Str("backend-flask"))}),
                                {ScopeSpans({SpanMsg(s)})})});
}

std::string ErrorOf(const std::string& body, const DecodeLimits& limits = {}) {
  auto r = DecodeOtlpTracesProtobuf(body, limits);
  if (r.ok()) return "OK";
  return std::string(r.status().message());
}

const AttrView* Find(const SpanBatch& b, AttrRange range, std::string_view key) {
  for (uint32_t i = range.begin; i < range.end; ++i) {
    if (b.attrs[i].key == key) return &b.attrs[i];
  }
  return nullptr;
}

TEST(DecodeOtlpProtobuf, EmptyRequestIsEmptyBatch) {
  auto r = DecodeOtlpTracesProtobuf("");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->rows.empty());
}

TEST(DecodeOtlpProtobuf, FullSpan) {
  std::string status = Msg([](ProtoWriter& w) {
    w.BytesField(2, "boom");
    w.VarintField(3, 2);
  });
  std::string scope = Msg([](ProtoWriter& w) {
    w.BytesField(1, "opentelemetry.instrumentation.flask");
    w.BytesField(2, "0.41b0");
    w.BytesField(3, Kv("scope.attr", Str("s")));
  });
  SpanSpec s;
  s.parent_id = Id(8, 0x02);
  s.attrs = {Kv("app.result_length", Int(42)), Kv("http.method", Str("GET")),
             Kv("flag", Msg([](ProtoWriter& w) { w.VarintField(2, 1); })),
             Kv("ratio", Msg([](ProtoWriter& w) { w.DoubleField(4, 0.25); }))};
  s.extra = {Msg([&](ProtoWriter& w) {
    w.BytesField(3, "rojo=00f067aa0ba902b7");
    w.VarintField(6, 2);
    w.BytesField(15, status);
    w.Fixed32Field(16, 0x301);
  })};
  std::string body = Request(
      {ResourceSpans(Resource({Kv("service.name", Str("backend-flask")), Kv("host", Str("h1"))}),
                     {ScopeSpans({SpanMsg(s)}, scope)})});
  auto r = DecodeOtlpTracesProtobuf(body);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rows.size(), 1u);
  const SpanRow& row = r->rows[0];
  EXPECT_EQ(row.row_kind, RowKind::kSpan);
  EXPECT_EQ(ToHex(row.trace_id), "abababababababababababababababab");
  EXPECT_EQ(ToHex(row.span_id), "0101010101010101");
  EXPECT_EQ(ToHex(row.parent_span_id), "0202020202020202");
  EXPECT_EQ(row.name, "GET /api/activities/home");
  EXPECT_EQ(row.service_name, "backend-flask");
  EXPECT_EQ(row.kind, SpanKind::kServer);
  EXPECT_EQ(row.status_code, StatusCode::kError);
  EXPECT_EQ(row.status_message, "boom");
  EXPECT_EQ(row.trace_state, "rojo=00f067aa0ba902b7");
  EXPECT_EQ(row.flags, 0x301u);
  EXPECT_EQ(row.start_ns, 1'700'000'000'000'000'000);
  EXPECT_EQ(row.end_ns, 1'700'000'000'250'000'000);
  EXPECT_EQ(row.scope_name, "opentelemetry.instrumentation.flask");
  EXPECT_EQ(row.scope_version, "0.41b0");
  EXPECT_EQ(row.resource_attrs.size(), 2u);
  ASSERT_EQ(row.scope_attrs.size(), 1u);
  EXPECT_EQ(r->attrs[row.scope_attrs.begin].str, "s");
  ASSERT_EQ(row.attrs.size(), 4u);
  const AttrView* len = Find(*r, row.attrs, "app.result_length");
  ASSERT_NE(len, nullptr);
  EXPECT_EQ(len->type, ValueType::kInt);
  EXPECT_EQ(len->i, 42);
  EXPECT_EQ(Find(*r, row.attrs, "http.method")->str, "GET");
  EXPECT_EQ(Find(*r, row.attrs, "flag")->type, ValueType::kBool);
  EXPECT_TRUE(Find(*r, row.attrs, "flag")->b);
  EXPECT_EQ(Find(*r, row.attrs, "ratio")->d, 0.25);
  // Zero copy: the span name is a view into the body.
  EXPECT_GE(row.name.data(), body.data());
  EXPECT_LT(row.name.data(), body.data() + body.size());
}

TEST(DecodeOtlpProtobuf, EventsAndLinksBecomeRows) {
  SpanSpec s;
  std::string event = Msg([](ProtoWriter& w) {
    w.Fixed64Field(1, 1'700'000'000'100'000'000);
    w.BytesField(2, "exception");
    w.BytesField(3, Kv("exception.message", Str("bad")));
  });
  std::string link = Msg([](ProtoWriter& w) {
    w.BytesField(1, Id(16, 0xCD));
    w.BytesField(2, Id(8, 0x09));
    w.BytesField(4, Kv("link.kind", Str("follows")));
  });
  // Events and links placed before the attributes: the span's own attrs must stay contiguous.
  s.extra = {Msg([&](ProtoWriter& w) {
    w.BytesField(11, event);
    w.BytesField(13, link);
    w.BytesField(9, Kv("late.attr", Int(7)));
  })};
  auto r = DecodeOtlpTracesProtobuf(Keep(OneSpanRequest(s)));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rows.size(), 3u);
  EXPECT_EQ(r->span_count(), 1u);
  const SpanRow& span = r->rows[0];
  EXPECT_EQ(span.attrs.size(), 1u);
  EXPECT_EQ(r->attrs[span.attrs.begin].key, "late.attr");

  const SpanRow& ev = r->rows[1];
  EXPECT_EQ(ev.row_kind, RowKind::kSpanEvent);
  EXPECT_EQ(ev.span_id, span.span_id);
  EXPECT_EQ(ev.trace_id, span.trace_id);
  EXPECT_TRUE(IsZero(ev.parent_span_id));
  EXPECT_EQ(ev.name, "exception");
  EXPECT_EQ(ev.parent_name, span.name);
  EXPECT_EQ(ev.start_ns, 1'700'000'000'100'000'000);
  EXPECT_EQ(ev.end_ns, ev.start_ns);
  EXPECT_EQ(ev.service_name, "backend-flask");
  ASSERT_EQ(ev.attrs.size(), 1u);
  EXPECT_EQ(r->attrs[ev.attrs.begin].str, "bad");
  EXPECT_EQ(ev.resource_attrs.begin, span.resource_attrs.begin);

  const SpanRow& ln = r->rows[2];
  EXPECT_EQ(ln.row_kind, RowKind::kLink);
  EXPECT_EQ(ln.span_id, span.span_id);
  EXPECT_EQ(ToHex(ln.link_trace_id), "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd");
  EXPECT_EQ(ToHex(ln.link_span_id), "0909090909090909");
  EXPECT_EQ(ln.start_ns, span.start_ns);
  EXPECT_EQ(r->attrs[ln.attrs.begin].key, "link.kind");
}

TEST(DecodeOtlpProtobuf, NestedAttributesFlatten) {
  std::string deep = Str("leaf");
  // a.b.c.d.e.f : kvlists nested 6 deep under "a".
  for (const char* k : {"f", "e", "d", "c", "b"}) deep = KvList({Kv(k, deep)});
  SpanSpec s;
  s.attrs = {
      Kv("http", KvList({Kv("method", Str("GET")), Kv("status", Int(200)),
                         Kv("req", KvList({Kv("size", Int(12))}))})),
      Kv("a", deep),
      Kv("list", Array({Str("x\"y"), Int(-3), Msg([](ProtoWriter& w) { w.VarintField(2, 0); }),
                        Msg([](ProtoWriter& w) { w.DoubleField(4, 1.5); }),
                        Array({Int(1)}), KvList({Kv("k", Str("v"))}), std::string()})),
      Kv("raw", Msg([](ProtoWriter& w) { w.BytesField(7, std::string("\x00\xff\x10", 3)); })),
      Kv("novalue", std::string()),
  };
  auto r = DecodeOtlpTracesProtobuf(Keep(OneSpanRequest(s)));
  ASSERT_TRUE(r.ok()) << r.status();
  const SpanRow& row = r->rows[0];
  EXPECT_EQ(Find(*r, row.attrs, "http.method")->str, "GET");
  EXPECT_EQ(Find(*r, row.attrs, "http.status")->i, 200);
  EXPECT_EQ(Find(*r, row.attrs, "http.req.size")->i, 12);
  // Depth 5 reached at a.b.c.d.e; its kvlist value becomes JSON text.
  const AttrView* e = Find(*r, row.attrs, "a.b.c.d.e");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->type, ValueType::kString);
  EXPECT_EQ(e->str, R"({"f":"leaf"})");
  EXPECT_EQ(Find(*r, row.attrs, "list")->str, R"(["x\"y",-3,false,1.5,[1],{"k":"v"},null])");
  EXPECT_EQ(Find(*r, row.attrs, "raw")->str, "AP8Q");
  EXPECT_EQ(Find(*r, row.attrs, "novalue"), nullptr);
  EXPECT_EQ(row.attrs.size(), 6u);
}

TEST(DecodeOtlpProtobuf, ResourceAfterScopeSpansAndUnknownFields) {
  std::string rs = Msg([](ProtoWriter& w) {
    w.BytesField(2, ScopeSpans({SpanMsg(SpanSpec{})}));
    w.VarintField(77, 5);
    w.BytesField(3, "https://opentelemetry.io/schemas/1.21.0");
    w.BytesField(1, Resource({Kv("service.name", Str("  frontend-react-js "))}));
  });
  auto r = DecodeOtlpTracesProtobuf(
      Keep(Request({rs}) + Msg([](ProtoWriter& w) { w.Fixed32Field(9, 1); })));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_EQ(r->rows[0].service_name, "frontend-react-js");
  EXPECT_EQ(r->rows[0].resource_attrs.size(), 1u);
}

TEST(DecodeOtlpProtobuf, ServiceNameRules) {
  auto service_of = [](const std::vector<std::string>& resource_attrs) {
    std::string body = Request({ResourceSpans(Resource(resource_attrs),
                                              {ScopeSpans({SpanMsg(SpanSpec{})})})});
    auto r = DecodeOtlpTracesProtobuf(body);
    return r.ok() ? std::string(r->rows[0].service_name) : "error";
  };
  EXPECT_EQ(service_of({}), "unknown_service");
  EXPECT_EQ(service_of({Kv("service.name", Str("   "))}), "unknown_service");
  EXPECT_EQ(service_of({Kv("service.name", Str("unknown_service:python3"))}), "unknown_service");
  EXPECT_EQ(service_of({Kv("service.name", Int(5))}), "unknown_service");
  EXPECT_EQ(service_of({Kv("service.name", Str("a")), Kv("service.name", Str("b"))}), "b");
}

TEST(DecodeOtlpProtobuf, IdValidationErrors) {
  SpanSpec s;
  s.trace_id = Id(15, 1);
  std::string two_spans = Request({ResourceSpans(
      {}, {ScopeSpans({SpanMsg(SpanSpec{}), SpanMsg(SpanSpec{}), SpanMsg(s)})})});
  EXPECT_EQ(ErrorOf(two_spans),
            "resource_spans[0].scope_spans[0].spans[2]: trace_id must be 16 bytes, got 15");

  s = SpanSpec{};
  s.trace_id.clear();
  EXPECT_EQ(ErrorOf(OneSpanRequest(s)),
            "resource_spans[0].scope_spans[0].spans[0]: trace_id must be 16 bytes, got 0");
  s = SpanSpec{};
  s.trace_id = Id(16, 0);
  EXPECT_EQ(ErrorOf(OneSpanRequest(s)),
            "resource_spans[0].scope_spans[0].spans[0]: trace_id must not be all zeros");
  s = SpanSpec{};
  s.span_id = Id(7, 1);
  EXPECT_EQ(ErrorOf(OneSpanRequest(s)),
            "resource_spans[0].scope_spans[0].spans[0]: span_id must be 8 bytes, got 7");
  s = SpanSpec{};
  s.span_id = Id(8, 0);
  EXPECT_EQ(ErrorOf(OneSpanRequest(s)),
            "resource_spans[0].scope_spans[0].spans[0]: span_id must not be all zeros");
  s = SpanSpec{};
  s.parent_id = Id(3, 1);
  EXPECT_EQ(ErrorOf(OneSpanRequest(s)),
            "resource_spans[0].scope_spans[0].spans[0]: parent_span_id must be 8 bytes, got 3");
  s = SpanSpec{};
  s.parent_id = Id(8, 0);  // all-zero parent = root
  EXPECT_EQ(ErrorOf(OneSpanRequest(s)), "OK");

  s = SpanSpec{};
  s.extra = {Msg([](ProtoWriter& w) {
    w.BytesField(13, Msg([](ProtoWriter& l) {
                   l.BytesField(1, Id(16, 1));
                   l.BytesField(2, Id(8, 1));
                 }));
    w.BytesField(13, Msg([](ProtoWriter& l) { l.BytesField(1, Id(16, 1)); }));
  })};
  EXPECT_EQ(ErrorOf(OneSpanRequest(s)),
            "resource_spans[0].scope_spans[0].spans[0].links[1]: span_id must be 8 bytes, got 0");
}

TEST(DecodeOtlpProtobuf, TimeOutOfRange) {
  SpanSpec s;
  s.end = UINT64_MAX;
  EXPECT_EQ(ErrorOf(OneSpanRequest(s)),
            "resource_spans[0].scope_spans[0].spans[0]: end_time_unix_nano out of range: "
            "18446744073709551615");
}

TEST(DecodeOtlpProtobuf, MalformedWireNamesLocation) {
  std::string body = OneSpanRequest(SpanSpec{});
  auto r = DecodeOtlpTracesProtobuf(body.substr(0, body.size() - 3));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("length past end of message"), std::string::npos)
      << r.status();

  SpanSpec s;
  s.extra = {std::string("\x48\x80", 2)};  // field 9 as a truncated varint, inside the span
  EXPECT_EQ(ErrorOf(OneSpanRequest(s)).rfind("resource_spans[0].scope_spans[0].spans[0]: "
                                             "truncated or overlong varint at byte ", 0),
            0u)
      << ErrorOf(OneSpanRequest(s));

  EXPECT_NE(ErrorOf("\x0b\x00").find("groups are not supported"), std::string::npos);
  EXPECT_NE(ErrorOf("garbage that is not protobuf").find("at byte"), std::string::npos);
}

TEST(DecodeOtlpProtobuf, WrongWireTypeForKnownFieldIsSkipped) {
  SpanSpec s;
  s.extra = {Msg([](ProtoWriter& w) {
    w.VarintField(5, 12);  // name as a varint: ignored
    w.BytesField(6, "x");  // kind as bytes: ignored
  })};
  auto r = DecodeOtlpTracesProtobuf(Keep(OneSpanRequest(s)));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->rows[0].name, "GET /api/activities/home");
  EXPECT_EQ(r->rows[0].kind, SpanKind::kUnspecified);
}

TEST(DecodeOtlpProtobuf, AttributeNestingGuard) {
  std::string v = Int(1);
  for (int i = 0; i < 40; ++i) v = Array({v});
  SpanSpec s;
  s.attrs = {Kv("deep", v)};
  EXPECT_NE(ErrorOf(OneSpanRequest(s)).find("message nesting too deep"), std::string::npos);
  DecodeLimits roomy;
  roomy.max_nesting = 100;
  auto r = DecodeOtlpTracesProtobuf(Keep(OneSpanRequest(s)), roomy);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->attrs[r->rows[0].attrs.begin].str,
            std::string(40, '[') + "1" + std::string(40, ']'));
}

TEST(DecodeOtlpProtobuf, TooManyAttributes) {
  SpanSpec s;
  for (int i = 0; i < 11; ++i) s.attrs.push_back(Kv("k" + std::to_string(i), Int(i)));
  DecodeLimits limits;
  limits.max_attrs_per_row = 10;
  EXPECT_EQ(ErrorOf(OneSpanRequest(s), limits),
            "resource_spans[0].scope_spans[0].spans[0]: too many resource+scope+own "
            "attributes: 12 (limit 10)");
}

TEST(DecodeOtlpProtobuf, LongStringsAreTruncatedOnUtf8Boundary) {
  SpanSpec s;
  s.attrs = {Kv("s", Str("ab\xC3\xA9z"))};  // "abéz": é is two bytes at offsets 2..3
  s.name = std::string(100, 'n');
  DecodeLimits limits;
  limits.max_string_bytes = 3;
  auto r = DecodeOtlpTracesProtobuf(Keep(OneSpanRequest(s)), limits);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->attrs[r->rows[0].attrs.begin].str, "ab");
  EXPECT_EQ(r->rows[0].name, "nnn");
}

TEST(DecodeOtlpProtobuf, DecodedSizeBudget) {
  // 20,000 empty events: a tiny body that would expand into 20,000 rows.
  SpanSpec s;
  std::string events;
  for (int i = 0; i < 20000; ++i) events += std::string("\x5a\x00", 2);
  s.extra = {events};
  DecodeLimits limits;
  limits.max_decoded_bytes = 1 << 20;
  auto r = DecodeOtlpTracesProtobuf(Keep(OneSpanRequest(s)), limits);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  auto ok = DecodeOtlpTracesProtobuf(Keep(OneSpanRequest(s)));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->rows.size(), 20001u);
}

TEST(DecodeOtlpProtobuf, MultipleResourcesShareRangesPerScope) {
  std::string body = Request({
      ResourceSpans(Resource({Kv("service.name", Str("a"))}),
                    {ScopeSpans({SpanMsg(SpanSpec{}), SpanMsg(SpanSpec{})}),
                     ScopeSpans({SpanMsg(SpanSpec{})})}),
      ResourceSpans(Resource({Kv("service.name", Str("b"))}), {ScopeSpans({SpanMsg(SpanSpec{})})}),
  });
  auto r = DecodeOtlpTracesProtobuf(body);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rows.size(), 4u);
  EXPECT_EQ(r->rows[0].service_name, "a");
  EXPECT_EQ(r->rows[2].service_name, "a");
  EXPECT_EQ(r->rows[3].service_name, "b");
  EXPECT_EQ(r->rows[0].resource_attrs.begin, r->rows[2].resource_attrs.begin);
  EXPECT_NE(r->rows[0].resource_attrs.begin, r->rows[3].resource_attrs.begin);
  EXPECT_EQ(r->attrs.size(), 2u);  // resource attributes stored once per ResourceSpans
}

}  // namespace
}  // namespace waggle
