#include "xray/xray_daemon.h"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "xray/internal/datagram.h"

namespace waggle::xray {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;

constexpr auto kExpireInterval = std::chrono::seconds(1);
constexpr std::string_view kDatagramsMetric = "waggle_xray_datagrams_total";
constexpr std::string_view kDatagramsHelp =
    "X-Ray daemon datagrams by result: accepted, too_large, bad_frame (header/newline), "
    "bad_document (segment rejected by the decoder), queue_full, store_error.";

StatusOr<udp::endpoint> ResolveListen(const std::string& listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError("invalid address '" + listen + "': expected host:port");
  }
  std::string host = listen.substr(0, colon);
  std::string port_text = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "0.0.0.0";
  unsigned long port = 0;
  try {
    size_t used = 0;
    port = std::stoul(port_text, &used);
    if (used != port_text.size() || port > 65535) throw std::out_of_range("port");
  } catch (const std::exception&) {
    return absl::InvalidArgumentError("invalid port in '" + listen + "'");
  }
  boost::system::error_code ec;
  asio::ip::address address = asio::ip::make_address(host, ec);
  if (!ec) return udp::endpoint(address, static_cast<uint16_t>(port));
  asio::io_context io;
  udp::resolver resolver(io);
  auto results = resolver.resolve(udp::v4(), host, port_text, ec);
  if (ec || results.empty()) {
    return absl::InvalidArgumentError("cannot resolve '" + host + "': " + ec.message());
  }
  return results.begin()->endpoint();
}

std::string FormatEndpoint(const udp::endpoint& e) {
  std::string host = e.address().to_string();
  if (e.address().is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(e.port());
}

}  // namespace

class XrayDaemon::Impl {
 public:
  Impl(XrayDaemonOptions options, SegmentIngester* ingester, Metrics* metrics)
      : options_(std::move(options)),
        ingester_(ingester),
        socket_(io_),
        buffer_(options_.max_datagram_bytes + 1),
        accepted_(Count(metrics, "accepted")),
        too_large_(Count(metrics, "too_large")),
        bad_frame_(Count(metrics, "bad_frame")),
        bad_document_(Count(metrics, "bad_document")),
        queue_full_(Count(metrics, "queue_full")),
        store_error_(Count(metrics, "store_error")) {}

  ~Impl() { Stop(); }

  StatusOr<std::string> Start() {
    ASSIGN_OR_RETURN(udp::endpoint endpoint, ResolveListen(options_.listen));
    boost::system::error_code ec;
    socket_.open(endpoint.protocol(), ec);
    if (!ec) socket_.bind(endpoint, ec);
    if (ec) {
      return absl::UnavailableError("cannot bind UDP " + options_.listen + ": " + ec.message());
    }
    socket_.set_option(udp::socket::receive_buffer_size(options_.socket_receive_buffer_bytes),
                       ec);  // best effort
    std::string bound = FormatEndpoint(socket_.local_endpoint(ec));
    started_ = true;
    Receive();
    io_thread_ = std::thread([this] { io_.run(); });
    worker_ = std::thread([this] { Work(); });
    return bound;
  }

  void Stop() {
    if (!started_ || stopped_) return;
    stopped_ = true;
    asio::post(io_, [this] {
      boost::system::error_code ignored;
      socket_.close(ignored);
    });
    io_thread_.join();
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }

 private:
  static Counter* Count(Metrics* m, const char* result) {
    return m->GetCounter(kDatagramsMetric, kDatagramsHelp, {{"result", result}});
  }

  void Receive() {
    socket_.async_receive_from(
        asio::buffer(buffer_), sender_, [this](boost::system::error_code ec, size_t n) {
          if (ec == asio::error::operation_aborted || !socket_.is_open()) return;
          if (!ec) OnDatagram(n);
          Receive();
        });
  }

  // io thread
  void OnDatagram(size_t n) {
    if (n > options_.max_datagram_bytes) {
      too_large_->Inc();
      spdlog::debug("xray: dropped a datagram over {} bytes from {}", options_.max_datagram_bytes,
                   sender_.address().to_string());
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (queue_.size() >= options_.queue_capacity) {
        queue_full_->Inc();
        return;
      }
      queue_.emplace_back(buffer_.data(), n);
    }
    cv_.notify_one();
  }

  // worker thread
  void Work() {
    auto next_expiry = std::chrono::steady_clock::now() + kExpireInterval;
    for (;;) {
      std::vector<std::string> drained;
      bool stopping = false;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait_until(lock, next_expiry, [this] { return stopping_ || !queue_.empty(); });
        while (!queue_.empty() && drained.size() < options_.max_batch) {
          drained.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        stopping = stopping_ && queue_.empty();
      }
      if (!drained.empty()) Process(drained);
      if (std::chrono::steady_clock::now() >= next_expiry) {
        Status st = ingester_->ExpirePending(std::chrono::system_clock::now());
        if (!st.ok()) spdlog::warn("xray: storing expired in-progress segments: {}", std::string(st.message()));
        next_expiry = std::chrono::steady_clock::now() + kExpireInterval;
      }
      if (stopping) return;
    }
  }

  void Process(const std::vector<std::string>& datagrams) {
    std::vector<std::string_view> documents;
    documents.reserve(datagrams.size());
    for (const std::string& d : datagrams) {
      StatusOr<std::string_view> doc = xray_internal::DatagramDocument(d);
      if (!doc.ok()) {
        bad_frame_->Inc();
        spdlog::debug("xray: dropped a datagram: {}", std::string(doc.status().message()));
        continue;
      }
      documents.push_back(*doc);
    }
    if (documents.empty()) return;
    std::vector<IngestResult> results =
        ingester_->Ingest(documents, std::chrono::system_clock::now());
    for (const IngestResult& r : results) {
      if (r.status.ok()) {
        accepted_->Inc();
      } else if (r.status.code() == absl::StatusCode::kInvalidArgument) {
        bad_document_->Inc();
        spdlog::debug("xray: dropped segment '{}': {}", r.id, std::string(r.status.message()));
      } else {
        store_error_->Inc();
        spdlog::warn("xray: storing segment '{}' failed: {}", r.id, std::string(r.status.message()));
      }
    }
  }

  const XrayDaemonOptions options_;
  SegmentIngester* const ingester_;
  asio::io_context io_;
  udp::socket socket_;               // io thread only (after Start)
  std::vector<char> buffer_;         // io thread only
  udp::endpoint sender_;             // io thread only
  Counter* const accepted_;
  Counter* const too_large_;
  Counter* const bad_frame_;
  Counter* const bad_document_;
  Counter* const queue_full_;
  Counter* const store_error_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;    // guarded by mu_; at most queue_capacity
  bool stopping_ = false;            // guarded by mu_
  bool started_ = false;             // controlling thread only
  bool stopped_ = false;             // controlling thread only
  std::thread io_thread_;
  std::thread worker_;
};

XrayDaemon::XrayDaemon(XrayDaemonOptions options, SegmentIngester* ingester, Metrics* metrics)
    : impl_(std::make_unique<Impl>(std::move(options), ingester, metrics)) {}

XrayDaemon::~XrayDaemon() = default;

StatusOr<std::string> XrayDaemon::Start() { return impl_->Start(); }

void XrayDaemon::Stop() { impl_->Stop(); }

}  // namespace waggle::xray
