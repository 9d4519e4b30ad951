// HttpClient: a small blocking HTTP/1.1 client over one keep-alive connection (Boost.Beast).
// Used by `waggle demo`'s generator, `waggle trace`, benchmarks and tests — not by the
// server's request path.
//
// Thread-safety: one HttpClient per thread. Reconnects transparently once if the server
// closed an idle keep-alive connection.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace waggle {

struct HttpClientResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  std::string body;
  std::string_view Header(std::string_view name) const;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Sends one request and reads the whole response. `headers` are added as given.
  virtual StatusOr<HttpClientResponse> Request(
      std::string_view method, std::string_view target,
      const std::vector<std::pair<std::string, std::string>>& headers,
      std::string_view body) = 0;
};

// `address` is "host:port". Connects lazily on the first request; timeouts in milliseconds.
std::unique_ptr<HttpClient> NewHttpClient(std::string address, int timeout_ms = 10000);

}  // namespace waggle
