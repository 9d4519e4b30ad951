// See ingest_workload.h.
#include "ingest_workload.h"

#include <cstdio>
#include <cstring>
#include <ctime>
#include <string_view>
#include <unordered_set>

#include "wire/otlp.h"
#include "wire/otlp_encode.h"

namespace waggle::bench {
namespace {

// Collects the unique values a template was built with, then finds them in the encoding.
class TemplateBuilder {
 public:
  explicit TemplateBuilder(Rng* rng) : rng_(rng) {}

  TraceId NewTraceId(size_t* group) {
    TraceId id;
    RandomBytes(id.data(), id.size());
    *group =
        Add(PatchKind::kBytes, std::string(reinterpret_cast<char*>(id.data()), id.size()), 0, 16);
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
  const std::string peer_ip =
      "10.0." + std::to_string(rng.Below(256)) + "." + std::to_string(rng.Below(256));
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
    s.attributes = {
        Str("host.name", "ip-10-0-" + std::to_string(s.service_name.size()) + "-17.ec2.internal"),
        Str("telemetry.sdk.language", s.service_name == "frontend-react-js" ? "webjs" : "python")};
    out->push_back(std::move(s));
    ++added;
    return &out->back();
  };
  // Pointers into `out` stay valid: the caller reserved capacity for the whole batch.
  const int64_t total = DurationNs(rng, 60, 0.9) + 8'000'000;
  Span* root =
      make(nullptr, "frontend-react-js", "HomeFeedPage.loadData", SpanKind::kInternal, 0, total);
  if (!root) return added;
  root->attributes.insert(
      root->attributes.end(),
      {Str("app.user_id", user), Str("page.route", "/"), Str("browser.user_agent", agent),
       Str("service.version", "0.9.3"), Str("session.id", session), Int("app.page", page),
       Str("deployment.environment", "production")});
  Span* fetch =
      make(root, "frontend-react-js", "HTTP GET", SpanKind::kClient, 1'000'000, total - 2'000'000);
  if (!fetch) return added;
  fetch->attributes.insert(
      fetch->attributes.end(),
      {Str("http.method", "GET"),
       Str("http.url", "https://api.cruddur.com/api/activities/home?page=" + std::to_string(page)),
       Int("http.status_code", error ? 500 : 200), Str("app.user_id", user),
       Str("service.version", "0.9.3"), Str("http.user_agent", agent), Str("session.id", session)});
  Span* server = make(fetch, "backend-flask", "GET /api/activities/home", SpanKind::kServer,
                      2'000'000, total - 4'000'000);
  if (!server) return added;
  server->attributes.insert(
      server->attributes.end(),
      {Str("http.method", "GET"), Str("http.route", "/api/activities/home"),
       Str("http.target", "/api/activities/home?page=" + std::to_string(page)),
       Str("http.scheme", "https"), Str("net.host.name", "api.cruddur.com"),
       Int("http.status_code", error ? 500 : 200), Str("app.user_id", user),
       Str("http.user_agent", agent), Str("aws.request_id", tb.Uuid()),
       Str("service.version", "2.1.0"), Str("net.peer.ip", peer_ip),
       Int("http.response_content_length", 2000 + rng.Below(30000))});
  if (error) {
    server->status_code = StatusCode::kError;
    server->status_message =
        "psycopg.errors.QueryCanceled: canceling statement due to statement timeout";
  }
  const int64_t inner = total - 6'000'000;
  Span* mock = make(server, "backend-flask", "home-activities-mock-data", SpanKind::kInternal,
                    3'000'000, inner / 2);
  if (!mock) return added;
  mock->attributes.insert(
      mock->attributes.end(),
      {Str("app.now", tb.IsoNow(t0)), Int("app.result_length", 1 + rng.Below(20)),
       Str("app.user_id", user), Str("code.function", "HomeActivities.run"),
       Str("code.namespace", "services.home_activities"), Str("service.version", "2.1.0")});
  Span* cognito = make(server, "cognito", "CognitoIdentityProvider.GetUser", SpanKind::kServer,
                       2'500'000, DurationNs(rng, 4));
  if (!cognito) return added;
  cognito->attributes.insert(
      cognito->attributes.end(),
      {Str("rpc.system", "aws-api"), Str("rpc.service", "CognitoIdentityProvider"),
       Str("rpc.method", "GetUser"), Str("aws.region", "us-east-1"),
       Str("aws.request_id", tb.Uuid()), Str("enduser.id", user), Int("http.status_code", 200),
       Str("net.peer.name", "cognito-idp.us-east-1.amazonaws.com")});
  const int queries = 1 + static_cast<int>(rng.Below(3));
  for (int q = 0; q < queries; ++q) {
    Span* pg = make(mock, "postgres", q == 0 ? "SELECT activities" : "SELECT users",
                    SpanKind::kServer, 3'500'000 + q * 1'000'000, DurationNs(rng, 3, 1.0));
    if (!pg) return added;
    pg->attributes.insert(
        pg->attributes.end(),
        {Str("db.system", "postgresql"), Str("db.name", "cruddur"), Str("db.operation", "SELECT"),
         Str("db.statement",
             q == 0
                 ? "SELECT * FROM activities WHERE user_uuid = $1 ORDER BY created_at DESC LIMIT 20"
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
  Span* ddb =
      make(server, "dynamodb", "DynamoDB.Query", SpanKind::kServer, 5'000'000, DurationNs(rng, 6));
  if (!ddb) return added;
  ddb->attributes.insert(ddb->attributes.end(),
                         {Str("db.system", "dynamodb"), Str("rpc.method", "Query"),
                          Str("aws.dynamodb.table_names", "cruddur-messages"),
                          Str("aws.region", "us-east-1"), Str("aws.request_id", tb.Uuid()),
                          Dbl("aws.dynamodb.consumed_capacity", 0.5 * (1 + rng.Below(8))),
                          Int("aws.dynamodb.count", rng.Below(50)),
                          Str("net.peer.name", "dynamodb.us-east-1.amazonaws.com")});
  return added;
}

}  // namespace

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

}  // namespace waggle::bench
