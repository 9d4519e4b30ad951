// HttpClient implementation: Beast over one keep-alive connection. Each call drives a
// private io_context until the operation completes or its deadline passes, which gives
// blocking calls with real timeouts.
#include "net/http_client.h"

#include <poll.h>

#include <chrono>
#include <optional>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/strings/ascii.h"
#include "net/internal/absl_compat.h"
#include "absl/strings/str_cat.h"
#include "net/internal/address.h"

namespace waggle {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

constexpr size_t kMaxResponseBody = 1u << 30;

using OutRequest = http::request<http::span_body<const char>>;

class BeastHttpClient final : public HttpClient {
 public:
  BeastHttpClient(std::string address, int timeout_ms)
      : address_(std::move(address)), timeout_(std::chrono::milliseconds(timeout_ms)),
        stream_(ioc_) {}

  StatusOr<HttpClientResponse> Request(
      std::string_view method, std::string_view target,
      const std::vector<std::pair<std::string, std::string>>& headers,
      std::string_view body) override;

 private:
  // Runs the private io_context until the operation just started has completed.
  void RunOp();
  Status Connect();
  void Disconnect();
  bool PeerClosed();
  // One attempt. `*retryable` is set when the failure happened on a reused connection
  // before any response byte arrived (the server closed it while idle).
  StatusOr<HttpClientResponse> Attempt(const OutRequest& req, bool reused, bool* retryable);
  Status Error(std::string_view what, const beast::error_code& ec) const;

  const std::string address_;
  const std::chrono::milliseconds timeout_;
  asio::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<tcp::resolver::results_type> endpoints_;
  bool connected_ = false;
};

void BeastHttpClient::RunOp() {
  ioc_.restart();
  ioc_.run();
}

Status BeastHttpClient::Error(std::string_view what, const beast::error_code& ec) const {
  const std::string msg = absl::StrCat(net_internal::ToAbsl(what), " ", address_, ": ", ec.message());
  if (ec == beast::error::timeout) return absl::DeadlineExceededError(msg);
  return absl::UnavailableError(msg);
}

Status BeastHttpClient::Connect() {
  beast::error_code ec;
  if (!endpoints_) {
    ASSIGN_OR_RETURN(net_internal::HostPort hp, net_internal::ParseHostPort(address_));
    tcp::resolver resolver(ioc_);
    auto results = resolver.resolve(hp.host.empty() ? "127.0.0.1" : hp.host,
                                    std::to_string(hp.port), ec);
    if (ec) return Error("cannot resolve", ec);
    endpoints_ = std::move(results);
  }
  stream_.expires_after(timeout_);
  stream_.async_connect(*endpoints_, [&ec](beast::error_code e, const tcp::endpoint&) { ec = e; });
  RunOp();
  if (ec) {
    Disconnect();
    return Error("cannot connect to", ec);
  }
  stream_.socket().set_option(tcp::no_delay(true), ec);
  buffer_.clear();
  connected_ = true;
  return OkStatus();
}

void BeastHttpClient::Disconnect() {
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream_.close();
  buffer_.clear();
  connected_ = false;
}

// A cheap check before reusing an idle connection: readable with nothing to read (or an
// error) means the server has closed it.
bool BeastHttpClient::PeerClosed() {
  if (buffer_.size() > 0) return true;  // unsolicited bytes: the connection is unusable
  pollfd pfd{stream_.socket().native_handle(), POLLIN, 0};
  if (::poll(&pfd, 1, 0) <= 0) return false;
  return true;  // EOF, reset or unsolicited data
}

StatusOr<HttpClientResponse> BeastHttpClient::Attempt(const OutRequest& req, bool reused,
                                                      bool* retryable) {
  *retryable = false;
  beast::error_code ec;
  stream_.expires_after(timeout_);
  http::async_write(stream_, req, [&ec](beast::error_code e, size_t) { ec = e; });
  RunOp();
  if (ec) {
    *retryable = reused;
    Disconnect();
    return Error("cannot send request to", ec);
  }
  for (;;) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxResponseBody);
    parser.header_limit(64 << 10);
    if (req.method() == http::verb::head) parser.skip(true);
    stream_.expires_after(timeout_);
    http::async_read(stream_, buffer_, parser, [&ec](beast::error_code e, size_t) { ec = e; });
    RunOp();
    if (ec) {
      *retryable = reused && !parser.got_some() && ec != beast::error::timeout;
      Disconnect();
      return Error("cannot read response from", ec);
    }
    auto msg = parser.release();
    const unsigned status = msg.result_int();
    if (status >= 100 && status < 200 && status != 101) continue;  // interim response
    HttpClientResponse out;
    out.status = static_cast<int>(status);
    out.headers.reserve(std::distance(msg.begin(), msg.end()));
    for (const auto& field : msg) {
      std::string name(field.name_string());
      absl::AsciiStrToLower(&name);
      out.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    out.body = std::move(msg.body());
    if (!msg.keep_alive()) Disconnect();
    return out;
  }
}

StatusOr<HttpClientResponse> BeastHttpClient::Request(
    std::string_view method, std::string_view target,
    const std::vector<std::pair<std::string, std::string>>& headers, std::string_view body) {
  OutRequest req;
  req.version(11);
  const http::verb verb = http::string_to_verb(method);
  if (verb == http::verb::unknown) {
    req.method_string(method);
  } else {
    req.method(verb);
  }
  req.target(target);
  req.set(http::field::host, address_);
  try {
    for (const auto& [name, value] : headers) req.insert(name, value);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("invalid request header: ", e.what()));
  }
  req.body() = http::span_body<const char>::value_type(body.data(), body.size());
  req.prepare_payload();

  for (int attempt = 0;; ++attempt) {
    bool reused = connected_;
    if (reused && PeerClosed()) {
      Disconnect();
      reused = false;
    }
    if (!connected_) RETURN_IF_ERROR(Connect());
    bool retryable = false;
    StatusOr<HttpClientResponse> result = Attempt(req, reused, &retryable);
    if (result.ok() || !retryable || attempt > 0) return result;
  }
}

}  // namespace

std::unique_ptr<HttpClient> NewHttpClient(std::string address, int timeout_ms) {
  return std::make_unique<BeastHttpClient>(std::move(address), timeout_ms);
}

}  // namespace waggle
