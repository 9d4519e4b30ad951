#include "store/store.h"

#include <unistd.h>

#include <filesystem>
#include <map>

#include <gtest/gtest.h>

#include "store/internal/crash_env.h"
#include "store/internal/store_test_util.h"

namespace waggle::store_internal {
namespace {

constexpr int64_t kBase = 1'700'000'000'000'000'000;

StoreOptions TestOptions(Env* env) {
  StoreOptions o;
  o.data_dir = "/data";
  o.env = env;
  o.background_threads = false;
  o.head_max_age_ms = 0;
  o.compact_below_rows = 1000;
  return o;
}

// Traces [first, first + count): a root and 3 children each, services and attributes varied.
// Appends the expected owning rows to *expected.
SpanBatch MakeTraces(int first, int count, int64_t base, std::vector<Span>* expected,
                     int span_offset = 0) {
  BatchBuilder b;
  for (int t = first; t < first + count; ++t) {
    TraceId trace = TestTraceId(t);
    int64_t start = base + int64_t{t} * 1'000'000;
    if (span_offset == 0) {
      b.Add(RowKind::kSpan, trace, TestSpanId(t * 100), SpanId{}, start, start + 9'000'000,
            "GET /api/activities/home", "frontend-react-js");
      b.Str("service.name", "frontend-react-js", true);
      b.Str("user.id", "user-" + std::to_string(t % 17));
    }
    for (int c = 1 + span_offset; c <= 3 + span_offset; ++c) {
      SpanRow& r = b.Add(RowKind::kSpan, trace, TestSpanId(t * 100 + c), TestSpanId(t * 100),
                         start + c * 1000, start + c * 1000 + 500'000,
                         c % 2 ? "SELECT activities" : "home-activities-mock-data",
                         c % 2 ? "postgres" : "backend-flask");
      r.status_code = (t % 5 == 0 && c == 2) ? StatusCode::kError : StatusCode::kUnset;
      b.Int("app.result_length", c * t);
      if (c == 2) b.Dbl("app.now", t * 0.5);
    }
  }
  SpanBatch batch = b.Take();
  for (size_t i = 0; i < batch.rows.size(); ++i) expected->push_back(ToSpan(batch, i));
  return batch;
}

void ExpectHolds(Store* store, const std::vector<Span>& expected) {
  std::map<TraceId, std::vector<Span>> by_trace;
  for (const Span& s : expected) by_trace[s.trace_id].push_back(s);
  for (const auto& [id, spans] : by_trace) {
    auto got = store->GetTrace(id);
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(CanonicalAll(*got), CanonicalAll(spans)) << ToHex(id);
    for (size_t i = 1; i < got->size(); ++i) EXPECT_LE((*got)[i - 1].start_ns, (*got)[i].start_ns);
  }
  StoreStats st = store->Stats();
  EXPECT_EQ(st.head_rows + st.segment_rows, expected.size());
}

TEST(Store, GetTraceFromHeadFromSegmentAndAcrossAFlush) {
  auto env = NewMemEnv();
  auto store = OpenEmbeddedStore(TestOptions(env.get()));
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<Span> expected;
  ASSERT_TRUE((*store)->Append(MakeTraces(0, 20, kBase, &expected)).ok());
  ExpectHolds(store->get(), expected);
  EXPECT_EQ((*store)->Stats().head_rows, 80u);

  ASSERT_TRUE((*store)->Flush().ok());
  StoreStats st = (*store)->Stats();
  EXPECT_EQ(st.head_rows, 0u);
  EXPECT_EQ(st.segments, 1u);
  EXPECT_EQ(st.flushes, 1u);
  ExpectHolds(store->get(), expected);

  // More spans of traces 0..9 arrive after the flush: the trace is split head + segment.
  ASSERT_TRUE((*store)->Append(MakeTraces(0, 10, kBase, &expected, 3)).ok());
  ExpectHolds(store->get(), expected);
  auto trace = (*store)->GetTrace(TestTraceId(4));
  ASSERT_TRUE(trace.ok());
  EXPECT_EQ(trace->size(), 7u);
  EXPECT_TRUE((*store)->GetTrace(TestTraceId(12345))->empty());
  ASSERT_TRUE((*store)->Close().ok());
  EXPECT_FALSE((*store)->Append(MakeTraces(50, 1, kBase, &expected)).ok());
}

// Every Append fills the head: each is frozen full, flushed, and recycled as the next active
// head. Rows written through recycled heads read back exactly, from heads and segments.
TEST(Store, HeadsRecycledWhileBusyKeepEveryRow) {
  auto env = NewMemEnv();
  StoreOptions o = TestOptions(env.get());
  o.head_max_rows = 100;
  o.compact_below_rows = 0;
  auto store = OpenEmbeddedStore(o);
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<Span> expected;
  for (int round = 0; round < 6; ++round) {
    ASSERT_TRUE((*store)->Append(MakeTraces(round * 25, 25, kBase, &expected)).ok());
    // A few more rows of earlier traces in the (recycled) active head.
    ASSERT_TRUE((*store)->Append(MakeTraces(round * 25, 5, kBase, &expected, 3)).ok());
    ExpectHolds(store->get(), expected);
  }
  StoreStats st = (*store)->Stats();
  EXPECT_GE(st.flushes, 6u);
  EXPECT_GT(st.head_rows, 0u);
  ASSERT_TRUE((*store)->Flush().ok());  // frozen on demand: freed, not recycled
  ExpectHolds(store->get(), expected);
  ASSERT_TRUE((*store)->Append(MakeTraces(1000, 3, kBase, &expected)).ok());
  ExpectHolds(store->get(), expected);
}

TEST(Store, EveryAcknowledgedRowSurvivesACrash) {
  for (bool background : {false, true}) {
    auto mem = NewMemEnv();
    CrashEnv env(mem.get());
    std::vector<Span> expected;
    StoreOptions o = TestOptions(&env);
    o.background_threads = background;
    o.head_max_rows = 150;  // several freezes and flushes on the way
    auto store = OpenEmbeddedStore(o);
    ASSERT_TRUE(store.ok()) << store.status();
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE((*store)->Append(MakeTraces(i * 10, 10, kBase, &expected)).ok());
    }
    // Power loss while the store runs: nothing more reaches the disk, unsynced bytes vanish.
    env.SetBudget(0);
    (void)env.Spend();
    mem->SimulateCrash();
    store->reset();  // the dead store's Close cannot write anything
    mem->SimulateCrash();
    auto reopened = OpenEmbeddedStore(TestOptions(mem.get()));
    ASSERT_TRUE(reopened.ok()) << reopened.status();
    ExpectHolds(reopened->get(), expected);
  }
}

// Runs `op` with a crash after `budget` mutating file operations, for every budget until
// op completes without crashing, then checks that the restarted store holds exactly
// `expected`.
template <typename Setup, typename Op>
void CrashAtEveryStep(Setup setup, Op op, int64_t min_steps) {
  for (int64_t budget = 0; budget < 500; ++budget) {
    auto mem = NewMemEnv();
    CrashEnv env(mem.get());
    std::vector<Span> expected;
    StoreOptions o = TestOptions(&env);
    auto store = OpenEmbeddedStore(o);
    ASSERT_TRUE(store.ok()) << store.status();
    setup(store->get(), &expected);
    env.SetBudget(budget);
    (void)op(store->get());
    const bool crashed = env.crashed();
    env.SetBudget(0);
    (void)env.Spend();  // dead from here on
    store->reset();
    mem->SimulateCrash();
    auto reopened = OpenEmbeddedStore(TestOptions(mem.get()));
    ASSERT_TRUE(reopened.ok()) << "budget " << budget << ": " << reopened.status();
    SCOPED_TRACE(budget);
    ExpectHolds(reopened->get(), expected);
    if (!crashed) {
      EXPECT_GE(budget, min_steps);  // the operation really took that many steps
      return;
    }
  }
  FAIL() << "operation never completed";
}

TEST(Store, CrashDuringFlushNeitherLosesNorDuplicates) {
  CrashAtEveryStep(
      [](Store* s, std::vector<Span>* expected) {
        ASSERT_TRUE(s->Append(MakeTraces(0, 20, kBase, expected)).ok());
        ASSERT_TRUE(s->Flush().ok());
        ASSERT_TRUE(s->Append(MakeTraces(20, 20, kBase, expected)).ok());
        ASSERT_TRUE(s->Append(MakeTraces(0, 5, kBase, expected, 3)).ok());
      },
      [](Store* s) { return s->Flush(); }, 8);
}

TEST(Store, CrashDuringCompactionNeitherLosesNorDuplicates) {
  CrashAtEveryStep(
      [](Store* s, std::vector<Span>* expected) {
        for (int i = 0; i < 3; ++i) {
          ASSERT_TRUE(s->Append(MakeTraces(i * 10, 10, kBase, expected)).ok());
          ASSERT_TRUE(s->Flush().ok());
        }
        ASSERT_EQ(s->Stats().segments, 3u);
      },
      [](Store* s) { return s->Maintain(); }, 8);
}

TEST(Store, CompactionMergesSmallSegments) {
  auto env = NewMemEnv();
  std::vector<Span> expected;
  {
    auto store = OpenEmbeddedStore(TestOptions(env.get()));
    ASSERT_TRUE(store.ok());
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE((*store)->Append(MakeTraces(i * 10, 10, kBase, &expected)).ok());
      ASSERT_TRUE((*store)->Append(MakeTraces(0, 2, kBase, &expected, 3 + 3 * i)).ok());
      ASSERT_TRUE((*store)->Flush().ok());
    }
    EXPECT_EQ((*store)->Stats().segments, 4u);
    ASSERT_TRUE((*store)->Maintain().ok());
    StoreStats st = (*store)->Stats();
    EXPECT_EQ(st.segments, 1u);
    EXPECT_EQ(st.compactions, 1u);
    ExpectHolds(store->get(), expected);
  }
  auto names = env->ListDir("/data/segments");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names->size(), 1u);  // the merged-away files are gone once unpinned
  auto store = OpenEmbeddedStore(TestOptions(env.get()));
  ASSERT_TRUE(store.ok());
  ExpectHolds(store->get(), expected);
}

TEST(Store, RetentionByAgeAndBySize) {
  auto env = NewMemEnv();
  StoreOptions o = TestOptions(env.get());
  o.retention_seconds = 3600;
  o.compact_below_rows = 0;  // keep segments apart
  const int64_t now = env->NowUnixNanos();
  auto store = OpenEmbeddedStore(o);
  ASSERT_TRUE(store.ok());
  std::vector<Span> old_rows, recent;
  ASSERT_TRUE((*store)->Append(MakeTraces(0, 10, now - 7200'000'000'000, &old_rows)).ok());
  ASSERT_TRUE((*store)->Flush().ok());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE((*store)->Append(MakeTraces(100 + 10 * i, 10, now - (3 - i) * 60'000'000'000,
                                            &recent)).ok());
    ASSERT_TRUE((*store)->Flush().ok());
  }
  ASSERT_TRUE((*store)->Maintain().ok());
  StoreStats st = (*store)->Stats();
  EXPECT_EQ(st.segments, 3u);
  EXPECT_EQ(st.segments_dropped_by_retention, 1u);
  EXPECT_TRUE((*store)->GetTrace(TestTraceId(3))->empty());
  ExpectHolds(store->get(), recent);
  ASSERT_TRUE((*store)->Close().ok());

  // By size: allow a bit more than one segment; the oldest ones go.
  o.retention_seconds = 0;
  o.max_disk_bytes = st.segment_bytes / 3 + 10;
  store = OpenEmbeddedStore(o);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Maintain().ok());
  st = (*store)->Stats();
  EXPECT_EQ(st.segments, 1u);
  EXPECT_LE(st.segment_bytes, o.max_disk_bytes);
  EXPECT_FALSE((*store)->GetTrace(TestTraceId(125))->empty());  // newest kept
  EXPECT_TRUE((*store)->GetTrace(TestTraceId(105))->empty());
}

TEST(Store, CorruptSegmentIsQuarantinedAndStoreKeepsServing) {
  auto env = NewMemEnv();
  std::vector<Span> lost, kept;
  {
    auto store = OpenEmbeddedStore(TestOptions(env.get()));
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Append(MakeTraces(0, 10, kBase, &lost)).ok());
    ASSERT_TRUE((*store)->Flush().ok());
    ASSERT_TRUE((*store)->Append(MakeTraces(10, 10, kBase, &kept)).ok());
    ASSERT_TRUE((*store)->Flush().ok());
  }
  auto names = env->ListDir("/data/segments");
  ASSERT_TRUE(names.ok());
  std::sort(names->begin(), names->end());
  const std::string victim = "/data/segments/" + names->front();
  std::string bytes = *env->ReadFile(victim);
  bytes[bytes.size() - 25] ^= 0x7f;  // inside the footer
  auto f = env->NewWritableFile(victim);
  ASSERT_TRUE((*f)->Append(bytes).ok() && (*f)->Sync().ok() && (*f)->Close().ok());

  auto store = OpenEmbeddedStore(TestOptions(env.get()));
  ASSERT_TRUE(store.ok()) << store.status();
  StoreStats st = (*store)->Stats();
  EXPECT_EQ(st.segments_quarantined, 1u);
  EXPECT_EQ(st.segments, 1u);
  EXPECT_EQ(env->ListDir("/data/quarantine")->size(), 1u);
  ExpectHolds(store->get(), kept);
  std::vector<Span> more = kept;
  ASSERT_TRUE((*store)->Append(MakeTraces(30, 5, kBase, &more)).ok());
  ExpectHolds(store->get(), more);
}

TEST(Store, RecentTracesNewestFirstWithSummaries) {
  auto env = NewMemEnv();
  auto store = OpenEmbeddedStore(TestOptions(env.get()));
  ASSERT_TRUE(store.ok());
  std::vector<Span> expected;
  ASSERT_TRUE((*store)->Append(MakeTraces(0, 30, kBase, &expected)).ok());
  ASSERT_TRUE((*store)->Flush().ok());
  ASSERT_TRUE((*store)->Append(MakeTraces(30, 30, kBase, &expected)).ok());

  RecentTracesRequest req;
  req.limit = 5;
  auto recent = (*store)->RecentTraces(req);
  ASSERT_TRUE(recent.ok()) << recent.status();
  ASSERT_EQ(recent->size(), 5u);
  for (int i = 0; i < 5; ++i) {
    const TraceSummary& t = (*recent)[i];
    EXPECT_EQ(t.trace_id, TestTraceId(59 - i));
    EXPECT_EQ(t.start_ns, kBase + int64_t{59 - i} * 1'000'000);
    EXPECT_EQ(t.duration_ns, 9'000'000);
    EXPECT_EQ(t.span_count, 4u);
    EXPECT_EQ(t.root_service, "frontend-react-js");
    EXPECT_EQ(t.root_name, "GET /api/activities/home");
    EXPECT_EQ(t.has_error, (59 - i) % 5 == 0);
    EXPECT_EQ(t.services, (std::vector<std::string>{"backend-flask", "frontend-react-js",
                                                      "postgres"}));
  }
  // A time window reaching into the segment only.
  req.limit = 100;
  req.start_ns = kBase + 10 * 1'000'000;
  req.end_ns = kBase + 20 * 1'000'000;
  recent = (*store)->RecentTraces(req);
  ASSERT_TRUE(recent.ok());
  ASSERT_EQ(recent->size(), 10u);
  EXPECT_EQ(recent->front().trace_id, TestTraceId(19));
  EXPECT_EQ(recent->back().trace_id, TestTraceId(10));
  // Service filter on the root span's service.
  req = RecentTracesRequest();
  req.service = "postgres";
  EXPECT_TRUE((*store)->RecentTraces(req)->empty());
  req.service = "frontend-react-js";
  EXPECT_EQ((*store)->RecentTraces(req)->size(), 20u);
}

// A read of thousands of traces is split across threads: the same rows, in request order,
// from segments and the active head, whatever the thread count.
TEST(Store, LargeGetTracesReadOnThreadsEqualsOneThread) {
  std::vector<TraceId> ids;
  for (int t = 9999; t >= 0; t -= 2) ids.push_back(TestTraceId(t));  // unsorted, some unknown
  ids.push_back(TestTraceId(4));                                       // a repeat
  std::vector<std::vector<std::string>> answers;
  for (int threads : {1, 3}) {
    auto env = NewMemEnv();
    StoreOptions o = TestOptions(env.get());
    o.query_threads = threads;
    auto store = OpenEmbeddedStore(o);
    ASSERT_TRUE(store.ok()) << store.status();
    std::vector<Span> expected;
    ASSERT_TRUE((*store)->Append(MakeTraces(0, 3000, kBase, &expected)).ok());
    ASSERT_TRUE((*store)->Flush().ok());
    ASSERT_TRUE((*store)->Append(MakeTraces(3000, 3000, kBase, &expected)).ok());
    ASSERT_TRUE((*store)->Flush().ok());
    ASSERT_TRUE((*store)->Append(MakeTraces(0, 2000, kBase, &expected, 3)).ok());  // in the head
    auto traces = (*store)->GetTraces(ids);
    ASSERT_TRUE(traces.ok()) << traces.status();
    ASSERT_EQ(traces->size(), ids.size());
    std::vector<std::string> answer;
    size_t rows = 0;
    for (const std::vector<Span>& t : *traces) {
      answer.push_back(CanonicalAll(t).empty() ? "" : CanonicalAll(t).front());
      rows += t.size();
    }
    EXPECT_EQ(traces->back().size(), 7u);  // trace 4: 4 rows in a segment, 3 in the head
    EXPECT_EQ(rows, 3000u * 4 + 1000u * 3 + 7u);  // odd ids < 6000; odd ids < 2000 in the head
    answers.push_back(std::move(answer));
  }
  EXPECT_EQ(answers[0], answers[1]);
}

TEST(Store, GetTracesEqualsGetTracePerIdWithRepeatsAndUnknownIds) {
  auto env = NewMemEnv();
  auto store = OpenEmbeddedStore(TestOptions(env.get()));
  ASSERT_TRUE(store.ok());
  std::vector<Span> expected;
  ASSERT_TRUE((*store)->Append(MakeTraces(0, 10, kBase, &expected)).ok());
  ASSERT_TRUE((*store)->Flush().ok());
  ASSERT_TRUE((*store)->Append(MakeTraces(10, 10, kBase, &expected)).ok());
  const std::vector<TraceId> ids{TestTraceId(12), TestTraceId(3), TestTraceId(999),
                                 TestTraceId(3), TestTraceId(7)};
  auto traces = (*store)->GetTraces(ids);
  ASSERT_TRUE(traces.ok()) << traces.status();
  ASSERT_EQ(traces->size(), ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    auto one = (*store)->GetTrace(ids[i]);
    ASSERT_TRUE(one.ok());
    ASSERT_EQ((*traces)[i].size(), one->size()) << i;
    for (size_t k = 0; k < one->size(); ++k) {
      EXPECT_EQ((*traces)[i][k].span_id, (*one)[k].span_id);
      EXPECT_EQ((*traces)[i][k].name, (*one)[k].name);
    }
  }
  EXPECT_EQ((*traces)[1].size(), 4u);  // a repeated id gets its rows both times
  EXPECT_EQ((*traces)[3].size(), 4u);
  EXPECT_TRUE((*traces)[2].empty());
}

TEST(Store, RecentTracesPagesWithACursorAcrossHeadAndSegments) {
  auto env = NewMemEnv();
  auto store = OpenEmbeddedStore(TestOptions(env.get()));
  ASSERT_TRUE(store.ok());
  std::vector<Span> expected;
  ASSERT_TRUE((*store)->Append(MakeTraces(0, 25, kBase, &expected)).ok());
  ASSERT_TRUE((*store)->Flush().ok());
  ASSERT_TRUE((*store)->Append(MakeTraces(25, 20, kBase, &expected)).ok());
  RecentTracesRequest req;
  req.limit = 10;
  req.ids_only = true;
  std::vector<TraceId> seen;
  for (int page = 0; page < 10; ++page) {
    auto recent = (*store)->RecentTraces(req);
    ASSERT_TRUE(recent.ok()) << recent.status();
    for (const TraceSummary& t : *recent) {
      seen.push_back(t.trace_id);
      EXPECT_EQ(t.span_count, 0u);  // ids only: no trace was read
    }
    if (recent->size() < req.limit) break;
    req.after = TraceCursor{recent->back().start_ns, recent->back().trace_id};
  }
  ASSERT_EQ(seen.size(), 45u);
  for (int i = 0; i < 45; ++i) EXPECT_EQ(seen[i], TestTraceId(44 - i));
}

TEST(Store, RecentTracesListsTracesWhoseRootIsMissing) {
  auto env = NewMemEnv();
  auto store = OpenEmbeddedStore(TestOptions(env.get()));
  ASSERT_TRUE(store.ok());
  std::vector<Span> expected;
  ASSERT_TRUE((*store)->Append(MakeTraces(0, 3, kBase, &expected)).ok());
  // Trace 100 holds only children of a root that never arrived (span_offset 3: c = 4..6).
  ASSERT_TRUE((*store)->Append(MakeTraces(100, 1, kBase, &expected, 3)).ok());
  auto recent = (*store)->RecentTraces(RecentTracesRequest());
  ASSERT_TRUE(recent.ok()) << recent.status();
  ASSERT_EQ(recent->size(), 4u);
  const TraceSummary& rootless = recent->front();  // the newest start
  EXPECT_EQ(rootless.trace_id, TestTraceId(100));
  EXPECT_EQ(rootless.span_count, 3u);
  EXPECT_EQ(rootless.root_name, "home-activities-mock-data");  // the earliest span stands in
  EXPECT_EQ(rootless.start_ns, kBase + 100 * 1'000'000 + 4 * 1000);
}

TEST(Store, ColumnsListsFixedAndAttributeColumnsWithTypes) {
  auto env = NewMemEnv();
  auto store = OpenEmbeddedStore(TestOptions(env.get()));
  ASSERT_TRUE(store.ok());
  EXPECT_TRUE((*store)->Columns()->empty());
  std::vector<Span> expected;
  ASSERT_TRUE((*store)->Append(MakeTraces(0, 3, kBase, &expected)).ok());
  ASSERT_TRUE((*store)->Flush().ok());
  BatchBuilder b;
  b.Add(RowKind::kSpan, TestTraceId(9), TestSpanId(9), SpanId{}, kBase, kBase + 1, "x", "y");
  b.Str("app.result_length", "a string now");
  b.Bool("cache.hit", true);
  ASSERT_TRUE((*store)->Append(b.batch()).ok());
  auto cols = (*store)->Columns();
  ASSERT_TRUE(cols.ok());
  std::map<std::pair<std::string, ValueType>, int64_t> seen;
  for (const ColumnInfo& c : *cols) {
    EXPECT_TRUE(seen.emplace(std::make_pair(c.name, c.type), c.last_written_ns).second) << c.name;
    EXPECT_GT(c.last_written_ns, 0) << c.name;
  }
  for (auto key : {std::make_pair(std::string("trace.trace_id"), ValueType::kString),
                   std::make_pair(std::string("duration_ms"), ValueType::kDouble),
                   std::make_pair(std::string("service.name"), ValueType::kString),
                   std::make_pair(std::string("user.id"), ValueType::kString),
                   std::make_pair(std::string("app.result_length"), ValueType::kInt),
                   std::make_pair(std::string("app.result_length"), ValueType::kString),
                   std::make_pair(std::string("app.now"), ValueType::kDouble),
                   std::make_pair(std::string("cache.hit"), ValueType::kBool)}) {
    EXPECT_TRUE(seen.count(key)) << key.first;
  }
}

// Slow spans (900 ms) are in eu-west, fast ones (5 ms) mostly in us-east.
SpanBatch RegionSpans(int count) {
  BatchBuilder b;
  for (int i = 0; i < count; ++i) {
    const bool slow = i % 10 == 0;
    const int64_t start = kBase + int64_t{i} * 1'000'000;
    b.Add(RowKind::kSpan, TestTraceId(1000 + i), TestSpanId(1000 + i), SpanId{}, start,
          start + (slow ? 900'000'000 : 5'000'000), "GET /", "api");
    b.Str("app.region", slow || i % 7 == 0 ? "eu-west" : "us-east");
    b.Int("app.shard", i % 3);
  }
  return b.Take();
}

TEST(Store, DatasetQueriesReadOnlyTheirServicesRowsOfSegments) {
  auto env = NewMemEnv();
  auto store = OpenEmbeddedStore(TestOptions(env.get()));
  ASSERT_TRUE(store.ok());
  std::vector<Span> expected;
  ASSERT_TRUE((*store)->Append(MakeTraces(0, 20, kBase, &expected)).ok());
  ASSERT_TRUE((*store)->Flush().ok());
  // Children only: this segment has no frontend-react-js rows.
  ASSERT_TRUE((*store)->Append(MakeTraces(20, 10, kBase, &expected, 3)).ok());
  auto count = [&](const std::string& dataset) -> std::pair<double, uint64_t> {
    query::QueryRequest req;
    req.dataset = dataset;
    req.spec.start_time = kBase / 1'000'000'000 - 10;
    req.spec.end_time = kBase / 1'000'000'000 + 100;
    req.disable_series = true;
    auto r = (*store)->Query(req);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok() || r->results.empty()) return {0, 0};
    return {r->results[0].values[0].number, r->stats.chunks_pruned};
  };
  const double head_frontend = count("frontend-react-js").first;
  const double head_postgres = count("postgres").first;
  ASSERT_TRUE((*store)->Flush().ok());
  auto [frontend, frontend_pruned] = count("frontend-react-js");
  auto [postgres, postgres_pruned] = count("postgres");
  EXPECT_EQ(frontend, 20);
  EXPECT_EQ(frontend, head_frontend);
  EXPECT_EQ(postgres, head_postgres);
  EXPECT_EQ(postgres, 20 * 2 + 10 * 1);
  EXPECT_GE(frontend_pruned, 1u);  // the children-only segment
  EXPECT_EQ(postgres_pruned, 0u);
  EXPECT_EQ(count("no-such-service").first, 0);
}

TEST(Store, BubbleUpGivesTheSameAnswerFromHeadAndSegments) {
  auto env = NewMemEnv();
  auto store = OpenEmbeddedStore(TestOptions(env.get()));
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Append(RegionSpans(200)).ok());
  query::BubbleUpRequest req;
  req.dataset = "api";
  req.spec.start_time = kBase / 1'000'000'000 - 10;
  req.spec.end_time = kBase / 1'000'000'000 + 10;
  req.selection.lo = 500;
  req.selection.hi = 1000;
  auto check = [&](const char* where) {
    auto r = (*store)->BubbleUp(req);
    ASSERT_TRUE(r.ok()) << where << ": " << r.status();
    EXPECT_EQ(r->selection_rows, 20u) << where;
    EXPECT_EQ(r->baseline_rows, 180u) << where;
    ASSERT_FALSE(r->columns.empty()) << where;
    EXPECT_EQ(r->columns[0].column, "app.region") << where;
    EXPECT_EQ(r->columns[0].buckets[0].value, query::Value::String("eu-west")) << where;
    EXPECT_EQ(r->columns[0].buckets[0].selection_count, 20u) << where;
    for (const query::BubbleUpColumn& c : r->columns) {
      EXPECT_NE(c.column, "duration_ms") << where;
      EXPECT_NE(c.column, "trace.trace_id") << where;
    }
  };
  check("head");
  ASSERT_TRUE((*store)->Flush().ok());
  check("segment");
}

TEST(Store, BackgroundThreadsFlushAndCompact) {
  auto env = NewMemEnv();
  StoreOptions o = TestOptions(env.get());
  o.background_threads = true;
  o.head_max_rows = 100;
  o.compact_below_rows = 300;
  std::vector<Span> expected;
  {
    auto store = OpenEmbeddedStore(o);
    ASSERT_TRUE(store.ok());
    for (int i = 0; i < 30; ++i) {
      ASSERT_TRUE((*store)->Append(MakeTraces(i * 10, 10, kBase, &expected)).ok());
      if (i % 7 == 0) ExpectHolds(store->get(), expected);
    }
    for (int i = 0; i < 200 && (*store)->Stats().compactions == 0; ++i) usleep(10'000);
    EXPECT_GT((*store)->Stats().flushes, 5u);
    EXPECT_GT((*store)->Stats().compactions, 0u);
    ExpectHolds(store->get(), expected);
    ASSERT_TRUE((*store)->Close().ok());
  }
  auto store = OpenEmbeddedStore(o);
  ASSERT_TRUE(store.ok());
  ExpectHolds(store->get(), expected);
  EXPECT_EQ((*store)->Stats().replayed_records, 0u);  // Close flushed everything
}

TEST(Store, PosixEnvRoundTrip) {
  std::string dir = "/tmp/waggle_store_test_" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  StoreOptions o;
  o.data_dir = dir;
  o.background_threads = false;
  std::vector<Span> expected;
  {
    auto store = OpenEmbeddedStore(o);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->Append(MakeTraces(0, 10, kBase, &expected)).ok());
    ASSERT_TRUE((*store)->Flush().ok());
    ASSERT_TRUE((*store)->Append(MakeTraces(10, 10, kBase, &expected)).ok());
  }  // destructor closes: flushes the head
  {
    auto store = OpenEmbeddedStore(o);
    ASSERT_TRUE(store.ok()) << store.status();
    ExpectHolds(store->get(), expected);
    EXPECT_EQ((*store)->Stats().segments, 2u);
    ASSERT_TRUE((*store)->Append(MakeTraces(20, 10, kBase, &expected)).ok());
  }
  {
    // kill -9 after an acknowledged append: the store never gets to flush or close.
    CrashEnv env(DefaultEnv());
    o.env = &env;
    auto store = OpenEmbeddedStore(o);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->Append(MakeTraces(30, 10, kBase, &expected)).ok());
    env.SetBudget(0);
    (void)env.Spend();
    store->reset();
    o.env = nullptr;
  }
  auto store = OpenEmbeddedStore(o);
  ASSERT_TRUE(store.ok()) << store.status();
  ExpectHolds(store->get(), expected);
  EXPECT_EQ((*store)->Stats().replayed_records, 1u);
  store->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace waggle::store_internal
