#include "xray/segment_ingester.h"

#include <algorithm>

#include "simdjson.h"
#include "xray/internal/interned_names.h"
#include "xray/internal/recent_segments.h"

namespace waggle::xray {
namespace {

constexpr std::string_view kSegmentsMetric = "waggle_xray_segments_total";
constexpr std::string_view kSegmentsHelp =
    "X-Ray segment documents by outcome: stored, held (in progress), expired (held, stored "
    "uncompleted), rejected (invalid), append_failed (store error), late_in_progress (in "
    "progress after its completed document, dropped).";

// The "id" of a document that failed to decode, when it is readable at all.
std::string IdOf(std::string_view document) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::string_view id;
  if (parser.parse(document.data(), document.size()).get(root) != simdjson::SUCCESS ||
      root["id"].get(id) != simdjson::SUCCESS) {
    return "";
  }
  return std::string(id.substr(0, 64));
}

}  // namespace

SegmentIngester::SegmentIngester(Store* store, Metrics* metrics, SegmentIngesterOptions options)
    : store_(store),
      options_(std::move(options)),
      stored_(metrics->GetCounter(kSegmentsMetric, kSegmentsHelp, {{"result", "stored"}})),
      held_(metrics->GetCounter(kSegmentsMetric, kSegmentsHelp, {{"result", "held"}})),
      expired_(metrics->GetCounter(kSegmentsMetric, kSegmentsHelp, {{"result", "expired"}})),
      rejected_(metrics->GetCounter(kSegmentsMetric, kSegmentsHelp, {{"result", "rejected"}})),
      append_failed_(
          metrics->GetCounter(kSegmentsMetric, kSegmentsHelp, {{"result", "append_failed"}})),
      late_(metrics->GetCounter(kSegmentsMetric, kSegmentsHelp, {{"result", "late_in_progress"}})),
      pending_gauge_(metrics->GetGauge("waggle_xray_in_progress_held",
                                       "In-progress X-Ray segments held awaiting completion.")),
      recent_(std::make_unique<xray_internal::RecentSegments>(options_.recent_ids)) {}

SegmentIngester::~SegmentIngester() = default;

// One decoded document. Its rows are batch->rows[rows_begin, rows_end) (empty when it is held);
// its span ids (top-level first) are ids[ids_begin, ids_end).
struct SegmentIngester::Decoded {
  size_t index = 0;  // in `documents`
  DocumentInfo info;
  std::string_view service;  // a segment's name (interned; empty if the table is full)
  size_t rows_begin = 0, rows_end = 0;
  size_t ids_begin = 0, ids_end = 0;
};

std::vector<SegmentIngester::Decoded> SegmentIngester::DecodeAll(
    const std::vector<std::string_view>& documents, Padding padding, SpanBatch* batch,
    std::vector<SpanId>* ids, std::vector<IngestResult>* results) {
  std::vector<Decoded> decoded;
  decoded.reserve(documents.size());
  for (size_t i = 0; i < documents.size(); ++i) {
    Decoded d;
    d.index = i;
    d.rows_begin = batch->rows.size();
    const size_t attrs_before = batch->attrs.size();
    StatusOr<DocumentInfo> info =
        DecodeSegmentDocument(documents[i], batch, options_.limits, padding);
    if (!info.ok()) {
      (*results)[i].status = info.status();
      (*results)[i].id = IdOf(documents[i]);
      rejected_->Inc();
      continue;
    }
    d.info = *info;
    (*results)[i].id = ToHex(info->id);
    d.ids_begin = ids->size();
    for (size_t r = d.rows_begin; r < batch->rows.size(); ++r) {
      if (batch->rows[r].row_kind == RowKind::kSpan) ids->push_back(batch->rows[r].span_id);
    }
    d.ids_end = ids->size();
    if (!info->is_subsegment) d.service = xray_internal::InternName(batch->rows[d.rows_begin].service_name);
    if (info->in_progress) {  // held or late, not stored now: take its rows back out
      batch->rows.resize(d.rows_begin);
      batch->attrs.resize(attrs_before);
    }
    d.rows_end = batch->rows.size();
    decoded.push_back(d);
  }
  return decoded;
}

std::string_view SegmentIngester::ServiceOfLocked(const TraceId& trace, const SpanId& parent) const {
  const Key key{trace, parent};
  auto held = pending_.find(key);
  if (held != pending_.end() && !held->second.service.empty()) return held->second.service;
  const xray_internal::RecentSegments::Entry* e = recent_->Find(key);
  return e ? e->service : std::string_view();
}

void SegmentIngester::ApplyLocked(const Decoded& d, std::string_view document,
                                  const std::vector<SpanId>& ids,
                                  std::chrono::system_clock::time_point now, SpanBatch* batch,
                                  IngestResult* result) {
  const Key key{d.info.trace_id, d.info.id};
  std::string_view service = d.service;
  if (d.info.is_subsegment) {
    service = ServiceOfLocked(d.info.trace_id, d.info.parent_id);
    if (!service.empty()) {
      for (size_t r = d.rows_begin; r < d.rows_end; ++r) batch->rows[r].service_name = service;
    }
  }
  if (d.info.in_progress) {
    const xray_internal::RecentSegments::Entry* e = recent_->Find(key);
    if (e != nullptr && e->completed) {
      result->late = true;
      late_->Inc();
      return;
    }
    pending_[key] = Held{std::string(document), now + options_.in_progress_ttl, service};
    result->held = true;
    held_->Inc();
  } else {
    pending_.erase(key);
  }
  for (size_t i = d.ids_begin; i < d.ids_end; ++i) {
    recent_->Record(Key{d.info.trace_id, ids[i]}, service,
                    /*completed=*/i == d.ids_begin && !d.info.in_progress);
  }
}

std::vector<IngestResult> SegmentIngester::Ingest(const std::vector<std::string_view>& documents,
                                                  std::chrono::system_clock::time_point now,
                                                  SpanBatch* scratch, Padding padding) {
  std::vector<IngestResult> results(documents.size());
  SpanBatch own;
  SpanBatch& batch = scratch != nullptr ? *scratch : own;
  batch.Clear();
  std::vector<SpanId> ids;
  // Decoding needs no lock; the table is then updated in document order under the lock.
  const std::vector<Decoded> decoded = DecodeAll(documents, padding, &batch, &ids, &results);
  size_t stored = 0;
  std::vector<Held> due;
  {
    std::lock_guard<std::mutex> lock(mu_);
    constexpr size_t kPrefetchAhead = 8;  // documents; hides the table's cache misses
    for (size_t k = 0; k < decoded.size(); ++k) {
      if (k + kPrefetchAhead < decoded.size()) {
        const Decoded& ahead = decoded[k + kPrefetchAhead];
        for (size_t i = ahead.ids_begin; i < ahead.ids_end; ++i) {
          recent_->Prefetch(Key{ahead.info.trace_id, ids[i]});
        }
      }
      const Decoded& d = decoded[k];
      ApplyLocked(d, documents[d.index], ids, now, &batch, &results[d.index]);
      stored += !d.info.in_progress;
    }
    due = TakeDueLocked(now, /*all=*/false);
    pending_gauge_->Set(static_cast<double>(pending_.size()));
  }
  DecodeHeld(due, &batch);
  if (batch.rows.empty()) return results;
  Status st = store_->Append(batch);
  if (!st.ok()) {
    append_failed_->Inc(stored + due.size());
    for (const Decoded& d : decoded) {
      if (!d.info.in_progress) results[d.index].status = st;
    }
  } else {
    stored_->Inc(stored);
    expired_->Inc(due.size());
  }
  return results;
}

Status SegmentIngester::ExpirePending(std::chrono::system_clock::time_point now) {
  std::vector<Held> due;
  {
    std::lock_guard<std::mutex> lock(mu_);
    due = TakeDueLocked(now, /*all=*/false);
    pending_gauge_->Set(static_cast<double>(pending_.size()));
  }
  return StoreHeld(due);
}

Status SegmentIngester::FlushPending() {
  std::vector<Held> due;
  {
    std::lock_guard<std::mutex> lock(mu_);
    due = TakeDueLocked({}, /*all=*/true);
    pending_gauge_->Set(0);
  }
  return StoreHeld(due);
}

Status SegmentIngester::StoreHeld(const std::vector<Held>& held) {
  if (held.empty()) return OkStatus();
  SpanBatch batch;
  DecodeHeld(held, &batch);
  if (batch.rows.empty()) return OkStatus();
  Status st = store_->Append(batch);
  (st.ok() ? expired_ : append_failed_)->Inc(held.size());
  return st;
}

size_t SegmentIngester::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_.size();
}

std::vector<SegmentIngester::Held> SegmentIngester::TakeDueLocked(
    std::chrono::system_clock::time_point now, bool all) {
  std::vector<Held> due;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (all || it->second.deadline <= now) {
      due.push_back(std::move(it->second));
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
  while (pending_.size() > options_.max_pending) {
    auto oldest = std::min_element(pending_.begin(), pending_.end(), [](const auto& a, const auto& b) {
      return a.second.deadline < b.second.deadline;
    });
    due.push_back(std::move(oldest->second));
    pending_.erase(oldest);
  }
  return due;
}

void SegmentIngester::DecodeHeld(const std::vector<Held>& held, SpanBatch* batch) {
  for (const Held& h : held) {
    const size_t rows_before = batch->rows.size();
    StatusOr<DocumentInfo> info = DecodeSegmentDocument(h.document, batch, options_.limits);
    if (!info.ok()) {
      rejected_->Inc();
      continue;
    }
    if (info->is_subsegment && !h.service.empty()) {
      for (size_t r = rows_before; r < batch->rows.size(); ++r) batch->rows[r].service_name = h.service;
    }
  }
}

}  // namespace waggle::xray
