// SegmentIngester: segment documents in (from the UDP daemon and from PutTraceSegments), rows
// appended to the store, with in-progress segments held back.
//
// In-progress policy: a document whose top-level (sub)segment says "in_progress": true is not
// stored at once. It is held in a bounded in-memory table keyed by (trace id, segment id). When
// the completed document with the same key arrives, the held one is dropped and only the
// completed one is stored, so readers never see the in-progress version. A held document that is
// not completed within `in_progress_ttl` is stored as it is (rows carry `xray.in_progress` =
// true), as is the oldest held document when the table is full and on FlushPending (shutdown),
// so nothing received is lost. An in-progress document arriving after its completed one (UDP
// reorders, and the daemon's workers take batches in parallel) is dropped and counted
// (`late_in_progress`) while the completed key is still remembered (see below); after that it
// would be held and later stored too, and readers that rebuild segments (EncodeTraceSegments)
// prefer the completed row.
//
// Service names: a subsegment sent on its own names no segment, so its rows get the service
// name of its parent: the held in-progress document with key (trace id, parent_id), else the
// remembered (sub)segment with that key, else "unknown_service". The ingester remembers every
// (sub)segment id of every document it decoded (segments map to their name, subsegments to the
// service they got, so a chain of independent subsegments resolves too) and which top-level ids
// were completed, for about the last `recent_ids` ids (internal/recent_segments.h). Documents
// are resolved in arrival order; a subsegment that arrives before any document of its segment
// keeps "unknown_service".
//
// Thread-safety: every method is thread-safe. Documents are decoded and Store::Append is called
// without holding mu_, which guards the held-document table and the remembered ids. Store and
// Metrics must outlive the ingester.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/metrics.h"
#include "common/status.h"
#include "store/store.h"
#include "xray/segment_document.h"

namespace waggle::xray_internal {
class RecentSegments;
}  // namespace waggle::xray_internal

namespace waggle::xray {

struct SegmentIngesterOptions {
  SegmentLimits limits;
  std::chrono::nanoseconds in_progress_ttl = std::chrono::minutes(5);
  size_t max_pending = 10'000;  // held in-progress documents
  size_t recent_ids = 100'000;  // remembered (sub)segment ids (service, completed)
};

// What happened to one document.
struct IngestResult {
  Status status;       // InvalidArgument for a bad document; the store's error if Append failed
  std::string id;      // the document's "id" when it could be read (for UnprocessedTraceSegments)
  bool held = false;   // an in-progress document held back (see above)
  bool late = false;   // an in-progress document after its completed one, dropped
};

class SegmentIngester {
 public:
  SegmentIngester(Store* store, Metrics* metrics, SegmentIngesterOptions options = {});
  ~SegmentIngester();

  // Decodes every document, holds in-progress ones, and appends the rest, together with any
  // held documents whose TTL has passed at `now`, in one Store::Append. One result per document,
  // in order. `scratch`, if given, is the batch the rows are decoded into (cleared first; a
  // caller that ingests repeatedly passes the same one so its capacity is reused). `padding`:
  // whether every document is followed by kDocumentPadding readable bytes (segment_document.h).
  std::vector<IngestResult> Ingest(const std::vector<std::string_view>& documents,
                                   std::chrono::system_clock::time_point now,
                                   SpanBatch* scratch = nullptr,
                                   Padding padding = Padding::kNone);
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
    std::string_view service;  // resolved service of an independent subsegment (interned)
  };
  struct Decoded;  // one document's decode, see the .cc

  // Decodes `documents` into `batch` (in-progress ones are taken out again).
  std::vector<Decoded> DecodeAll(const std::vector<std::string_view>& documents, Padding padding,
                                 SpanBatch* batch, std::vector<SpanId>* ids,
                                 std::vector<IngestResult>* results);
  // Updates the held table and the remembered ids for one document, in arrival order: holds or
  // drops (late) an in-progress one, resolves an independent subsegment's service. REQUIRES: mu_
  // held.
  void ApplyLocked(const Decoded& d, std::string_view document, const std::vector<SpanId>& ids,
                   std::chrono::system_clock::time_point now, SpanBatch* batch,
                   IngestResult* result);
  // The service of (trace, parent): held document, else remembered id, else empty.
  // REQUIRES: mu_ held.
  std::string_view ServiceOfLocked(const TraceId& trace, const SpanId& parent) const;
  // Moves documents due at `now` (all of them if `all`), or the oldest one if the table is over
  // capacity, out of the table. REQUIRES: mu_ held.
  std::vector<Held> TakeDueLocked(std::chrono::system_clock::time_point now, bool all);
  // Decodes documents taken from the table into `batch` (they decoded once, so errors are
  // only possible if limits changed; such documents are counted as rejected).
  void DecodeHeld(const std::vector<Held>& held, SpanBatch* batch);
  // Decodes held documents and appends them to the store as they are (counted as expired).
  Status StoreHeld(const std::vector<Held>& held);

  Store* const store_;
  const SegmentIngesterOptions options_;
  Counter* const stored_;
  Counter* const held_;
  Counter* const expired_;
  Counter* const rejected_;
  Counter* const append_failed_;
  Counter* const late_;
  Gauge* const pending_gauge_;
  mutable std::mutex mu_;
  std::map<Key, Held> pending_;  // guarded by mu_
  const std::unique_ptr<xray_internal::RecentSegments> recent_;  // its state guarded by mu_
};

}  // namespace waggle::xray
