#include "xray/xray_daemon.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "xray/internal/datagram.h"
#include "xray/internal/udp_receiver.h"

namespace waggle::xray {
namespace {

using xray_internal::DatagramBatch;
// A document ends where its datagram does, so the batch's padding follows it.
static_assert(DatagramBatch::kPadding >= kDocumentPadding);

constexpr auto kExpireInterval = std::chrono::seconds(1);
constexpr size_t kMaxReceiveRounds = 8;  // recvmmsg calls gathered into one queued batch
// Buffers of processed batches kept for reuse while datagrams arrive (as much as the queue
// can hold); all are freed after a second without any.
constexpr size_t kMaxSpareBytes = 128 << 20;
constexpr size_t kMaxSpareBatchBytes = 4 << 20;  // larger ones are freed
constexpr std::string_view kDatagramsMetric = "waggle_xray_datagrams_total";
constexpr std::string_view kDatagramsHelp =
    "X-Ray daemon datagrams by result: accepted, too_large, bad_frame "
    "(header/newline), "
    "bad_document (segment rejected by the decoder), queue_full, store_error, "
    "kernel_dropped "
    "(the socket receive buffer was full).";

} // namespace

class XrayDaemon::Impl {
public:
  Impl(XrayDaemonOptions options, SegmentIngester *ingester, Metrics *metrics)
      : options_(std::move(options)), ingester_(ingester),
        accepted_(Count(metrics, "accepted")),
        too_large_(Count(metrics, "too_large")),
        bad_frame_(Count(metrics, "bad_frame")),
        bad_document_(Count(metrics, "bad_document")),
        queue_full_(Count(metrics, "queue_full")),
        store_error_(Count(metrics, "store_error")),
        kernel_dropped_(Count(metrics, "kernel_dropped")),
        receive_buffer_(metrics->GetGauge(
            "waggle_xray_socket_receive_buffer_bytes",
            "Receive buffer the kernel granted the X-Ray UDP socket (capped by "
            "net.core.rmem_max unless waggle has CAP_NET_ADMIN).")) {}

  ~Impl() { Stop(); }

  StatusOr<std::string> Start() {
    ASSIGN_OR_RETURN(
        std::string bound,
        receiver_.Open(options_.listen, options_.max_datagram_bytes,
                       options_.socket_receive_buffer_bytes,
                       std::max<size_t>(1, options_.receive_batch)));
    receive_buffer_->Set(receiver_.receive_buffer_bytes());
    if (receiver_.receive_buffer_bytes() <
        options_.socket_receive_buffer_bytes) {
      spdlog::info("xray: the UDP socket got a {} byte receive buffer of the "
                   "{} asked for (the kernel caps "
                   "it at net.core.rmem_max); bursts beyond it are dropped and "
                   "counted as kernel_dropped",
                   receiver_.receive_buffer_bytes(),
                   options_.socket_receive_buffer_bytes);
    }
    started_ = true;
    receive_thread_ = std::thread([this] { ReceiveLoop(); });
    for (int i = 0; i < std::max(1, options_.workers); ++i) {
      workers_.emplace_back([this, i] { Work(/*expires=*/i == 0); });
    }
    return bound;
  }

  void Stop() {
    if (!started_ || stopped_)
      return;
    stopped_ = true;
    stop_requested_.store(true, std::memory_order_relaxed);
    receiver_.Wake();
    receive_thread_.join();
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (std::thread &w : workers_)
      w.join();
    receiver_.Close();
  }

private:
  static Counter *Count(Metrics *m, const char *result) {
    return m->GetCounter(kDatagramsMetric, kDatagramsHelp,
                         {{"result", result}});
  }

  // receive thread. Gathers what the socket holds (up to kMaxReceiveRounds
  // recvmmsg calls while each returns a full batch) into one batch, so a busy
  // socket costs one queue hand-off per few hundred datagrams. After a gather
  // that drained the socket it pauses (up to receive_coalesce, less when the
  // arrival rate would fill the socket buffer meanwhile) and then only looks;
  // one that stopped at the round cap looks again at once; it blocks in the
  // kernel only once a look finds the socket empty.
  void ReceiveLoop() {
    using std::chrono::duration_cast;
    using std::chrono::microseconds;
    DatagramBatch batch;
    bool idle = true;       // the last gather found nothing: block for the next datagram
    microseconds pause{0};  // before the next gather
    size_t last_gather_datagrams = 0;
    auto last_gather = std::chrono::steady_clock::now();
    while (!stop_requested_.load(std::memory_order_relaxed)) {
      if (pause.count() > 0)
        std::this_thread::sleep_for(pause);
      bool more = true, drained = false;
      // Room for what the last gather took and a round more, so that the kernel writes into
      // pages a recycled batch already has instead of the batch regrowing mid-gather.
      if (batch.size() == 0)
        batch.Reserve(GatherReserveBytes(last_gather_datagrams));
      xray_internal::ReceiveStats gathered;
      for (size_t round = 0; more && round < kMaxReceiveRounds; ++round) {
        xray_internal::ReceiveStats stats;
        more = round == 0 && idle ? receiver_.Receive(&batch, &stats)
                                  : receiver_.ReceiveIfReady(&batch, &stats);
        CountReceiveStats(stats);
        gathered.received += stats.received;
        gathered.received_bytes += stats.received_bytes;
        drained = stats.received < options_.receive_batch;
        if (drained)
          break; // the socket is (nearly) empty
      }
      const auto now = std::chrono::steady_clock::now();
      idle = gathered.received == 0;
      last_gather_datagrams = gathered.received;
      // A gather that stopped at the round cap left datagrams waiting: take them at once.
      pause = idle || !drained
                  ? microseconds(0)
                  : xray_internal::NextReceivePause(
                        gathered.received, gathered.received_bytes,
                        duration_cast<microseconds>(now - last_gather),
                        static_cast<size_t>(receiver_.receive_buffer_bytes()),
                        options_.receive_coalesce);
      last_gather = now;
      if (batch.size() > 0)
        batch = Enqueue(std::move(batch));
      if (!more)
        return;
    }
  }

  // Batch bytes to reserve before a gather after one of `last` datagrams: a quarter more and
  // one round more, at most a whole gather of kMaxReceiveRounds rounds.
  size_t GatherReserveBytes(size_t last) const {
    using xray_internal::UdpReceiver;
    const size_t round = options_.receive_batch;
    const size_t slots = std::min(last + last / 4 + round, kMaxReceiveRounds * round);
    return slots * UdpReceiver::kSlotBytes;
  }

  // receive thread
  void CountReceiveStats(const xray_internal::ReceiveStats &stats) {
    if (stats.too_large) {
      too_large_->Inc(stats.too_large);
      spdlog::debug("xray: dropped {} datagrams over {} bytes", stats.too_large,
                    options_.max_datagram_bytes);
    }
    if (stats.kernel_dropped)
      kernel_dropped_->Inc(stats.kernel_dropped);
  }

  // receive thread. Queues `batch` (or drops it when the queue is full) and
  // returns an empty batch to receive into next: a recycled one when a worker
  // has returned one.
  DatagramBatch Enqueue(DatagramBatch batch) {
    DatagramBatch next;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (queued_datagrams_ + batch.size() > options_.queue_capacity ||
          queued_bytes_ + batch.used_bytes() > options_.queue_capacity_bytes) {
        queue_full_->Inc(batch.size());
        batch.Clear();
        return batch;
      }
      queued_datagrams_ += batch.size();
      queued_bytes_ += batch.used_bytes();
      queue_.push_back(std::move(batch));
      enqueued_since_expiry_ = true;
      if (!spare_.empty()) {
        next = std::move(spare_.back());
        spare_.pop_back();
        spare_bytes_ -= next.capacity_bytes();
      }
    }
    cv_.notify_one();
    return next;
  }

  // worker threads. Keeps processed batches, up to kMaxSpareBytes of buffers,
  // for the receive thread to reuse (their buffers are already allocated and
  // paged in: under load dozens of batches are in flight at once).
  void Recycle(std::vector<DatagramBatch> *done) {
    std::lock_guard<std::mutex> lock(mu_);
    for (DatagramBatch &b : *done) {
      if (b.capacity_bytes() > kMaxSpareBatchBytes ||
          spare_bytes_ + b.capacity_bytes() > kMaxSpareBytes)
        continue; // a burst of large datagrams, or enough kept: give the memory back
      b.Clear();
      spare_bytes_ += b.capacity_bytes();
      spare_.push_back(std::move(b));
    }
  }

  // worker threads. Takes queued batches, at least one and then while they fit
  // in max_batch. REQUIRES: mu_ held and queue_ not empty.
  std::vector<DatagramBatch> TakeLocked() {
    std::vector<DatagramBatch> taken;
    size_t datagrams = 0;
    while (!queue_.empty() &&
           (taken.empty() ||
            datagrams + queue_.front().size() <= options_.max_batch)) {
      datagrams += queue_.front().size();
      queued_datagrams_ -= queue_.front().size();
      queued_bytes_ -= queue_.front().used_bytes();
      taken.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    return taken;
  }

  // worker threads
  void Work(bool expires) {
    SpanBatch scratch;
    auto next_expiry = std::chrono::steady_clock::now() + kExpireInterval;
    for (;;) {
      std::vector<DatagramBatch> taken;
      bool stopping = false, more = false;
      {
        std::unique_lock<std::mutex> lock(mu_);
        auto ready = [this] { return stopping_ || !queue_.empty(); };
        if (expires) {
          cv_.wait_until(lock, next_expiry, ready);
        } else {
          cv_.wait(lock, ready);
        }
        if (!queue_.empty())
          taken = TakeLocked();
        more = !queue_.empty();
        stopping = stopping_ && !more;
      }
      if (more)
        cv_.notify_one(); // another worker takes the rest meanwhile
      if (!taken.empty()) {
        Process(taken, &scratch);
        Recycle(&taken);
      }
      if (expires && std::chrono::steady_clock::now() >= next_expiry) {
        FreeSpareBatchesIfIdle();
        Status st = ingester_->ExpirePending(std::chrono::system_clock::now());
        if (!st.ok()) {
          spdlog::warn("xray: storing expired in-progress segments: {}",
                       std::string(st.message()));
        }
        next_expiry = std::chrono::steady_clock::now() + kExpireInterval;
      }
      if (stopping)
        return;
    }
  }

  // the expiring worker, once per kExpireInterval
  void FreeSpareBatchesIfIdle() {
    std::vector<DatagramBatch> freed;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!enqueued_since_expiry_) {
        freed.swap(spare_);
        spare_bytes_ = 0;
      }
      enqueued_since_expiry_ = false;
    }
  }

  // `scratch`: the worker's own batch, reused across calls.
  void Process(const std::vector<DatagramBatch> &batches, SpanBatch *scratch) {
    std::vector<std::string_view> documents;
    for (const DatagramBatch &batch : batches) {
      for (size_t i = 0; i < batch.size(); ++i) {
        StatusOr<std::string_view> doc =
            xray_internal::DatagramDocument(batch[i]);
        if (!doc.ok()) {
          bad_frame_->Inc();
          spdlog::debug("xray: dropped a datagram: {}",
                        std::string(doc.status().message()));
          continue;
        }
        documents.push_back(*doc);
      }
    }
    if (documents.empty())
      return;
    std::vector<IngestResult> results =
        ingester_->Ingest(documents, std::chrono::system_clock::now(), scratch,
                          Padding::kPadded);
    uint64_t accepted = 0;
    for (const IngestResult &r : results) {
      if (r.status.ok()) {
        ++accepted;
      } else if (r.status.code() == absl::StatusCode::kInvalidArgument) {
        bad_document_->Inc();
        spdlog::debug("xray: dropped segment '{}': {}", r.id,
                      std::string(r.status.message()));
      } else {
        store_error_->Inc();
        spdlog::warn("xray: storing segment '{}' failed: {}", r.id,
                     std::string(r.status.message()));
      }
    }
    accepted_->Inc(accepted);
  }

  const XrayDaemonOptions options_;
  SegmentIngester *const ingester_;
  xray_internal::UdpReceiver receiver_; // Receive on the receive thread only
  Counter *const accepted_;
  Counter *const too_large_;
  Counter *const bad_frame_;
  Counter *const bad_document_;
  Counter *const queue_full_;
  Counter *const store_error_;
  Counter *const kernel_dropped_;
  Gauge *const receive_buffer_;
  std::mutex mu_;
  std::condition_variable cv_;
  // Batches received but not yet taken by a worker. Invariant:
  // queued_datagrams_ and queued_bytes_ are the sums over queue_, at most
  // queue_capacity and queue_capacity_bytes.
  std::deque<DatagramBatch> queue_; // guarded by mu_
  std::vector<DatagramBatch> spare_; // guarded by mu_; empty, for reuse
  size_t spare_bytes_ = 0;           // guarded by mu_; their buffers' capacity
  bool enqueued_since_expiry_ = false; // guarded by mu_; a batch was queued this interval
  size_t queued_datagrams_ = 0;     // guarded by mu_
  size_t queued_bytes_ = 0;         // guarded by mu_
  bool stopping_ = false;           // guarded by mu_
  std::atomic<bool> stop_requested_{false}; // set by Stop, read by the receive thread
  bool started_ = false;            // controlling thread only
  bool stopped_ = false;            // controlling thread only
  std::thread receive_thread_;
  std::vector<std::thread> workers_;
};

XrayDaemon::XrayDaemon(XrayDaemonOptions options, SegmentIngester *ingester,
                       Metrics *metrics)
    : impl_(std::make_unique<Impl>(std::move(options), ingester, metrics)) {}

XrayDaemon::~XrayDaemon() = default;

StatusOr<std::string> XrayDaemon::Start() { return impl_->Start(); }

void XrayDaemon::Stop() { impl_->Stop(); }

} // namespace waggle::xray
