// XrayDaemon: the X-Ray daemon's UDP protocol (what the X-Ray SDKs send to port 2000).
//
// Each datagram is a header line `{"format": "json", "version": 1}`, a newline and one segment
// document. Threads and hand-offs:
//   receive thread  recvmmsg up to `receive_batch` datagrams at a time straight into slots of
//                   one DatagramBatch (UdpReceiver: longer ones spill and are joined; one byte
//                   over max_datagram_bytes is seen as oversized and dropped), more recvmmsg
//                   calls while each fills its batch, up to 8, then queues it. After a gather that found
//                   datagrams it sleeps `receive_coalesce` (less when, at the rate just seen,
//                   arrivals would meanwhile fill a quarter of the socket buffer; see
//                   NextReceivePause) before looking again, so that under
//                   load datagrams gather in the socket buffer: the senders' sends then wake no
//                   one and each wake-up carries hundreds of datagrams; a look that finds none
//                   blocks until the next arrives. It never blocks on the workers:
//                   when the queue holds `queue_capacity` datagrams or `queue_capacity_bytes`,
//                   the new batch is dropped and counted (queue_full). Workers hand processed
//                   batches back (up to 128 MiB of buffers, all freed after an idle second)
//                   for the receive thread to fill again, and each worker decodes into its own
//                   reused SpanBatch, parsing each document in place (the batch pads every
//                   datagram).
//   workers (N)     each takes queued batches, up to `max_batch` datagrams, splits header from
//                   document and hands the documents to the SegmentIngester: one Store::Append
//                   per take. While one worker waits for its WAL group commit (fdatasync), the
//                   others decode, and appends that meet in the WAL share one fsync. Worker 0
//                   also expires held in-progress segments once a second.
// The kernel's socket receive buffer (`socket_receive_buffer_bytes`, see UdpReceiver for how it
// is granted) absorbs bursts while the receive thread is not scheduled.
//
// Bad input is never fatal: oversized, badly framed and undecodable datagrams, datagrams
// arriving while the queue is full, and datagrams the kernel dropped because the socket buffer
// was full are counted in `waggle_xray_datagrams_total{result=...}` (kernel_dropped is read from
// the socket with SO_RXQ_OVFL, so it is reported when the next datagram arrives) and logged at
// debug level. `waggle_xray_socket_receive_buffer_bytes` is the buffer the kernel granted.
//
// The daemon binds UDP only. The TCP sampling proxy on the same host:port (the SDKs'
// centralized-sampling endpoint) is an HTTP server the server starts on the address Start()
// returns (server.cc, StartXraySamplingProxy).
//
// Thread-safety: Start and Stop from one controlling thread. Stop is idempotent and is called
// by the destructor; it stops receiving, lets the workers process every queued datagram, then
// joins.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/metrics.h"
#include "common/status.h"
#include "xray/segment_ingester.h"

namespace waggle::xray {

struct XrayDaemonOptions {
  std::string listen = "127.0.0.1:2000";  // "host:port"; port 0 picks a free port
  size_t max_datagram_bytes = 64 * 1024;
  size_t queue_capacity = 65'536;         // datagrams received but not yet decoded
  size_t queue_capacity_bytes = 128 << 20; // their batches' buffer bytes (a 2 KiB slot each, at least)
  size_t receive_batch = 64;              // datagrams per recvmmsg
  size_t max_batch = 8'192;               // datagrams per Store::Append
  int workers = 2;                        // decode + append threads
  // Pause after a busy gather (see above); adds at most this much to a datagram's latency.
  std::chrono::microseconds receive_coalesce{1000};
  int socket_receive_buffer_bytes = 32 << 20;  // requested; the kernel may cap it
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
