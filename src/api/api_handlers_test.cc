#include "api/api_handlers.h"

#include <simdjson.h>

#include <gtest/gtest.h>

namespace waggle {
namespace {

class FakeStore : public Store {
 public:
  Status Append(const SpanBatch&) override { return OkStatus(); }
  StatusOr<std::vector<Span>> GetTrace(const TraceId& id) override {
    if (!fail_.ok()) return fail_;
    std::vector<Span> out;
    for (const Span& s : spans_) {
      if (s.trace_id == id) out.push_back(s);
    }
    return out;
  }
  StatusOr<std::vector<TraceSummary>> RecentTraces(const RecentTracesRequest& req) override {
    last_request_ = req;
    std::vector<TraceSummary> out;
    TraceSummary t;
    t.trace_id = spans_.empty() ? TraceId{} : spans_[0].trace_id;
    t.root_name = "GET /api/activities/home";
    t.root_service = "backend-flask";
    t.span_count = static_cast<uint32_t>(spans_.size());
    out.push_back(t);
    return out;
  }
  StatusOr<std::vector<ColumnInfo>> Columns() override { return std::vector<ColumnInfo>{}; }
  StatusOr<std::vector<TraceSummary>> SearchTraces(const query::RowSearch&) override {
    return absl::UnimplementedError("no trace search here");
  }
  StatusOr<query::QueryResult> Query(const query::QueryRequest&) override {
    return absl::UnimplementedError("no queries here");
  }
  Status Flush() override { return OkStatus(); }
  Status Maintain() override { return OkStatus(); }
  StoreStats Stats() override {
    StoreStats s;
    s.segments = 3;
    s.wal_bytes_written = 4096;
    s.segment_bytes = 1000;
    s.wal_disk_bytes = 24;
    s.wal_syncs = 2;
    s.wal_sync_nanos_total = 3'000'000;
    return s;
  }
  Status Close() override { return OkStatus(); }

  std::vector<Span> spans_;
  Status fail_;
  RecentTracesRequest last_request_;
};

HttpRequest Get(std::string target, std::string remote = "127.0.0.1:1234") {
  HttpRequest r;
  r.method = "GET";
  size_t q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) r.query = target.substr(q + 1);
  r.remote_address = std::move(remote);
  return r;
}

struct ApiHandlersTest : ::testing::Test {
  ApiHandlersTest() {
    Span s;
    ParseHex("5b8efff798038103d269b633813fc60c", &s.trace_id);
    s.span_id[0] = 1;
    s.name = "GET /api/activities/home";
    s.service_name = "backend-flask";
    s.start_ns = 1'700'000'000'000'000'000;
    s.end_ns = s.start_ns + 42'000'000;
    store.spans_.push_back(s);
  }
  FakeStore store;
  ApiKeys keys;
  Metrics metrics;
  ApiHandlers api{&store, &keys, &metrics, {"1.2.3", "test-env", "", ""}};
};

TEST_F(ApiHandlersTest, UnknownPathIsNotHandled) {
  EXPECT_FALSE(api.Handle(Get("/v1/traces")).has_value());
  EXPECT_FALSE(api.Handle(Get("/")).has_value());
}

TEST_F(ApiHandlersTest, GetTraceReturnsTree) {
  auto r = api.Handle(Get("/api/v1/traces/5B8EFFF798038103D269B633813FC60C"));
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->content_type, "application/json");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(r->body).get(doc), simdjson::SUCCESS);
  EXPECT_EQ(std::string_view(doc["spans"].at(0)["name"].get_string().value()),
            "GET /api/activities/home");
  EXPECT_DOUBLE_EQ(double(doc["spans"].at(0)["duration_ms"].get_double().value()), 42.0);
  // X-Ray form of the same id.
  auto x = api.Handle(Get("/api/v1/traces/1-5b8efff7-98038103d269b633813fc60c"));
  EXPECT_EQ(x->status, 200);
}

TEST_F(ApiHandlersTest, BadAndUnknownIds) {
  auto bad = api.Handle(Get("/api/v1/traces/xyz"));
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("invalid trace id 'xyz'"), std::string::npos) << bad->body;
  auto unknown = api.Handle(Get("/api/v1/traces/00000000000000000000000000000001"));
  EXPECT_EQ(unknown->status, 404);
  EXPECT_NE(unknown->body.find("\"error\""), std::string::npos);
  store.fail_ = absl::DataLossError("segment 7 corrupt");
  auto failed = api.Handle(Get("/api/v1/traces/5b8efff798038103d269b633813fc60c"));
  EXPECT_EQ(failed->status, 500);
  EXPECT_NE(failed->body.find("segment 7 corrupt"), std::string::npos);
}

TEST_F(ApiHandlersTest, ListTracesPassesLimitAndService) {
  auto r = api.Handle(Get("/api/v1/traces?limit=5&service=backend-flask"));
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(store.last_request_.limit, 5u);
  EXPECT_EQ(store.last_request_.service, "backend-flask");
  EXPECT_NE(r->body.find("\"trace_id\":\"5b8efff798038103d269b633813fc60c\""), std::string::npos);
  EXPECT_EQ(api.Handle(Get("/api/v1/traces?limit=0"))->status, 400);
  EXPECT_EQ(api.Handle(Get("/api/v1/traces?limit=abc"))->status, 400);
  EXPECT_EQ(api.Handle(Get("/api/v1/traces?limit=5000"))->status, 400);
}

TEST_F(ApiHandlersTest, AuthEndpointShape) {
  auto r = api.Handle(Get("/1/auth"));
  ASSERT_EQ(r->status, 200);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(r->body).get(doc), simdjson::SUCCESS);
  EXPECT_TRUE(bool(doc["api_key_access"]["events"].get_bool().value()));
  EXPECT_TRUE(bool(doc["api_key_access"]["queries"].get_bool().value()));
  EXPECT_EQ(std::string_view(doc["environment"]["slug"].get_string().value()), "test-env");
  EXPECT_EQ(std::string_view(doc["team"]["name"].get_string().value()), "waggle");
  EXPECT_EQ(std::string_view(doc["type"].get_string().value()), "configuration");
  EXPECT_EQ(std::string_view(doc["id"].get_string().value()).substr(0, 3), "wk_");
}

TEST(ApiHandlersAuth, KeysAreRequiredOnApiButNotOnOps) {
  FakeStore store;
  ApiKeys keys({"k1"});
  Metrics metrics;
  ApiHandlers api(&store, &keys, &metrics);
  EXPECT_EQ(api.Handle(Get("/1/auth"))->status, 401);
  HttpRequest bad = Get("/1/auth");
  bad.headers = {{"x-honeycomb-team", "nope"}};
  auto r = api.Handle(bad);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->body, R"({"error":"unknown API key"})");
  HttpRequest good = Get("/api/v1/traces");
  good.headers = {{"x-honeycomb-team", "k1"}};
  EXPECT_EQ(api.Handle(good)->status, 200);
  EXPECT_EQ(api.Handle(Get("/healthz", "10.1.1.1:9"))->status, 200);
  EXPECT_EQ(api.Handle(Get("/metrics", "10.1.1.1:9"))->status, 200);
}

TEST(ApiHandlersAuth, LocalModeRejectsRemotePeers) {
  FakeStore store;
  ApiKeys keys;
  Metrics metrics;
  ApiHandlers api(&store, &keys, &metrics);
  auto r = api.Handle(Get("/api/v1/traces", "192.168.0.10:5555"));
  EXPECT_EQ(r->status, 401);
  EXPECT_NE(r->body.find("no API keys are configured"), std::string::npos);
}

TEST_F(ApiHandlersTest, HealthReadinessAndMethods) {
  EXPECT_EQ(api.Handle(Get("/healthz"))->body, "ok\n");
  EXPECT_EQ(api.Handle(Get("/readyz"))->status, 503);
  api.SetReady(true);
  EXPECT_EQ(api.Handle(Get("/readyz"))->status, 200);
  HttpRequest post = Get("/api/v1/traces");
  post.method = "POST";
  EXPECT_EQ(api.Handle(post)->status, 405);
  EXPECT_EQ(api.Handle(Get("/api/v2/nothing"))->status, 404);
}

TEST_F(ApiHandlersTest, MetricsIncludeStoreStatsAndQueryLatency) {
  api.Handle(Get("/api/v1/traces/5b8efff798038103d269b633813fc60c"));
  auto r = api.Handle(Get("/metrics"));
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->content_type.rfind("text/plain", 0), 0u);
  const std::string& text = r->body;
  EXPECT_NE(text.find("waggle_store_segments 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("waggle_wal_bytes_written_total 4096\n"), std::string::npos);
  EXPECT_NE(text.find("waggle_store_disk_bytes 1024\n"), std::string::npos);
  EXPECT_NE(text.find("waggle_wal_fsync_mean_seconds 0.0015\n"), std::string::npos);
  EXPECT_NE(text.find("waggle_query_seconds_count{op=\"get_trace\"} 1\n"), std::string::npos);
}

TEST_F(ApiHandlersTest, BubbleUpRoute) {
  HttpRequest r = Get("/api/v1/bubbleup");
  auto get = api.Handle(r);
  ASSERT_TRUE(get.has_value());
  EXPECT_EQ(get->status, 405);
  r.method = "POST";
  r.body = R"({"selection": {"duration_ms": [5, 1]}})";
  auto bad = api.Handle(r);
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("selection.duration_ms"), std::string::npos) << bad->body;
  r.body = R"({"selection": {"duration_ms": [1, 5]}})";
  auto fake = api.Handle(r);
  EXPECT_EQ(fake->status, 501) << fake->body;  // FakeStore keeps Store's default
}

}  // namespace
}  // namespace waggle
