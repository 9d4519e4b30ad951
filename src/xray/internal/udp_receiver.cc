#include "xray/internal/udp_receiver.h"

#include <linux/sock_diag.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <algorithm>
#include <cerrno>
#include <cstring>

namespace waggle::xray_internal {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;

StatusOr<udp::endpoint> ResolveListen(const std::string &listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError("invalid address '" + listen +
                                      "': expected host:port");
  }
  std::string host = listen.substr(0, colon);
  std::string port_text = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty())
    host = "0.0.0.0";
  unsigned long port = 0;
  try {
    size_t used = 0;
    port = std::stoul(port_text, &used);
    if (used != port_text.size() || port > 65535)
      throw std::out_of_range("port");
  } catch (const std::exception &) {
    return absl::InvalidArgumentError("invalid port in '" + listen + "'");
  }
  boost::system::error_code ec;
  asio::ip::address address = asio::ip::make_address(host, ec);
  if (!ec)
    return udp::endpoint(address, static_cast<uint16_t>(port));
  asio::io_context io;
  udp::resolver resolver(io);
  auto results = resolver.resolve(udp::v4(), host, port_text, ec);
  if (ec || results.empty()) {
    return absl::InvalidArgumentError("cannot resolve '" + host +
                                      "': " + ec.message());
  }
  return results.begin()->endpoint();
}

std::string FormatEndpoint(const udp::endpoint &e) {
  std::string host = e.address().to_string();
  if (e.address().is_v6())
    host = "[" + host + "]";
  return host + ":" + std::to_string(e.port());
}

} // namespace

std::chrono::microseconds NextReceivePause(size_t received, size_t received_bytes,
                                           std::chrono::microseconds elapsed,
                                           size_t socket_buffer,
                                           std::chrono::microseconds longest) {
  constexpr double kKernelBytesPerDatagram = 1024;
  const double charged = static_cast<double>(received_bytes) +
                         kKernelBytesPerDatagram * static_cast<double>(received);
  if (charged <= 0 || elapsed.count() <= 0)
    return longest;
  const double bytes_per_us = charged / static_cast<double>(elapsed.count());
  const double fits_us = static_cast<double>(socket_buffer) / 4 / bytes_per_us;
  if (fits_us >= static_cast<double>(longest.count()))
    return longest;
  return std::chrono::microseconds(static_cast<int64_t>(fits_us));
}

UdpReceiver::~UdpReceiver() { Close(); }

StatusOr<std::string> UdpReceiver::Open(const std::string &listen,
                                        size_t max_datagram_bytes,
                                        int receive_buffer_bytes,
                                        size_t batch) {
  ASSIGN_OR_RETURN(udp::endpoint endpoint, ResolveListen(listen));
  fd_ = ::socket(endpoint.protocol().family(), SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0)
    return absl::UnavailableError(std::string("UDP socket: ") +
                                  std::strerror(errno));
  // Best effort: FORCE needs CAP_NET_ADMIN; plain SO_RCVBUF is capped at
  // net.core.rmem_max.
  if (::setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &receive_buffer_bytes,
                   sizeof(receive_buffer_bytes)) != 0) {
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer_bytes,
                 sizeof(receive_buffer_bytes));
  }
  socklen_t len = sizeof(granted_rcvbuf_);
  ::getsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &granted_rcvbuf_, &len);
  if (::bind(fd_, endpoint.data(), static_cast<socklen_t>(endpoint.size())) !=
      0) {
    const int err = errno;
    Close();
    return absl::UnavailableError("cannot bind UDP " + listen + ": " +
                                  std::strerror(err));
  }
  udp::endpoint bound;
  socklen_t bound_len = static_cast<socklen_t>(bound.capacity());
  ::getsockname(fd_, bound.data(), &bound_len);
  bound.resize(bound_len);
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) {
    Close();
    return absl::UnavailableError(std::string("eventfd: ") +
                                  std::strerror(errno));
  }
  max_datagram_bytes_ = max_datagram_bytes;
  batch_ = batch;
  // One byte over the limit, so that an oversized datagram is seen as such.
  overflow_bytes_ = max_datagram_bytes + 1 > kInlineBytes ? max_datagram_bytes + 1 - kInlineBytes : 0;
  overflow_.reset(new char[std::max<size_t>(1, batch * overflow_bytes_)]);
  iov_.resize(2 * batch);
  msgs_.resize(batch);
  for (size_t i = 0; i < batch; ++i) {
    iov_[2 * i + 1] = {overflow_.get() + i * overflow_bytes_, overflow_bytes_};
    msgs_[i].msg_hdr.msg_iov = &iov_[2 * i];
    msgs_[i].msg_hdr.msg_iovlen = 2;
  }
  return FormatEndpoint(bound);
}

bool UdpReceiver::WaitReadable() {
  pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  for (;;) {
    const int r = ::poll(fds, 2, -1);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      spdlog::warn("xray: poll on the UDP socket failed: {}",
                   std::strerror(errno));
      return false;
    }
    return (fds[1].revents & POLLIN) == 0;
  }
}

bool UdpReceiver::Receive(DatagramBatch *out, ReceiveStats *stats) {
  return ReceiveBatch(out, stats, /*wait=*/true);
}

bool UdpReceiver::ReceiveIfReady(DatagramBatch *out, ReceiveStats *stats) {
  return ReceiveBatch(out, stats, /*wait=*/false);
}

void UdpReceiver::AimAt(char *slots) {
  const size_t inline_bytes = std::min(kInlineBytes, max_datagram_bytes_ + 1);
  for (size_t i = 0; i < batch_; ++i) {
    iov_[2 * i] = {slots + i * kSlotBytes, inline_bytes};
    msgs_[i].msg_hdr.msg_flags = 0;
  }
}

bool UdpReceiver::ReceiveBatch(DatagramBatch *out, ReceiveStats *stats,
                               bool wait) {
  for (;;) {
    const size_t slots_offset = out->used_bytes();
    AimAt(out->Reserve(batch_ * kSlotBytes));
    const int n = ::recvmmsg(fd_, msgs_.data(), static_cast<unsigned>(batch_),
                             MSG_DONTWAIT, nullptr);
    if (n > 0) {
      Collect(n, slots_offset, out, stats);
      return true;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      spdlog::warn("xray: recvmmsg failed: {}", std::strerror(errno));
    }
    if (!wait)
      return true;
    if (!WaitReadable())
      return false;
  }
}

void UdpReceiver::Collect(int n, size_t slots_offset, DatagramBatch *out,
                          ReceiveStats *stats) {
  stats->received += static_cast<size_t>(n);
  uint32_t meminfo[SK_MEMINFO_VARS] = {};
  socklen_t meminfo_len = sizeof(meminfo);
  if (::getsockopt(fd_, SOL_SOCKET, SO_MEMINFO, meminfo, &meminfo_len) == 0 &&
      meminfo_len > SK_MEMINFO_DROPS * sizeof(uint32_t)) {
    const uint32_t drops = meminfo[SK_MEMINFO_DROPS];
    stats->kernel_dropped += drops - last_drops_; // modulo 2^32, like the kernel's count
    last_drops_ = drops;
  }
  out->Commit(static_cast<size_t>(n) * kSlotBytes);
  for (int i = 0; i < n; ++i) {
    const msghdr &h = msgs_[i].msg_hdr;
    const size_t length = msgs_[i].msg_len;
    stats->received_bytes += length;
    if (length > max_datagram_bytes_ || (h.msg_flags & MSG_TRUNC)) {
      ++stats->too_large;
      continue;
    }
    const size_t slot = slots_offset + static_cast<size_t>(i) * kSlotBytes;
    if (length <= kInlineBytes) {
      out->Add(slot, length);
    } else {
      out->AppendJoined(slot, kInlineBytes,
                        std::string_view(overflow_.get() + static_cast<size_t>(i) * overflow_bytes_,
                                         length - kInlineBytes));
    }
  }
}

void UdpReceiver::Wake() {
  if (wake_fd_ < 0)
    return;
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t ignored = ::write(wake_fd_, &one, sizeof(one));
}

void UdpReceiver::Close() {
  if (fd_ >= 0)
    ::close(fd_);
  if (wake_fd_ >= 0)
    ::close(wake_fd_);
  fd_ = wake_fd_ = -1;
}

} // namespace waggle::xray_internal
