#include "xray/segment_ingester.h"

#include <algorithm>

#include "simdjson.h"

namespace waggle::xray {
namespace {

constexpr std::string_view kSegmentsMetric = "waggle_xray_segments_total";
constexpr std::string_view kSegmentsHelp =
    "X-Ray segment documents by outcome: stored, held (in progress), expired (held, stored "
    "uncompleted), rejected (invalid), append_failed (store error).";

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
      pending_gauge_(metrics->GetGauge("waggle_xray_in_progress_held",
                                       "In-progress X-Ray segments held awaiting completion.")) {}

std::vector<IngestResult> SegmentIngester::Ingest(const std::vector<std::string_view>& documents,
                                                  std::chrono::system_clock::time_point now) {
  std::vector<IngestResult> results(documents.size());
  SpanBatch batch;
  std::vector<size_t> in_batch;  // indexes of documents whose rows are in `batch`
  // Decoding needs no lock; the table is then updated in document order under the lock.
  struct TableOp {
    Key key;
    size_t document;  // index; held if results[document].held, else completed
  };
  std::vector<TableOp> ops;
  for (size_t i = 0; i < documents.size(); ++i) {
    const size_t rows_before = batch.rows.size(), attrs_before = batch.attrs.size();
    StatusOr<DocumentInfo> info = DecodeSegmentDocument(documents[i], &batch, options_.limits);
    if (!info.ok()) {
      results[i].status = info.status();
      results[i].id = IdOf(documents[i]);
      rejected_->Inc();
      continue;
    }
    results[i].id = ToHex(info->id);
    if (info->in_progress) {
      // Held, not stored: take its rows back out of the batch.
      batch.rows.resize(rows_before);
      batch.attrs.resize(attrs_before);
      results[i].held = true;
      held_->Inc();
    } else {
      in_batch.push_back(i);
    }
    ops.push_back(TableOp{Key{info->trace_id, info->id}, i});
  }
  std::vector<std::string> due;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const TableOp& op : ops) {
      if (results[op.document].held) {
        pending_[op.key] =
            Held{std::string(documents[op.document]), now + options_.in_progress_ttl};
      } else {
        pending_.erase(op.key);
      }
    }
    due = TakeDueLocked(now, /*all=*/false);
    pending_gauge_->Set(static_cast<double>(pending_.size()));
  }
  DecodeHeld(due, &batch);
  if (batch.rows.empty()) return results;
  Status st = store_->Append(batch);
  if (!st.ok()) {
    append_failed_->Inc(in_batch.size() + due.size());
    for (size_t i : in_batch) results[i].status = st;
  } else {
    stored_->Inc(in_batch.size());
    expired_->Inc(due.size());
  }
  return results;
}

Status SegmentIngester::ExpirePending(std::chrono::system_clock::time_point now) {
  std::vector<std::string> due;
  {
    std::lock_guard<std::mutex> lock(mu_);
    due = TakeDueLocked(now, /*all=*/false);
    pending_gauge_->Set(static_cast<double>(pending_.size()));
  }
  return StoreHeld(due);
}

Status SegmentIngester::FlushPending() {
  std::vector<std::string> due;
  {
    std::lock_guard<std::mutex> lock(mu_);
    due = TakeDueLocked({}, /*all=*/true);
    pending_gauge_->Set(0);
  }
  return StoreHeld(due);
}

Status SegmentIngester::StoreHeld(const std::vector<std::string>& held) {
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

std::vector<std::string> SegmentIngester::TakeDueLocked(std::chrono::system_clock::time_point now,
                                                        bool all) {
  std::vector<std::string> due;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (all || it->second.deadline <= now) {
      due.push_back(std::move(it->second.document));
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
  while (pending_.size() > options_.max_pending) {
    auto oldest = std::min_element(pending_.begin(), pending_.end(), [](const auto& a, const auto& b) {
      return a.second.deadline < b.second.deadline;
    });
    due.push_back(std::move(oldest->second.document));
    pending_.erase(oldest);
  }
  return due;
}

void SegmentIngester::DecodeHeld(const std::vector<std::string>& held, SpanBatch* batch) {
  for (const std::string& doc : held) {
    if (!DecodeSegmentDocument(doc, batch, options_.limits).ok()) rejected_->Inc();
  }
}

}  // namespace waggle::xray
