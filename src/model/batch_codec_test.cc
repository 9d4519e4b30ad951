#include "model/batch_codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

namespace waggle {
namespace {

AttrView StrAttr(std::string_view k, std::string_view v) {
  AttrView a;
  a.key = k;
  a.str = v;
  return a;
}

SpanBatch SampleBatch() {
  SpanBatch b;
  b.attrs.push_back(StrAttr("service.name", "backend-flask"));
  AttrView i;
  i.key = "app.result_length";
  i.type = ValueType::kInt;
  i.i = -123456789012345;
  b.attrs.push_back(i);
  AttrView d;
  d.key = "app.ratio";
  d.type = ValueType::kDouble;
  d.d = -0.125;
  b.attrs.push_back(d);
  AttrView t;
  t.key = "error";
  t.type = ValueType::kBool;
  t.b = true;
  b.attrs.push_back(t);
  b.attrs.push_back(StrAttr("", ""));

  SpanRow root;
  ParseHex("4bf92f3577b34da6a3ce929d0e0e4736", &root.trace_id);
  ParseHex("00f067aa0ba902b7", &root.span_id);
  root.start_ns = 1700000000123456789;
  root.end_ns = root.start_ns + 42'000'000;
  root.name = "GET /api/activities/home";
  root.service_name = "backend-flask";
  root.kind = SpanKind::kServer;
  root.status_code = StatusCode::kError;
  root.status_message = "boom";
  root.trace_state = "k=v";
  root.flags = 0x301;
  root.scope_name = "opentelemetry.instrumentation.flask";
  root.scope_version = "0.41b0";
  root.resource_attrs = {0, 1};
  root.scope_attrs = {1, 1};
  root.attrs = {1, 4};
  b.rows.push_back(root);

  SpanRow child = root;  // same trace: exercises back-references
  ParseHex("1111111111111111", &child.span_id);
  child.parent_span_id = root.span_id;
  child.name = "home-activities-mock-data";
  child.kind = SpanKind::kInternal;
  child.status_code = StatusCode::kUnset;
  child.status_message = "";
  child.end_ns = child.start_ns - 5;  // negative durations survive
  b.rows.push_back(child);

  SpanRow event = child;
  event.row_kind = RowKind::kSpanEvent;
  event.parent_span_id = {};
  event.parent_name = child.name;
  event.name = "exception";
  event.attrs = {4, 5};
  b.rows.push_back(event);

  SpanRow link = root;
  link.row_kind = RowKind::kLink;
  ParseHex("ffffffffffffffffffffffffffffffff", &link.trace_id);
  ParseHex("0123456789abcdef0123456789abcdef", &link.link_trace_id);
  ParseHex("0123456789abcdef", &link.link_span_id);
  link.attrs = {5, 5};
  b.rows.push_back(link);
  return b;
}

void ExpectRowsEqual(const SpanBatch& a, const SpanBatch& b) {
  ASSERT_EQ(a.rows.size(), b.rows.size());
  ASSERT_EQ(a.attrs.size(), b.attrs.size());
  for (size_t i = 0; i < a.rows.size(); ++i) {
    Span x = ToSpan(a, i), y = ToSpan(b, i);
    EXPECT_EQ(x.row_kind, y.row_kind);
    EXPECT_EQ(x.trace_id, y.trace_id);
    EXPECT_EQ(x.span_id, y.span_id);
    EXPECT_EQ(x.parent_span_id, y.parent_span_id);
    EXPECT_EQ(x.start_ns, y.start_ns);
    EXPECT_EQ(x.end_ns, y.end_ns);
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.service_name, y.service_name);
    EXPECT_EQ(x.kind, y.kind);
    EXPECT_EQ(x.status_code, y.status_code);
    EXPECT_EQ(x.status_message, y.status_message);
    EXPECT_EQ(x.trace_state, y.trace_state);
    EXPECT_EQ(x.flags, y.flags);
    EXPECT_EQ(x.scope_name, y.scope_name);
    EXPECT_EQ(x.scope_version, y.scope_version);
    EXPECT_EQ(x.parent_name, y.parent_name);
    EXPECT_EQ(x.link_trace_id, y.link_trace_id);
    EXPECT_EQ(x.link_span_id, y.link_span_id);
    EXPECT_EQ(a.rows[i].resource_attrs.begin, b.rows[i].resource_attrs.begin);
    EXPECT_EQ(a.rows[i].attrs.end, b.rows[i].attrs.end);
    ASSERT_EQ(x.attributes.size(), y.attributes.size());
    for (size_t k = 0; k < x.attributes.size(); ++k) {
      EXPECT_EQ(x.attributes[k].key, y.attributes[k].key);
      EXPECT_EQ(x.attributes[k].type, y.attributes[k].type);
      EXPECT_EQ(x.attributes[k].str, y.attributes[k].str);
      EXPECT_EQ(x.attributes[k].i, y.attributes[k].i);
      EXPECT_EQ(x.attributes[k].d, y.attributes[k].d);
      EXPECT_EQ(x.attributes[k].b, y.attributes[k].b);
    }
  }
}

TEST(BatchCodec, RoundTrip) {
  SpanBatch in = SampleBatch();
  std::string bytes;
  EncodeBatch(in, &bytes);
  auto out = DecodeBatch(bytes);
  ASSERT_TRUE(out.ok()) << out.status();
  ExpectRowsEqual(in, *out);
  // Views point into the encoded bytes, not copies.
  const char* lo = bytes.data();
  const char* hi = bytes.data() + bytes.size();
  EXPECT_GE(out->rows[0].name.data(), lo);
  EXPECT_LT(out->rows[0].name.data(), hi);
  EXPECT_GE(out->attrs[0].key.data(), lo);
  EXPECT_EQ(out->arena.size(), 0u);
  // Re-encoding is byte-identical.
  std::string again;
  EncodeBatch(*out, &again);
  EXPECT_EQ(again, bytes);
}

TEST(BatchCodec, EmptyBatchAndAppendSemantics) {
  SpanBatch empty;
  std::string bytes = "prefix";
  EncodeBatch(empty, &bytes);
  EXPECT_EQ(bytes.substr(0, 6), "prefix");
  auto out = DecodeBatch(std::string_view(bytes).substr(6));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(out->rows.empty());
  EXPECT_TRUE(out->attrs.empty());
}

TEST(BatchCodec, ExtremeValues) {
  SpanBatch b;
  AttrView i;
  i.key = "k";
  i.type = ValueType::kInt;
  i.i = std::numeric_limits<int64_t>::min();
  b.attrs.push_back(i);
  i.i = std::numeric_limits<int64_t>::max();
  b.attrs.push_back(i);
  AttrView d;
  d.type = ValueType::kDouble;
  d.d = std::numeric_limits<double>::infinity();
  b.attrs.push_back(d);
  SpanRow row;
  row.start_ns = std::numeric_limits<int64_t>::max();
  row.end_ns = std::numeric_limits<int64_t>::min();
  row.flags = UINT32_MAX;
  row.attrs = {0, 3};
  b.rows.push_back(row);
  std::string bytes;
  EncodeBatch(b, &bytes);
  auto out = DecodeBatch(bytes);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->attrs[0].i, std::numeric_limits<int64_t>::min());
  EXPECT_EQ(out->attrs[1].i, std::numeric_limits<int64_t>::max());
  EXPECT_TRUE(std::isinf(out->attrs[2].d));
  EXPECT_EQ(out->rows[0].start_ns, std::numeric_limits<int64_t>::max());
  EXPECT_EQ(out->rows[0].end_ns, std::numeric_limits<int64_t>::min());
  EXPECT_EQ(out->rows[0].flags, UINT32_MAX);
}

TEST(BatchCodec, EveryTruncationIsAnError) {
  std::string bytes;
  EncodeBatch(SampleBatch(), &bytes);
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto out = DecodeBatch(std::string_view(bytes).substr(0, n));
    EXPECT_FALSE(out.ok()) << "prefix of " << n << " bytes decoded";
  }
  EXPECT_FALSE(DecodeBatch(bytes + "x").ok());  // trailing garbage
}

TEST(BatchCodec, RejectsInvalidFields) {
  std::string bytes;
  EncodeBatch(SampleBatch(), &bytes);
  std::string bad = bytes;
  bad[0] = 2;
  auto out = DecodeBatch(bad);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(out.status().message().find("version 2"), std::string::npos);

  // Attribute count far beyond the input: rejected before allocating.
  bad = std::string("\x01\xff\xff\xff\xff\x0f", 6);
  EXPECT_FALSE(DecodeBatch(bad).ok());
  // Row count beyond the input.
  bad = std::string("\x01\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12);
  EXPECT_FALSE(DecodeBatch(bad).ok());
  // Over-long varint.
  bad = std::string("\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12);
  EXPECT_FALSE(DecodeBatch(bad).ok());

  // Bad attribute type / bool value: one string attribute "k"="v", no rows.
  std::string one_attr("\x01\x01\x01k\x01\x01v\x00", 8);
  ASSERT_TRUE(DecodeBatch(one_attr).ok());
  bad = one_attr;
  bad[4] = 9;
  EXPECT_FALSE(DecodeBatch(bad).ok());
  bad = std::string("\x01\x01\x01k\x04\x02\x00", 7);
  EXPECT_FALSE(DecodeBatch(bad).ok());

  // A row whose attribute range points past the attributes.
  SpanBatch b;
  SpanRow row;
  row.attrs = {0, 0};
  b.rows.push_back(row);
  std::string enc;
  EncodeBatch(b, &enc);
  ASSERT_TRUE(DecodeBatch(enc).ok());
  bad = enc;
  bad[bad.size() - 1] = 1;  // own attrs count 1, but there are no attributes
  out = DecodeBatch(bad);
  EXPECT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("attribute range"), std::string::npos);

  // Enum out of range: row kind 3, span kind 7, status code 3.
  const size_t head = 3;  // version, attr count 0, row count 1
  bad = enc;
  bad[head] = static_cast<char>(bad[head] | 0x03);
  EXPECT_FALSE(DecodeBatch(bad).ok());
  bad = enc;
  bad[head + 1] = 0x07;
  EXPECT_FALSE(DecodeBatch(bad).ok());
  bad = enc;
  bad[head + 1] = 0x18;
  EXPECT_FALSE(DecodeBatch(bad).ok());
}

TEST(BatchCodec, RandomGarbageNeverCrashes) {
  std::mt19937 rng(7);
  std::string valid;
  EncodeBatch(SampleBatch(), &valid);
  for (int iter = 0; iter < 20000; ++iter) {
    std::string bytes = valid;
    int flips = 1 + rng() % 4;
    for (int f = 0; f < flips; ++f) bytes[rng() % bytes.size()] = static_cast<char>(rng());
    auto out = DecodeBatch(bytes);
    if (out.ok()) {
      for (const SpanRow& row : out->rows) {
        ASSERT_LE(row.attrs.end, out->attrs.size());
        ASSERT_LE(row.attrs.begin, row.attrs.end);
        (void)ToSpan(*out, 0);
      }
    }
  }
}

}  // namespace
}  // namespace waggle
