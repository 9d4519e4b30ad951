// ingest_bench: the OTLP/HTTP ingest benchmark's load generator and report.
//
// Drives a running `waggle serve` (bench/run_ingest.sh starts one) with N client threads, each
// with its own keep-alive HttpClient, posting OTLP protobuf ExportTraceServiceRequests of
// `--batch` spans. The spans imitate `waggle demo`'s Cruddur workload (5 services, ~8 spans per
// trace, ~10 attributes per span including high-cardinality user and request ids, ~1% errors
// with an exception event, heavy-tailed durations) and weigh ~500 bytes each on the wire.
//
// Requests are pre-encoded once with EncodeOtlpTracesProtobuf into a few templates; before each
// send a thread copies a template and overwrites, in place, every id, timestamp and
// high-cardinality token with fresh values (their offsets are found once by searching for the
// unique values the template was built with). So every span sent is distinct, and the client
// spends its CPU on sending, not encoding.
//
// Prints a stable text report: spans/s, MB/s, CPU seconds per million spans (waggle's, from
// /proc/<pid>/stat, and the client's), waggle's peak RSS (VmHWM), and how long an acknowledged
// trace takes to become queryable through GET /api/v1/traces/{id}, beside the targets of
// issue 2. Disk figures are measured by run_ingest.sh after waggle's shutdown flush.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "ingest_workload.h"
#include "model/span.h"
#include "bench_flags.h"
#include "net/http_client.h"
#include "wire/otlp.h"

namespace waggle::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string otlp;  // host:port of the OTLP/HTTP listener
  std::string api;   // host:port of the API listener
  std::string key = "bench-key";
  int pid = 0;  // waggle's pid, for CPU and RSS figures
  int threads = 8;
  double duration_s = 10;  // stop after this long (0: no time bound)
  uint64_t max_spans = 0;  // stop after this many acknowledged spans (0: no bound)
  int batch = 1000;        // spans per request
  int templates = 4;
  uint64_t seed = 42;
};

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// utime+stime of `pid` in seconds, or -1.
double ProcCpuSeconds(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const size_t rp = s.rfind(')');
  if (rp == std::string::npos) return -1;
  std::istringstream in(s.substr(rp + 2));
  std::string tok;
  double ut = 0, st = 0;
  for (int field = 3; in >> tok; ++field) {
    if (field == 14) ut = std::atof(tok.c_str());
    if (field == 15) {
      st = std::atof(tok.c_str());
      break;
    }
  }
  return (ut + st) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// A "VmHWM:"-style line of /proc/<pid>/status in MiB, or -1.
double ProcStatusMiB(int pid, const char* field) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(field, 0) == 0) return std::atof(line.c_str() + std::strlen(field)) / 1024.0;
  }
  return -1;
}

double SelfCpuSeconds() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

size_t Count(std::string_view hay, std::string_view needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string_view::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

// Polls the trace API until `id` has `spans` spans; returns the wait in ms or -1 after 10 s.
double WaitQueryable(HttpClient& api, const std::string& key, const TraceId& id, size_t spans,
                     Clock::time_point since) {
  const std::string target = "/api/v1/traces/" + ToHex(id);
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    auto r = api.Request("GET", target, {{"x-honeycomb-team", key}}, "");
    if (r.ok() && r->status == 200 && Count(r->body, "\"span_id\"") >= spans) {
      return std::chrono::duration<double, std::milli>(Clock::now() - since).count();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return -1;
}

struct Shared {
  std::atomic<uint64_t> budget{0};  // spans claimed for sending
  std::atomic<uint64_t> acked_spans{0};
  std::atomic<uint64_t> acked_bytes{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> retries{0};  // 429/503 answers
  std::atomic<uint64_t> failures{0};
  std::atomic<bool> stop{false};
  std::atomic<int> running{0};  // client threads still sending
  std::mutex mu;                // guards the fields below
  TraceId last_trace{};
  size_t last_trace_spans = 0;
  Clock::time_point last_ack{};
  std::string first_error;
};

void Client(const Options& o, const std::vector<Template>& templates, int index, Shared* sh) {
  Rng rng{o.seed * 1000 + index + 1};
  auto http = NewHttpClient(o.otlp, 60000);
  const std::vector<std::pair<std::string, std::string>> headers = {
      {"Content-Type", "application/x-protobuf"}, {"x-honeycomb-team", o.key}};
  std::string buf;
  for (uint64_t n = index; !sh->stop.load(std::memory_order_relaxed); ++n) {
    const Template& t = templates[n % templates.size()];
    if (o.max_spans && sh->budget.fetch_add(t.spans) >= o.max_spans) break;
    buf = t.body;
    const TraceId probe = Patch(t, NowNs() - t.base_ns, rng, &buf);
    for (int attempt = 0;; ++attempt) {
      auto r = http->Request("POST", "/v1/traces", headers, buf);
      sh->requests.fetch_add(1, std::memory_order_relaxed);
      if (r.ok() && r->status == 200) {
        sh->acked_spans.fetch_add(t.spans, std::memory_order_relaxed);
        sh->acked_bytes.fetch_add(buf.size(), std::memory_order_relaxed);
        std::lock_guard<std::mutex> l(sh->mu);
        sh->last_trace = probe;
        sh->last_trace_spans = t.probe_spans;
        sh->last_ack = Clock::now();
        break;
      }
      if (r.ok() && (r->status == 429 || r->status == 503) && attempt < 100 && !sh->stop.load()) {
        sh->retries.fetch_add(1, std::memory_order_relaxed);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      sh->failures.fetch_add(1);
      std::lock_guard<std::mutex> l(sh->mu);
      if (sh->first_error.empty()) {
        sh->first_error = r.ok()
                              ? "HTTP " + std::to_string(r->status) + ": " + r->body.substr(0, 300)
                              : std::string(r.status().message());
      }
      if (sh->failures.load() > 20) sh->stop.store(true);
      break;
    }
  }
  sh->running.fetch_sub(1);
}

bool ParseArgs(int argc, char** argv, Options* o) {
  auto set = [&](const std::string& a, const std::string& v) {
    if (a == "--otlp")
      o->otlp = v;
    else if (a == "--api")
      o->api = v;
    else if (a == "--key")
      o->key = v;
    else if (a == "--pid")
      o->pid = std::atoi(v.c_str());
    else if (a == "--threads")
      o->threads = std::max(1, std::atoi(v.c_str()));
    else if (a == "--duration")
      o->duration_s = std::atof(v.c_str());
    else if (a == "--spans")
      o->max_spans = std::strtoull(v.c_str(), nullptr, 10);
    else if (a == "--batch")
      o->batch = std::max(1, std::atoi(v.c_str()));
    else if (a == "--templates")
      o->templates = std::max(1, std::atoi(v.c_str()));
    else if (a == "--seed")
      o->seed = std::strtoull(v.c_str(), nullptr, 10);
    else
      return false;
    return true;
  };
  if (!bench::ForEachFlag(argc, argv, set)) return false;
  if (o->otlp.empty() || o->api.empty()) {
    std::fprintf(stderr,
                 "usage: ingest_bench --otlp HOST:PORT --api HOST:PORT [--pid WAGGLE_PID]\n"
                 "       [--threads 8] [--duration 10] [--spans N] [--batch 1000] [--key K]\n"
                 "Normally run through bench/run_ingest.sh, which starts waggle.\n");
    return false;
  }
  if (o->duration_s <= 0 && o->max_spans == 0) o->duration_s = 10;
  return true;
}

const char* Verdict(bool ok) { return ok ? "met" : "NOT met"; }

int Main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) return 2;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);

  Rng rng{o.seed};
  std::vector<Template> templates(o.templates);
  const int64_t base = NowNs();
  size_t wire_bytes = 0, wire_spans = 0, wire_attrs = 0;
  for (auto& t : templates) {
    std::string err;
    if (!BuildTemplate(rng, o.batch, base, &t, &err)) {
      std::fprintf(stderr, "ingest_bench: %s\n", err.c_str());
      return 1;
    }
    wire_bytes += t.body.size();
    wire_spans += t.spans;
    wire_attrs += t.attrs;
  }
  {  // A patched copy must still decode to the same number of spans.
    std::string copy = templates[0].body;
    Patch(templates[0], 12345, rng, &copy);
    auto d = DecodeOtlpTracesProtobuf(copy);
    if (!d.ok() || d->span_count() != templates[0].spans) {
      std::fprintf(stderr, "ingest_bench: patched template does not decode\n");
      return 1;
    }
  }
  const double bytes_per_span = static_cast<double>(wire_bytes) / wire_spans;

  std::printf("waggle ingest benchmark (OTLP/HTTP protobuf, loopback)\n");
  std::string loadavg;
  {
    std::ifstream f("/proc/loadavg");
    std::string a, b, c;
    f >> a >> b >> c;
    loadavg = a + " " + b + " " + c;
  }
  std::printf(
      "  machine              %ld cores, shared by waggle and this client; load average "
      "before the run: %s\n",
      sysconf(_SC_NPROCESSORS_ONLN), loadavg.c_str());
  std::printf(
      "  workload             Cruddur demo-like: 5 services, ~8 spans/trace, %.1f attributes/span "
      "(user id, request ids, http.target, db.statement...), ~1%% errors\n",
      static_cast<double>(wire_attrs) / wire_spans);
  std::printf("  wire size            %.1f bytes/span (mean encoded protobuf), %zu spans/request\n",
              bytes_per_span, templates[0].spans);
  std::printf("  clients              %d threads, one keep-alive connection each\n", o.threads);
  if (o.max_spans)
    std::printf("  stop after           %llu spans\n", (unsigned long long)o.max_spans);
  if (o.duration_s > 0) std::printf("  stop after           %.1f s\n", o.duration_s);

  Shared sh;
  auto api = NewHttpClient(o.api, 10000);
  const double cpu0 = o.pid ? ProcCpuSeconds(o.pid) : -1;
  const double self0 = SelfCpuSeconds();
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  sh.running.store(o.threads);
  for (int i = 0; i < o.threads; ++i)
    threads.emplace_back(Client, std::cref(o), std::cref(templates), i, &sh);

  // While loading: once a second, time how long the newest acknowledged trace takes to be
  // queryable, and print progress.
  std::vector<double> lags;
  auto next = start + std::chrono::seconds(1);
  uint64_t last_spans = 0;
  auto last_t = start;
  for (;;) {
    // Wakes early when the clients are done (a --spans budget ends between ticks), so the
    // final probe below starts right after the last acknowledgement.
    while (Clock::now() < next && sh.running.load() > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    next += std::chrono::seconds(1);
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    const uint64_t spans = sh.acked_spans.load();
    const bool done =
        sh.stop.load() || sh.running.load() == 0 || (o.duration_s > 0 && elapsed >= o.duration_s);
    const double dt = std::chrono::duration<double>(Clock::now() - last_t).count();
    std::printf("  [%5.1fs] %10llu spans acked, %9.0f spans/s now\n", elapsed,
                (unsigned long long)spans, (spans - last_spans) / dt);
    last_spans = spans;
    last_t = Clock::now();
    if (done) break;
    TraceId id;
    size_t n;
    Clock::time_point at;
    {
      std::lock_guard<std::mutex> l(sh.mu);
      id = sh.last_trace;
      n = sh.last_trace_spans;
      at = sh.last_ack;
    }
    if (n) lags.push_back(WaitQueryable(*api, o.key, id, n, at));
  }
  sh.stop.store(true);
  for (auto& t : threads) t.join();
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  const double cpu1 = o.pid ? ProcCpuSeconds(o.pid) : -1;
  const double self1 = SelfCpuSeconds();

  // The very last acknowledged trace, after the load stopped.
  double final_lag = -1;
  {
    std::lock_guard<std::mutex> l(sh.mu);
    if (sh.last_trace_spans)
      final_lag = WaitQueryable(*api, o.key, sh.last_trace, sh.last_trace_spans, sh.last_ack);
  }
  const double hwm = o.pid ? ProcStatusMiB(o.pid, "VmHWM:") : -1;
  const double rss = o.pid ? ProcStatusMiB(o.pid, "VmRSS:") : -1;

  const uint64_t spans = sh.acked_spans.load();
  const double sps = spans / secs;
  const double mbps = sh.acked_bytes.load() / secs / 1e6;
  const double waggle_cpu = cpu1 - cpu0, client_cpu = self1 - self0;
  double max_lag = -1;
  bool lag_failed = false;
  for (double l : lags) {
    if (l < 0) lag_failed = true;
    max_lag = std::max(max_lag, l);
  }

  std::printf("\nresults\n");
  std::printf(
      "  spans acknowledged   %llu in %.2f s (%llu requests, %llu retried after 429/503, %llu "
      "failed)\n",
      (unsigned long long)spans, secs, (unsigned long long)sh.requests.load(),
      (unsigned long long)sh.retries.load(), (unsigned long long)sh.failures.load());
  if (!sh.first_error.empty()) std::printf("  first failure        %s\n", sh.first_error.c_str());
  std::printf(
      "  throughput           %.0f spans/s   %.1f MB/s of protobuf   [target >= 400000 spans/s: "
      "%s]\n",
      sps, mbps, Verdict(sps >= 400000));
  if (o.pid) {
    std::printf(
        "  waggle CPU           %.2f s = %.2f CPU-s per million spans (%.0f spans per "
        "CPU-second)\n",
        waggle_cpu, waggle_cpu / (spans / 1e6), spans / waggle_cpu);
  }
  std::printf("  client CPU           %.2f s = %.2f CPU-s per million spans\n", client_cpu,
              client_cpu / (spans / 1e6));
  if (o.pid) {
    std::printf(
        "  waggle peak RSS      %.0f MiB (VmHWM; %.0f MiB now) with %llu spans stored   [target <= "
        "1 GB with 10M spans%s]\n",
        hwm, rss, (unsigned long long)spans,
        spans >= 10'000'000 ? (hwm <= 1024 ? ": met" : ": NOT met")
                            : ": run with --spans 10000000 to check");
  }
  std::printf(
      "  ack -> queryable     last trace: %.1f ms; during load: max %.1f ms over %zu probes   "
      "[target < 1000 ms: %s]\n",
      final_lag, max_lag, lags.size(),
      Verdict(final_lag >= 0 && final_lag < 1000 && !lag_failed && max_lag < 1000));
  std::printf("\npublished peer figures (their documentation, not measured here)\n");
  std::printf(
      "  OpenTelemetry Collector  ~12,000 spans/s per core   -> waggle %.1fx per waggle "
      "CPU-second, %.1fx end to end on %ld cores\n",
      o.pid && waggle_cpu > 0 ? spans / waggle_cpu / 12000 : 0.0,
      sps / 12000 / sysconf(_SC_NPROCESSORS_ONLN), sysconf(_SC_NPROCESSORS_ONLN));
  std::printf(
      "  VictoriaLogs (traces)    ~25,000 spans/s per core   -> waggle %.1fx per waggle "
      "CPU-second\n",
      o.pid && waggle_cpu > 0 ? spans / waggle_cpu / 25000 : 0.0);
  std::printf(
      "  Jaeger v2 on ClickHouse  52,000 spans/s on 8 vCPUs  -> waggle %.1fx (on %ld cores, client "
      "included)\n",
      sps / 52000, sysconf(_SC_NPROCESSORS_ONLN));
  std::printf(
      "\nmachine-readable: spans=%llu seconds=%.3f spans_per_s=%.0f mb_per_s=%.2f "
      "waggle_cpu_s=%.3f "
      "client_cpu_s=%.3f vmhwm_mib=%.1f final_lag_ms=%.2f max_lag_ms=%.2f wire_bytes_per_span=%.1f "
      "failures=%llu\n",
      (unsigned long long)spans, secs, sps, mbps, waggle_cpu, client_cpu, hwm, final_lag, max_lag,
      bytes_per_span, (unsigned long long)sh.failures.load());
  return sh.failures.load() ? 1 : 0;
}

}  // namespace
}  // namespace waggle::bench

int main(int argc, char** argv) { return waggle::bench::Main(argc, argv); }
