// FakeStore: an in-memory Store for unit tests of the layers above the store (ingest, api).
// Keeps every appended row; can be told to fail appends. Thread-safe (one mutex).
#pragma once

#include <algorithm>
#include <mutex>
#include <utility>
#include <vector>

#include "store/store.h"

namespace waggle::testing {

class FakeStore : public Store {
 public:
  Status Append(const SpanBatch& batch) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!fail_with_.ok()) return fail_with_;
    for (size_t i = 0; i < batch.rows.size(); ++i) rows_.push_back(ToSpan(batch, i));
    return OkStatus();
  }
  StatusOr<std::vector<Span>> GetTrace(const TraceId& trace_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Span> out;
    for (const Span& s : rows_) {
      if (s.trace_id == trace_id) out.push_back(s);
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const Span& a, const Span& b) { return a.start_ns < b.start_ns; });
    return out;
  }
  // Root spans only (no parent), ordered and paged as the contract says; summaries carry the
  // trace id, start and root service and name.
  StatusOr<std::vector<TraceSummary>> RecentTraces(const RecentTracesRequest& req) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto newer = [](const TraceSummary& a, const TraceSummary& b) {
      return a.start_ns != b.start_ns ? a.start_ns > b.start_ns : a.trace_id > b.trace_id;
    };
    std::vector<TraceSummary> out;
    for (const Span& s : rows_) {
      if (s.row_kind != RowKind::kSpan || !IsZero(s.parent_span_id)) continue;
      if (s.start_ns < req.start_ns || (req.end_ns != 0 && s.start_ns >= req.end_ns)) continue;
      if (!req.service.empty() && s.service_name != req.service) continue;
      TraceSummary t;
      t.trace_id = s.trace_id;
      t.root_service = s.service_name;
      t.root_name = s.name;
      t.start_ns = s.start_ns;
      if (req.after) {
        TraceSummary cursor;
        cursor.trace_id = req.after->trace_id;
        cursor.start_ns = req.after->start_ns;
        if (!newer(cursor, t)) continue;
      }
      out.push_back(std::move(t));
    }
    std::sort(out.begin(), out.end(), newer);
    if (out.size() > req.limit) out.resize(req.limit);
    return out;
  }
  StatusOr<std::vector<ColumnInfo>> Columns() override { return std::vector<ColumnInfo>{}; }
  StatusOr<std::vector<TraceSummary>> SearchTraces(const query::RowSearch&) override {
    return absl::UnimplementedError("no trace search here");
  }
  StatusOr<query::QueryResult> Query(const query::QueryRequest&) override {
    return absl::UnimplementedError("FakeStore does not run queries");
  }
  Status Flush() override { return OkStatus(); }
  Status Maintain() override { return OkStatus(); }
  StoreStats Stats() override { return {}; }
  Status Close() override { return OkStatus(); }

  void FailAppendsWith(Status s) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_with_ = std::move(s);
  }
  std::vector<Span> rows() {
    std::lock_guard<std::mutex> lock(mu_);
    return rows_;
  }

 private:
  std::mutex mu_;
  Status fail_with_;       // guarded by mu_
  std::vector<Span> rows_;  // guarded by mu_
};

}  // namespace waggle::testing
