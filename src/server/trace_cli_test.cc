#include "server/trace_cli.h"

#include <gtest/gtest.h>

#include "api/trace_json.h"

namespace waggle {
namespace {

Span MakeSpan(uint8_t id, uint8_t parent, int64_t start_ms, int64_t dur_ms, std::string service,
              std::string name) {
  Span s;
  s.trace_id[0] = 0xab;
  s.span_id[7] = id;
  if (parent) s.parent_span_id[7] = parent;
  s.start_ns = 1'700'000'000'000'000'000 + start_ms * 1'000'000;
  s.end_ns = s.start_ns + dur_ms * 1'000'000;
  s.service_name = std::move(service);
  s.name = std::move(name);
  return s;
}

TEST(RenderWaterfall, OneIndentedLinePerSpanWithBarsAndErrors) {
  std::vector<Span> rows = {
      MakeSpan(1, 0, 0, 100, "frontend-react-js", "documentLoad"),
      MakeSpan(2, 1, 50, 50, "backend-flask", "GET /api/activities/home"),
      MakeSpan(3, 2, 60, 10, "postgres", "SELECT"),
  };
  rows[2].status_code = StatusCode::kError;
  std::string json = TraceTreeJson(rows[0].trace_id, rows);
  StatusOr<std::string> text = RenderWaterfall(json, /*color=*/false, /*bar_width=*/10);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_NE(text->find("3 spans, 100.0 ms"), std::string::npos) << *text;
  EXPECT_NE(text->find("1 with errors"), std::string::npos);
  EXPECT_NE(text->find("documentLoad"), std::string::npos);
  EXPECT_NE(text->find("  GET /api/activities/home"), std::string::npos);
  EXPECT_NE(text->find("    SELECT"), std::string::npos);
  // Root covers the whole bar; the child starts halfway; the error is marked.
  EXPECT_NE(text->find("|██████████|"), std::string::npos) << *text;
  EXPECT_NE(text->find("|     █████|"), std::string::npos) << *text;
  EXPECT_NE(text->find("| ERROR"), std::string::npos) << *text;
  EXPECT_EQ(text->find("\x1b["), std::string::npos);
  StatusOr<std::string> colored = RenderWaterfall(json, /*color=*/true, 10);
  ASSERT_TRUE(colored.ok());
  EXPECT_NE(colored->find("\x1b[31m"), std::string::npos);
  EXPECT_NE(colored->find("✗"), std::string::npos);
}

TEST(RenderWaterfall, RejectsMalformedJson) {
  EXPECT_FALSE(RenderWaterfall("{", false).ok());
  EXPECT_FALSE(RenderWaterfall("{\"spans\": 3}", false).ok());
  // Wrong field types are tolerated rather than crashing.
  EXPECT_TRUE(RenderWaterfall(R"({"spans":[{"name":5,"children":"x"}]})", false).ok());
}

TEST(RenderTraceList, ListsTraces) {
  TraceSummary t;
  t.trace_id[0] = 0x5b;
  t.root_service = "frontend-react-js";
  t.root_name = "documentLoad";
  t.span_count = 8;
  t.duration_ns = 182'400'000;
  t.has_error = true;
  StatusOr<std::string> text = RenderTraceList(TraceSummariesJson({t}), false);
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("5b000000000000000000000000000000"), std::string::npos) << *text;
  EXPECT_NE(text->find("182.4 ms"), std::string::npos);
  EXPECT_NE(text->find("frontend-react-js documentLoad ERROR"), std::string::npos) << *text;
  StatusOr<std::string> empty = RenderTraceList(R"({"traces":[]})", false);
  ASSERT_TRUE(empty.ok());
  EXPECT_NE(empty->find("no traces yet"), std::string::npos);
}

}  // namespace
}  // namespace waggle
