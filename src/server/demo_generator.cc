#include "server/demo_generator.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <ctime>

#include "net/http_client.h"
#include "wire/otlp_encode.h"

namespace waggle {
namespace {

constexpr int64_t kMs = 1'000'000;  // nanoseconds per millisecond
constexpr int kFlushIntervalMs = 200;
constexpr size_t kMaxPendingSpans = 2000;

const char* const kUserHandles[] = {"andrewbrown", "bayko", "londo", "garek", "worf",
                                    "kira", "odo", "jadzia", "quark", "nog"};

// Log-normal with the given median (ms) and sigma, with a rare Pareto tail (α = 1.5).
int64_t LatencyNs(std::mt19937_64& rng, double median_ms, double sigma) {
  std::normal_distribution<double> normal(0, 1);
  double ms = median_ms * std::exp(sigma * normal(rng));
  std::uniform_real_distribution<double> u(0, 1);
  if (u(rng) < 0.02) ms *= std::min(50.0, std::pow(1.0 - u(rng), -1.0 / 1.5));
  return std::max<int64_t>(static_cast<int64_t>(ms * kMs), 20'000);
}

std::string Iso8601(int64_t ns) {
  std::time_t secs = static_cast<std::time_t>(ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06lld+00:00",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(ns % 1'000'000'000 / 1000));
  return buf;
}

// Accumulates the spans of one trace.
class TraceBuilder {
 public:
  TraceBuilder(std::mt19937_64& rng) : rng_(rng) {
    for (auto& b : trace_id_) b = static_cast<uint8_t>(rng_());
  }

  // Adds a span and returns its index. `parent` < 0 means root.
  size_t Add(int parent, std::string service, std::string name, SpanKind kind, int64_t start,
             int64_t duration) {
    Span s;
    s.trace_id = trace_id_;
    for (auto& b : s.span_id) b = static_cast<uint8_t>(rng_());
    if (parent >= 0) s.parent_span_id = spans_[parent].span_id;
    s.start_ns = start;
    s.end_ns = start + duration;
    s.service_name = std::move(service);
    s.name = std::move(name);
    s.kind = kind;
    s.scope_name = ScopeFor(s.service_name, kind);
    spans_.push_back(std::move(s));
    return spans_.size() - 1;
  }
  void Str(size_t i, std::string key, std::string value) {
    Attribute a;
    a.key = std::move(key);
    a.str = std::move(value);
    spans_[i].attributes.push_back(std::move(a));
  }
  void Int(size_t i, std::string key, int64_t value) {
    Attribute a;
    a.key = std::move(key);
    a.type = ValueType::kInt;
    a.i = value;
    spans_[i].attributes.push_back(std::move(a));
  }
  void Bool(size_t i, std::string key, bool value) {
    Attribute a;
    a.key = std::move(key);
    a.type = ValueType::kBool;
    a.b = value;
    spans_[i].attributes.push_back(std::move(a));
  }
  void Fail(size_t i, const std::string& type, const std::string& message) {
    Span& s = spans_[i];
    s.status_code = StatusCode::kError;
    s.status_message = type + ": " + message;
    Span ev;
    ev.row_kind = RowKind::kSpanEvent;
    ev.trace_id = s.trace_id;
    ev.span_id = s.span_id;
    ev.service_name = s.service_name;
    ev.name = "exception";
    ev.start_ns = ev.end_ns = s.end_ns - 1000;
    Attribute t, m, st, esc;
    t.key = "exception.type";
    t.str = type;
    m.key = "exception.message";
    m.str = message;
    st.key = "exception.stacktrace";
    st.str = "Traceback (most recent call last):\n"
             "  File \"/backend-flask/app.py\", line 112, in data_home\n"
             "    data = HomeActivities.run()\n"
             "  File \"/backend-flask/services/home_activities.py\", line 9, in run\n"
             "    results = query_wrap_array(sql)\n" +
             type + ": " + message;
    esc.key = "exception.escaped";
    esc.type = ValueType::kBool;
    esc.b = true;
    ev.attributes = {t, m, st, esc};
    events_.push_back(std::move(ev));
  }
  const Span& span(size_t i) const { return spans_[i]; }
  Span& mutable_span(size_t i) { return spans_[i]; }

  std::vector<Span> Finish() {
    for (Span& e : events_) spans_.push_back(std::move(e));
    return std::move(spans_);
  }

 private:
  static std::string ScopeFor(const std::string& service, SpanKind kind) {
    if (service == "frontend-react-js") {
      return kind == SpanKind::kClient ? "@opentelemetry/instrumentation-fetch"
                                       : "@opentelemetry/instrumentation-document-load";
    }
    if (service == "backend-flask") {
      return kind == SpanKind::kServer ? "opentelemetry.instrumentation.flask"
                                       : "backend-flask.home_activities";
    }
    return service + "-instrumentation";
  }

  std::mt19937_64& rng_;
  TraceId trace_id_{};
  std::vector<Span> spans_;
  std::vector<Span> events_;
};

struct Route {
  const char* method;
  const char* path;
  double weight;
};
constexpr Route kRoutes[] = {
    {"GET", "/api/activities/home", 0.6},
    {"GET", "/api/activities/notifications", 0.15},
    {"GET", "/api/message_groups", 0.15},
    {"POST", "/api/activities", 0.10},
};

// backend-flask → cognito: verify the user's JWT.
int64_t AddCognito(TraceBuilder& t, std::mt19937_64& rng, size_t server, int64_t at,
                   bool fail) {
  int64_t d = LatencyNs(rng, 18, 0.5);
  size_t c = t.Add(static_cast<int>(server), "backend-flask", "CognitoIdentityProvider.GetUser",
                   SpanKind::kClient, at, d);
  t.Str(c, "rpc.system", "aws-api");
  t.Str(c, "rpc.service", "CognitoIdentityProvider");
  t.Str(c, "rpc.method", "GetUser");
  t.Str(c, "aws.region", "ca-central-1");
  size_t s = t.Add(static_cast<int>(c), "cognito", "GetUser", SpanKind::kServer, at + d / 10,
                   d * 8 / 10);
  t.Str(s, "aws.cognito.user_pool_id", "ca-central-1_CQ4wDfnwc");
  if (fail) {
    t.Fail(s, "NotAuthorizedException", "Access Token has expired");
    t.Fail(c, "botocore.errorfactory.NotAuthorizedException",
           "An error occurred (NotAuthorizedException) when calling the GetUser operation: "
           "Access Token has expired");
  }
  return at + d;
}

// backend-flask → postgres.
int64_t AddPostgres(TraceBuilder& t, std::mt19937_64& rng, size_t parent, int64_t at,
                    const std::string& statement, const char* op, bool fail) {
  int64_t d = LatencyNs(rng, 2.5, 0.8);
  size_t c = t.Add(static_cast<int>(parent), "backend-flask", std::string(op) + " cruddur",
                   SpanKind::kClient, at, d);
  t.Str(c, "db.system", "postgresql");
  t.Str(c, "db.name", "cruddur");
  t.Str(c, "db.user", "postgres");
  t.Str(c, "db.statement", statement);
  t.Str(c, "db.operation", op);
  t.Str(c, "net.peer.name", "db");
  t.Int(c, "net.peer.port", 5432);
  size_t s = t.Add(static_cast<int>(c), "postgres", op, SpanKind::kServer, at + d / 8,
                   d * 3 / 4);
  t.Str(s, "db.system", "postgresql");
  t.Str(s, "db.statement", statement);
  if (fail) {
    t.Fail(s, "UndefinedTable", "relation \"public.activities\" does not exist");
    t.Fail(c, "psycopg.errors.UndefinedTable", "relation \"public.activities\" does not exist");
  }
  return at + d;
}

// backend-flask → dynamodb.
int64_t AddDynamo(TraceBuilder& t, std::mt19937_64& rng, size_t parent, int64_t at,
                  bool fail) {
  int64_t d = LatencyNs(rng, 9, 0.6);
  size_t c = t.Add(static_cast<int>(parent), "backend-flask", "DynamoDB.Query",
                   SpanKind::kClient, at, d);
  t.Str(c, "rpc.system", "aws-api");
  t.Str(c, "rpc.service", "DynamoDB");
  t.Str(c, "rpc.method", "Query");
  t.Str(c, "aws.region", "ca-central-1");
  t.Str(c, "aws.dynamodb.table_names", "[\"cruddur-messages\"]");
  t.Int(c, "aws.dynamodb.limit", 20);
  size_t s = t.Add(static_cast<int>(c), "dynamodb", "Query", SpanKind::kServer, at + d / 10,
                   d * 8 / 10);
  t.Str(s, "aws.dynamodb.table_names", "[\"cruddur-messages\"]");
  if (fail) {
    t.Fail(s, "ProvisionedThroughputExceededException", "Rate of requests exceeds the allowed "
                                                        "throughput");
    t.Fail(c, "botocore.exceptions.ClientError",
           "An error occurred (ProvisionedThroughputExceededException) when calling the Query "
           "operation");
  }
  return at + d;
}

}  // namespace

std::vector<Span> GenerateDemoTrace(std::mt19937_64& rng, int64_t start_ns) {
  std::uniform_real_distribution<double> u(0, 1);
  double pick = u(rng), acc = 0;
  const Route* route = &kRoutes[0];
  for (const Route& r : kRoutes) {
    acc += r.weight;
    if (pick < acc) {
      route = &r;
      break;
    }
  }
  bool fail = u(rng) < 0.01;
  int user = static_cast<int>(rng() % std::size(kUserHandles));
  std::string user_id = "5a1b3c7d-0000-4e3a-9c1b-" + std::string(12 - 2, '0') +
                        std::to_string(10 + user);
  std::string route_name = std::string(route->method) + " " + route->path;
  bool is_home = route == &kRoutes[0];
  bool page_load = route->method == std::string("GET") && route != &kRoutes[2];

  TraceBuilder t(rng);
  int64_t page_overhead = page_load ? LatencyNs(rng, 120, 0.5) : LatencyNs(rng, 2, 0.4);
  size_t root = t.Add(-1, "frontend-react-js", page_load ? "documentLoad" : "click",
                      SpanKind::kInternal, start_ns, 0);
  t.Str(root, "http.url", std::string("http://localhost:3000") +
                              (is_home ? "/" : route->path + 4));
  t.Str(root, "http.user_agent",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/119.0 Safari/537.36");
  t.Str(root, "app.user_handle", kUserHandles[user]);

  int64_t fetch_start = start_ns + page_overhead;
  size_t fetch = t.Add(static_cast<int>(root), "frontend-react-js",
                       std::string("HTTP ") + route->method, SpanKind::kClient, fetch_start, 0);
  t.Str(fetch, "http.method", route->method);
  t.Str(fetch, "http.url", std::string("http://localhost:4567") + route->path);
  t.Str(fetch, "component", "fetch");

  int64_t net = LatencyNs(rng, 1.5, 0.5);
  int64_t server_start = fetch_start + net;
  size_t server = t.Add(static_cast<int>(fetch), "backend-flask", route_name, SpanKind::kServer,
                        server_start, 0);
  t.Str(server, "http.method", route->method);
  t.Str(server, "http.route", route->path);
  t.Str(server, "http.target", route->path);
  t.Str(server, "http.scheme", "http");
  t.Str(server, "http.flavor", "1.1");
  t.Str(server, "net.host.name", "localhost:4567");
  t.Str(server, "http.server_name", "0.0.0.0");
  t.Str(server, "app.user_id", user_id);

  // Which dependency fails (if any) depends on the route.
  int64_t at = server_start + LatencyNs(rng, 0.6, 0.4);
  bool cognito_fails = fail && route == &kRoutes[2];
  if (route != &kRoutes[1]) at = AddCognito(t, rng, server, at, cognito_fails);
  int result_length = 0;
  if (is_home) {
    int64_t mock_start = at;
    size_t mock = t.Add(static_cast<int>(server), "backend-flask", "home-activities-mock-data",
                        SpanKind::kInternal, mock_start, 0);
    t.Str(mock, "app.now", Iso8601(mock_start));
    at = AddPostgres(t, rng, mock,
                     mock_start + LatencyNs(rng, 0.2, 0.3),
                     "SELECT activities.uuid, users.display_name, users.handle, activities.message "
                     "FROM public.activities LEFT JOIN public.users ON users.uuid = "
                     "activities.user_uuid ORDER BY activities.created_at DESC",
                     "SELECT", fail);
    result_length = 3 + static_cast<int>(rng() % 5);
    t.Int(mock, "app.result_length", result_length);
    at += LatencyNs(rng, 0.3, 0.3);
    t.mutable_span(mock).end_ns = at;
  } else if (route == &kRoutes[1]) {
    size_t n = t.Add(static_cast<int>(server), "backend-flask", "notifications-activities",
                     SpanKind::kInternal, at, 0);
    at = AddPostgres(t, rng, n, at + LatencyNs(rng, 0.2, 0.3),
                     "SELECT * FROM public.activities WHERE user_uuid = %s", "SELECT", fail);
    t.mutable_span(n).end_ns = at;
  } else if (route == &kRoutes[2]) {
    if (!cognito_fails) at = AddDynamo(t, rng, server, at, fail);
  } else {
    at = AddPostgres(t, rng, server, at,
                     "INSERT INTO public.activities (user_uuid, message, expires_at) VALUES "
                     "(%s, %s, %s) RETURNING uuid",
                     "INSERT", fail);
  }
  at += LatencyNs(rng, 0.8, 0.5);
  Span& srv = t.mutable_span(server);
  srv.end_ns = at;
  int status = fail ? 500 : (route->method == std::string("POST") ? 201 : 200);
  t.Int(server, "http.status_code", status);
  if (fail) t.Fail(server, "InternalServerError", "500 Internal Server Error: " + route_name);
  if (result_length > 0) t.Int(server, "app.result_length", result_length);

  Span& f = t.mutable_span(fetch);
  f.end_ns = at + LatencyNs(rng, 1.5, 0.5);
  t.Int(fetch, "http.status_code", status);
  if (fail) {
    f.status_code = StatusCode::kError;
    f.status_message = "HTTP 500";
  }
  t.mutable_span(root).end_ns = f.end_ns + (page_load ? LatencyNs(rng, 30, 0.6) : 100'000);
  return t.Finish();
}

DemoGenerator::DemoGenerator(DemoOptions options) : options_(std::move(options)) {}

DemoGenerator::~DemoGenerator() { Stop(); }

void DemoGenerator::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void DemoGenerator::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string DemoGenerator::last_trace_id() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_trace_id_;
}

void DemoGenerator::Run() {
  using Clock = std::chrono::steady_clock;
  std::mt19937_64 rng(options_.seed != 0 ? options_.seed : std::random_device{}());
  std::exponential_distribution<double> gap(options_.traces_per_second);
  std::unique_ptr<HttpClient> client = NewHttpClient(options_.otlp_address, 5000);
  std::vector<std::pair<std::string, std::string>> headers = {
      {"Content-Type", "application/x-protobuf"}};
  if (!options_.api_key.empty()) headers.emplace_back("x-honeycomb-team", options_.api_key);

  std::vector<Span> pending;
  size_t pending_traces = 0;
  std::string pending_last_id;
  auto next_trace = Clock::now();
  auto next_flush = Clock::now() + std::chrono::milliseconds(kFlushIntervalMs);
  auto flush = [&] {
    if (pending.empty()) return;
    std::string body = EncodeOtlpTracesProtobuf(pending);
    StatusOr<HttpClientResponse> r = client->Request("POST", "/v1/traces", headers, body);
    if (r.ok() && r->status == 200) {
      traces_sent_ += pending_traces;
      std::lock_guard<std::mutex> lock(mu_);
      last_trace_id_ = pending_last_id;
    } else {
      ++send_failures_;
      spdlog::warn("demo: sending {} spans failed: {}", pending.size(),
                   r.ok() ? "HTTP " + std::to_string(r->status) + " " + r->body.substr(0, 200)
                          : std::string(r.status().message()));
    }
    pending.clear();
    pending_traces = 0;
  };

  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    auto wake = std::min(next_trace, next_flush);
    cv_.wait_until(lock, wake, [this] { return stop_; });
    if (stop_) break;
    lock.unlock();
    auto now = Clock::now();
    while (next_trace <= now && pending.size() < kMaxPendingSpans) {
      int64_t wall = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
      std::vector<Span> trace = GenerateDemoTrace(rng, wall);
      pending_last_id = ToHex(trace.front().trace_id);
      for (Span& s : trace) pending.push_back(std::move(s));
      ++pending_traces;
      next_trace += std::chrono::nanoseconds(static_cast<int64_t>(gap(rng) * 1e9));
    }
    if (next_trace <= now) next_trace = now;  // behind schedule: do not build a backlog
    if (now >= next_flush || pending.size() >= kMaxPendingSpans) {
      flush();
      next_flush = Clock::now() + std::chrono::milliseconds(kFlushIntervalMs);
    }
    lock.lock();
  }
  lock.unlock();
  flush();
}

}  // namespace waggle
