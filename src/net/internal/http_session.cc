#include "net/internal/http_session.h"

#include <algorithm>
#include <exception>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <spdlog/spdlog.h>

#include "absl/strings/ascii.h"
#include "net/internal/absl_compat.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "net/internal/address.h"
#include "net/internal/body_decoder.h"

namespace waggle::net_internal {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

constexpr size_t kHeaderLimit = 64 << 10;
constexpr size_t kReadBufferLimit = 1 << 20;
constexpr size_t kMaxRecycledBody = 8 << 20;  // larger buffers are freed, not kept per connection
constexpr size_t kMaxDrainBytes = 1 << 20;
constexpr size_t kChunkedReadCapacity = 64 << 10;
constexpr auto kDrainTimeout = std::chrono::seconds(1);

HttpResponse ErrorReply(int status, std::string message) {
  message.push_back('\n');
  return HttpResponse::Text(status, std::move(message));
}

// Connection-level failures that end a session silently (nothing useful to answer).
bool IsQuietReadError(beast::error_code ec) {
  return ec == http::error::end_of_stream || ec == http::error::partial_message ||
         ec == beast::error::timeout || ec == asio::error::operation_aborted ||
         ec == asio::error::eof || ec.category() != beast::error_code(http::error::end_of_stream).category();
}

}  // namespace

HttpSession::HttpSession(asio::ip::tcp::socket socket, ServerContext* ctx, bool admitted)
    : stream_(std::move(socket)), ctx_(ctx), admitted_(admitted), buffer_(kReadBufferLimit) {
  beast::error_code ec;
  const auto remote = stream_.socket().remote_endpoint(ec);
  remote_ = ec ? std::string("unknown") : FormatEndpoint(remote);
  stream_.socket().set_option(asio::ip::tcp::no_delay(true), ec);
}

HttpSession::~HttpSession() {
  EndRequest();
  if (admitted_) ctx_->open_connections.fetch_sub(1, std::memory_order_relaxed);
  ctx_->Unregister(this);
}

void HttpSession::Start() {
  ctx_->Register(shared_from_this());
  asio::post(stream_.get_executor(), [self = shared_from_this()] {
    if (self->ctx_->stopping.load()) return self->CloseNow();
    if (self->admitted_) return self->ReadHeader();
    // Over the connection limit: answer without reading and close.
    self->ctx_->rejected_overload.fetch_add(1, std::memory_order_relaxed);
    HttpResponse reply = ErrorReply(503, "too many connections, retry later");
    reply.headers.emplace_back("Retry-After", "1");
    self->SendResponse(std::move(reply), /*close=*/true);
  });
}

void HttpSession::RequestClose(bool force) {
  asio::post(stream_.get_executor(), [self = shared_from_this(), force] {
    if (force || (!self->busy_ && !self->closing_)) self->CloseNow();
  });
}

void HttpSession::ReadHeader() {
  if (ctx_->stopping.load()) return CloseNow();
  request_.method.clear();  // marks "no request head yet" for RequestError and the access log
  std::string body = std::move(spare_body_);
  body.clear();
  if (body.capacity() > kMaxRecycledBody) body = std::string();
  parser_.emplace(std::piecewise_construct, std::make_tuple(std::move(body)));
  parser_->header_limit(kHeaderLimit);
  parser_->body_limit(ctx_->options.max_body_bytes);
  stream_.expires_after(std::chrono::seconds(ctx_->options.idle_timeout_seconds));
  http::async_read_header(stream_, buffer_, *parser_,
                          [self = shared_from_this()](beast::error_code ec, size_t) {
                            self->OnHeader(ec);
                          });
}

void HttpSession::OnHeader(beast::error_code ec) {
  if (ec) return FailRead(ec);
  busy_ = true;
  ctx_->in_flight.fetch_add(1, std::memory_order_relaxed);
  started_ = std::chrono::steady_clock::now();
  const auto& header = parser_->get();
  const auto expect = header[http::field::expect];
  if (!parser_->is_done() && absl::EqualsIgnoreCase(ToAbsl(expect), "100-continue")) {
    continue_ = {http::status::continue_, header.version()};
    stream_.expires_after(std::chrono::seconds(ctx_->options.idle_timeout_seconds));
    http::async_write(stream_, continue_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return self->CloseNow();
                        self->ReadBody();
                      });
    return;
  }
  ReadBody();
}

void HttpSession::ReadBody() {
  if (parser_->is_done()) return OnBody({});
  if (!parser_->chunked() && parser_->content_length()) return ReadBodyDirect();
  // Beast sizes each read by the buffer's free capacity; make chunked bodies read in
  // large steps (the capacity is kept for the connection's later requests).
  buffer_.reserve(kChunkedReadCapacity);
  stream_.expires_after(std::chrono::seconds(ctx_->options.idle_timeout_seconds));
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code ec, size_t) {
                     self->OnBody(ec);
                   });
}

void HttpSession::ReadBodyDirect() {
  // Content-Length bodies bypass the parser: bytes go from the socket straight into the
  // final string (the parser already checked the length against the body limit).
  std::string& body = parser_->get().body();
  const size_t length = static_cast<size_t>(*parser_->content_length());
  body.resize(length);
  const size_t buffered = std::min(buffer_.size(), length);
  asio::buffer_copy(asio::buffer(body.data(), buffered), buffer_.data());
  buffer_.consume(buffered);
  if (buffered == length) return OnBody({});
  stream_.expires_after(std::chrono::seconds(ctx_->options.idle_timeout_seconds));
  asio::async_read(stream_, asio::buffer(body.data() + buffered, length - buffered),
                   [self = shared_from_this()](beast::error_code ec, size_t) {
                     // A short body is a truncated request: close quietly like Beast would.
                     self->OnBody(ec == asio::error::eof ? http::error::partial_message : ec);
                   });
}

void HttpSession::OnBody(beast::error_code ec) {
  if (ec) return FailRead(ec);
  ctx_->requests.fetch_add(1, std::memory_order_relaxed);
  BuildRequest();
  Dispatch();
}

void HttpSession::FailRead(beast::error_code ec) {
  keep_alive_ = false;
  if (ec == http::error::body_limit) {
    ctx_->rejected_too_large.fetch_add(1, std::memory_order_relaxed);
    // A Content-Length over the limit fails while the header is parsed, after its fields.
    if (parser_ && !parser_->get().method_string().empty()) FillRequestHead();
    return SendResponse(
        RequestError(413, absl::StrCat("request body exceeds the limit of ",
                                       ctx_->options.max_body_bytes, " bytes")),
        /*close=*/true);
  }
  if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
    ctx_->bad_requests.fetch_add(1, std::memory_order_relaxed);
    return SendResponse(ErrorReply(431, "request header fields too large"), /*close=*/true);
  }
  if (IsQuietReadError(ec)) return CloseNow();
  ctx_->bad_requests.fetch_add(1, std::memory_order_relaxed);
  SendResponse(ErrorReply(400, absl::StrCat("malformed HTTP request: ", ec.message())),
               /*close=*/true);
}

HttpResponse HttpSession::RequestError(int status, std::string message) {
  if (!ctx_->options.error_renderer || request_.method.empty()) {
    return ErrorReply(status, std::move(message));
  }
  return ctx_->options.error_renderer(request_, status, message);
}

void HttpSession::BuildRequest() {
  FillRequestHead();
  request_.body = std::move(parser_->get().body());
  bytes_in_ = request_.body.size();
}

void HttpSession::FillRequestHead() {
  auto& msg = parser_->get();
  keep_alive_ = msg.keep_alive();
  request_.method.assign(msg.method_string());
  const std::string_view target = msg.target();
  const size_t q = target.find('?');
  request_.path.assign(target.substr(0, q));
  if (q == std::string_view::npos) {
    request_.query.clear();
  } else {
    request_.query.assign(target.substr(q + 1));
  }
  request_.headers.clear();
  content_encoding_.clear();
  for (const auto& field : msg) {
    std::string name(field.name_string());
    absl::AsciiStrToLower(&name);
    if (name == "content-encoding") content_encoding_.assign(field.value());
    request_.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  request_.body.clear();
  request_.remote_address = remote_;
}

void HttpSession::Dispatch() {
  auto self = shared_from_this();
  if (ctx_->pool->TrySubmit([self] { self->RunOnWorker(); })) return;
  ctx_->rejected_overload.fetch_add(1, std::memory_order_relaxed);
  HttpResponse reply =
      RequestError(503, "server overloaded: request queue is full, retry later");
  bool has_retry_after = false;
  for (const auto& [name, value] : reply.headers) {
    has_retry_after |= absl::EqualsIgnoreCase(ToAbsl(name), "retry-after");
  }
  if (!has_retry_after) reply.headers.emplace_back("Retry-After", "1");
  SendResponse(std::move(reply), /*close=*/false);
}

void HttpSession::RunOnWorker() {
  HttpResponse reply;
  bool ok = true;
  if (!IsIdentityEncoding(content_encoding_)) {
    std::string decoded = std::move(spare_body_);
    const Status s =
        DecodeBody(content_encoding_, request_.body, ctx_->options.max_body_bytes, &decoded);
    if (s.ok()) {
      spare_body_ = std::move(request_.body);
      request_.body = std::move(decoded);
    } else {
      ok = false;
      spare_body_ = std::move(decoded);
      int status = 500;
      if (s.code() == absl::StatusCode::kResourceExhausted) {
        status = 413;
        ctx_->rejected_too_large.fetch_add(1, std::memory_order_relaxed);
      } else if (s.code() == absl::StatusCode::kInvalidArgument) {
        status = 400;
        ctx_->bad_requests.fetch_add(1, std::memory_order_relaxed);
      } else if (s.code() == absl::StatusCode::kUnimplemented) {
        status = 415;
      }
      reply = RequestError(status, std::string(s.message()));
    }
  }
  if (ok) {
    try {
      reply = ctx_->handler(request_);
    } catch (const std::exception& e) {
      spdlog::error("{}: handler for {} {} threw: {}", ctx_->options.name, request_.method,
                    request_.path, e.what());
      reply = ErrorReply(500, "internal server error");
    } catch (...) {
      spdlog::error("{}: handler for {} {} threw a non-std exception", ctx_->options.name,
                    request_.method, request_.path);
      reply = ErrorReply(500, "internal server error");
    }
  }
  reply_ = std::move(reply);
  asio::post(stream_.get_executor(), [self = shared_from_this()] {
    self->SendResponse(std::move(self->reply_), /*close=*/false);
  });
}

void HttpSession::SendResponse(HttpResponse reply, bool close) {
  const unsigned version = parser_ && parser_->is_header_done() ? parser_->get().version() : 11;
  const bool keep = keep_alive_ && !close && !ctx_->stopping.load() && !closing_;
  response_ = Response{};
  try {
    response_.version(version == 10 ? 10 : 11);
    response_.result(reply.status >= 100 && reply.status <= 999 ? reply.status : 500);
    if (!reply.content_type.empty()) response_.set(http::field::content_type, reply.content_type);
    for (const auto& [name, value] : reply.headers) response_.insert(name, value);
    response_.body() = std::move(reply.body);
  } catch (const std::exception& e) {  // e.g. an invalid header from the handler
    spdlog::error("{}: cannot build response: {}", ctx_->options.name, e.what());
    response_ = Response{http::status::internal_server_error, 11};
    response_.set(http::field::content_type, "text/plain; charset=utf-8");
    response_.body() = "internal server error: invalid response\n";
  }
  response_.keep_alive(keep);
  response_.prepare_payload();
  stream_.expires_after(std::chrono::seconds(ctx_->options.idle_timeout_seconds));
  http::async_write(stream_, response_,
                    [self = shared_from_this()](beast::error_code ec, size_t bytes) {
                      self->OnWrite(ec, bytes);
                    });
}

void HttpSession::OnWrite(beast::error_code ec, size_t bytes) {
  LogAccess(bytes);
  EndRequest();
  if (request_.body.capacity() > spare_body_.capacity()) std::swap(request_.body, spare_body_);
  request_.body.clear();
  response_.body().clear();
  bytes_in_ = 0;
  if (ec) return CloseNow();
  if (!response_.keep_alive()) return GracefulClose();
  ReadHeader();
}

void HttpSession::LogAccess(size_t bytes_out) const {
  if (!spdlog::should_log(spdlog::level::debug)) return;
  const auto micros = busy_ ? std::chrono::duration_cast<std::chrono::microseconds>(
                                  std::chrono::steady_clock::now() - started_)
                                  .count()
                            : 0;
  spdlog::debug("{} access method={} path={} status={} bytes_in={} bytes_out={} micros={} "
                "remote={}",
                ctx_->options.name, request_.method.empty() ? "-" : request_.method,
                request_.path.empty() ? "-" : request_.path, response_.result_int(), bytes_in_,
                bytes_out, micros, remote_);
}

void HttpSession::GracefulClose() {
  // Half-close, then read (and discard) what the peer still sends so that closing does
  // not turn into a reset that could destroy the response in flight.
  closing_ = true;
  beast::error_code ec;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  if (ec) return CloseNow();
  buffer_.consume(buffer_.size());
  stream_.expires_after(kDrainTimeout);
  Drain();
}

void HttpSession::Drain() {
  stream_.async_read_some(buffer_.prepare(16 << 10),
                          [self = shared_from_this()](beast::error_code ec, size_t n) {
                            self->drained_ += n;
                            if (ec || self->drained_ > kMaxDrainBytes) return self->CloseNow();
                            self->Drain();
                          });
}

void HttpSession::CloseNow() {
  closing_ = true;
  EndRequest();
  beast::error_code ec;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  stream_.close();
}

void HttpSession::EndRequest() {
  if (!busy_) return;
  busy_ = false;
  ctx_->in_flight.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace waggle::net_internal
