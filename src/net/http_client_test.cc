#include "net/http_client.h"

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "net/http_server.h"
#include "net/internal/test_util.h"

namespace waggle {
namespace {

TEST(HttpClient, ConnectionRefusedIsUnavailable) {
  std::string address;
  {
    auto server = NewHttpServer({}, [](const HttpRequest&) { return HttpResponse{}; });
    address = *server->Start();
  }  // stopped: nothing listens on the port now
  auto resp = NewHttpClient(address, 1000)->Request("GET", "/", {}, "");
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kUnavailable) << resp.status();
  EXPECT_NE(resp.status().message().find(address), std::string::npos);
}

TEST(HttpClient, BadAddress) {
  auto resp = NewHttpClient("no-port-here")->Request("GET", "/", {}, "");
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kInvalidArgument) << resp.status();
}

TEST(HttpClient, TimeoutIsDeadlineExceeded) {
  auto server = NewHttpServer({}, [](const HttpRequest&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    return HttpResponse::Text(200, "late");
  });
  auto address = server->Start();
  ASSERT_TRUE(address.ok());
  auto client = NewHttpClient(*address, 200);
  auto resp = client->Request("GET", "/", {}, "");
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kDeadlineExceeded) << resp.status();
}

TEST(HttpClient, ReconnectsAfterServerClosedIdleConnection) {
  HttpServerOptions options;
  options.idle_timeout_seconds = 1;
  int calls = 0;
  auto server = NewHttpServer(options, [&](const HttpRequest& req) {
    ++calls;
    return HttpResponse::Text(200, req.remote_address);
  });
  auto address = server->Start();
  ASSERT_TRUE(address.ok());
  auto client = NewHttpClient(*address);
  auto r1 = client->Request("POST", "/", {{"Content-Type", "text/plain"}}, "a");
  ASSERT_TRUE(r1.ok()) << r1.status();
  std::this_thread::sleep_for(std::chrono::milliseconds(1600));  // server closes it
  auto r2 = client->Request("POST", "/", {}, "b");
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_EQ(r2->status, 200);
  EXPECT_NE(r1->body, r2->body);  // different client port: a new connection
  EXPECT_EQ(calls, 2);            // and the request was not sent twice
}

TEST(HttpClient, ReconnectsWhenServerRestartedOnSamePort) {
  std::string address;
  auto server = NewHttpServer({}, [](const HttpRequest&) { return HttpResponse::Text(200, "1"); });
  address = *server->Start();
  auto client = NewHttpClient(address);
  ASSERT_EQ(client->Request("GET", "/", {}, "")->body, "1");
  server->Stop();
  HttpServerOptions options;
  options.listen = address;
  server = NewHttpServer(options, [](const HttpRequest&) { return HttpResponse::Text(200, "2"); });
  ASSERT_TRUE(server->Start().ok());
  auto resp = client->Request("GET", "/", {}, "");
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->body, "2");
}

TEST(HttpClient, LargeBodiesRoundTrip) {
  auto server = NewHttpServer({}, [](const HttpRequest& req) {
    return HttpResponse::Text(200, req.body);
  });
  auto address = server->Start();
  ASSERT_TRUE(address.ok());
  auto client = NewHttpClient(*address);
  std::string body(3 << 20, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i * 131 % 251);
  for (int i = 0; i < 3; ++i) {
    auto resp = client->Request("POST", "/echo", {{"Content-Type", "application/x-protobuf"}},
                                body);
    ASSERT_TRUE(resp.ok()) << resp.status();
    EXPECT_EQ(resp->body, body);
    EXPECT_EQ(resp->Header("content-length"), std::to_string(body.size()));
  }
}

}  // namespace
}  // namespace waggle
