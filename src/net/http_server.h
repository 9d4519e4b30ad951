// HttpServer: an HTTP/1.1 server (Boost.Beast/Asio) for the API and OTLP/HTTP ports.
//
// Keep-alive, chunked and Content-Length request bodies, `Content-Encoding: gzip` (and
// `deflate`) request bodies inflated before the handler sees them, a body limit enforced
// while reading and while inflating (413), a bound on open connections (beyond it new
// connections get 503 + Retry-After and are closed), idle/read timeouts, and an access log
// line per request at debug level (spdlog).
//
// Threading: `io_threads` threads run the sockets; handlers run on a bounded worker pool of
// `worker_threads` threads with a queue of `max_queued_requests`. When the queue is full the
// server answers 503 with `Retry-After: 1` without calling the handler. Handlers may block
// (e.g. waiting for a WAL fsync); they must not throw (an escaping exception becomes a 500).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace waggle {

struct HttpRequest {
  std::string method;   // "GET", "POST", ...
  std::string path;     // target without the query string, percent-decoding not applied
  std::string query;    // raw query string without '?'
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  std::string body;     // after Content-Encoding was undone
  std::string remote_address;  // "127.0.0.1:54321"

  // Value of the first header named `name` (lowercase), or empty.
  std::string_view Header(std::string_view name) const;
  // Value of query parameter `name` (percent-decoded), or empty.
  std::string QueryParam(std::string_view name) const;
};

// Percent-decodes a path segment ("%2F" -> '/'; '+' stays '+'); malformed escapes are kept.
std::string PercentDecode(std::string_view in);

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers

  static HttpResponse Json(int status, std::string body);
  static HttpResponse Text(int status, std::string body);
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// Renders an error the server answers by itself (413 body too large, 400 undecodable
// Content-Encoding, 415 unknown encoding, 503 overload) for a request whose headers were read:
// `request` carries method, path, query and headers but no body. Lets a protocol answer in its
// own error format (OTLP: google.rpc.Status in the request's content type). The server adds
// `Retry-After` to 503s itself. Must not throw; called on io and worker threads.
using HttpErrorRenderer =
    std::function<HttpResponse(const HttpRequest& request, int status, std::string_view message)>;

struct HttpServerOptions {
  std::string listen = "127.0.0.1:0";  // host:port; port 0 picks a free port
  size_t max_body_bytes = 64u << 20;   // after decompression
  size_t max_connections = 1024;
  int io_threads = 1;
  int worker_threads = 16;
  size_t max_queued_requests = 256;
  int idle_timeout_seconds = 60;
  std::string name = "http";           // for logs and metrics
  HttpErrorRenderer error_renderer;    // unset: text/plain error bodies
};

struct HttpServerStats {
  uint64_t requests = 0;
  uint64_t rejected_overload = 0;
  uint64_t rejected_too_large = 0;
  uint64_t bad_requests = 0;
  uint64_t open_connections = 0;
};

class HttpServer {
 public:
  virtual ~HttpServer() = default;
  // Binds and starts serving. Returns the bound "host:port".
  virtual StatusOr<std::string> Start() = 0;
  // Stops accepting, lets in-flight requests finish (up to `grace_ms`), closes connections.
  // Idempotent.
  virtual void Stop(int grace_ms = 5000) = 0;
  virtual HttpServerStats Stats() const = 0;
};

// `handler` is called for every well-formed request (the router lives in the caller).
std::unique_ptr<HttpServer> NewHttpServer(const HttpServerOptions& options, HttpHandler handler);

}  // namespace waggle
