#include <cmath>
#include <limits>
#include <random>
#include <tuple>

#include <gtest/gtest.h>

#include "common/crc32c.h"
#include "model/batch_codec.h"
#include "store/internal/head.h"
#include "store/internal/segment_reader.h"
#include "store/internal/segment_writer.h"
#include "store/internal/store_test_util.h"

namespace waggle::store_internal {
namespace {

// A varied batch: many traces, events, links, mixed attribute types (one key with two types),
// sparse attributes, resource vs own collisions, extreme values.
SpanBatch VariedBatch(int traces, uint64_t seed) {
  BatchBuilder b;
  std::mt19937_64 rng(seed);
  uint64_t span_no = seed * 1'000'000;
  for (int t = 0; t < traces; ++t) {
    TraceId trace = TestTraceId(seed * 100'000 + t);
    int64_t base = 1'700'000'000'000'000'000 + static_cast<int64_t>(rng() % 1'000'000'000'000);
    SpanId root = TestSpanId(++span_no);
    b.Add(RowKind::kSpan, trace, root, SpanId{}, base, base + 5'000'000, "GET /api/activities/home",
          "backend-flask");
    b.Str("service.name", "backend-flask", true);
    b.Str("host.name", "collision-resource", true);
    b.Str("host.name", "own-wins");
    b.Int("http.status_code", t % 50 == 0 ? 500 : 200);
    b.Str("user.id", "user-" + std::to_string(rng() % 1000));
    b.Int("mixed", 7);
    SpanId prev = root;
    int children = static_cast<int>(rng() % 6);
    for (int c = 0; c < children; ++c) {
      SpanId child = TestSpanId(++span_no);
      SpanRow& r = b.Add(RowKind::kSpan, trace, child, c % 2 ? prev : root,
                         base + 1000 * (c + 1), base + 1000 * (c + 1) + static_cast<int64_t>(rng() % 999'999),
                         c % 2 ? "SELECT" : "home-activities-mock-data", c % 2 ? "postgres" : "backend-flask");
      r.kind = SpanKind::kClient;
      r.status_code = c == 3 ? StatusCode::kError : StatusCode::kUnset;
      if (c == 3) r.status_message = b.batch().arena.Store("boom");
      r.flags = 1;
      b.Str("mixed", "now a string");
      b.Dbl("app.now", c == 0 ? std::numeric_limits<double>::quiet_NaN() : c * 1.5);
      if (c == 1) b.Bool("cache.hit", t % 2 == 0);
      if (c == 2) b.Int("big", INT64_MAX - t);
      if (c == 4) b.Str("empty", "");
      prev = child;
    }
    if (t % 3 == 0) {
      SpanRow& e = b.Add(RowKind::kSpanEvent, trace, root, SpanId{}, base + 77, base + 77, "exception",
                         "backend-flask");
      e.parent_name = b.batch().arena.Store("GET /api/activities/home");
      b.Str("exception.message", std::string(t == 0 ? 70000 : 10, 'e'));
    }
    if (t % 4 == 0) {
      SpanRow& l = b.Add(RowKind::kLink, trace, root, SpanId{}, base, base, "GET /api/activities/home",
                         "backend-flask");
      l.link_trace_id = TestTraceId(42);
      l.link_span_id = TestSpanId(43);
    }
    if (t % 10 == 0) {  // a child whose parent is not in this segment (exception path)
      b.Add(RowKind::kSpan, trace, TestSpanId(++span_no), TestSpanId(999'999'999), base + 5, base + 6,
            "orphan", "frontend-react-js");
    }
  }
  return b.Take();
}

std::vector<Span> AllHeadRows(const Head& h) {
  std::vector<Span> out;
  for (uint32_t r = 0; r < h.rows(); ++r) out.push_back(h.RowToSpan(r));
  return out;
}

struct Written {
  std::unique_ptr<MemEnv> env = NewMemEnv();
  std::shared_ptr<Segment> seg;
};

Written WriteAndOpen(const Head& head, uint32_t block_rows, Compression c = Compression::kZstd) {
  Written w;
  EXPECT_TRUE(w.env->CreateDirs("/d").ok());
  SegmentWriteOptions o;
  o.segment_id = 7;
  o.wal_seq_end = 3;
  o.replaces = {1, 2};
  o.block_rows = block_rows;
  o.compression = c;
  auto size = WriteSegmentFile(head, o, w.env.get(), "/d", "seg");
  EXPECT_TRUE(size.ok()) << size.status();
  auto seg = Segment::Open(w.env.get(), "/d/seg");
  EXPECT_TRUE(seg.ok()) << seg.status();
  if (seg.ok()) w.seg = *seg;
  return w;
}

TEST(Segment, RoundTripManyColumnsMixedTypes) {
  SpanBatch batch = VariedBatch(300, 1);
  Head head;
  head.AddBatch(batch, 123);
  ASSERT_EQ(head.rows(), batch.rows.size());
  // The head merges attributes as ToSpan does (own wins).
  for (size_t i = 0; i < batch.rows.size(); ++i) {
    ASSERT_EQ(Canonical(head.RowToSpan(static_cast<uint32_t>(i))), Canonical(ToSpan(batch, i)));
  }
  for (uint32_t block_rows : {7u, 64u, 8192u}) {
    for (Compression c : {Compression::kZstd, Compression::kLz4, Compression::kNone}) {
      Written w = WriteAndOpen(head, block_rows, c);
      ASSERT_TRUE(w.seg);
      EXPECT_EQ(w.seg->rows(), head.rows());
      EXPECT_EQ(w.seg->footer().segment_id, 7u);
      EXPECT_EQ(w.seg->footer().wal_seq_end, 3u);
      EXPECT_EQ(w.seg->footer().replaces, (std::vector<uint64_t>{1, 2}));
      EXPECT_EQ(w.seg->footer().min_start_ns, head.min_start());
      EXPECT_EQ(w.seg->footer().max_start_ns, head.max_start());
      auto rows = w.seg->ReadRows(0, w.seg->rows());
      ASSERT_TRUE(rows.ok()) << rows.status();
      EXPECT_EQ(CanonicalAll(*rows), CanonicalAll(AllHeadRows(head))) << block_rows;
      // Sorted by (service, trace, start): each trace is one run per service.
      for (size_t i = 1; i < rows->size(); ++i) {
        const Span& a = (*rows)[i - 1];
        const Span& b = (*rows)[i];
        ASSERT_TRUE(std::tie(a.service_name, a.trace_id, a.start_ns) <=
                    std::tie(b.service_name, b.trace_id, b.start_ns));
      }
    }
  }
}

// v2 encodings end to end: UUID/hex ids (packed), ids that are almost packable (kept as
// text), a column repeating another's values row by row (stored as a reference), one that
// differs in a single row (not a reference), sparse columns, trace-relative start times
// including wrapping extremes; blocks cut inside traces.
TEST(Head, BatchHintsGiveTheSameRowsAsNoHints) {
  // VariedBatch mixes types per key, repeats values and shares resource ranges.
  for (uint64_t seed : {1u, 2u, 3u}) {
    SpanBatch batch = VariedBatch(200, seed);
    std::string record;
    BatchHints hints;
    EncodeBatch(batch, &record, &hints);
    Head plain, hinted;
    plain.AddBatch(batch, 1);
    plain.AddBatch(batch, 2);
    hinted.AddBatch(batch, &hints, 1);
    hinted.AddBatch(batch, &hints, 2);
    ASSERT_EQ(CanonicalAll(AllHeadRows(plain)), CanonicalAll(AllHeadRows(hinted)));
    for (size_t i = 0; i < batch.rows.size(); ++i) {
      ASSERT_EQ(Canonical(hinted.RowToSpan(static_cast<uint32_t>(i))),
                Canonical(ToSpan(batch, i)));
    }
  }
}

TEST(Segment, V2EncodingsRoundTripExactly) {
  BatchBuilder b;
  std::mt19937_64 rng(11);
  auto hex = [&](size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s.push_back("0123456789abcdef"[rng() % 16]);
    return s;
  };
  auto uuid = [&] {
    std::string s = hex(32);
    for (size_t at : {8u, 13u, 18u, 23u}) s.insert(at, "-");
    return s;
  };
  uint64_t span_no = 0;
  for (int t = 0; t < 400; ++t) {
    const TraceId trace = TestTraceId(7'000 + t);
    const std::string user = uuid();
    int64_t base = t == 5 ? INT64_MIN : t == 6 ? INT64_MAX - 100
                                     : 1'700'000'000'000'000'000 + static_cast<int64_t>(rng() % 1'000'000'000);
    const int n = 1 + static_cast<int>(rng() % 9);
    for (int c = 0; c < n; ++c) {
      const int64_t start = t == 6 ? base + c : base + static_cast<int64_t>(rng() % 50'000'000);
      b.Add(RowKind::kSpan, trace, TestSpanId(++span_no), SpanId{}, start, start, "op", "svc");
      b.Str("app.user_id", user);
      if (c % 2 == 0) b.Str("enduser.id", user);           // same as app.user_id: reference
      b.Str("almost.same", t == 123 && c == 0 ? "other" : user);  // differs once
      b.Str("aws.request_id", hex(32));
      b.Str("hex.odd", hex(31));
      b.Str("hex.upper", "ABCDEF" + hex(26));
      b.Str("hex.0x", "0x" + hex(30));
      b.Str("uuid.upper", t % 2 ? "A" + uuid().substr(1) : uuid());
      b.Str("uuid.braces", "{" + uuid() + "}");
      b.Str("mixed.shapes", c % 2 ? uuid() : hex(32));
      if (rng() % 50 == 0) b.Str("sparse", uuid());
      if (rng() % 50 != 0) b.Int("mostly", c);
      if (c == 0) b.Str("empty", "");
    }
  }
  Head head;
  head.AddBatch(b.batch(), 1);
  for (uint32_t block_rows : {1u, 5u, 64u, 8192u}) {
    Written w = WriteAndOpen(head, block_rows);
    ASSERT_TRUE(w.seg);
    auto rows = w.seg->ReadRows(0, w.seg->rows());
    ASSERT_TRUE(rows.ok()) << rows.status();
    EXPECT_EQ(CanonicalAll(*rows), CanonicalAll(AllHeadRows(head))) << block_rows;
    for (size_t c = 0; c < w.seg->footer().columns.size(); ++c) {
      for (size_t blk = 0; blk < w.seg->blocks(); ++blk) ASSERT_TRUE(w.seg->ReadBlock(c, blk).ok());
    }
  }
}

// A head emptied by Clear and filled again is indistinguishable from a new head given the
// same rows: rows, traces, columns (none left from the first fill) and the segment's bytes.
TEST(Segment, ClearedHeadRefilledEqualsANewHead) {
  const SpanBatch first = VariedBatch(150, 5);
  BatchBuilder only_first;  // a key, and a key's type, that only the first fill has
  only_first.Add(RowKind::kSpan, TestTraceId(1), TestSpanId(1), SpanId{}, 5, 6, "only", "svc");
  only_first.Str("first.only", "x");
  only_first.Bool("mixed", true);
  SpanBatch second = VariedBatch(120, 6);
  Head recycled;
  recycled.AddBatch(first, 1);
  recycled.AddBatch(only_first.batch(), 1);
  recycled.Clear();
  EXPECT_TRUE(recycled.empty());
  EXPECT_TRUE(recycled.TraceRows(TestTraceId(5 * 100'000)).empty());
  recycled.AddBatch(second, 2);
  Head fresh;
  fresh.AddBatch(second, 2);

  EXPECT_EQ(CanonicalAll(AllHeadRows(recycled)), CanonicalAll(AllHeadRows(fresh)));
  EXPECT_EQ(recycled.min_start(), fresh.min_start());
  EXPECT_EQ(recycled.max_start(), fresh.max_start());
  for (int t = 0; t < 120; t += 7) {
    EXPECT_EQ(recycled.TraceRows(TestTraceId(6 * 100'000 + t)),
              fresh.TraceRows(TestTraceId(6 * 100'000 + t)));
  }
  std::vector<ColumnInfo> got, want;
  recycled.CollectColumns(&got);
  fresh.CollectColumns(&want);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].name, want[i].name);
    EXPECT_EQ(got[i].type, want[i].type);
  }
  Written a = WriteAndOpen(recycled, 64), b = WriteAndOpen(fresh, 64);
  auto bytes_a = a.env->ReadFile("/d/seg"), bytes_b = b.env->ReadFile("/d/seg");
  ASSERT_TRUE(bytes_a.ok() && bytes_b.ok());
  EXPECT_EQ(*bytes_a, *bytes_b);
}

TEST(Segment, TraceLookupReturnsExactlyTheTrace) {
  SpanBatch batch = VariedBatch(200, 2);
  Head head;
  head.AddBatch(batch, 1);
  Written w = WriteAndOpen(head, 16);
  ASSERT_TRUE(w.seg);
  size_t multi_service = 0;
  for (int t = 0; t < 200; t += 13) {
    TraceId id = TestTraceId(2 * 100'000 + t);
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    ASSERT_TRUE(w.seg->FindTrace(id, &ranges));
    multi_service += ranges.size() > 1;
    std::vector<Span> got;
    for (auto [begin, end] : ranges) {
      auto rows = w.seg->ReadRows(begin, end);
      ASSERT_TRUE(rows.ok());
      got.insert(got.end(), rows->begin(), rows->end());
    }
    std::vector<Span> expected;
    for (uint32_t r : head.TraceRows(id)) expected.push_back(head.RowToSpan(r));
    EXPECT_EQ(CanonicalAll(got), CanonicalAll(expected));
  }
  EXPECT_GT(multi_service, 0u);  // traces with rows of two services: one run per service
  std::vector<std::pair<uint64_t, uint64_t>> none;
  EXPECT_FALSE(w.seg->FindTrace(TestTraceId(5), &none));
  EXPECT_FALSE(w.seg->FindTrace(TraceId{}, &none));
  EXPECT_TRUE(none.empty());
}

// Cruddur-shaped traces: a parent in another service's run (or in another block of the same
// run) is stored as a small reference to that row, not as its 8-byte id; only a parent the
// segment does not hold costs raw bytes.
TEST(Segment, ParentsInOtherRunsAreRowReferencesNotRawIds) {
  BatchBuilder b;
  size_t cross_run_parents = 0;
  for (int t = 0; t < 60; ++t) {
    const TraceId trace = TestTraceId(t);
    auto span = [&](int i) { return TestSpanId(t * 100 + i); };
    b.Add(RowKind::kSpan, trace, span(0), SpanId{}, 1000, 9000, "load", "frontend-react-js");
    b.Add(RowKind::kSpan, trace, span(1), span(0), 1100, 8900, "GET", "frontend-react-js");
    b.Add(RowKind::kSpan, trace, span(2), span(1), 1200, 8800, "GET /home", "backend-flask");
    b.Add(RowKind::kSpan, trace, span(3), span(2), 1300, 8700, "mock", "backend-flask");
    cross_run_parents += 1;
    for (int q = 0; q < 1 + t % 3; ++q, ++cross_run_parents) {
      b.Add(RowKind::kSpan, trace, span(4 + q), span(3), 1400 + q, 1500 + q, "SELECT", "postgres");
    }
  }
  // A parent outside the segment, and one trace of 40 rows crossing 16-row blocks.
  b.Add(RowKind::kSpan, TestTraceId(500), TestSpanId(50'000), TestSpanId(99'999), 1, 2, "orphan", "cognito");
  for (int i = 0; i < 40; ++i) {
    b.Add(RowKind::kSpan, TestTraceId(600), TestSpanId(60'000 + i), i ? TestSpanId(60'000) : SpanId{},
          10 + i, 20 + i, "batch", "worker");
  }
  Head head;
  head.AddBatch(b.batch(), 1);
  Written w = WriteAndOpen(head, 16, Compression::kNone);
  ASSERT_TRUE(w.seg);
  const uint64_t n = w.seg->rows();
  auto rows = w.seg->ReadRows(0, n);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(CanonicalAll(*rows), CanonicalAll(AllHeadRows(head)));

  const size_t parent_column = w.seg->fixed_column(FixedColumn::kParentId);
  uint64_t parent_bytes = 0;
  for (size_t blk = 0; blk < w.seg->blocks(); ++blk) {
    parent_bytes += w.seg->footer().columns[parent_column].blocks[blk].length;
    auto presence = w.seg->ReadBlock(parent_column, blk, Segment::BlockDetail::kPresence);
    ASSERT_TRUE(presence.ok()) << presence.status();
    for (size_t i = 0; i < presence->rows; ++i) {
      const Span& row = (*rows)[blk * 16 + i];
      EXPECT_EQ(presence->IsValid(i), !IsZero(row.parent_span_id)) << blk << " " << i;
    }
  }
  // Raw ids would cost 8 bytes per cross-run parent (plus the 16-row blocks' overhead).
  EXPECT_LT(parent_bytes, 4 * cross_run_parents);
  EXPECT_GT(8 * cross_run_parents, 2 * n);

  // A lookup reads the trace's runs of three services and resolves their parents.
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  ASSERT_TRUE(w.seg->FindTrace(TestTraceId(7), &ranges));
  ASSERT_EQ(ranges.size(), 3u);
  auto trace = w.seg->ReadRowRanges(ranges);
  ASSERT_TRUE(trace.ok()) << trace.status();
  std::vector<Span> got;
  for (const auto& part : *trace) got.insert(got.end(), part.begin(), part.end());
  std::vector<Span> expected;
  for (uint32_t r : head.TraceRows(TestTraceId(7))) expected.push_back(head.RowToSpan(r));
  EXPECT_EQ(CanonicalAll(got), CanonicalAll(expected));
}

// Start times of a few rows equal those of the whole block, in blocks that begin mid-run and
// hold many runs (start mode 1), and in a one-run-per-row segment.
TEST(Segment, StartsOfSomeRowsEqualTheWholeBlocks) {
  for (int spans_per_trace : {1, 7}) {
    BatchBuilder b;
    for (int t = 0; t < 90; ++t) {
      for (int s = 0; s < spans_per_trace; ++s) {
        b.Add(RowKind::kSpan, TestTraceId(t), TestSpanId(t * 10 + s), s ? TestSpanId(t * 10) : SpanId{},
              1'000'000 + t * 977 + s * 13, 2'000'000 + t, "op", t % 2 ? "svc-a" : "svc-b");
      }
    }
    Head head;
    head.AddBatch(b.batch(), 1);
    Written w = WriteAndOpen(head, 32);
    ASSERT_TRUE(w.seg);
    const size_t start_column = w.seg->fixed_column(FixedColumn::kStart);
    for (size_t blk = 0; blk < w.seg->blocks(); ++blk) {
      auto whole = w.seg->ReadBlock(start_column, blk);
      ASSERT_TRUE(whole.ok()) << whole.status();
      std::vector<uint32_t> rows;
      for (uint32_t r = blk % 3; r < whole->rows; r += 1 + (r % 4)) rows.push_back(r);
      std::vector<int64_t> dense(whole->rows, -1);
      ASSERT_TRUE(w.seg->StartsOfRows(blk, rows, dense.data()).ok());
      size_t next = 0;
      for (uint32_t r = 0; r < whole->rows; ++r) {
        const bool asked = next < rows.size() && rows[next] == r;
        next += asked;
        EXPECT_EQ(dense[r], asked ? whole->ints[r] : -1) << spans_per_trace << " " << blk << " " << r;
      }
    }
  }
}

TEST(Segment, SummaryRowsCarryOnlyWhatATraceSummaryReads) {
  Head head;
  head.AddBatch(VariedBatch(100, 5), 1);
  Written w = WriteAndOpen(head, 32);
  ASSERT_TRUE(w.seg);
  const uint64_t n = w.seg->rows();
  auto full = w.seg->ReadRowRanges({{0, n}});
  auto summary = w.seg->ReadRowRanges({{0, n}}, Segment::RowDetail::kSummary);
  ASSERT_TRUE(full.ok() && summary.ok());
  ASSERT_EQ((*summary)[0].size(), n);
  size_t attributes = 0;
  for (uint64_t r = 0; r < n; ++r) {
    const Span& f = (*full)[0][r];
    const Span& s = (*summary)[0][r];
    EXPECT_EQ(s.trace_id, f.trace_id);
    EXPECT_EQ(IsZero(s.parent_span_id), IsZero(f.parent_span_id));  // presence only
    EXPECT_EQ(s.start_ns, f.start_ns);
    EXPECT_EQ(s.end_ns, f.end_ns);
    EXPECT_EQ(s.row_kind, f.row_kind);
    EXPECT_EQ(s.status_code, f.status_code);
    EXPECT_EQ(s.name, f.name);
    EXPECT_EQ(s.service_name, f.service_name);
    EXPECT_TRUE(s.attributes.empty());
    EXPECT_TRUE(IsZero(s.span_id));
    attributes += f.attributes.size();
  }
  EXPECT_GT(attributes, 0u);
}

TEST(Segment, RowsOfEachServiceAreOneRangeRecordedInTheFooter) {
  Head head;
  head.AddBatch(VariedBatch(300, 3), 1);
  Written w = WriteAndOpen(head, 64);
  ASSERT_TRUE(w.seg);
  const auto& services = w.seg->footer().services;
  ASSERT_EQ(services.size(), 3u);
  EXPECT_EQ(services[0].service, "backend-flask");
  EXPECT_EQ(services[1].service, "frontend-react-js");
  EXPECT_EQ(services[2].service, "postgres");
  auto rows = w.seg->ReadRows(0, w.seg->rows());
  ASSERT_TRUE(rows.ok());
  uint64_t begin = 0;
  for (const ServiceRange& range : services) {
    auto found = w.seg->ServiceRows(range.service);
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(*found, std::make_pair(begin, begin + range.rows));
    for (uint64_t r = begin; r < begin + range.rows; ++r) {
      ASSERT_EQ((*rows)[r].service_name, range.service) << r;
    }
    begin += range.rows;
  }
  EXPECT_EQ(begin, w.seg->rows());
  EXPECT_EQ(w.seg->ServiceRows("frontend"), std::make_pair(uint64_t{0}, uint64_t{0}));
  EXPECT_EQ(w.seg->ServiceRows(""), std::make_pair(uint64_t{0}, uint64_t{0}));
}

TEST(Segment, OneRowAndAllNullColumns) {
  BatchBuilder b;
  b.Add(RowKind::kSpan, TestTraceId(1), TestSpanId(1), SpanId{}, INT64_MAX - 5, INT64_MAX, "", "");
  Head head;
  head.AddBatch(b.batch(), 1);
  BatchBuilder b2;
  b2.Add(RowKind::kSpan, TestTraceId(2), TestSpanId(2), SpanId{}, INT64_MIN, INT64_MIN, "x", "y");
  b2.Str("only.here", "v");
  head.AddBatch(b2.batch(), 2);
  Written w = WriteAndOpen(head, 1);  // block of one row: "only.here" is all-null in one block
  ASSERT_TRUE(w.seg);
  auto rows = w.seg->ReadRows(0, 2);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(CanonicalAll(*rows), CanonicalAll(AllHeadRows(head)));
}

TEST(Segment, ForEachRootFindsRootsInTimeRange) {
  SpanBatch batch = VariedBatch(50, 3);
  Head head;
  head.AddBatch(batch, 1);
  Written w = WriteAndOpen(head, 32);
  ASSERT_TRUE(w.seg);
  size_t roots = 0;
  ASSERT_TRUE(w.seg->ForEachRoot(INT64_MIN, INT64_MAX, [&](const TraceId&, int64_t, std::string_view s) {
    ++roots;
    EXPECT_EQ(s, "backend-flask");
  }).ok());
  EXPECT_EQ(roots, 50u);
}

std::string ReadAll(MemEnv* env, const std::string& path) {
  auto s = env->ReadFile(path);
  EXPECT_TRUE(s.ok());
  return s.ok() ? *s : "";
}
void WriteAll(MemEnv* env, const std::string& path, const std::string& data) {
  auto f = env->NewWritableFile(path);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append(data).ok());
  ASSERT_TRUE((*f)->Sync().ok());
  ASSERT_TRUE((*f)->Close().ok());
}

TEST(Segment, OneRangePerServiceEvenWhenTheHeadStoredItsNameTwice) {
  BatchBuilder b;
  for (int i = 0; i < 20000; ++i) {  // unique names and attributes evict cached strings
    b.Add(RowKind::kSpan, TestTraceId(i % 300), TestSpanId(i + 1), SpanId{}, 1000 + i, 2000 + i,
          "op-" + std::to_string(i), i % 3 ? "alpha" : "beta");
    b.Str("unique", "value-" + std::to_string(i));
  }
  Head head;
  head.AddBatch(b.batch(), 1);
  Written w = WriteAndOpen(head, 512);
  ASSERT_TRUE(w.seg);
  ASSERT_EQ(w.seg->footer().services.size(), 2u);
  EXPECT_EQ(w.seg->footer().services[0].rows, 13333u);
  EXPECT_EQ(w.seg->footer().services[1].rows, 6667u);
}

// Rewrites a version 4 file of one service, written uncompressed and without parent-ref
// exceptions, as the older `version` (2 or 3) would have written it: version 3 stored the
// trace index without a compression envelope; version 2 also had no id table and ordinals
// (one id per run, one run per trace) and no service ranges in the footer.
std::string DowngradeOneServiceFile(const std::string& v4, SegmentFooter footer, uint32_t version) {
  const uint64_t runs = footer.trace_count;
  EXPECT_EQ(footer.trace_index.offset, kSegmentHeaderSize);  // the index comes first
  EXPECT_EQ(footer.distinct_traces, runs);  // one run per trace: ordinals 0, +1, ... (1 byte each)
  const std::string stored = v4.substr(kSegmentHeaderSize, footer.trace_index.length);
  ByteReader envelope(stored);
  uint8_t compression = 0xff;
  uint64_t raw_length = 0;
  EXPECT_TRUE(envelope.ReadByte(&compression) && envelope.ReadVarint(&raw_length));
  EXPECT_EQ(compression, 0);  // stored uncompressed
  std::string index(envelope.rest());
  EXPECT_EQ(index.size(), raw_length);
  if (version == 2) index = index.substr(0, 16 * runs) + index.substr(16 * runs + runs);
  const uint64_t shrink = stored.size() - index.size();
  footer.format_version = version;
  footer.trace_index.length = index.size();
  footer.trace_index.crc = crc32c::Mask(crc32c::Value(index));
  for (ColumnMeta& c : footer.columns) {
    for (BlockMeta& m : c.blocks) m.offset -= shrink;
  }
  std::string old_footer;
  EncodeFooter(footer, &old_footer);
  const uint32_t footer_len = DecodeFixed32(v4.data() + v4.size() - kSegmentTrailerSize);
  const size_t blocks_end = v4.size() - kSegmentTrailerSize - footer_len;
  const size_t blocks_begin = kSegmentHeaderSize + stored.size();
  std::string old = v4.substr(0, kSegmentHeaderSize) + index +
                    v4.substr(blocks_begin, blocks_end - blocks_begin) + old_footer +
                    SegmentTrailer(old_footer);
  auto set_version = [&](size_t at) { std::string f; PutFixed32(&f, version); old.replace(at, 4, f); };
  set_version(8);
  set_version(old.size() - 12);
  return old;
}

// This build must keep reading what the previous ones wrote.
TEST(Segment, ReadsVersionTwoAndThreeFiles) {
  BatchBuilder b;
  for (int t = 0; t < 50; ++t) {
    for (int s = 0; s < 4; ++s) {  // 4 rows per trace, 16 per block: no trace crosses a block
      b.Add(RowKind::kSpan, TestTraceId(t), TestSpanId(t * 10 + s), s ? TestSpanId(t * 10) : SpanId{},
            1000 + t + s, 2000 + t, "op", "svc");
    }
  }
  Head head;
  head.AddBatch(b.batch(), 1);
  Written w = WriteAndOpen(head, 16, Compression::kNone);
  ASSERT_TRUE(w.seg);
  const std::string v4 = ReadAll(w.env.get(), "/d/seg");
  for (uint32_t version : {2u, 3u}) {
    SCOPED_TRACE(version);
    WriteAll(w.env.get(), "/d/old", DowngradeOneServiceFile(v4, w.seg->footer(), version));
    auto seg = Segment::Open(w.env.get(), "/d/old");
    ASSERT_TRUE(seg.ok()) << seg.status();
    EXPECT_EQ((*seg)->footer().format_version, version);
    // Version 2 does not know its services.
    EXPECT_EQ((*seg)->ServiceRows("svc").has_value(), version == 3);
    auto rows = (*seg)->ReadRows(0, (*seg)->rows());
    ASSERT_TRUE(rows.ok()) << rows.status();
    EXPECT_EQ(CanonicalAll(*rows), CanonicalAll(AllHeadRows(head)));
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    ASSERT_TRUE((*seg)->FindTrace(TestTraceId(17), &ranges));
    ASSERT_EQ(ranges.size(), 1u);
    EXPECT_EQ(ranges[0].second - ranges[0].first, 4u);
  }
}

TEST(Segment, RejectsBadMagicVersionAndChecksums) {
  SpanBatch batch = VariedBatch(40, 4);
  Head head;
  head.AddBatch(batch, 1);
  Written w = WriteAndOpen(head, 16);
  ASSERT_TRUE(w.seg);
  const std::string good = ReadAll(w.env.get(), "/d/seg");
  auto open_with = [&](std::string bytes) {
    WriteAll(w.env.get(), "/d/bad", bytes);
    return Segment::Open(w.env.get(), "/d/bad").status();
  };
  std::string bad = good;
  bad[0] = 'X';
  EXPECT_TRUE(absl::IsDataLoss(open_with(bad)));
  bad = good;
  bad[8] = 1;  // header version: v1 files are refused (quarantined) by this build
  Status s = open_with(bad);
  EXPECT_TRUE(absl::IsDataLoss(s));
  EXPECT_NE(s.message().find("version"), std::string::npos) << s;
  bad = good;
  bad[bad.size() - 12] = 9;  // trailer version
  EXPECT_TRUE(absl::IsDataLoss(open_with(bad)));
  bad = good;
  bad[bad.size() - kSegmentTrailerSize - 3] ^= 1;  // footer byte
  EXPECT_TRUE(absl::IsDataLoss(open_with(bad)));
  EXPECT_TRUE(absl::IsDataLoss(open_with(good.substr(0, good.size() / 2))));
  EXPECT_TRUE(absl::IsDataLoss(open_with("")));
  // A damaged block opens fine (footer intact) but every read of it fails cleanly.
  bad = good;
  bad[kSegmentHeaderSize + w.seg->footer().trace_index.length + 5] ^= 0x40;
  WriteAll(w.env.get(), "/d/bad", bad);
  auto seg = Segment::Open(w.env.get(), "/d/bad");
  ASSERT_TRUE(seg.ok());
  auto rows = (*seg)->ReadRows(0, (*seg)->rows());
  EXPECT_TRUE(absl::IsDataLoss(rows.status())) << rows.status();
}

TEST(Segment, RandomCorruptionNeverCrashes) {
  SpanBatch batch = VariedBatch(30, 5);
  Head head;
  head.AddBatch(batch, 1);
  Written w = WriteAndOpen(head, 8);
  ASSERT_TRUE(w.seg);
  const std::string good = ReadAll(w.env.get(), "/d/seg");
  std::mt19937_64 rng(11);
  int opened = 0;
  for (int iter = 0; iter < 300; ++iter) {
    std::string bad = good;
    for (int k = 0; k < 1 + static_cast<int>(rng() % 4); ++k) bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
    WriteAll(w.env.get(), "/d/bad", bad);
    auto seg = Segment::Open(w.env.get(), "/d/bad");
    if (!seg.ok()) continue;
    ++opened;
    (void)(*seg)->ReadRows(0, (*seg)->rows());
    (void)(*seg)->ForEachRoot(INT64_MIN, INT64_MAX, [](const TraceId&, int64_t, std::string_view) {});
  }
  EXPECT_GT(opened, 0);
}

}  // namespace
}  // namespace waggle::store_internal
