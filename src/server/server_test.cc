#include "server/server.h"

#include <simdjson.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <gtest/gtest.h>

#include "net/http_client.h"
#include "server/demo_generator.h"
#include "wire/otlp_encode.h"

namespace waggle {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  TempDir() {
    path = fs::temp_directory_path() /
           ("waggle_server_test_" + std::to_string(::getpid()) + "_" +
            std::to_string(std::random_device{}()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

ServerConfig TestConfig(const TempDir& dir) {
  ServerConfig c;
  c.data_dir = (dir.path / "data").string();
  c.http_listen = "127.0.0.1:0";
  c.otlp_http_listen = "127.0.0.1:0";
  c.otlp_grpc_listen = "127.0.0.1:0";
  c.xray_listen = "127.0.0.1:0";
  c.ready_file = (dir.path / "ready.json").string();
  c.wal_sync = WalSyncPolicy::kFsync;
  return c;
}

constexpr char kTraceId[] = "5b8efff798038103d269b633813fc60c";
constexpr char kJsonBody[] = R"({"resourceSpans":[{"resource":{"attributes":[
  {"key":"service.name","value":{"stringValue":"backend-flask"}}]},
  "scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c",
  "spanId":"eee19b7ec3c1b174","name":"GET /api/activities/home","kind":2,
  "startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000042000000",
  "attributes":[{"key":"app.user_id","value":{"stringValue":"u-1"}}]},
  {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b175",
  "parentSpanId":"eee19b7ec3c1b174","name":"home-activities-mock-data","kind":1,
  "startTimeUnixNano":"1700000000001000000","endTimeUnixNano":"1700000000002000000",
  "attributes":[{"key":"app.result_length","value":{"intValue":"5"}}]}]}]}]})";

TEST(Server, IngestsOnBothPortsAndServesTraceTreeAfterRestart) {
  TempDir dir;
  ServerConfig config = TestConfig(dir);
  {
    StatusOr<std::unique_ptr<Server>> server = Server::Start(config, "test");
    ASSERT_TRUE(server.ok()) << server.status();
    const BoundAddresses& a = (*server)->addresses();
    EXPECT_NE(a.http, "127.0.0.1:0");
    EXPECT_NE(a.otlp_http, "127.0.0.1:0");

    // Ready file has every key; unserved listeners are empty.
    std::ifstream in(config.ready_file);
    std::stringstream ss;
    ss << in.rdbuf();
    simdjson::dom::parser parser;
    simdjson::dom::element ready;
    ASSERT_EQ(parser.parse(simdjson::padded_string(ss.str())).get(ready), simdjson::SUCCESS);
    EXPECT_EQ(std::string_view(ready["http"].get_string().value()), a.http);
    EXPECT_EQ(std::string_view(ready["otlp_http"].get_string().value()), a.otlp_http);
    EXPECT_TRUE(std::string_view(ready["otlp_grpc"].get_string().value()).starts_with("127.0.0.1:"));
    EXPECT_EQ(std::string_view(ready["xray"].get_string().value()), a.xray);
    EXPECT_TRUE(a.xray.starts_with("127.0.0.1:"));
    {
      // The X-Ray SDKs' sampling calls on the daemon's TCP address.
      auto daemon = NewHttpClient(a.xray);
      auto rules = daemon->Request("POST", "/GetSamplingRules", {}, "{}");
      ASSERT_TRUE(rules.ok()) << rules.status();
      EXPECT_EQ(rules->status, 200);
      EXPECT_NE(rules->body.find("\"RuleName\":\"Default\""), std::string::npos) << rules->body;
      auto unknown = daemon->Request("POST", "/v1/traces", {}, "{}");
      ASSERT_TRUE(unknown.ok());
      EXPECT_EQ(unknown->status, 404);
    }
    EXPECT_TRUE(std::string_view(ready["xray"].get_string().value()).starts_with("127.0.0.1:"));
    EXPECT_EQ(std::string_view(ready["xray"].get_string().value()), a.xray);
    EXPECT_NE((*server)->Banner().find("udp://" + a.xray), std::string::npos);
    EXPECT_NE((*server)->Banner().find("LOCAL MODE"), std::string::npos);

    auto otlp = NewHttpClient(a.otlp_http);
    auto r = otlp->Request("POST", "/v1/traces", {{"Content-Type", "application/json"}},
                           kJsonBody);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(r->Header("content-type"), "application/json");

    // Protobuf on the API port too.
    std::mt19937_64 rng(1);
    std::vector<Span> demo = GenerateDemoTrace(rng, 1'700'000'000'000'000'000);
    auto api = NewHttpClient(a.http);
    r = api->Request("POST", "/v1/traces", {{"Content-Type", "application/x-protobuf"}},
                     EncodeOtlpTracesProtobuf(demo));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 200) << r->body;

    r = api->Request("GET", "/readyz", {}, "");
    EXPECT_EQ(r->status, 200);
    r = api->Request("GET", std::string("/api/v1/traces/") + ToHex(demo[0].trace_id), {}, "");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 200) << r->body;
    r = api->Request("GET", "/metrics", {}, "");
    EXPECT_NE(r->body.find("waggle_spans_received_total"), std::string::npos);
    r = otlp->Request("POST", "/v1/traces", {{"Content-Type", "text/plain"}}, "x");
    EXPECT_EQ(r->status, 415);
    ASSERT_TRUE((*server)->Shutdown().ok());
  }
  {
    StatusOr<std::unique_ptr<Server>> server = Server::Start(config, "test");
    ASSERT_TRUE(server.ok()) << server.status();
    auto api = NewHttpClient((*server)->addresses().http);
    auto r = api->Request("GET", std::string("/api/v1/traces/") + kTraceId, {}, "");
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 200) << r->body;
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(simdjson::padded_string(r->body)).get(doc), simdjson::SUCCESS);
    simdjson::dom::element root = doc["spans"].at(0).value();
    EXPECT_EQ(std::string_view(root["name"].get_string().value()), "GET /api/activities/home");
    EXPECT_EQ(std::string_view(root["attributes"]["app.user_id"].get_string().value()), "u-1");
    simdjson::dom::element child = root["children"].at(0).value();
    EXPECT_EQ(std::string_view(child["name"].get_string().value()), "home-activities-mock-data");
    EXPECT_EQ(int64_t(child["attributes"]["app.result_length"].get_int64().value()), 5);
  }
}

// Sends one UDP datagram to "127.0.0.1:PORT".
void SendUdp(const std::string& address, const std::string& datagram) {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(address.rfind(':') + 1))));
  ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  ASSERT_EQ(::sendto(fd, datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&to),
                     sizeof(to)),
            static_cast<ssize_t>(datagram.size()));
  ::close(fd);
}

TEST(Server, ReceivesXraySegmentsOverUdpAndServesThemBack) {
  TempDir dir;
  StatusOr<std::unique_ptr<Server>> server = Server::Start(TestConfig(dir), "test");
  ASSERT_TRUE(server.ok()) << server.status();
  const BoundAddresses& a = (*server)->addresses();
  SendUdp(a.xray, "garbage");
  SendUdp(a.xray, std::string("{\"format\":\"json\",\"version\":1}\n") +
                      R"({"name":"backend-flask","id":"70de5b6f19ff9a0a",)"
                      R"("trace_id":"1-5759e988-bd862e3fe1be46a994272793","start_time":100,)"
                      R"("end_time":100.5,"http":{"response":{"status":200}},)"
                      R"("subsegments":[{"name":"child","id":"0f910026178b71eb",)"
                      R"("start_time":100.1,"end_time":100.2}]})");
  auto api = NewHttpClient(a.http);
  StatusOr<HttpClientResponse> r = absl::UnknownError("not tried");
  for (int i = 0; i < 200; ++i) {
    r = api->Request("GET", "/api/v1/traces/1-5759e988-bd862e3fe1be46a994272793", {}, "");
    if (r.ok() && r->status == 200) break;
    ::usleep(20'000);
  }
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_NE(r->body.find("\"child\""), std::string::npos) << r->body;
  r = api->Request("POST", "/Traces", {{"Content-Type", "application/x-amz-json-1.1"}},
                   R"({"TraceIds":["1-5759e988-bd862e3fe1be46a994272793"]})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_NE(r->body.find("\"Id\":\"70de5b6f19ff9a0a\""), std::string::npos) << r->body;
  // Rows are readable once in the head, a little before their WAL commit returns; the daemon
  // counts a datagram accepted after that, so the counter may lag the read above.
  const std::string accepted = "waggle_xray_datagrams_total{result=\"accepted\"} 1";
  for (int i = 0; i < 200; ++i) {
    r = api->Request("GET", "/metrics", {}, "");
    if (r.ok() && r->body.find(accepted) != std::string::npos) break;
    ::usleep(20'000);
  }
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_NE(r->body.find("waggle_xray_datagrams_total{result=\"bad_frame\"} 1"), std::string::npos);
  EXPECT_NE(r->body.find(accepted), std::string::npos) << r->body;
}

TEST(Server, ServesTheHomePageAndRendersHttpLayerErrorsAsOtlpStatus) {
  TempDir dir;
  StatusOr<std::unique_ptr<Server>> server = Server::Start(TestConfig(dir), "test");
  ASSERT_TRUE(server.ok()) << server.status();
  auto api = NewHttpClient((*server)->addresses().http);
  auto r = api->Request("GET", "/", {}, "");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->Header("content-type").starts_with("text/html"));
  EXPECT_NE(r->body.find("/api/v1/traces"), std::string::npos);
  // A gzip body that is not gzip fails in the HTTP layer, yet answers in OTLP's JSON format.
  r = api->Request("POST", "/v1/traces",
                   {{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}},
                   "definitely not gzip");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 400);
  EXPECT_TRUE(r->Header("content-type").starts_with("application/json"));
  EXPECT_NE(r->body.find("\"message\""), std::string::npos) << r->body;
  ASSERT_TRUE((*server)->Shutdown().ok());
}

TEST(Server, ApiKeysAreEnforcedAndBindFailureIsReported) {
  TempDir dir;
  ServerConfig config = TestConfig(dir);
  config.api_keys = {"sekrit"};
  StatusOr<std::unique_ptr<Server>> server = Server::Start(config, "test");
  ASSERT_TRUE(server.ok()) << server.status();
  auto api = NewHttpClient((*server)->addresses().http);
  auto r = api->Request("GET", "/1/auth", {}, "");
  EXPECT_EQ(r->status, 401);
  r = api->Request("GET", "/1/auth", {{"x-honeycomb-team", "sekrit"}}, "");
  EXPECT_EQ(r->status, 200);
  r = api->Request("POST", "/v1/traces",
                   {{"Content-Type", "application/json"}, {"x-honeycomb-team", "nope"}},
                   kJsonBody);
  EXPECT_EQ(r->status, 401);

  TempDir dir2;
  ServerConfig clash = TestConfig(dir2);
  clash.http_listen = (*server)->addresses().http;  // already in use
  StatusOr<std::unique_ptr<Server>> second = Server::Start(clash, "test");
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("--http-listen"), std::string::npos)
      << second.status();
}

TEST(Server, DemoGeneratorDeliversTraces) {
  TempDir dir;
  ServerConfig config = TestConfig(dir);
  config.wal_sync = WalSyncPolicy::kNone;
  StatusOr<std::unique_ptr<Server>> server = Server::Start(config, "test");
  ASSERT_TRUE(server.ok()) << server.status();
  DemoOptions d;
  d.otlp_address = (*server)->addresses().otlp_http;
  d.traces_per_second = 200;
  d.seed = 3;
  DemoGenerator gen(d);
  gen.Start();
  for (int i = 0; i < 100 && gen.traces_sent() < 20; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  gen.Stop();
  EXPECT_GE(gen.traces_sent(), 20u);
  EXPECT_EQ(gen.send_failures(), 0u);
  auto api = NewHttpClient((*server)->addresses().http);
  auto r = api->Request("GET", "/api/v1/traces/" + gen.last_trace_id(), {}, "");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200) << r->body;
}

}  // namespace
}  // namespace waggle
