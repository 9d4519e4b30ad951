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
#include <numbers>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <vector>

#include "model/span.h"
#include "net/http_client.h"
#include "wire/otlp.h"
#include "wire/otlp_encode.h"

namespace waggle::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string otlp;            // host:port of the OTLP/HTTP listener
  std::string api;             // host:port of the API listener
  std::string key = "bench-key";
  int pid = 0;                 // waggle's pid, for CPU and RSS figures
  int threads = 8;
  double duration_s = 10;      // stop after this long (0: no time bound)
  uint64_t max_spans = 0;      // stop after this many acknowledged spans (0: no bound)
  int batch = 1000;            // spans per request
  int templates = 4;
  uint64_t seed = 42;
};

// splitmix64: fast, good enough for ids and tokens.
struct Rng {
  uint64_t s;
  uint64_t Next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double Uniform() { return (Next() >> 11) * 0x1.0p-53; }
  double Normal() {
    const double u1 = std::max(Uniform(), 1e-300), u2 = Uniform();
    return std::sqrt(-2 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
  }
  uint64_t Below(uint64_t n) { return Next() % n; }
};

// A value inside the encoded template that is rewritten before every send.
enum class PatchKind : uint8_t { kBytes, kHexChars, kDigits, kTimestamp };
struct PatchGroup {
  PatchKind kind;
  uint8_t len = 0;
  uint64_t ts = 0;                 // kTimestamp: the template's value
  std::vector<uint32_t> offsets;   // every place the value occurs
};

struct Template {
  std::string body;
  std::vector<PatchGroup> groups;
  size_t spans = 0;
  size_t probe_group = 0;       // the group holding the last trace's id
  size_t probe_spans = 0;       // spans of that trace
  size_t attrs = 0;             // span attributes in the template (excluding service.name)
  int64_t base_ns = 0;
};

// Collects the unique values a template was built with, then finds them in the encoding.
class TemplateBuilder {
 public:
  explicit TemplateBuilder(Rng* rng) : rng_(rng) {}

  TraceId NewTraceId(size_t* group) {
    TraceId id;
    RandomBytes(id.data(), id.size());
    *group = Add(PatchKind::kBytes, std::string(reinterpret_cast<char*>(id.data()), id.size()), 0, 16);
    return id;
  }
  SpanId NewSpanId() {
    SpanId id;
    RandomBytes(id.data(), id.size());
    Add(PatchKind::kBytes, std::string(reinterpret_cast<char*>(id.data()), id.size()), 0, 8);
    return id;
  }
  int64_t Timestamp(int64_t ns) {
    while (!used_ts_.insert(ns).second) ++ns;
    std::string le(8, '\0');
    std::memcpy(le.data(), &ns, 8);
    const size_t g = Add(PatchKind::kTimestamp, le, 0, 8);
    groups_[g].ts = static_cast<uint64_t>(ns);
    return ns;
  }
  // A lowercase UUID-shaped token, unique in the template; its hex digits are rewritten.
  std::string Uuid() {
    std::string s;
    do {
      s.clear();
      for (int i = 0; i < 32; ++i) {
        if (i == 8 || i == 12 || i == 16 || i == 20) s.push_back('-');
        s.push_back("0123456789abcdef"[rng_->Below(16)]);
      }
    } while (!used_tokens_.insert(s).second);
    Add(PatchKind::kHexChars, s, 0, static_cast<uint8_t>(s.size()));
    return s;
  }
  // An ISO-8601 time whose microsecond digits are rewritten (the seed's app.now).
  std::string IsoNow(int64_t ns) {
    std::string s;
    do {
      const time_t secs = ns / 1000000000;
      struct tm tm;
      gmtime_r(&secs, &tm);
      char buf[64];
      std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06d+00:00", tm.tm_year + 1900,
                    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                    static_cast<int>(rng_->Below(1000000)));
      s = buf;
    } while (!used_tokens_.insert(s).second);
    Add(PatchKind::kDigits, s, 20, 6);
    return s;
  }

  // Finds every group's occurrences in `body`. Returns false if some value is missing.
  bool Locate(std::string_view body, std::vector<PatchGroup>* out, std::string* err) {
    out->clear();
    for (size_t i = 0; i < groups_.size(); ++i) {
      PatchGroup g = groups_[i];
      const std::string& needle = needles_[i];
      for (size_t pos = body.find(needle); pos != std::string_view::npos;
           pos = body.find(needle, pos + 1)) {
        g.offsets.push_back(static_cast<uint32_t>(pos + sub_[i]));
      }
      if (g.offsets.empty()) {
        *err = "value of patch group " + std::to_string(i) + " not found in the encoding";
        return false;
      }
      out->push_back(std::move(g));
    }
    return true;
  }

 private:
  void RandomBytes(uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; ++i) p[i] = static_cast<uint8_t>(rng_->Next());
  }
  size_t Add(PatchKind kind, std::string needle, uint32_t sub, uint8_t len) {
    PatchGroup g;
    g.kind = kind;
    g.len = len;
    groups_.push_back(g);
    needles_.push_back(std::move(needle));
    sub_.push_back(sub);
    return groups_.size() - 1;
  }

  Rng* rng_;
  std::vector<PatchGroup> groups_;
  std::vector<std::string> needles_;
  std::vector<uint32_t> sub_;
  std::unordered_set<int64_t> used_ts_;
  std::unordered_set<std::string> used_tokens_;
};

Attribute Str(std::string k, std::string v) {
  Attribute a;
  a.key = std::move(k);
  a.type = ValueType::kString;
  a.str = std::move(v);
  return a;
}
Attribute Int(std::string k, int64_t v) {
  Attribute a;
  a.key = std::move(k);
  a.type = ValueType::kInt;
  a.i = v;
  return a;
}
Attribute Dbl(std::string k, double v) {
  Attribute a;
  a.key = std::move(k);
  a.type = ValueType::kDouble;
  a.d = v;
  return a;
}

// Heavy-tailed (log-normal) duration around `median_ms`.
int64_t DurationNs(Rng& rng, double median_ms, double sigma = 0.8) {
  return static_cast<int64_t>(median_ms * 1e6 * std::exp(sigma * rng.Normal())) + 1000;
}

// One Cruddur trace, parents before children: frontend-react-js → backend-flask
// (GET /api/activities/home, home-activities-mock-data) → cognito, postgres, dynamodb.
// Appends at most `room` spans (a truncated tail is still a valid tree).
size_t AddTrace(TemplateBuilder& tb, Rng& rng, int64_t t0, size_t room, std::vector<Span>* out,
                size_t* trace_group) {
  const TraceId tid = tb.NewTraceId(trace_group);
  const std::string user = tb.Uuid();
  const int page = static_cast<int>(rng.Below(20)) + 1;
  const bool error = rng.Below(100) == 0;
  const char* agents[] = {"Mozilla/5.0 (X11; Linux x86_64) Chrome/124.0",
                          "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) Safari/605.1.15",
                          "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/125.0"};
  const std::string agent = agents[rng.Below(3)];
  const std::string session = tb.Uuid();
  const std::string peer_ip = "10.0." + std::to_string(rng.Below(256)) + "." + std::to_string(rng.Below(256));
  size_t added = 0;
  auto make = [&](const Span* parent, std::string service, std::string name, SpanKind kind,
                  int64_t offset_ns, int64_t dur_ns) -> Span* {
    if (added == room) return nullptr;
    Span s;
    s.trace_id = tid;
    s.span_id = tb.NewSpanId();
    if (parent) s.parent_span_id = parent->span_id;
    s.start_ns = tb.Timestamp(t0 + offset_ns);
    s.end_ns = tb.Timestamp(s.start_ns + dur_ns);
    s.service_name = std::move(service);
    s.name = std::move(name);
    s.kind = kind;
    s.scope_name = "cruddur";
    s.scope_version = "1.4.2";
    // What a resource would carry, flattened onto every span as Honeycomb shows it.
    s.attributes = {Str("host.name", "ip-10-0-" + std::to_string(s.service_name.size()) + "-17.ec2.internal"),
                    Str("telemetry.sdk.language", s.service_name == "frontend-react-js" ? "webjs" : "python")};
    out->push_back(std::move(s));
    ++added;
    return &out->back();
  };
  // Pointers into `out` stay valid: the caller reserved capacity for the whole batch.
  const int64_t total = DurationNs(rng, 60, 0.9) + 8'000'000;
  Span* root = make(nullptr, "frontend-react-js", "HomeFeedPage.loadData", SpanKind::kInternal, 0, total);
  if (!root) return added;
  root->attributes.insert(root->attributes.end(), {Str("app.user_id", user), Str("page.route", "/"),
                      Str("browser.user_agent", agent), Str("service.version", "0.9.3"),
                      Str("session.id", session),
                      Int("app.page", page), Str("deployment.environment", "production")});
  Span* fetch = make(root, "frontend-react-js", "HTTP GET", SpanKind::kClient, 1'000'000, total - 2'000'000);
  if (!fetch) return added;
  fetch->attributes.insert(fetch->attributes.end(), {Str("http.method", "GET"),
                       Str("http.url", "https://api.cruddur.com/api/activities/home?page=" + std::to_string(page)),
                       Int("http.status_code", error ? 500 : 200), Str("app.user_id", user),
                       Str("service.version", "0.9.3"), Str("http.user_agent", agent),
                       Str("session.id", session)});
  Span* server = make(fetch, "backend-flask", "GET /api/activities/home", SpanKind::kServer,
                      2'000'000, total - 4'000'000);
  if (!server) return added;
  server->attributes.insert(server->attributes.end(), {Str("http.method", "GET"), Str("http.route", "/api/activities/home"),
                        Str("http.target", "/api/activities/home?page=" + std::to_string(page)),
                        Str("http.scheme", "https"), Str("net.host.name", "api.cruddur.com"),
                        Int("http.status_code", error ? 500 : 200), Str("app.user_id", user),
                        Str("http.user_agent", agent), Str("aws.request_id", tb.Uuid()),
                        Str("service.version", "2.1.0"), Str("net.peer.ip", peer_ip),
                        Int("http.response_content_length", 2000 + rng.Below(30000))});
  if (error) {
    server->status_code = StatusCode::kError;
    server->status_message = "psycopg.errors.QueryCanceled: canceling statement due to statement timeout";
  }
  const int64_t inner = total - 6'000'000;
  Span* mock = make(server, "backend-flask", "home-activities-mock-data", SpanKind::kInternal,
                    3'000'000, inner / 2);
  if (!mock) return added;
  mock->attributes.insert(mock->attributes.end(), {Str("app.now", tb.IsoNow(t0)), Int("app.result_length", 1 + rng.Below(20)),
                      Str("app.user_id", user), Str("code.function", "HomeActivities.run"),
                      Str("code.namespace", "services.home_activities"), Str("service.version", "2.1.0")});
  Span* cognito = make(server, "cognito", "CognitoIdentityProvider.GetUser", SpanKind::kServer,
                       2'500'000, DurationNs(rng, 4));
  if (!cognito) return added;
  cognito->attributes.insert(cognito->attributes.end(), {Str("rpc.system", "aws-api"), Str("rpc.service", "CognitoIdentityProvider"),
                         Str("rpc.method", "GetUser"), Str("aws.region", "us-east-1"),
                         Str("aws.request_id", tb.Uuid()), Str("enduser.id", user),
                         Int("http.status_code", 200), Str("net.peer.name", "cognito-idp.us-east-1.amazonaws.com")});
  const int queries = 1 + static_cast<int>(rng.Below(3));
  for (int q = 0; q < queries; ++q) {
    Span* pg = make(mock, "postgres", q == 0 ? "SELECT activities" : "SELECT users",
                    SpanKind::kServer, 3'500'000 + q * 1'000'000, DurationNs(rng, 3, 1.0));
    if (!pg) return added;
    pg->attributes.insert(pg->attributes.end(), {Str("db.system", "postgresql"), Str("db.name", "cruddur"),
                      Str("db.operation", "SELECT"),
                      Str("db.statement", q == 0 ? "SELECT * FROM activities WHERE user_uuid = $1 ORDER BY created_at DESC LIMIT 20"
                                                 : "SELECT handle, display_name FROM users WHERE uuid = $1"),
                      Str("net.peer.name", "cruddur-db.internal"), Int("db.rows", rng.Below(21)),
                      Str("app.user_id", user), Str("db.user", "cruddur_app"), Int("net.peer.port", 5432)});
    if (error && q == 0) {
      pg->status_code = StatusCode::kError;
      pg->status_message = "canceling statement due to statement timeout";
      Span ev = *pg;
      ev.row_kind = RowKind::kSpanEvent;
      ev.name = "exception";
      ev.start_ns = ev.end_ns = tb.Timestamp(pg->end_ns - 1000);
      ev.attributes = {Str("exception.type", "psycopg.errors.QueryCanceled"),
                       Str("exception.message", "canceling statement due to statement timeout")};
      out->push_back(std::move(ev));
    }
  }
  Span* ddb = make(server, "dynamodb", "DynamoDB.Query", SpanKind::kServer, 5'000'000, DurationNs(rng, 6));
  if (!ddb) return added;
  ddb->attributes.insert(ddb->attributes.end(), {Str("db.system", "dynamodb"), Str("rpc.method", "Query"),
                     Str("aws.dynamodb.table_names", "cruddur-messages"), Str("aws.region", "us-east-1"),
                     Str("aws.request_id", tb.Uuid()), Dbl("aws.dynamodb.consumed_capacity", 0.5 * (1 + rng.Below(8))),
                     Int("aws.dynamodb.count", rng.Below(50)),
                     Str("net.peer.name", "dynamodb.us-east-1.amazonaws.com")});
  return added;
}

bool BuildTemplate(Rng& rng, int batch, int64_t base_ns, Template* t, std::string* err) {
  TemplateBuilder tb(&rng);
  std::vector<Span> spans;
  spans.reserve(batch * 2);
  size_t count = 0;
  size_t trace_group = 0;
  int64_t t0 = base_ns;
  while (count < static_cast<size_t>(batch)) {
    const size_t n = AddTrace(tb, rng, t0, batch - count, &spans, &trace_group);
    count += n;
    t->probe_group = trace_group;
    t->probe_spans = n;
    t0 += 1'000'000 + static_cast<int64_t>(rng.Below(1'000'000));
  }
  for (const Span& s : spans) {
    if (s.row_kind == RowKind::kSpan) t->attrs += s.attributes.size();
  }
  t->body = EncodeOtlpTracesProtobuf(spans);
  t->spans = count;
  t->base_ns = base_ns;
  if (!tb.Locate(t->body, &t->groups, err)) return false;
  auto decoded = DecodeOtlpTracesProtobuf(t->body);
  if (!decoded.ok()) {
    *err = "template does not decode: " + std::string(decoded.status().message());
    return false;
  }
  if (decoded->span_count() != count) {
    *err = "template decodes to " + std::to_string(decoded->span_count()) + " spans, built " +
           std::to_string(count);
    return false;
  }
  return true;
}

// Rewrites every patch group of `t` in `buf` (a copy of t.body). Returns the probe trace id.
TraceId Patch(const Template& t, int64_t delta_ns, Rng& rng, std::string* buf) {
  char* p = buf->data();
  TraceId probe{};
  for (size_t gi = 0; gi < t.groups.size(); ++gi) {
    const PatchGroup& g = t.groups[gi];
    char v[40];
    switch (g.kind) {
      case PatchKind::kBytes:
        for (int i = 0; i < g.len; i += 8) {
          const uint64_t r = rng.Next();
          std::memcpy(v + i, &r, 8);
        }
        if (gi == t.probe_group) std::memcpy(probe.data(), v, 16);
        break;
      case PatchKind::kHexChars:
      case PatchKind::kDigits: {
        const bool hex = g.kind == PatchKind::kHexChars;
        uint64_t r = rng.Next();
        for (int i = 0; i < g.len; ++i) {
          if (i % 12 == 11) r = rng.Next();
          v[i] = hex ? "0123456789abcdef"[r & 15] : static_cast<char>('0' + (r & 15) % 10);
          r >>= 4;
        }
        break;
      }
      case PatchKind::kTimestamp: {
        const uint64_t ts = g.ts + static_cast<uint64_t>(delta_ns);
        std::memcpy(v, &ts, 8);
        break;
      }
    }
    for (uint32_t off : g.offsets) {
      if (g.kind == PatchKind::kHexChars) {
        for (int i = 0; i < g.len; ++i) {
          if (p[off + i] != '-') p[off + i] = v[i];
        }
      } else {
        std::memcpy(p + off, v, g.len);
      }
    }
  }
  return probe;
}

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
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
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
  std::atomic<uint64_t> budget{0};     // spans claimed for sending
  std::atomic<uint64_t> acked_spans{0};
  std::atomic<uint64_t> acked_bytes{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> retries{0};    // 429/503 answers
  std::atomic<uint64_t> failures{0};
  std::atomic<bool> stop{false};
  std::atomic<int> running{0};         // client threads still sending
  std::mutex mu;                       // guards the fields below
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
      if (r.ok() && (r->status == 429 || r->status == 503) && attempt < 100 &&
          !sh->stop.load()) {
        sh->retries.fetch_add(1, std::memory_order_relaxed);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      sh->failures.fetch_add(1);
      std::lock_guard<std::mutex> l(sh->mu);
      if (sh->first_error.empty()) {
        sh->first_error = r.ok() ? "HTTP " + std::to_string(r->status) + ": " + r->body.substr(0, 300)
                                 : std::string(r.status().message());
      }
      if (sh->failures.load() > 20) sh->stop.store(true);
      break;
    }
  }
  sh->running.fetch_sub(1);
}

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i], v;
    const size_t eq = a.find('=');
    if (eq != std::string::npos) {
      v = a.substr(eq + 1);
      a = a.substr(0, eq);
    } else if (i + 1 < argc) {
      v = argv[++i];
    } else {
      std::fprintf(stderr, "missing value for %s\n", a.c_str());
      return false;
    }
    if (a == "--otlp") o->otlp = v;
    else if (a == "--api") o->api = v;
    else if (a == "--key") o->key = v;
    else if (a == "--pid") o->pid = std::atoi(v.c_str());
    else if (a == "--threads") o->threads = std::max(1, std::atoi(v.c_str()));
    else if (a == "--duration") o->duration_s = std::atof(v.c_str());
    else if (a == "--spans") o->max_spans = std::strtoull(v.c_str(), nullptr, 10);
    else if (a == "--batch") o->batch = std::max(1, std::atoi(v.c_str()));
    else if (a == "--templates") o->templates = std::max(1, std::atoi(v.c_str()));
    else if (a == "--seed") o->seed = std::strtoull(v.c_str(), nullptr, 10);
    else {
      std::fprintf(stderr, "unknown flag %s\n", a.c_str());
      return false;
    }
  }
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
  std::printf("  machine              %ld cores, shared by waggle and this client\n",
              sysconf(_SC_NPROCESSORS_ONLN));
  std::printf("  workload             Cruddur demo-like: 5 services, ~8 spans/trace, %.1f attributes/span "
              "(user id, request ids, http.target, db.statement...), ~1%% errors\n",
              static_cast<double>(wire_attrs) / wire_spans);
  std::printf("  wire size            %.1f bytes/span (mean encoded protobuf), %zu spans/request\n",
              bytes_per_span, templates[0].spans);
  std::printf("  clients              %d threads, one keep-alive connection each\n", o.threads);
  if (o.max_spans) std::printf("  stop after           %llu spans\n", (unsigned long long)o.max_spans);
  if (o.duration_s > 0) std::printf("  stop after           %.1f s\n", o.duration_s);

  Shared sh;
  auto api = NewHttpClient(o.api, 10000);
  const double cpu0 = o.pid ? ProcCpuSeconds(o.pid) : -1;
  const double self0 = SelfCpuSeconds();
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  sh.running.store(o.threads);
  for (int i = 0; i < o.threads; ++i) threads.emplace_back(Client, std::cref(o), std::cref(templates), i, &sh);

  // While loading: once a second, time how long the newest acknowledged trace takes to be
  // queryable, and print progress.
  std::vector<double> lags;
  auto next = start + std::chrono::seconds(1);
  uint64_t last_spans = 0;
  auto last_t = start;
  for (;;) {
    std::this_thread::sleep_until(next);
    next += std::chrono::seconds(1);
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    const uint64_t spans = sh.acked_spans.load();
    const bool done = sh.stop.load() || sh.running.load() == 0 ||
                      (o.duration_s > 0 && elapsed >= o.duration_s);
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
    if (sh.last_trace_spans) final_lag = WaitQueryable(*api, o.key, sh.last_trace, sh.last_trace_spans, sh.last_ack);
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
  std::printf("  spans acknowledged   %llu in %.2f s (%llu requests, %llu retried after 429/503, %llu failed)\n",
              (unsigned long long)spans, secs, (unsigned long long)sh.requests.load(),
              (unsigned long long)sh.retries.load(), (unsigned long long)sh.failures.load());
  if (!sh.first_error.empty()) std::printf("  first failure        %s\n", sh.first_error.c_str());
  std::printf("  throughput           %.0f spans/s   %.1f MB/s of protobuf   [target >= 400000 spans/s: %s]\n",
              sps, mbps, Verdict(sps >= 400000));
  if (o.pid) {
    std::printf("  waggle CPU           %.2f s = %.2f CPU-s per million spans (%.0f spans per CPU-second)\n",
                waggle_cpu, waggle_cpu / (spans / 1e6), spans / waggle_cpu);
  }
  std::printf("  client CPU           %.2f s = %.2f CPU-s per million spans\n", client_cpu,
              client_cpu / (spans / 1e6));
  if (o.pid) {
    std::printf("  waggle peak RSS      %.0f MiB (VmHWM; %.0f MiB now) with %llu spans stored   [target <= 1 GB with 10M spans%s]\n",
                hwm, rss, (unsigned long long)spans,
                spans >= 10'000'000 ? (hwm <= 1024 ? ": met" : ": NOT met") : ": run with --spans 10000000 to check");
  }
  std::printf("  ack -> queryable     last trace: %.1f ms; during load: max %.1f ms over %zu probes   [target < 1000 ms: %s]\n",
              final_lag, max_lag, lags.size(),
              Verdict(final_lag >= 0 && final_lag < 1000 && !lag_failed && max_lag < 1000));
  std::printf("\npublished peer figures (their documentation, not measured here)\n");
  std::printf("  OpenTelemetry Collector  ~12,000 spans/s per core   -> waggle %.1fx per waggle CPU-second, %.1fx end to end on %ld cores\n",
              o.pid && waggle_cpu > 0 ? spans / waggle_cpu / 12000 : 0.0,
              sps / 12000 / sysconf(_SC_NPROCESSORS_ONLN), sysconf(_SC_NPROCESSORS_ONLN));
  std::printf("  VictoriaLogs (traces)    ~25,000 spans/s per core   -> waggle %.1fx per waggle CPU-second\n",
              o.pid && waggle_cpu > 0 ? spans / waggle_cpu / 25000 : 0.0);
  std::printf("  Jaeger v2 on ClickHouse  52,000 spans/s on 8 vCPUs  -> waggle %.1fx (on %ld cores, client included)\n",
              sps / 52000, sysconf(_SC_NPROCESSORS_ONLN));
  std::printf("\nmachine-readable: spans=%llu seconds=%.3f spans_per_s=%.0f mb_per_s=%.2f waggle_cpu_s=%.3f "
              "client_cpu_s=%.3f vmhwm_mib=%.1f final_lag_ms=%.2f max_lag_ms=%.2f wire_bytes_per_span=%.1f failures=%llu\n",
              (unsigned long long)spans, secs, sps, mbps, waggle_cpu, client_cpu, hwm, final_lag, max_lag,
              bytes_per_span, (unsigned long long)sh.failures.load());
  return sh.failures.load() ? 1 : 0;
}

}  // namespace
}  // namespace waggle::bench

int main(int argc, char** argv) { return waggle::bench::Main(argc, argv); }
