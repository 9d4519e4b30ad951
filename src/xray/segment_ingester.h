// SegmentIngester: segment documents in (from the UDP daemon and from PutTraceSegments), rows
// appended to the store, with in-progress segments held back.
//
// In-progress policy: a document whose top-level (sub)segment says "in_progress": true is not
// stored at once. It is held in a bounded in-memory table keyed by (trace id, segment id). When
// the completed document with the same key arrives, the held one is dropped and only the
// completed one is stored, so readers never see the in-progress version. A held document that is
// not completed within `in_progress_ttl` is stored as it is (rows carry `xray.in_progress` =
// true), as is the oldest held document when the table is full and on FlushPending (shutdown),
// so nothing received is lost. Known gap: an in-progress document arriving after its completed
// one is held and later stored too; readers that rebuild segments (EncodeTraceSegments) prefer
// the completed row.
//
// Thread-safety: every method is thread-safe. Documents are decoded and Store::Append is
// called without holding the table's lock (which guards only the held-document table). Store and Metrics must outlive the ingester.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/metrics.h"
#include "common/status.h"
#include "store/store.h"
#include "xray/segment_document.h"

namespace waggle::xray {

struct SegmentIngesterOptions {
  SegmentLimits limits;
  std::chrono::nanoseconds in_progress_ttl = std::chrono::minutes(5);
  size_t max_pending = 10'000;  // held in-progress documents
};

// What happened to one document.
struct IngestResult {
  Status status;       // InvalidArgument for a bad document; the store's error if Append failed
  std::string id;      // the document's "id" when it could be read (for UnprocessedTraceSegments)
  bool held = false;   // an in-progress document held back (see above)
};

class SegmentIngester {
 public:
  SegmentIngester(Store* store, Metrics* metrics, SegmentIngesterOptions options = {});

  // Decodes every document, holds in-progress ones, and appends the rest, together with any
  // held documents whose TTL has passed at `now`, in one Store::Append. One result per document,
  // in order.
  std::vector<IngestResult> Ingest(const std::vector<std::string_view>& documents,
                                   std::chrono::system_clock::time_point now);
  // Stores held documents whose TTL has passed at `now` (the daemon calls this every second).
  Status ExpirePending(std::chrono::system_clock::time_point now);
  // Stores every held document (at shutdown).
  Status FlushPending();

  size_t pending() const;

 private:
  using Key = std::pair<TraceId, SpanId>;
  struct Held {
    std::string document;
    std::chrono::system_clock::time_point deadline;
  };

  // Moves documents due at `now` (all of them if `all`), or the oldest one if the table is over
  // capacity, out of the table. REQUIRES: mu_ held.
  std::vector<std::string> TakeDueLocked(std::chrono::system_clock::time_point now, bool all);
  // Decodes documents taken from the table into `batch` (they decoded once, so errors are
  // only possible if limits changed; such documents are counted as rejected).
  void DecodeHeld(const std::vector<std::string>& held, SpanBatch* batch);
  // Decodes held documents and appends them to the store as they are (counted as expired).
  Status StoreHeld(const std::vector<std::string>& held);

  Store* const store_;
  const SegmentIngesterOptions options_;
  Counter* const stored_;
  Counter* const held_;
  Counter* const expired_;
  Counter* const rejected_;
  Counter* const append_failed_;
  Gauge* const pending_gauge_;
  mutable std::mutex mu_;
  std::map<Key, Held> pending_;  // guarded by mu_
};

}  // namespace waggle::xray
