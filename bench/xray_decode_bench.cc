// xray_decode_bench: the X-Ray daemon's per-segment CPU without the network,
// one thread: how long DecodeSegmentDocument takes on the daemon benchmark's
// documents (bench/xray_workload.h), and how long SegmentIngester::Ingest takes
// with an embedded store behind it (WAL without fsync, in a temporary
// directory), in batches of `--batch` documents as the daemon's workers append
// them. Prints microseconds and CPU seconds per million segments, and rows per
// segment.
//
// Usage: xray_decode_bench [documents=200000] [batch=1024] [decode-only]
// ("decode-only" skips the ingest phase, for profiling the decoder alone).
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/metrics.h"
#include "store/store.h"
#include "xray/segment_document.h"
#include "xray/segment_ingester.h"
#include "xray_workload.h"

namespace waggle::bench {
namespace {

double CpuSeconds() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

std::vector<std::string> Documents(size_t n) {
  const std::vector<XrayTemplate> templates = BuildXrayTemplates();
  XrayPatcher patcher(7);
  const int64_t now_us =
      std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count();
  std::vector<std::string> docs(n);
  std::string datagram;
  for (size_t i = 0; i < n; ++i) {
    patcher.Patch(templates[i % templates.size()], i, now_us, "decod",
                  &datagram);
    docs[i] = datagram.substr(datagram.find('\n') + 1);
  }
  return docs;
}

int Main(int argc, char **argv) {
  const size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200'000;
  const size_t batch_size =
      argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1024;
  const bool decode_only =
      argc > 3 && std::string_view(argv[3]) == "decode-only";
  const std::vector<std::string> docs = Documents(n);
  size_t bytes = 0;
  for (const std::string &d : docs)
    bytes += d.size();
  std::printf(
      "xray_decode_bench: %zu documents, %.0f bytes mean, batches of %zu\n", n,
      static_cast<double>(bytes) / n, batch_size);

  size_t rows = 0, attrs = 0;
  double cpu0 = CpuSeconds();
  SpanBatch batch;  // reused across batches, as each daemon worker reuses its own
  for (size_t i = 0; i < n; i += batch_size) {
    batch.Clear();
    for (size_t j = i; j < std::min(n, i + batch_size); ++j) {
      if (!xray::DecodeSegmentDocument(docs[j], &batch).ok()) {
        std::fprintf(stderr, "document %zu does not decode\n", j);
        return 1;
      }
    }
    rows += batch.rows.size();
    attrs += batch.attrs.size();
  }
  double decode = CpuSeconds() - cpu0;
  std::printf("  decode only          %.2f us/segment = %.2f CPU-s per million "
              "(%.2f rows, %.1f attributes/segment)\n",
              decode * 1e6 / n, decode * 1e6 / n,
              static_cast<double>(rows) / n, static_cast<double>(attrs) / n);
  if (decode_only)
    return 0;

  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("xray-decode-bench-" + std::to_string(::getpid())))
                              .string();
  StoreOptions options;
  options.data_dir = dir;
  options.wal_sync = WalSyncPolicy::kNone;
  options.retention_seconds = 0;
  auto store = OpenEmbeddedStore(options);
  if (!store.ok()) {
    std::fprintf(stderr, "opening a store: %s\n",
                 std::string(store.status().message()).c_str());
    return 1;
  }
  Metrics metrics;
  xray::SegmentIngester ingester(store->get(), &metrics);
  SpanBatch scratch;  // as a daemon worker passes its own
  cpu0 = CpuSeconds();
  for (size_t i = 0; i < n; i += batch_size) {
    std::vector<std::string_view> views(
        docs.begin() + i, docs.begin() + std::min(n, i + batch_size));
    ingester.Ingest(views, std::chrono::system_clock::now(), &scratch);
  }
  double ingest = CpuSeconds() - cpu0;
  std::printf("  ingest (decode + Store::Append, no fsync)  %.2f us/segment = "
              "%.2f CPU-s per million\n",
              ingest * 1e6 / n, ingest * 1e6 / n);
  (void)(*store)->Close();
  std::filesystem::remove_all(dir);
  return 0;
}

} // namespace
} // namespace waggle::bench

int main(int argc, char **argv) { return waggle::bench::Main(argc, argv); }
