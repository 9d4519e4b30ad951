// XrayDaemon: the X-Ray daemon's UDP protocol (what the X-Ray SDKs send to port 2000).
//
// Each datagram is a header line `{"format": "json", "version": 1}`, a newline and one segment
// document. One io thread receives datagrams into a buffer one byte larger than
// max_datagram_bytes (so an oversized datagram is seen as such and dropped) and queues them; one
// worker thread drains the queue in batches, splits header from document, and hands the
// documents to the SegmentIngester (one Store::Append per drained batch, so the WAL's group
// commit is amortised). The worker also expires held in-progress segments once a second.
//
// Bad input is never fatal: oversized, badly framed and undecodable datagrams, and datagrams
// arriving while the queue is full, are dropped, counted in
// `waggle_xray_datagrams_total{result=...}` and logged at debug level.
//
// Seam for the TCP sampling proxy: the daemon binds UDP only. A TCP listener on the same
// host:port (the SDKs' centralized-sampling endpoint) is a separate component that the server
// starts with bound_address() as its listen address.
//
// Thread-safety: Start and Stop from one controlling thread. Stop is idempotent and is called
// by the destructor; it stops receiving, processes every queued datagram, then joins.
#pragma once

#include <memory>
#include <string>

#include "common/metrics.h"
#include "common/status.h"
#include "xray/segment_ingester.h"

namespace waggle::xray {

struct XrayDaemonOptions {
  std::string listen = "127.0.0.1:2000";  // "host:port"; port 0 picks a free port
  size_t max_datagram_bytes = 64 * 1024;
  size_t queue_capacity = 16'384;         // datagrams received but not yet decoded
  size_t max_batch = 1'024;               // datagrams per Store::Append
  int socket_receive_buffer_bytes = 8 << 20;  // SO_RCVBUF request (the kernel may cap it)
};

class XrayDaemon {
 public:
  // `ingester` and `metrics` are not owned and must outlive the daemon.
  XrayDaemon(XrayDaemonOptions options, SegmentIngester* ingester, Metrics* metrics);
  ~XrayDaemon();
  XrayDaemon(const XrayDaemon&) = delete;
  XrayDaemon& operator=(const XrayDaemon&) = delete;

  // Binds the UDP socket and starts the threads. Returns the bound address ("127.0.0.1:2000").
  StatusOr<std::string> Start();
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace waggle::xray
