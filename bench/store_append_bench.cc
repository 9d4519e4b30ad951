// store_append_bench: the store's ingest path alone (Store::Append: batch encode → WAL group
// commit → head insert; then Flush), without HTTP or the OTLP decoder in the measurement.
//
// Each of `--threads` threads builds its own ingest_bench workload template (Cruddur traces,
// ~500 bytes per span on the wire, high-cardinality ids), and before every Append patches a copy
// with fresh ids/timestamps/tokens and decodes it with DecodeOtlpTracesProtobuf (untimed). Only
// the Append call is timed, with the thread's CPU clock, so the figures are CPU-seconds per
// million rows (robust on a shared, noisy machine) rather than wall time.
//
// The head is sized to hold every row (no flush during the append phase), then:
//   * head memory per row (StoreStats::head_memory_bytes / head_rows) and the process RSS
//     growth per row;
//   * Flush(): CPU-seconds per million rows for writing the segment;
//   * on-disk bytes per span (segment files) and a per-column breakdown read from the footers.
// Runs once per --wal-sync policy (none, fsync, or both). Prints a stable text report.
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "ingest_workload.h"
#include "model/span.h"
#include "store/internal/segment_reader.h"
#include "store/store.h"
#include "wire/otlp.h"

namespace waggle::bench {
namespace {

struct Options {
  uint64_t spans = 1'000'000;
  int threads = 4;
  int batch = 1000;
  std::string wal_sync = "both";  // none | fsync | both
  std::string dir = "/tmp/store_append_bench";
  uint64_t seed = 42;
  std::string columns_of;  // --columns: only print the breakdown of this segments directory
};

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

double ProcessCpuSeconds() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec * 1e-6;
}

// A "VmRSS:"-style line of /proc/self/status in bytes, or 0.
uint64_t ProcStatusBytes(const char* field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(field, 0) == 0) return std::strtoull(line.c_str() + std::strlen(field), nullptr, 10) * 1024;
  }
  return 0;
}

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string* v) {
      if (i + 1 >= argc) return false;
      *v = argv[++i];
      return true;
    };
    std::string v;
    if (a == "--spans" && value(&v)) {
      o->spans = std::strtoull(v.c_str(), nullptr, 10);
    } else if (a == "--threads" && value(&v)) {
      o->threads = std::max(1, std::atoi(v.c_str()));
    } else if (a == "--batch" && value(&v)) {
      o->batch = std::max(1, std::atoi(v.c_str()));
    } else if (a == "--wal-sync" && value(&v) && (v == "none" || v == "fsync" || v == "both")) {
      o->wal_sync = v;
    } else if (a == "--dir" && value(&v)) {
      o->dir = v;
    } else if (a == "--seed" && value(&v)) {
      o->seed = std::strtoull(v.c_str(), nullptr, 10);
    } else if (a == "--columns" && value(&v)) {
      o->columns_of = v;
    } else {
      std::fprintf(stderr,
                   "usage: store_append_bench [--spans N] [--threads N] [--batch N]\n"
                   "         [--wal-sync none|fsync|both] [--dir DIR] [--seed N]\n"
                   "       store_append_bench --columns SEGMENTS_DIR   (bytes per column only)\n");
      return false;
    }
  }
  return true;
}

struct ThreadResult {
  uint64_t rows = 0, spans = 0, batches = 0;
  double append_cpu_s = 0;  // thread CPU inside Append
  double gen_cpu_s = 0;     // thread CPU patching + decoding (not the store's)
  std::string error;
};

void Worker(const Options& o, const Template& t, int index, Store* store,
            std::atomic<uint64_t>* budget, ThreadResult* out) {
  Rng rng{o.seed * 1000 + index + 1};
  std::string buf;
  int64_t delta = 0;
  for (;;) {
    if (budget->fetch_add(t.spans) >= o.spans) break;
    const double g0 = ThreadCpuSeconds();
    buf = t.body;
    delta += 50'000'000;  // later requests carry later timestamps
    Patch(t, delta, rng, &buf);
    StatusOr<SpanBatch> batch = DecodeOtlpTracesProtobuf(buf);
    const double g1 = ThreadCpuSeconds();
    out->gen_cpu_s += g1 - g0;
    if (!batch.ok()) {
      out->error = std::string(batch.status().message());
      return;
    }
    Status s = store->Append(*batch);
    out->append_cpu_s += ThreadCpuSeconds() - g1;
    if (!s.ok()) {
      out->error = std::string(s.message());
      return;
    }
    out->rows += batch->rows.size();
    out->spans += batch->span_count();
    ++out->batches;
  }
}

std::string ColumnLabel(const store_internal::ColumnMeta& c) {
  if (c.fixed) return std::string(store_internal::FixedColumnName(c.fixed_id));
  return c.name + ":" + std::string(ValueTypeName(c.type));
}

// Bytes on disk per column (block bytes summed over every segment in `dir`), trace index
// included as "trace.trace_id (index)"; the rest of each file (footers, headers) as "(footer)".
bool ColumnBytes(const std::string& dir, std::map<std::string, uint64_t>* bytes) {
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".wseg") continue;
    auto seg = store_internal::Segment::Open(DefaultEnv(), e.path().string());
    if (!seg.ok()) {
      std::fprintf(stderr, "store_append_bench: %s\n", std::string(seg.status().message()).c_str());
      return false;
    }
    uint64_t in_blocks = (*seg)->footer().trace_index.length;
    (*bytes)["trace.trace_id (index)"] += (*seg)->footer().trace_index.length;
    for (const auto& c : (*seg)->footer().columns) {
      uint64_t n = 0;
      for (const auto& b : c.blocks) n += b.length;
      (*bytes)[ColumnLabel(c)] += n;
      in_blocks += n;
    }
    (*bytes)["(header, footer)"] += (*seg)->file_bytes() - in_blocks;
  }
  return true;
}

// Columns by descending bytes, skipping those under 0.1% of `all_bytes` and under 4 KiB.
void PrintColumnBytes(const std::map<std::string, uint64_t>& cols, uint64_t all_bytes,
                      uint64_t spans) {
  std::vector<std::pair<uint64_t, std::string>> sorted;
  for (const auto& [name, n] : cols) sorted.emplace_back(n, name);
  std::sort(sorted.rbegin(), sorted.rend());
  for (const auto& [n, name] : sorted) {
    if (n * 100 < all_bytes / 10 && n < 4096) continue;
    std::printf("    %-40s %7.3f bytes per span\n", name.c_str(), static_cast<double>(n) / spans);
  }
}

// --columns DIR: the breakdown of segments someone else wrote (e.g. `waggle demo`'s), per row.
int PrintSegmentsDir(const std::string& dir) {
  std::map<std::string, uint64_t> cols;
  uint64_t rows = 0, bytes = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".wseg") continue;
    auto seg = store_internal::Segment::Open(DefaultEnv(), e.path().string());
    if (!seg.ok()) continue;  // ColumnBytes below reports it
    rows += (*seg)->footer().row_count;
    bytes += (*seg)->file_bytes();
  }
  if (!ColumnBytes(dir, &cols)) return 1;
  if (rows == 0) {
    std::fprintf(stderr, "store_append_bench: no rows in %s\n", dir.c_str());
    return 1;
  }
  std::printf("%s: %llu rows, %llu bytes = %.2f bytes per row\n", dir.c_str(),
              static_cast<unsigned long long>(rows), static_cast<unsigned long long>(bytes),
              static_cast<double>(bytes) / rows);
  PrintColumnBytes(cols, bytes, rows);
  return 0;
}

int RunOnce(const Options& o, const std::vector<Template>& templates, const std::string& sync) {
  const std::string dir = o.dir + "/" + sync;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  StoreOptions so;
  so.data_dir = dir;
  so.wal_sync = sync == "fsync" ? WalSyncPolicy::kFsync : WalSyncPolicy::kNone;
  so.head_max_rows = o.spans * 2 + 1'000'000;  // no flush during the append phase
  so.head_max_age_ms = 0;
  so.background_threads = false;
  auto store = OpenEmbeddedStore(so);
  if (!store.ok()) {
    std::fprintf(stderr, "store_append_bench: %s\n", std::string(store.status().message()).c_str());
    return 1;
  }
  const uint64_t rss0 = ProcStatusBytes("VmRSS:");
  const double cpu0 = ProcessCpuSeconds();
  const auto w0 = std::chrono::steady_clock::now();
  std::atomic<uint64_t> budget{0};
  std::vector<ThreadResult> results(o.threads);
  std::vector<std::thread> threads;
  for (int i = 0; i < o.threads; ++i) {
    threads.emplace_back(Worker, std::cref(o), std::cref(templates[i]), i, store->get(), &budget,
                         &results[i]);
  }
  for (auto& t : threads) t.join();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
  const double proc_cpu = ProcessCpuSeconds() - cpu0;
  ThreadResult total;
  for (const auto& r : results) {
    if (!r.error.empty()) {
      std::fprintf(stderr, "store_append_bench: %s\n", r.error.c_str());
      return 1;
    }
    total.rows += r.rows;
    total.spans += r.spans;
    total.batches += r.batches;
    total.append_cpu_s += r.append_cpu_s;
    total.gen_cpu_s += r.gen_cpu_s;
  }
  const StoreStats before = (*store)->Stats();
  const uint64_t rss1 = ProcStatusBytes("VmRSS:");

  const double f0 = ThreadCpuSeconds();
  const auto fw0 = std::chrono::steady_clock::now();
  Status fs = (*store)->Flush();
  const double flush_cpu = ThreadCpuSeconds() - f0;
  const double flush_wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - fw0).count();
  if (!fs.ok()) {
    std::fprintf(stderr, "store_append_bench: flush: %s\n", std::string(fs.message()).c_str());
    return 1;
  }
  const StoreStats after = (*store)->Stats();
  const uint64_t rss2 = ProcStatusBytes("VmRSS:");
  std::map<std::string, uint64_t> cols;
  if (!ColumnBytes(dir + "/segments", &cols)) return 1;
  Status cs = (*store)->Close();
  if (!cs.ok()) {
    std::fprintf(stderr, "store_append_bench: close: %s\n", std::string(cs.message()).c_str());
    return 1;
  }

  const double mrows = total.rows / 1e6;
  std::printf("wal-sync %s: %llu rows (%llu spans) in %llu batches from %d threads\n", sync.c_str(),
              static_cast<unsigned long long>(total.rows),
              static_cast<unsigned long long>(total.spans),
              static_cast<unsigned long long>(total.batches), o.threads);
  std::printf("  append CPU          %7.3f CPU-s per million rows (thread CPU inside Append)\n",
              total.append_cpu_s / mrows);
  std::printf("  append capacity     %7.0f k rows/s per core (1 / CPU per row)\n",
              total.rows / total.append_cpu_s / 1e3);
  std::printf("  process CPU         %7.3f CPU-s per million rows (incl. %.3f patch+decode)\n",
              proc_cpu / mrows, total.gen_cpu_s / mrows);
  std::printf("  wall                %7.0f k rows/s (patch+decode+append, noisy)\n",
              total.rows / wall / 1e3);
  std::printf("  WAL                 %7.1f bytes per row written, %llu syncs\n",
              static_cast<double>(before.wal_bytes_written) / total.rows,
              static_cast<unsigned long long>(before.wal_syncs));
  std::printf("  head memory         %7.1f bytes per row (accounted); RSS +%.1f bytes per row\n",
              static_cast<double>(before.head_memory_bytes) / std::max<uint64_t>(1, before.head_rows),
              (static_cast<double>(rss1) - static_cast<double>(rss0)) / total.rows);
  std::printf("  flush               %7.3f CPU-s per million rows (%.2f s wall); RSS after %.0f MiB\n",
              flush_cpu / mrows, flush_wall, rss2 / 1048576.0);
  std::printf("  on disk             %7.2f bytes per span (%llu bytes in %llu segments)\n",
              static_cast<double>(after.segment_bytes) / total.spans,
              static_cast<unsigned long long>(after.segment_bytes),
              static_cast<unsigned long long>(after.segments));
  PrintColumnBytes(cols, after.segment_bytes, total.spans);
  std::error_code ec2;
  std::filesystem::remove_all(dir, ec2);
  return 0;
}

int Main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) return 2;
  if (!o.columns_of.empty()) return PrintSegmentsDir(o.columns_of);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  Rng rng{o.seed};
  std::vector<Template> templates(o.threads);
  const int64_t base = 1'700'000'000'000'000'000;
  for (auto& t : templates) {
    std::string err;
    if (!BuildTemplate(rng, o.batch, base, &t, &err)) {
      std::fprintf(stderr, "store_append_bench: %s\n", err.c_str());
      return 1;
    }
  }
  std::printf("store_append_bench: %llu spans, %d threads, %d spans per batch, ~%zu bytes per "
              "span on the wire\n",
              static_cast<unsigned long long>(o.spans), o.threads, o.batch,
              templates[0].body.size() / templates[0].spans);
  std::vector<std::string> modes;
  if (o.wal_sync == "both") {
    modes = {"none", "fsync"};
  } else {
    modes = {o.wal_sync};
  }
  for (const std::string& m : modes) {
    if (int rc = RunOnce(o, templates, m); rc != 0) return rc;
  }
  return 0;
}

}  // namespace
}  // namespace waggle::bench

int main(int argc, char** argv) { return waggle::bench::Main(argc, argv); }
