#include "query/search.h"

#include <gtest/gtest.h>

#include "query/testing/table_source.h"

namespace waggle::query {
namespace {

using testing::TableRow;
using testing::TableSource;

constexpr int64_t kSec = 1'000'000'000;

TableRow Span(const std::string& trace, int64_t start_s, int64_t duration_ms, bool root,
              const std::string& service = "api") {
  TableRow r;
  r.start_ns = start_s * kSec;
  r.end_ns = r.start_ns + duration_ms * 1'000'000;
  r.columns["trace.trace_id"] = Value::String(trace);
  r.columns["trace.span_id"] = Value::String(trace + "-s");
  r.columns["name"] = Value::String("GET /" + trace);
  r.columns["service.name"] = Value::String(service);
  if (!root) r.columns["trace.parent_id"] = Value::String("p");
  return r;
}

std::vector<TableRow> Rows() {
  return {Span("a", 10, 50, true), Span("b", 20, 500, true), Span("c", 30, 5, true),
          Span("d", 40, 9000, false),  // slowest, but not a root
          Span("e", 50, 70, true, "db"), Span("f", 60, 500, true)};
}

std::vector<std::string> Traces(const std::vector<FoundRow>& rows) {
  std::vector<std::string> out;
  for (const FoundRow& r : rows) out.push_back(r.trace_id);
  return out;
}

RowSearch Search(RowSearch::Order order, size_t limit) {
  RowSearch s;
  s.start_ns = 0;
  s.end_ns = 100 * kSec;
  s.order = order;
  s.limit = limit;
  return s;
}

TEST(SearchRows, SlowestRootsWithDeterministicTies) {
  for (int threads : {1, 3}) {
    TableSource source(Rows(), 2);
    ExecOptions opts;
    opts.threads = threads;
    auto found = SearchRows(Search(RowSearch::Order::kSlowest, 3), source, opts);
    ASSERT_TRUE(found.ok()) << found.status();
    EXPECT_EQ(Traces(*found), (std::vector<std::string>{"b", "f", "e"}));
    EXPECT_EQ((*found)[0].duration_ns, 500'000'000);
    EXPECT_EQ((*found)[0].name, "GET /b");
  }
}

TEST(SearchRows, NewestWithFiltersAndDataset) {
  TableSource source(Rows(), 2);
  RowSearch s = Search(RowSearch::Order::kNewest, 10);
  s.filters = {{"duration_ms", FilterOp::kGe, {Value::Int(0)}}};  // no such column: no rows
  auto none = SearchRows(s, source);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  s.filters.clear();
  s.dataset = "api";
  auto found = SearchRows(s, source);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(Traces(*found), (std::vector<std::string>{"f", "c", "b", "a"}));
  s.roots_only = false;
  found = SearchRows(s, source);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->front().trace_id, "f");
  EXPECT_EQ(found->size(), 5u);
}

TEST(SearchRows, RejectsBadLimitsAndRanges) {
  TableSource source(Rows());
  EXPECT_FALSE(SearchRows(Search(RowSearch::Order::kNewest, 0), source).ok());
  RowSearch s = Search(RowSearch::Order::kNewest, 5);
  s.end_ns = s.start_ns;
  EXPECT_EQ(SearchRows(s, source).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace waggle::query
