#include "net/http_server.h"

#include <atomic>
#include <chrono>
#include <future>
#include <latch>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "net/http_client.h"
#include "net/internal/test_util.h"

namespace waggle {
namespace {

using net_test::Compress;
using net_test::RawConnection;
using net_test::RawStatus;

using Headers = std::vector<std::pair<std::string, std::string>>;

// Echo handler: the body back, with method/path/remote in headers.
HttpResponse Echo(const HttpRequest& req) {
  HttpResponse r = HttpResponse::Text(200, req.body);
  r.headers.emplace_back("X-Method", req.method);
  r.headers.emplace_back("X-Path", req.path);
  r.headers.emplace_back("X-Remote", req.remote_address);
  r.headers.emplace_back("X-Name", req.QueryParam("name"));
  return r;
}

std::unique_ptr<HttpServer> MustStart(const HttpServerOptions& options, HttpHandler handler,
                                      std::string* address) {
  auto server = NewHttpServer(options, std::move(handler));
  auto bound = server->Start();
  EXPECT_TRUE(bound.ok()) << bound.status();
  *address = bound.ok() ? *bound : "";
  return server;
}

template <typename Pred>
bool Eventually(Pred pred, int timeout_ms = 5000) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

TEST(HttpServer, StartReturnsBoundPortAndServesKeepAlive) {
  std::string address;
  auto server = MustStart({}, Echo, &address);
  ASSERT_TRUE(address.starts_with("127.0.0.1:"));
  EXPECT_NE(address, "127.0.0.1:0");

  auto client = NewHttpClient(address);
  std::string first_remote;
  for (int i = 0; i < 5; ++i) {
    const std::string body = "payload-" + std::to_string(i);
    auto resp = client->Request("POST", "/v1/traces?name=a%20b+c", {}, body);
    ASSERT_TRUE(resp.ok()) << resp.status();
    EXPECT_EQ(resp->status, 200);
    EXPECT_EQ(resp->body, body);
    EXPECT_EQ(resp->Header("x-method"), "POST");
    EXPECT_EQ(resp->Header("X-Path"), "/v1/traces");
    EXPECT_EQ(resp->Header("x-name"), "a b c");
    if (i == 0) first_remote = std::string(resp->Header("x-remote"));
    EXPECT_EQ(resp->Header("x-remote"), first_remote) << "connection was not kept alive";
  }
  EXPECT_EQ(server->Stats().requests, 5u);
  EXPECT_EQ(server->Stats().open_connections, 1u);
}

TEST(HttpServer, ConnectionCloseIsHonoured) {
  std::string address;
  auto server = MustStart({}, Echo, &address);
  RawConnection conn(address);
  conn.Send("GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  const std::string resp = conn.ReadToEof();  // returns only because the server closed
  EXPECT_EQ(RawStatus(resp), 200);
  EXPECT_NE(resp.find("Connection: close"), std::string::npos);
}

TEST(HttpServer, ChunkedBodyWithoutContentLength) {
  std::string address;
  auto server = MustStart({}, Echo, &address);
  RawConnection conn(address);
  conn.Send(
      "POST /v1/traces HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
      "Connection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  const std::string resp = conn.ReadToEof();
  EXPECT_EQ(RawStatus(resp), 200);
  EXPECT_TRUE(resp.ends_with("\r\n\r\nhello world")) << resp;
}

TEST(HttpServer, GzipAndDeflateBodiesAreInflated) {
  std::string address;
  auto server = MustStart({}, Echo, &address);
  std::string body;
  for (int i = 0; i < 100000; ++i) body += "span-" + std::to_string(i % 977) + ";";
  auto client = NewHttpClient(address);
  for (int bits : {16 + 15, 15, -15}) {
    const std::string encoding = bits == 31 ? "gzip" : "deflate";
    auto resp = client->Request("POST", "/v1/traces", {{"Content-Encoding", encoding}},
                                Compress(body, bits));
    ASSERT_TRUE(resp.ok()) << resp.status();
    EXPECT_EQ(resp->status, 200) << resp->body;
    EXPECT_EQ(resp->body, body) << "window bits " << bits;
  }
}

TEST(HttpServer, ChunkedGzipBody) {
  std::string address;
  auto server = MustStart({}, Echo, &address);
  const std::string gz = Compress("chunked and gzipped");
  const size_t half = gz.size() / 2;
  char head[64];
  std::string req =
      "POST /v1/traces HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
      "Content-Encoding: gzip\r\nConnection: close\r\n\r\n";
  snprintf(head, sizeof(head), "%zx\r\n", half);
  req += head + gz.substr(0, half) + "\r\n";
  snprintf(head, sizeof(head), "%zx\r\n", gz.size() - half);
  req += head + gz.substr(half) + "\r\n0\r\n\r\n";
  RawConnection conn(address);
  conn.Send(req);
  const std::string resp = conn.ReadToEof();
  EXPECT_EQ(RawStatus(resp), 200);
  EXPECT_TRUE(resp.ends_with("chunked and gzipped")) << resp;
}

TEST(HttpServer, BadGzipIs400AndConnectionSurvives) {
  std::string address;
  std::atomic<int> calls{0};
  auto server = MustStart({}, [&](const HttpRequest& r) { ++calls; return Echo(r); }, &address);
  auto client = NewHttpClient(address);
  auto resp = client->Request("POST", "/v1/traces", {{"Content-Encoding", "gzip"}},
                              "this is not gzip at all");
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 400);
  EXPECT_NE(resp->body.find("invalid gzip body: "), std::string::npos) << resp->body;
  std::string truncated = Compress(std::string(10000, 'x'));
  truncated.resize(truncated.size() / 2);
  resp = client->Request("POST", "/v1/traces", {{"Content-Encoding", "gzip"}}, truncated);
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 400);
  EXPECT_NE(resp->body.find("invalid gzip body: "), std::string::npos) << resp->body;
  EXPECT_EQ(calls.load(), 0);
  resp = client->Request("GET", "/ok", {}, "");
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(server->Stats().bad_requests, 2u);
}

TEST(HttpServer, BodyOverLimitIs413) {
  HttpServerOptions options;
  options.max_body_bytes = 1000;
  std::atomic<int> calls{0};
  std::string address;
  auto server =
      MustStart(options, [&](const HttpRequest& r) { ++calls; return Echo(r); }, &address);

  auto resp = NewHttpClient(address)->Request("POST", "/v1/traces", {}, std::string(1001, 'a'));
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 413);
  EXPECT_NE(resp->body.find("1000"), std::string::npos) << resp->body;

  resp = NewHttpClient(address)->Request("POST", "/v1/traces", {}, std::string(1000, 'a'));
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 200) << "exactly the limit is allowed";

  // Chunked, no length: the limit is enforced while reading.
  RawConnection conn(address);
  std::string req = "POST /v1/traces HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3; ++i) req += "1f4\r\n" + std::string(500, 'b') + "\r\n";
  req += "0\r\n\r\n";
  conn.Send(req);
  EXPECT_EQ(RawStatus(conn.ReadToEof()), 413);

  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(server->Stats().rejected_too_large, 2u);
}

TEST(HttpServer, GzipBombIs413) {
  HttpServerOptions options;
  options.max_body_bytes = 1 << 20;
  std::atomic<int> calls{0};
  std::string address;
  auto server =
      MustStart(options, [&](const HttpRequest& r) { ++calls; return Echo(r); }, &address);
  // Small on the wire, 64 times the limit once inflated.
  const std::string bomb = Compress(std::string(64 << 20, '\0'), 16 + 15, Z_BEST_COMPRESSION);
  ASSERT_LT(bomb.size(), options.max_body_bytes);
  auto client = NewHttpClient(address);
  auto resp = client->Request("POST", "/v1/traces", {{"Content-Encoding", "gzip"}}, bomb);
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 413);
  EXPECT_NE(resp->body.find("after decompression"), std::string::npos) << resp->body;
  EXPECT_EQ(calls.load(), 0);
  EXPECT_EQ(server->Stats().rejected_too_large, 1u);
  resp = client->Request("GET", "/still-fine", {}, "");  // the body was fully read: keep-alive
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 200);
}

TEST(HttpServer, UnknownContentEncodingIs415) {
  std::string address;
  auto server = MustStart({}, Echo, &address);
  auto resp = NewHttpClient(address)->Request("POST", "/v1/traces", {{"Content-Encoding", "br"}},
                                              "xyz");
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 415);
  EXPECT_NE(resp->body.find("br"), std::string::npos);
}

TEST(HttpServer, FullQueueIs503WithRetryAfter) {
  HttpServerOptions options;
  options.worker_threads = 1;
  options.max_queued_requests = 1;
  std::latch release(1);
  std::atomic<int> calls{0};
  std::string address;
  auto server = MustStart(
      options,
      [&](const HttpRequest& r) {
        ++calls;
        release.wait();
        return Echo(r);
      },
      &address);

  auto blocked = [&] { return NewHttpClient(address)->Request("POST", "/b", {}, "x"); };
  auto first = std::async(std::launch::async, blocked);
  ASSERT_TRUE(Eventually([&] { return calls.load() == 1; }));  // worker busy
  auto second = std::async(std::launch::async, blocked);       // waits in the queue
  std::this_thread::sleep_for(std::chrono::milliseconds(200));

  auto third = NewHttpClient(address)->Request("POST", "/c", {}, "y");
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_EQ(third->status, 503);
  EXPECT_EQ(third->Header("retry-after"), "1");
  EXPECT_EQ(calls.load(), 1);

  release.count_down();
  auto r1 = first.get();
  auto r2 = second.get();
  ASSERT_TRUE(r1.ok() && r2.ok());
  EXPECT_EQ(r1->status, 200);
  EXPECT_EQ(r2->status, 200);
  EXPECT_EQ(calls.load(), 2);
  EXPECT_EQ(server->Stats().rejected_overload, 1u);
}

TEST(HttpServer, ConnectionsBeyondLimitGet503AndClose) {
  HttpServerOptions options;
  options.max_connections = 2;
  std::string address;
  auto server = MustStart(options, Echo, &address);
  auto c1 = NewHttpClient(address);
  auto c2 = NewHttpClient(address);
  ASSERT_EQ(c1->Request("GET", "/", {}, "")->status, 200);
  ASSERT_EQ(c2->Request("GET", "/", {}, "")->status, 200);

  RawConnection extra(address);
  const std::string resp = extra.ReadToEof();  // server answers and closes unprompted
  EXPECT_EQ(RawStatus(resp), 503) << resp;
  EXPECT_NE(resp.find("Retry-After: 1"), std::string::npos);

  c1.reset();  // frees a slot
  ASSERT_TRUE(Eventually([&] { return server->Stats().open_connections == 1; }));
  auto c3 = NewHttpClient(address);
  auto r3 = c3->Request("GET", "/", {}, "");
  ASSERT_TRUE(r3.ok()) << r3.status();
  EXPECT_EQ(r3->status, 200);
}

TEST(HttpServer, MalformedRequestIs400AndClosed) {
  std::string address;
  std::atomic<int> calls{0};
  auto server = MustStart({}, [&](const HttpRequest& r) { ++calls; return Echo(r); }, &address);
  for (const char* garbage : {"GARBAGE\r\n\r\n", "GET / HTTP/9.9\r\n\r\n",
                              "POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n"}) {
    RawConnection conn(address);
    conn.Send(garbage);
    const std::string resp = conn.ReadToEof();
    EXPECT_EQ(RawStatus(resp), 400) << garbage << " -> " << resp;
  }
  EXPECT_EQ(calls.load(), 0);
  EXPECT_EQ(server->Stats().bad_requests, 3u);
}

TEST(HttpServer, Expect100Continue) {
  std::string address;
  auto server = MustStart({}, Echo, &address);
  RawConnection conn(address);
  conn.Send("POST /v1/traces HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
            "Expect: 100-continue\r\nConnection: close\r\n\r\n");
  const std::string interim = conn.ReadUntil("\r\n\r\n");
  EXPECT_EQ(RawStatus(interim), 100) << interim;
  conn.Send("hello");
  const std::string resp = conn.ReadToEof();
  EXPECT_EQ(RawStatus(resp), 200) << resp;
  EXPECT_TRUE(resp.ends_with("hello"));
}

TEST(HttpServer, HandlerExceptionIs500) {
  std::string address;
  auto server = MustStart(
      {}, [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("boom"); }, &address);
  auto client = NewHttpClient(address);
  auto resp = client->Request("GET", "/", {}, "");
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 500);
  resp = client->Request("GET", "/", {}, "");  // server and connection still fine
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 500);
}

TEST(HttpServer, StopLetsSlowHandlerFinish) {
  std::string address;
  std::atomic<bool> entered{false};
  auto server = MustStart(
      {},
      [&](const HttpRequest& r) {
        entered = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        return Echo(r);
      },
      &address);
  auto pending = std::async(std::launch::async, [&] {
    return NewHttpClient(address)->Request("POST", "/slow", {}, "done");
  });
  ASSERT_TRUE(Eventually([&] { return entered.load(); }));
  server->Stop(5000);
  auto resp = pending.get();
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->body, "done");
  EXPECT_EQ(resp->Header("connection"), "close");
  server->Stop();  // idempotent

  auto after = NewHttpClient(address, 1000)->Request("GET", "/", {}, "");
  EXPECT_FALSE(after.ok()) << "server still accepting after Stop";
}

TEST(HttpServer, StopClosesIdleKeepAliveConnectionsPromptly) {
  std::string address;
  auto server = MustStart({}, Echo, &address);
  auto client = NewHttpClient(address);
  ASSERT_EQ(client->Request("GET", "/", {}, "")->status, 200);
  const auto start = std::chrono::steady_clock::now();
  server->Stop(5000);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(HttpServer, ListenErrors) {
  HttpServerOptions options;
  options.listen = "127.0.0.1:99999";
  auto status = NewHttpServer(options, Echo)->Start().status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("99999"), std::string::npos) << status;

  options.listen = "localhost";
  EXPECT_EQ(NewHttpServer(options, Echo)->Start().status().code(),
            absl::StatusCode::kInvalidArgument);

  std::string address;
  auto first = MustStart({}, Echo, &address);
  options.listen = address;
  status = NewHttpServer(options, Echo)->Start().status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(status.message().find(address), std::string::npos) << status;
  EXPECT_NE(status.message().find("in use"), std::string::npos) << status;
}

TEST(HttpServer, IdleConnectionIsClosedAndClientReconnects) {
  HttpServerOptions options;
  options.idle_timeout_seconds = 1;
  std::string address;
  auto server = MustStart(options, Echo, &address);
  auto client = NewHttpClient(address);
  auto r1 = client->Request("GET", "/", {}, "");
  ASSERT_TRUE(r1.ok()) << r1.status();
  ASSERT_TRUE(Eventually([&] { return server->Stats().open_connections == 0; }, 4000))
      << "idle connection not closed";
  auto r2 = client->Request("POST", "/", {}, "again");
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_EQ(r2->body, "again");
  EXPECT_NE(r1->Header("x-remote"), r2->Header("x-remote")) << "expected a new connection";
}

TEST(HttpRequest, HeaderAndQueryParam) {
  HttpRequest req;
  req.headers = {{"content-type", "application/json"}, {"x-honeycomb-team", "k1"}};
  req.query = "a=1&b=hello+world&c=%2Fpath%3F&d&e=%zz&a=2";
  EXPECT_EQ(req.Header("content-type"), "application/json");
  EXPECT_EQ(req.Header("X-Honeycomb-Team"), "k1");
  EXPECT_EQ(req.Header("missing"), "");
  EXPECT_EQ(req.QueryParam("a"), "1");
  EXPECT_EQ(req.QueryParam("b"), "hello world");
  EXPECT_EQ(req.QueryParam("c"), "/path?");
  EXPECT_EQ(req.QueryParam("d"), "");
  EXPECT_EQ(req.QueryParam("e"), "%zz");
  EXPECT_EQ(req.QueryParam("zz"), "");
}

TEST(HttpResponse, Helpers) {
  HttpResponse j = HttpResponse::Json(201, "{}");
  EXPECT_EQ(j.status, 201);
  EXPECT_EQ(j.content_type, "application/json");
  EXPECT_EQ(j.body, "{}");
  HttpResponse t = HttpResponse::Text(404, "nope");
  EXPECT_EQ(t.status, 404);
  EXPECT_TRUE(t.content_type.starts_with("text/plain"));
}

}  // namespace
}  // namespace waggle
