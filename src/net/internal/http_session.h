// HttpSession: one accepted TCP connection of HttpServer. Internal to waggle_net.
//
// A session reads one request at a time (header, optional `100 Continue`, body under the
// body limit), hands it to the worker pool, and writes the response back on its strand;
// then it reads the next request (keep-alive) or closes gracefully (shutdown of the send
// side, a short bounded drain, close).
//
// Lifetime: shared_ptr, held by the pending asio operation or the queued/running worker
// task — whichever is outstanding; there is always at most one.
// Thread-safety: all members are touched only on the session's strand, except `request_`
// and `reply_`, which the worker task owns between Dispatch() and the post back to the
// strand (the hand-off through the pool's mutex and asio::post orders the accesses).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "net/http_server.h"
#include "net/internal/server_context.h"

namespace waggle::net_internal {

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  // `admitted` false means the connection is over the limit: it only gets a 503.
  HttpSession(boost::asio::ip::tcp::socket socket, ServerContext* ctx, bool admitted);
  ~HttpSession();
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  // Registers with the context and starts serving. Call once, from any thread.
  void Start();
  // Called by Stop(): closes the connection now if it is idle (or always if `force`);
  // a busy session finishes its request and then closes. Any thread.
  void RequestClose(bool force);

 private:
  using Parser = boost::beast::http::request_parser<boost::beast::http::string_body>;
  using Response = boost::beast::http::response<boost::beast::http::string_body>;

  void ReadHeader();
  void OnHeader(boost::beast::error_code ec);
  void ReadBody();
  void ReadBodyDirect();
  void OnBody(boost::beast::error_code ec);
  void FailRead(boost::beast::error_code ec);
  void BuildRequest();
  // Copies method, path, query, headers and peer of the parsed header into request_.
  void FillRequestHead();
  // An error reply for the current request, through options.error_renderer when set.
  HttpResponse RequestError(int status, std::string message);
  void Dispatch();
  void RunOnWorker();  // on a worker thread
  void SendResponse(HttpResponse reply, bool close);
  void OnWrite(boost::beast::error_code ec, size_t bytes);
  void LogAccess(size_t bytes_out) const;
  void GracefulClose();
  void Drain();
  void CloseNow();
  void EndRequest();

  boost::beast::tcp_stream stream_;
  ServerContext* const ctx_;
  const bool admitted_;
  std::string remote_;
  boost::beast::flat_buffer buffer_;
  std::optional<Parser> parser_;
  boost::beast::http::response<boost::beast::http::empty_body> continue_;
  Response response_;
  HttpRequest request_;
  HttpResponse reply_;           // filled by the worker
  std::string content_encoding_;
  std::string spare_body_;       // recycled body buffer (capacity reuse across requests)
  bool busy_ = false;            // a request is between header and response written
  bool keep_alive_ = false;
  bool closing_ = false;
  size_t bytes_in_ = 0;
  size_t drained_ = 0;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace waggle::net_internal
