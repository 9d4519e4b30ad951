// UdpReceiver: the X-Ray daemon's socket (waggle_xray-internal). Receives
// datagrams in batches with recvmmsg, detects oversized ones, and reports the
// kernel's drop count for the socket.
//
// No copy for the common size: each datagram's first kInlineBytes land straight
// in a slot of the caller's DatagramBatch (slots of kSlotBytes, the rest of a
// slot is the datagram's padding); only a longer one spills into the receiver's
// own overflow space and is then copied, joined, to the end of the batch.
//
// Sizing: Open asks for `receive_buffer_bytes` of socket receive buffer, first
// with SO_RCVBUFFORCE (only honoured with CAP_NET_ADMIN), else with SO_RCVBUF,
// which the kernel caps at net.core.rmem_max; receive_buffer_bytes() is what
// the kernel granted (the kernel doubles the request for its bookkeeping, so
// this is up to twice the request).
//
// Kernel drops: after each recvmmsg that returns datagrams, one SO_MEMINFO
// read gives the socket's cumulative drop count (datagrams the kernel discarded
// because the receive buffer was full, the drops column of /proc/net/udp);
// Receive reports how much it grew since the previous read. (Per-datagram
// SO_RXQ_OVFL control messages would carry the same count at a cost per
// datagram.)
//
// Thread-safety: Open, then Receive from one thread; Wake from any thread (it
// makes a blocked or later Receive return at once with nothing, for shutdown).
// Close after that thread is done.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "xray/internal/datagram_batch.h"

namespace waggle::xray_internal {

// What one Receive call saw besides the datagrams it returned.
struct ReceiveStats {
  uint64_t too_large = 0; // datagrams over max_datagram_bytes, dropped
  uint64_t kernel_dropped =
      0; // growth of the socket's drop count since the previous call
  size_t received = 0; // datagrams the call took from the socket, dropped ones included
  size_t received_bytes = 0; // their bytes read (an oversized one's up to its slot)
};

// How long a receive thread that just found `received` datagrams of `received_bytes` (the
// arrivals of the last `elapsed`) should pause before looking again: `longest`, or less when
// what arrives meanwhile at that rate would take more than a quarter of the `socket_buffer`
// (the kernel charges each datagram its payload plus about 1 KiB of bookkeeping).
std::chrono::microseconds NextReceivePause(size_t received, size_t received_bytes,
                                           std::chrono::microseconds elapsed,
                                           size_t socket_buffer,
                                           std::chrono::microseconds longest);

class UdpReceiver {
public:
  // A datagram's slot in the batch: up to kInlineBytes of it, then its padding.
  static constexpr size_t kSlotBytes = 2048;
  static constexpr size_t kInlineBytes = kSlotBytes - DatagramBatch::kPadding;

  UdpReceiver() = default;
  ~UdpReceiver();
  UdpReceiver(const UdpReceiver &) = delete;
  UdpReceiver &operator=(const UdpReceiver &) = delete;

  // Binds a UDP socket to `listen` ("host:port"; port 0 picks a free port).
  // Returns the bound address ("127.0.0.1:2000", "[::1]:2000").
  StatusOr<std::string> Open(const std::string &listen,
                             size_t max_datagram_bytes,
                             int receive_buffer_bytes, size_t batch);
  int receive_buffer_bytes() const { return granted_rcvbuf_; }

  // Blocks until at least one datagram is available or Wake was called, then
  // appends up to `batch` datagrams to `*out`. Returns false once Wake has been
  // called (and nothing was appended); errors other than a woken wait are
  // logged and retried.
  bool Receive(DatagramBatch *out, ReceiveStats *stats);
  // As Receive, but returns at once (true, nothing appended) when no datagram
  // is waiting.
  bool ReceiveIfReady(DatagramBatch *out, ReceiveStats *stats);
  void Wake();
  void Close();

private:
  bool ReceiveBatch(DatagramBatch *out, ReceiveStats *stats, bool wait);
  bool WaitReadable();
  // Points message i's first iovec at slot i of `slots` (in the batch), its
  // second at overflow space i.
  void AimAt(char *slots);
  // Adds the `n` datagrams recvmmsg just returned into the slots at
  // `slots_offset` of `*out`, skipping oversized ones.
  void Collect(int n, size_t slots_offset, DatagramBatch *out, ReceiveStats *stats);

  int fd_ = -1;
  int wake_fd_ = -1; // eventfd
  size_t max_datagram_bytes_ = 0;
  int granted_rcvbuf_ = 0;
  size_t overflow_bytes_ = 0;  // per message: max_datagram_bytes + 1 - kInlineBytes
  std::unique_ptr<char[]> overflow_; // batch spaces of overflow_bytes_, untouched unless used
  std::vector<iovec> iov_;    // iov_[2i], iov_[2i + 1]: message i's slot and overflow space
  std::vector<mmsghdr>
      msgs_;                // msgs_[i] receives into iov_[2i, 2i + 2)
  uint32_t last_drops_ = 0; // SK_MEMINFO_DROPS last read
  size_t batch_ = 0;
};

} // namespace waggle::xray_internal
