#include "api/trace_json.h"

#include <simdjson.h>

#include <gtest/gtest.h>

namespace waggle {
namespace {

SpanId Sid(uint8_t b) {
  SpanId id{};
  id[7] = b;
  return id;
}

Span MakeSpan(uint8_t id, uint8_t parent, int64_t start_ms, int64_t dur_ms, std::string name) {
  Span s;
  s.trace_id[15] = 1;
  s.span_id = Sid(id);
  if (parent) s.parent_span_id = Sid(parent);
  s.start_ns = 1'700'000'000'000'000'000 + start_ms * 1'000'000;
  s.end_ns = s.start_ns + dur_ms * 1'000'000;
  s.name = std::move(name);
  s.service_name = "backend-flask";
  s.kind = SpanKind::kServer;
  return s;
}

TEST(ParseTraceIdParam, AcceptsW3cXrayAndShortForms) {
  TraceId id{};
  ASSERT_TRUE(ParseTraceIdParam("5759E988BD862E3FE1BE46A994272793", &id));
  EXPECT_EQ(ToHex(id), "5759e988bd862e3fe1be46a994272793");
  ASSERT_TRUE(ParseTraceIdParam("1-5759e988-bd862e3fe1be46a994272793", &id));
  EXPECT_EQ(ToHex(id), "5759e988bd862e3fe1be46a994272793");
  ASSERT_TRUE(ParseTraceIdParam("a994272793bd862e", &id));
  EXPECT_EQ(ToHex(id), "0000000000000000a994272793bd862e");
  EXPECT_FALSE(ParseTraceIdParam("", &id));
  EXPECT_FALSE(ParseTraceIdParam("5759e988bd862e3fe1be46a99427279", &id));
  EXPECT_FALSE(ParseTraceIdParam("zz59e988bd862e3fe1be46a994272793", &id));
  EXPECT_FALSE(ParseTraceIdParam("2-5759e988-bd862e3fe1be46a994272793", &id));
  EXPECT_FALSE(ParseTraceIdParam("1-5759e988xbd862e3fe1be46a994272793", &id));
}

TEST(FormatRfc3339Nanos, Formats) {
  EXPECT_EQ(FormatRfc3339Nanos(1'700'000'000'123'456'789), "2023-11-14T22:13:20.123456789Z");
  EXPECT_EQ(FormatRfc3339Nanos(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(FormatRfc3339Nanos(-1), "1969-12-31T23:59:59.999999999Z");
}

TEST(TraceTreeJson, BuildsTreeWithEventsLinksAndOrphans) {
  std::vector<Span> rows;
  rows.push_back(MakeSpan(3, 1, 20, 5, "db"));        // child of root, later
  rows.push_back(MakeSpan(1, 0, 0, 100, "root"));
  rows.push_back(MakeSpan(2, 1, 10, 5, "custom"));
  rows.push_back(MakeSpan(4, 9, 50, 1, "orphan"));     // parent 9 missing
  rows.back().status_code = StatusCode::kError;
  Attribute a;
  a.key = "app.result_length";
  a.type = ValueType::kInt;
  a.i = 5;
  rows[2].attributes.push_back(a);
  Span ev;
  ev.row_kind = RowKind::kSpanEvent;
  ev.span_id = Sid(4);
  ev.name = "exception";
  ev.start_ns = rows[3].start_ns + 500'000;
  rows.push_back(ev);
  Span link;
  link.row_kind = RowKind::kLink;
  link.span_id = Sid(1);
  link.link_trace_id[0] = 0xab;
  link.link_span_id[0] = 0xcd;
  rows.push_back(link);

  std::string json = TraceTreeJson(rows[0].trace_id, rows);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  EXPECT_EQ(std::string_view(doc["trace_id"].get_string().value()),
            "00000000000000000000000000000001");
  EXPECT_EQ(uint64_t(doc["span_count"].get_uint64().value()), 4u);
  simdjson::dom::array spans = doc["spans"].get_array().value();
  ASSERT_EQ(spans.size(), 2u);  // root, then orphan
  simdjson::dom::element root = spans.at(0).value();
  EXPECT_EQ(std::string_view(root["name"].get_string().value()), "root");
  EXPECT_TRUE(root["parent_id"].is_null());
  EXPECT_DOUBLE_EQ(double(root["duration_ms"].get_double().value()), 100.0);
  EXPECT_EQ(std::string_view(root["start"].get_string().value()),
            "2023-11-14T22:13:20.000000000Z");
  simdjson::dom::array children = root["children"].get_array().value();
  ASSERT_EQ(children.size(), 2u);
  EXPECT_EQ(std::string_view(children.at(0).value()["name"].get_string().value()), "custom");
  EXPECT_EQ(int64_t(children.at(0).value()["attributes"]["app.result_length"].get_int64().value()),
            5);
  EXPECT_EQ(std::string_view(children.at(1).value()["name"].get_string().value()), "db");
  simdjson::dom::array links = root["links"].get_array().value();
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(std::string_view(links.at(0).value()["span_id"].get_string().value()),
            "cd00000000000000");
  simdjson::dom::element orphan = spans.at(1).value();
  EXPECT_EQ(std::string_view(orphan["name"].get_string().value()), "orphan");
  EXPECT_TRUE(bool(orphan["error"].get_bool().value()));
  EXPECT_EQ(std::string_view(orphan["parent_id"].get_string().value()), "0000000000000009");
  simdjson::dom::array events = orphan["events"].get_array().value();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_DOUBLE_EQ(double(events.at(0).value()["time_since_span_start_ms"].get_double().value()),
                   0.5);
}

TEST(TraceTreeJson, CyclesAndDeepChainsDoNotLoseOrCrash) {
  std::vector<Span> rows;
  rows.push_back(MakeSpan(1, 2, 0, 1, "a"));  // a ↔ b cycle, no root
  rows.push_back(MakeSpan(2, 1, 1, 1, "b"));
  rows.push_back(MakeSpan(3, 3, 2, 1, "self"));  // own parent
  std::string json = TraceTreeJson(rows[0].trace_id, rows);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  EXPECT_NE(json.find("\"a\""), std::string::npos);
  EXPECT_NE(json.find("\"b\""), std::string::npos);
  EXPECT_NE(json.find("\"self\""), std::string::npos);

  // A 100k-deep chain renders iteratively.
  std::vector<Span> chain;
  for (int i = 0; i < 100000; ++i) {
    Span s;
    s.trace_id[0] = 1;
    s.span_id[0] = static_cast<uint8_t>(i >> 16);
    s.span_id[1] = static_cast<uint8_t>(i >> 8);
    s.span_id[2] = static_cast<uint8_t>(i);
    s.span_id[7] = 1;
    if (i > 0) {
      s.parent_span_id = chain.back().span_id;
    }
    s.start_ns = i;
    s.end_ns = i + 1;
    chain.push_back(s);
  }
  std::string deep = TraceTreeJson(chain[0].trace_id, chain);
  EXPECT_NE(deep.find("\"span_count\":100000"), std::string::npos);
}

TEST(TraceSummariesJson, Shape) {
  TraceSummary t;
  t.trace_id[0] = 0xff;
  t.root_service = "frontend-react-js";
  t.root_name = "documentLoad";
  t.duration_ns = 2'500'000;
  t.span_count = 8;
  t.has_error = true;
  t.services = {"frontend-react-js", "backend-flask"};
  std::string json = TraceSummariesJson({t});
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  simdjson::dom::element first = doc["traces"].at(0).value();
  EXPECT_EQ(std::string_view(first["root_name"].get_string().value()), "documentLoad");
  EXPECT_DOUBLE_EQ(double(first["duration_ms"].get_double().value()), 2.5);
  EXPECT_EQ(uint64_t(first["span_count"].get_uint64().value()), 8u);
  EXPECT_EQ(first["services"].get_array().value().size(), 2u);
}

}  // namespace
}  // namespace waggle
