#include "store/internal/query_source.h"

#include <algorithm>
#include <cstring>

#include "absl/container/flat_hash_map.h"

namespace waggle::store_internal {
namespace {

using query::ColumnBuffer;
using query::ColumnView;

// Query-visible fixed columns. Derived ones (duration_ms, error) are computed from stored ones.
enum class QueryColumn {
  kAttribute, kTraceId, kSpanId, kParentId, kName, kService, kKind, kDurationMs, kStatusCode,
  kStatusMessage, kError, kAnnotationType, kTraceState, kLibraryName, kLibraryVersion,
  kParentName, kLinkTraceId, kLinkSpanId,
};

QueryColumn QueryColumnFor(std::string_view name) {
  static const auto* kNames = new absl::flat_hash_map<std::string_view, QueryColumn>{
      {"trace.trace_id", QueryColumn::kTraceId},
      {"trace.span_id", QueryColumn::kSpanId},
      {"trace.parent_id", QueryColumn::kParentId},
      {"name", QueryColumn::kName},
      {"service.name", QueryColumn::kService},
      {"span.kind", QueryColumn::kKind},
      {"duration_ms", QueryColumn::kDurationMs},
      {"status_code", QueryColumn::kStatusCode},
      {"status_message", QueryColumn::kStatusMessage},
      {"error", QueryColumn::kError},
      {"meta.annotation_type", QueryColumn::kAnnotationType},
      {"trace.trace_state", QueryColumn::kTraceState},
      {"library.name", QueryColumn::kLibraryName},
      {"library.version", QueryColumn::kLibraryVersion},
      {"parent_name", QueryColumn::kParentName},
      {"trace.link.trace_id", QueryColumn::kLinkTraceId},
      {"trace.link.span_id", QueryColumn::kLinkSpanId},
  };
  auto it = kNames->find(name);
  return it == kNames->end() ? QueryColumn::kAttribute : it->second;
}

FixedColumn StoredStringColumn(QueryColumn c) {
  switch (c) {
    case QueryColumn::kName: return FixedColumn::kName;
    case QueryColumn::kService: return FixedColumn::kService;
    case QueryColumn::kStatusMessage: return FixedColumn::kStatusMessage;
    case QueryColumn::kTraceState: return FixedColumn::kTraceState;
    case QueryColumn::kLibraryName: return FixedColumn::kScopeName;
    case QueryColumn::kLibraryVersion: return FixedColumn::kScopeVersion;
    default: return FixedColumn::kParentName;
  }
}

// name and service.name are always present; the other string columns are null when empty.
bool EmptyIsNull(QueryColumn c) { return c != QueryColumn::kName && c != QueryColumn::kService; }

bool AllZero(const uint8_t* p, int width) {
  for (int i = 0; i < width; ++i) {
    if (p[i]) return false;
  }
  return true;
}

// Returns the text set (empty when the row stays null).
std::string_view SetHex(ColumnBuffer* out, size_t r, const uint8_t* p, int width, bool zero_is_null) {
  if (zero_is_null && AllZero(p, width)) return {};
  static const char kDigits[] = "0123456789abcdef";
  const size_t n = static_cast<size_t>(width) * 2;
  char* hex = out->AllocateText(n);
  for (int i = 0; i < width; ++i) {
    hex[2 * i] = kDigits[p[i] >> 4];
    hex[2 * i + 1] = kDigits[p[i] & 15];
  }
  out->SetString(r, std::string_view(hex, n));
  return std::string_view(hex, n);
}

// Fills the derived/enum columns from per-row integer fields (head: uint8 vectors; segment
// blocks: int64). Returns false for columns that are not of this kind.
template <typename T>
bool FillFromInts(QueryColumn c, const T* v, size_t n, ColumnBuffer* out) {
  switch (c) {
    case QueryColumn::kKind:
      for (size_t r = 0; r < n; ++r) {
        out->SetString(r, SpanKindName(static_cast<SpanKind>(v[r])));
      }
      return true;
    case QueryColumn::kStatusCode:
      for (size_t r = 0; r < n; ++r) out->SetInt(r, static_cast<int64_t>(v[r]));
      return true;
    case QueryColumn::kError:
      for (size_t r = 0; r < n; ++r) {
        if (static_cast<StatusCode>(v[r]) == StatusCode::kError) out->SetBool(r, true);
      }
      return true;
    case QueryColumn::kAnnotationType:
      for (size_t r = 0; r < n; ++r) {
        auto kind = static_cast<RowKind>(v[r]);
        if (kind != RowKind::kSpan) out->SetString(r, RowKindName(kind));
      }
      return true;
    default: return false;
  }
}

// A chunk of a head's rows [begin, end). Lazy (frozen heads) or eager (the active head:
// Materialize() every column of the plan while the store lock is held).
class HeadChunk final : public query::Chunk {
 public:
  HeadChunk(std::shared_ptr<const Head> head, size_t begin, size_t end)
      : head_(std::move(head)), begin_(begin), end_(end) {}

  size_t rows() const override { return end_ - begin_; }
  StatusOr<const int64_t*> start_ns() override {
    return head_starts_ ? head_starts_ : starts_.data();
  }
  bool StartsWithin(int64_t lo, int64_t hi) const override {
    return min_start_ >= lo && max_start_ < hi;
  }
  StatusOr<const int64_t*> end_ns() override {
    if (!ends_.empty() || rows() == 0) return ends_.data();
    const auto& e = head_->ends();
    ends_.assign(e.begin() + begin_, e.begin() + end_);
    return ends_.data();
  }
  StatusOr<ColumnView> Column(std::string_view name) override {
    auto it = columns_.find(absl::string_view(name.data(), name.size()));
    if (it != columns_.end()) return it->second->View();
    if (frozen_columns_) return ColumnView{rows(), nullptr, 0, nullptr, nullptr, nullptr};
    auto buffer = Build(name);
    ColumnView view = buffer->View();
    columns_.emplace(std::string(name), std::move(buffer));
    return view;
  }

  // Copies start/end times and the named columns, then answers only from the copies.
  void Materialize(const std::vector<std::string>& names) {
    const auto& s = head_->starts();
    starts_.assign(s.begin() + begin_, s.begin() + end_);
    SetStartRange(starts_.data());
    (void)end_ns();
    for (const std::string& n : names) (void)Column(n);
    frozen_columns_ = true;
  }
  // Lazy mode reads start times in place.
  void UseHeadStarts() {
    head_starts_ = head_->starts().data() + begin_;
    SetStartRange(head_starts_);
  }

 private:
  std::unique_ptr<ColumnBuffer> Build(std::string_view name) const;
  void FillAttribute(std::string_view key, ColumnBuffer* out) const;

  void SetStartRange(const int64_t* starts) {
    for (size_t r = 0; r < rows(); ++r) {
      min_start_ = std::min(min_start_, starts[r]);
      max_start_ = std::max(max_start_, starts[r]);
    }
  }

  std::shared_ptr<const Head> head_;
  size_t begin_, end_;
  int64_t min_start_ = INT64_MAX, max_start_ = INT64_MIN;
  const int64_t* head_starts_ = nullptr;
  std::vector<int64_t> starts_, ends_;
  absl::flat_hash_map<std::string, std::unique_ptr<ColumnBuffer>> columns_;
  bool frozen_columns_ = false;
};

void HeadChunk::FillAttribute(std::string_view key, ColumnBuffer* out) const {
  for (const AttrColumn& col : head_->attr_columns()) {
    if (col.key != key) continue;
    auto first = std::lower_bound(col.rows.begin(), col.rows.end(), static_cast<uint32_t>(begin_));
    for (size_t i = first - col.rows.begin(); i < col.rows.size() && col.rows[i] < end_; ++i) {
      size_t r = col.rows[i] - begin_;
      switch (col.type) {
        case ValueType::kString: out->SetString(r, head_->pool().Get(col.narrow[i])); break;
        case ValueType::kBool: out->SetBool(r, col.narrow[i] != 0); break;
        case ValueType::kInt: out->SetInt(r, static_cast<int64_t>(col.wide[i])); break;
        case ValueType::kDouble: {
          double d;
          std::memcpy(&d, &col.wide[i], sizeof d);
          out->SetDouble(r, d);
          break;
        }
      }
    }
  }
}

std::unique_ptr<ColumnBuffer> HeadChunk::Build(std::string_view name) const {
  const size_t n = rows();
  auto out = std::make_unique<ColumnBuffer>(n);
  const QueryColumn c = QueryColumnFor(name);
  const Head& h = *head_;
  switch (c) {
    case QueryColumn::kAttribute: FillAttribute(name, out.get()); return out;
    case QueryColumn::kKind: FillFromInts(c, h.kinds().data() + begin_, n, out.get()); return out;
    case QueryColumn::kStatusCode:
    case QueryColumn::kError:
      FillFromInts(c, h.status_codes().data() + begin_, n, out.get());
      return out;
    case QueryColumn::kAnnotationType:
      FillFromInts(c, h.row_kinds().data() + begin_, n, out.get());
      return out;
    case QueryColumn::kDurationMs: {
      std::vector<double> ms(n);
      for (size_t r = 0; r < n; ++r) {
        int64_t d = h.ends()[begin_ + r] - h.starts()[begin_ + r];
        ms[r] = d > 0 ? static_cast<double>(d) / 1e6 : 0.0;
      }
      out->AdoptDoubles(std::move(ms));
      return out;
    }
    case QueryColumn::kTraceId:
      for (size_t r = 0; r < n; ++r) SetHex(out.get(), r, h.trace_ids()[begin_ + r].data(), 16, false);
      return out;
    case QueryColumn::kSpanId:
      for (size_t r = 0; r < n; ++r) SetHex(out.get(), r, h.span_ids()[begin_ + r].data(), 8, false);
      return out;
    case QueryColumn::kParentId:
      for (size_t r = 0; r < n; ++r) SetHex(out.get(), r, h.parent_ids()[begin_ + r].data(), 8, true);
      return out;
    case QueryColumn::kLinkTraceId:
    case QueryColumn::kLinkSpanId: {
      TraceId t;
      SpanId s;
      for (size_t r = 0; r < n; ++r) {
        if (!h.LinkIds(static_cast<uint32_t>(begin_ + r), &t, &s)) continue;
        if (c == QueryColumn::kLinkTraceId) {
          SetHex(out.get(), r, t.data(), 16, false);
        } else {
          SetHex(out.get(), r, s.data(), 8, false);
        }
      }
      return out;
    }
    default: {
      const auto& codes = h.strings(StoredStringColumn(c));
      const bool empty_null = EmptyIsNull(c);
      for (size_t r = 0; r < n; ++r) {
        std::string_view v = h.pool().Get(codes[begin_ + r]);
        if (!v.empty() || !empty_null) out->SetString(r, v);
      }
      return out;
    }
  }
}

// One block of a segment. Decoded blocks are kept so string views stay valid.
class SegmentChunk final : public query::Chunk {
 public:
  SegmentChunk(const Segment& segment, size_t block)
      : seg_(segment), block_(block), rows_(segment.block_row_count(block)) {}

  size_t rows() const override { return rows_; }
  StatusOr<const int64_t*> start_ns() override {
    if (starts_ == nullptr) {
      ASSIGN_OR_RETURN(const DecodedBlock* b, Fixed(FixedColumn::kStart));
      starts_ = b->ints.data();
    }
    return starts_;
  }
  Status StartsOfRows(const std::vector<uint32_t>& rows, int64_t* dense) override {
    if (starts_ != nullptr) return Chunk::StartsOfRows(rows, dense);
    return seg_.StartsOfRows(block_, rows, dense);
  }
  // The segment's start range is a bound for each of its blocks.
  bool StartsWithin(int64_t lo, int64_t hi) const override {
    return seg_.footer().min_start_ns >= lo && seg_.footer().max_start_ns < hi;
  }
  // The service every row of the block has, from the footer's ranges (version 3 on), or null
  // when the block spans two services or the segment does not record them.
  const ServiceRange* OneService() const {
    const uint64_t lo = uint64_t{block_} * seg_.footer().block_rows;
    uint64_t begin = 0;
    for (const ServiceRange& range : seg_.footer().services) {
      if (lo < begin + range.rows) return lo + rows_ <= begin + range.rows ? &range : nullptr;
      begin += range.rows;
    }
    return nullptr;
  }
  StatusOr<const int64_t*> end_ns() override {
    if (ends_.empty()) {
      ASSIGN_OR_RETURN(const int64_t* start, start_ns());
      ASSIGN_OR_RETURN(const int64_t* duration, duration_ns());
      ends_.resize(rows());
      for (size_t r = 0; r < rows(); ++r) ends_[r] = start[r] + duration[r];
    }
    return ends_.data();
  }
  StatusOr<const int64_t*> duration_ns() override {
    if (durations_ == nullptr) {
      ASSIGN_OR_RETURN(const DecodedBlock* d, Fixed(FixedColumn::kDuration));
      durations_ = d->ints.data();
    }
    return durations_;
  }
  StatusOr<ColumnView> Column(std::string_view name) override {
    auto it = columns_.find(absl::string_view(name.data(), name.size()));
    if (it != columns_.end()) return it->second->View();
    auto buffer = std::make_unique<ColumnBuffer>(rows());
    RETURN_IF_ERROR(Build(name, buffer.get()));
    ColumnView view = buffer->View();
    columns_.emplace(std::string(name), std::move(buffer));
    return view;
  }
  // trace.parent_id: null for roots, known without building the hex ids.
  StatusOr<ColumnView> ColumnPresence(std::string_view name) override {
    if (QueryColumnFor(name) != QueryColumn::kParentId) return Column(name);
    if (parent_presence_ == nullptr) {
      ASSIGN_OR_RETURN(DecodedBlock b, seg_.ReadBlock(seg_.fixed_column(FixedColumn::kParentId),
                                                      block_, Segment::BlockDetail::kPresence));
      if (b.rows != rows()) return absl::DataLossError("segment block row count mismatch");
      auto buffer = std::make_unique<ColumnBuffer>(rows());
      buffer->AdoptPresence(b.valid, ValueType::kString);
      parent_presence_ = std::move(buffer);
    }
    return parent_presence_->View();
  }

 private:
  StatusOr<DecodedBlock*> Fixed(FixedColumn c) {
    return Keep(seg_.fixed_column(c));
  }
  StatusOr<DecodedBlock*> Keep(size_t column) {
    ASSIGN_OR_RETURN(DecodedBlock b, seg_.ReadBlock(column, block_));
    if (b.rows != rows()) return absl::DataLossError("segment block row count mismatch");
    kept_.push_back(std::make_unique<DecodedBlock>(std::move(b)));
    return kept_.back().get();
  }
  Status Build(std::string_view name, ColumnBuffer* out);
  Status FillIds(QueryColumn c, ColumnBuffer* out);
  Status FillAttribute(std::string_view key, ColumnBuffer* out);

  const Segment& seg_;
  size_t block_;
  size_t rows_;
  const int64_t* starts_ = nullptr;  // in kept_
  const int64_t* durations_ = nullptr;  // in kept_
  std::vector<int64_t> ends_;
  std::vector<std::unique_ptr<DecodedBlock>> kept_;
  absl::flat_hash_map<std::string, std::unique_ptr<ColumnBuffer>> columns_;
  std::unique_ptr<ColumnBuffer> parent_presence_;
  std::vector<uint32_t> service_codes_;  // OneService's column: every row code 0
  std::string_view service_view_;        // ... of this one entry (the footer's string)
};

Status SegmentChunk::FillIds(QueryColumn c, ColumnBuffer* out) {
  const size_t n = rows();
  if (c == QueryColumn::kTraceId) {
    const uint64_t first = uint64_t{block_} * seg_.footer().block_rows;
    // Rows of one trace are adjacent: they share one hex text (and so one identity).
    const TraceId* previous = nullptr;
    std::string_view previous_hex;
    seg_.ForEachRowTrace(first, n, [&](size_t r, const TraceId& id) {
      if (previous != &id) {
        previous_hex = SetHex(out, r, id.data(), 16, false);
        previous = &id;
      } else {
        out->SetString(r, previous_hex);
      }
    });
    return OkStatus();
  }
  FixedColumn stored = c == QueryColumn::kSpanId     ? FixedColumn::kSpanId
                       : c == QueryColumn::kParentId ? FixedColumn::kParentId
                       : c == QueryColumn::kLinkTraceId ? FixedColumn::kLinkTraceId
                                                        : FixedColumn::kLinkSpanId;
  ASSIGN_OR_RETURN(const DecodedBlock* b, Fixed(stored));
  const int width = FixedColumnWidth(stored);
  if (b->bytes.size() < n * static_cast<size_t>(width)) {
    return absl::DataLossError("segment id block too short");
  }
  for (size_t r = 0; r < n; ++r) {
    if (!b->IsValid(r)) continue;
    SetHex(out, r, reinterpret_cast<const uint8_t*>(b->bytes.data()) + r * width, width,
           c == QueryColumn::kParentId);
  }
  return OkStatus();
}

// The string rows of a decoded block, with its dictionary codes when it has them. Takes the
// block's string views (they point into the block's buffers, which stay).
void FillStrings(DecodedBlock& b, bool empty_is_null, ColumnBuffer* out) {
  if (!empty_is_null) {
    out->AdoptStrings(std::move(b.strs), b.valid);
  } else {
    for (size_t r = 0; r < b.rows; ++r) {
      if (!b.IsValid(r)) continue;
      if (!b.strs[r].empty()) out->SetString(r, b.strs[r]);
    }
  }
  if (b.dict_encoded && b.codes.size() == b.rows) {
    out->SetDictionary(b.codes.data(), b.dict.data(), static_cast<uint32_t>(b.dict.size()));
  }
}

Status SegmentChunk::FillAttribute(std::string_view key, ColumnBuffer* out) {
  const std::vector<size_t>& columns = seg_.attribute_columns(key);
  const ValueType only_type = columns.size() == 1 ? seg_.footer().columns[columns[0]].type
                                                  : ValueType::kBool;
  if (columns.size() == 1 && only_type != ValueType::kBool) {  // one type: whole-column copies
    ASSIGN_OR_RETURN(DecodedBlock* b, Keep(columns[0]));  // read by this column only
    switch (only_type) {
      case ValueType::kString: FillStrings(*b, false, out); break;
      case ValueType::kInt: out->AdoptInts(std::move(b->ints), ValueType::kInt, b->valid); break;
      case ValueType::kDouble: out->AdoptDoubles(std::move(b->doubles), b->valid); break;
      case ValueType::kBool: break;
    }
    return OkStatus();
  }
  for (size_t column : columns) {
    ASSIGN_OR_RETURN(const DecodedBlock* b, Keep(column));
    const ValueType type = seg_.footer().columns[column].type;
    for (size_t r = 0; r < rows(); ++r) {
      if (!b->IsValid(r)) continue;
      switch (type) {
        case ValueType::kString: out->SetString(r, b->strs[r]); break;
        case ValueType::kInt: out->SetInt(r, b->ints[r]); break;
        case ValueType::kBool: out->SetBool(r, b->ints[r] != 0); break;
        case ValueType::kDouble: out->SetDouble(r, b->doubles[r]); break;
      }
    }
  }
  return OkStatus();
}

Status SegmentChunk::Build(std::string_view name, ColumnBuffer* out) {
  const QueryColumn c = QueryColumnFor(name);
  const size_t n = rows();
  switch (c) {
    case QueryColumn::kAttribute: return FillAttribute(name, out);
    case QueryColumn::kTraceId:
    case QueryColumn::kSpanId:
    case QueryColumn::kParentId:
    case QueryColumn::kLinkTraceId:
    case QueryColumn::kLinkSpanId: return FillIds(c, out);
    case QueryColumn::kKind:
    case QueryColumn::kStatusCode:
    case QueryColumn::kError:
    case QueryColumn::kAnnotationType: {
      FixedColumn stored = c == QueryColumn::kKind             ? FixedColumn::kKind
                           : c == QueryColumn::kAnnotationType ? FixedColumn::kRowKind
                                                               : FixedColumn::kStatusCode;
      ASSIGN_OR_RETURN(const DecodedBlock* b, Fixed(stored));
      FillFromInts(c, b->ints.data(), n, out);
      return OkStatus();
    }
    case QueryColumn::kDurationMs: {
      ASSIGN_OR_RETURN(const int64_t* d, duration_ns());  // decoded once per chunk
      std::vector<double> ms(n);
      for (size_t r = 0; r < n; ++r) ms[r] = d[r] > 0 ? static_cast<double>(d[r]) / 1e6 : 0.0;
      out->AdoptDoubles(std::move(ms));
      return OkStatus();
    }
    default: {
      if (const ServiceRange* only = OneService(); c == QueryColumn::kService && only) {
        // One service: a one-entry dictionary column, without reading the block.
        out->AdoptStrings(std::vector<std::string_view>(n, only->service));
        service_codes_.assign(n, 0);
        service_view_ = only->service;
        out->SetDictionary(service_codes_.data(), &service_view_, 1);
        return OkStatus();
      }
      ASSIGN_OR_RETURN(DecodedBlock* b, Fixed(StoredStringColumn(c)));  // this column only
      FillStrings(*b, EmptyIsNull(c), out);
      return OkStatus();
    }
  }
}

bool OutsideWindow(int64_t min_start, int64_t max_start, const query::ScanPlan& plan) {
  return max_start < plan.start_ns || min_start >= plan.end_ns;
}

}  // namespace

void StoreChunkSource::AddActiveHead(std::shared_ptr<const Head> head,
                                     const query::ScanPlan& plan) {
  if (head->empty() || OutsideWindow(head->min_start(), head->max_start(), plan)) return;
  for (size_t begin = 0; begin < head->rows(); begin += kHeadChunkRows) {
    auto chunk = std::make_shared<HeadChunk>(head, begin, std::min(head->rows(), begin + kHeadChunkRows));
    chunk->Materialize(plan.columns);
    active_chunks_.push_back(std::move(chunk));
  }
}

std::vector<query::ChunkTask> StoreChunkSource::PlanScan(const query::ScanPlan& plan) {
  fill_(*this, plan);
  std::vector<query::ChunkTask> tasks;
  for (auto& chunk : active_chunks_) {
    tasks.push_back([chunk](const query::ChunkConsumer& consume) { return consume(*chunk); });
  }
  for (const auto& head : frozen_) {
    if (head->empty() || OutsideWindow(head->min_start(), head->max_start(), plan)) {
      ++pruned_;
      continue;
    }
    for (size_t begin = 0; begin < head->rows(); begin += kHeadChunkRows) {
      size_t end = std::min(head->rows(), begin + kHeadChunkRows);
      tasks.push_back([head, begin, end](const query::ChunkConsumer& consume) {
        HeadChunk chunk(head, begin, end);
        chunk.UseHeadStarts();
        return consume(chunk);
      });
    }
  }
  for (const auto& seg : segments_) {
    const SegmentFooter& f = seg->footer();
    if (f.row_count == 0 || OutsideWindow(f.min_start_ns, f.max_start_ns, plan)) {
      pruned_ += seg->blocks();
      continue;
    }
    // One dataset: only the blocks overlapping its service's rows (the chunk's rows of other
    // services are still filtered out by the query).
    size_t first_block = 0, end_block = seg->blocks();
    if (!plan.service.empty()) {
      if (auto rows = seg->ServiceRows(plan.service)) {
        first_block = rows->first / f.block_rows;
        end_block = rows->first == rows->second ? first_block
                                                : (rows->second + f.block_rows - 1) / f.block_rows;
      }
    }
    pruned_ += seg->blocks() - (end_block - first_block);
    for (size_t b = first_block; b < end_block; ++b) {
      tasks.push_back([seg, b](const query::ChunkConsumer& consume) -> Status {
        SegmentChunk chunk(*seg, b);
        return consume(chunk);
      });
    }
  }
  return tasks;
}

}  // namespace waggle::store_internal
