// HttpServer implementation: acceptor + io threads + worker pool; connections live in
// net_internal::HttpSession.
#include "net/http_server.h"

#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "net/internal/absl_compat.h"
#include "net/internal/address.h"
#include "net/internal/http_session.h"
#include "net/internal/server_context.h"
#include "net/internal/worker_pool.h"

namespace waggle {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using net_internal::HttpSession;

constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(50);
constexpr auto kForcedCloseWait = std::chrono::milliseconds(1000);

class HttpServerImpl final : public HttpServer {
 public:
  HttpServerImpl(const HttpServerOptions& options, HttpHandler handler)
      : ctx_(options, std::move(handler)),
        ioc_(std::max(1, options.io_threads)),
        acceptor_(asio::make_strand(ioc_)),
        accept_retry_(acceptor_.get_executor()) {}
  ~HttpServerImpl() override { Stop(); }

  StatusOr<std::string> Start() override;
  void Stop(int grace_ms = 5000) override;
  HttpServerStats Stats() const override;

 private:
  enum class State { kNew, kRunning, kStopped };

  Status Validate() const;
  StatusOr<tcp::endpoint> ResolveListen() const;
  Status Bind(const tcp::endpoint& endpoint);
  void DoAccept();
  void OnAccept(boost::system::error_code ec, tcp::socket socket);
  void RunIo();
  template <typename Pred>
  static void WaitUntil(Pred pred, std::chrono::steady_clock::time_point deadline);

  // Declared first: sessions (destroyed with ioc_) point to it.
  net_internal::ServerContext ctx_;
  std::unique_ptr<net_internal::WorkerPool> pool_;
  asio::io_context ioc_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  tcp::acceptor acceptor_;          // only touched on its strand once running
  asio::steady_timer accept_retry_;  // on the acceptor's strand
  std::vector<std::thread> io_threads_;
  std::mutex lifecycle_mu_;          // serialises Start/Stop
  State state_ = State::kNew;        // guarded by lifecycle_mu_
};

Status HttpServerImpl::Validate() const {
  const HttpServerOptions& o = ctx_.options;
  if (o.io_threads < 1 || o.worker_threads < 1 || o.max_connections < 1 ||
      o.idle_timeout_seconds < 1 || o.max_body_bytes < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        o.name, ": io_threads, worker_threads, max_connections, idle_timeout_seconds and "
                "max_body_bytes must be positive"));
  }
  return OkStatus();
}

StatusOr<tcp::endpoint> HttpServerImpl::ResolveListen() const {
  const std::string& listen = ctx_.options.listen;
  ASSIGN_OR_RETURN(net_internal::HostPort hp, net_internal::ParseHostPort(listen));
  if (hp.host.empty()) return tcp::endpoint(tcp::v4(), hp.port);
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(hp.host, ec);
  if (!ec) return tcp::endpoint(address, hp.port);
  asio::io_context resolve_ctx;
  tcp::resolver resolver(resolve_ctx);
  const auto results = resolver.resolve(hp.host, std::to_string(hp.port), ec);
  if (ec || results.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("cannot resolve host of listen address \"",
                                                   listen, "\": ", ec.message()));
  }
  return results.begin()->endpoint();
}

Status HttpServerImpl::Bind(const tcp::endpoint& endpoint) {
  const std::string& listen = ctx_.options.listen;
  boost::system::error_code ec;
  auto fail = [&](std::string_view what) {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    return absl::UnavailableError(absl::StrCat(ctx_.options.name, ": cannot ", net_internal::ToAbsl(what), " ", listen,
                                               ": ", ec.message()));
  };
  if (acceptor_.open(endpoint.protocol(), ec)) return fail("open socket for");
  if (acceptor_.set_option(asio::socket_base::reuse_address(true), ec)) return fail("configure");
  if (acceptor_.bind(endpoint, ec)) return fail("bind");
  if (acceptor_.listen(asio::socket_base::max_listen_connections, ec)) return fail("listen on");
  return OkStatus();
}

StatusOr<std::string> HttpServerImpl::Start() {
  std::lock_guard<std::mutex> lock(lifecycle_mu_);
  if (state_ != State::kNew) {
    return absl::FailedPreconditionError(
        absl::StrCat(ctx_.options.name, ": Start() may be called only once"));
  }
  RETURN_IF_ERROR(Validate());
  ASSIGN_OR_RETURN(const tcp::endpoint endpoint, ResolveListen());
  RETURN_IF_ERROR(Bind(endpoint));
  boost::system::error_code ec;
  const std::string bound = net_internal::FormatEndpoint(acceptor_.local_endpoint(ec));

  pool_ = std::make_unique<net_internal::WorkerPool>(ctx_.options.worker_threads,
                                                     ctx_.options.max_queued_requests);
  ctx_.pool = pool_.get();
  work_.emplace(asio::make_work_guard(ioc_));
  asio::post(acceptor_.get_executor(), [this] { DoAccept(); });
  for (int i = 0; i < ctx_.options.io_threads; ++i) io_threads_.emplace_back([this] { RunIo(); });
  state_ = State::kRunning;
  spdlog::info("{}: listening on {}", ctx_.options.name, bound);
  return bound;
}

void HttpServerImpl::RunIo() {
  for (;;) {
    try {
      ioc_.run();
      return;
    } catch (const std::exception& e) {  // never expected; keep the io thread alive
      spdlog::error("{}: exception on io thread: {}", ctx_.options.name, e.what());
    }
  }
}

void HttpServerImpl::DoAccept() {
  acceptor_.async_accept(asio::make_strand(ioc_),
                         [this](boost::system::error_code ec, tcp::socket socket) {
                           OnAccept(ec, std::move(socket));
                         });
}

void HttpServerImpl::OnAccept(boost::system::error_code ec, tcp::socket socket) {
  if (!acceptor_.is_open() || ec == asio::error::operation_aborted) return;
  if (ec) {
    // E.g. EMFILE: back off briefly instead of spinning.
    spdlog::warn("{}: accept failed: {}", ctx_.options.name, ec.message());
    accept_retry_.expires_after(kAcceptRetryDelay);
    accept_retry_.async_wait([this](boost::system::error_code wait_ec) {
      if (!wait_ec && acceptor_.is_open()) DoAccept();
    });
    return;
  }
  const bool admit = ctx_.open_connections.load() < ctx_.options.max_connections;
  if (admit) ctx_.open_connections.fetch_add(1);
  std::make_shared<HttpSession>(std::move(socket), &ctx_, admit)->Start();
  DoAccept();
}

template <typename Pred>
void HttpServerImpl::WaitUntil(Pred pred, std::chrono::steady_clock::time_point deadline) {
  while (!pred() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

void HttpServerImpl::Stop(int grace_ms) {
  std::lock_guard<std::mutex> lock(lifecycle_mu_);
  if (state_ != State::kRunning) {
    state_ = State::kStopped;
    return;
  }
  state_ = State::kStopped;
  ctx_.stopping.store(true);

  // 1. Stop accepting.
  std::promise<void> closed;
  asio::post(acceptor_.get_executor(), [this, &closed] {
    boost::system::error_code ec;
    acceptor_.close(ec);
    accept_retry_.cancel();
    closed.set_value();
  });
  closed.get_future().wait();

  // 2. Idle connections close now; busy ones finish their request, then close.
  for (const auto& session : ctx_.Snapshot()) session->RequestClose(/*force=*/false);

  // 3. Let queued and running requests finish and their responses be written.
  const auto grace_deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max(0, grace_ms));
  WaitUntil([this] { return ctx_.in_flight.load() <= 0; }, grace_deadline);

  // 4. Drop requests still queued, wait for running handlers, then close everything.
  pool_->Shutdown();
  for (const auto& session : ctx_.Snapshot()) session->RequestClose(/*force=*/true);
  WaitUntil([this] { return ctx_.LiveSessions() == 0; },
            std::chrono::steady_clock::now() + kForcedCloseWait);
  work_.reset();
  ioc_.stop();
  for (std::thread& t : io_threads_) t.join();
  io_threads_.clear();
  spdlog::info("{}: stopped", ctx_.options.name);
}

HttpServerStats HttpServerImpl::Stats() const {
  HttpServerStats s;
  s.requests = ctx_.requests.load();
  s.rejected_overload = ctx_.rejected_overload.load();
  s.rejected_too_large = ctx_.rejected_too_large.load();
  s.bad_requests = ctx_.bad_requests.load();
  s.open_connections = ctx_.open_connections.load();
  return s;
}

}  // namespace

std::unique_ptr<HttpServer> NewHttpServer(const HttpServerOptions& options, HttpHandler handler) {
  return std::make_unique<HttpServerImpl>(options, std::move(handler));
}

}  // namespace waggle
