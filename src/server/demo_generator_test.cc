#include "server/demo_generator.h"

#include <map>
#include <set>

#include <gtest/gtest.h>

#include "wire/otlp.h"
#include "wire/otlp_encode.h"

namespace waggle {
namespace {

const Attribute* Find(const Span& s, std::string_view key) {
  for (const Attribute& a : s.attributes) {
    if (a.key == key) return &a;
  }
  return nullptr;
}

TEST(DemoGenerator, TracesLookLikeCruddur) {
  std::mt19937_64 rng(42);
  std::set<std::string> services;
  size_t spans = 0, traces = 0, errors = 0, home = 0;
  std::vector<double> server_ms;
  for (int i = 0; i < 2000; ++i) {
    std::vector<Span> trace = GenerateDemoTrace(rng, 1'700'000'000'000'000'000 + i * 1000);
    ++traces;
    std::set<SpanId> ids;
    bool trace_error = false;
    for (const Span& s : trace) {
      EXPECT_EQ(s.trace_id, trace[0].trace_id);
      if (s.row_kind != RowKind::kSpan) continue;
      ++spans;
      ids.insert(s.span_id);
      services.insert(s.service_name);
      EXPECT_GE(s.end_ns, s.start_ns) << s.name;
      trace_error |= s.is_error();
      if (s.name == "home-activities-mock-data") {
        ++home;
        ASSERT_NE(Find(s, "app.now"), nullptr);
        ASSERT_NE(Find(s, "app.result_length"), nullptr);
        EXPECT_EQ(Find(s, "app.result_length")->type, ValueType::kInt);
      }
      if (s.kind == SpanKind::kServer && s.service_name == "backend-flask") {
        EXPECT_NE(Find(s, "app.user_id"), nullptr);
        EXPECT_NE(Find(s, "http.status_code"), nullptr);
        server_ms.push_back(s.duration_ms());
      }
    }
    // Every parent is in the trace (one root).
    size_t roots = 0;
    for (const Span& s : trace) {
      if (s.row_kind != RowKind::kSpan) continue;
      if (IsZero(s.parent_span_id)) {
        ++roots;
      } else {
        EXPECT_TRUE(ids.count(s.parent_span_id)) << s.name;
      }
    }
    EXPECT_EQ(roots, 1u);
    errors += trace_error;
  }
  EXPECT_EQ(services, (std::set<std::string>{"frontend-react-js", "backend-flask", "postgres",
                                             "dynamodb", "cognito"}));
  double per_trace = static_cast<double>(spans) / traces;
  EXPECT_GT(per_trace, 6.5);
  EXPECT_LT(per_trace, 10);
  EXPECT_GT(home, 1000u);
  EXPECT_GE(errors, 5u);   // ~1% of 2000
  EXPECT_LE(errors, 50u);
  // Heavy tail: p99 well above the median.
  std::sort(server_ms.begin(), server_ms.end());
  double p50 = server_ms[server_ms.size() / 2];
  double p99 = server_ms[server_ms.size() * 99 / 100];
  EXPECT_GT(p99, 2.5 * p50) << p50 << " " << p99;
}

TEST(DemoGenerator, EncodesToOtlpThatDecodes) {
  std::mt19937_64 rng(7);
  std::vector<Span> all;
  for (int i = 0; i < 50; ++i) {
    for (Span& s : GenerateDemoTrace(rng, 1'700'000'000'000'000'000)) all.push_back(s);
  }
  std::string body = EncodeOtlpTracesProtobuf(all);
  StatusOr<SpanBatch> batch = DecodeOtlpTracesProtobuf(body);
  ASSERT_TRUE(batch.ok()) << batch.status();
  size_t spans = 0;
  for (const Span& s : all) spans += s.row_kind == RowKind::kSpan;
  EXPECT_EQ(batch->span_count(), spans);
}

}  // namespace
}  // namespace waggle
