// Head: the in-memory columnar builder that receives appended rows until it is frozen and
// written to a segment.
//
// Layout: one vector per fixed column (strings as codes into the head's StringPool), and one
// sparse column per attribute (key, type): ascending row numbers plus values, so a column
// created late needs no back-fill and absent values cost nothing. A hash index maps each trace
// id to its last row and a per-row back-link chains the rest of the trace's rows.
//
// Thread-safety: not synchronized. The owner serializes mutation with every read (the store
// guards its active head with a mutex; a frozen head is immutable and read freely).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "model/span.h"
#include "store/internal/schema.h"
#include "store/store.h"

namespace waggle::store_internal {

// Interns strings; code 0 is the empty string. Views stay valid for the pool's lifetime.
class StringPool {
 public:
  StringPool();
  uint32_t Intern(std::string_view s);
  std::string_view Get(uint32_t code) const { return strings_[code]; }
  size_t size() const { return strings_.size(); }
  size_t memory_bytes() const;

 private:
  static constexpr size_t kChunkBytes = 64 * 1024;
  std::vector<std::unique_ptr<char[]>> chunks_;
  size_t chunk_used_ = kChunkBytes;
  size_t arena_bytes_ = 0;
  std::vector<std::string_view> strings_;
  absl::flat_hash_map<std::string_view, uint32_t> index_;
};

// One attribute column. INVARIANT: rows strictly ascending; values parallel to rows in
// `wide` (kInt: int64 bits, kDouble: double bits) or `narrow` (kString: pool code, kBool 0/1).
struct AttrColumn {
  std::string_view key;  // in the head's pool
  ValueType type = ValueType::kString;
  std::vector<uint32_t> rows;
  std::vector<uint64_t> wide;
  std::vector<uint32_t> narrow;
  int64_t last_written_ns = 0;

  bool is_wide() const { return type == ValueType::kInt || type == ValueType::kDouble; }
  // Index into rows/values of `row`, or -1.
  int64_t Find(uint32_t row) const;
};

// An attribute value as the head stores it, for writers and readers.
struct AttrValueRef {
  const AttrColumn* column = nullptr;
  size_t index = 0;
};

class Head {
 public:
  static constexpr uint32_t kNoRow = UINT32_MAX;

  Head() = default;
  Head(const Head&) = delete;
  Head& operator=(const Head&) = delete;

  // Copies every row of `batch`. `now_ns` is the wall-clock write time (Columns()).
  void AddBatch(const SpanBatch& batch, int64_t now_ns);
  // Copies one owning row (compaction, tests).
  void AddSpan(const Span& span, int64_t now_ns);

  size_t rows() const { return start_.size(); }
  bool empty() const { return start_.empty(); }
  int64_t min_start() const { return min_start_; }
  int64_t max_start() const { return max_start_; }
  size_t memory_bytes() const;

  // Rows of the trace, in insertion order.
  std::vector<uint32_t> TraceRows(const TraceId& id) const;
  Span RowToSpan(uint32_t row) const;
  // Columns in the head with their types and last write times (fixed columns included).
  void CollectColumns(std::vector<ColumnInfo>* out) const;

  // Read access for the segment writer and scans.
  const StringPool& pool() const { return pool_; }
  const std::vector<TraceId>& trace_ids() const { return trace_id_; }
  const std::vector<SpanId>& span_ids() const { return span_id_; }
  const std::vector<SpanId>& parent_ids() const { return parent_id_; }
  const std::vector<int64_t>& starts() const { return start_; }
  const std::vector<int64_t>& ends() const { return end_; }
  const std::vector<uint8_t>& row_kinds() const { return row_kind_; }
  const std::vector<uint8_t>& kinds() const { return kind_; }
  const std::vector<uint8_t>& status_codes() const { return status_; }
  const std::vector<uint32_t>& flags() const { return flags_; }
  const std::vector<uint32_t>& strings(FixedColumn c) const { return str_[FixedStringSlot(c)]; }
  // Link ids of `row`, or false when the row has none.
  bool LinkIds(uint32_t row, TraceId* trace, SpanId* span) const;
  const std::deque<AttrColumn>& attr_columns() const { return attrs_; }
  int64_t last_written_ns() const { return last_written_ns_; }

 private:
  struct RowFixed {
    RowKind row_kind;
    const TraceId* trace_id;
    const SpanId* span_id;
    const SpanId* parent_id;
    int64_t start_ns, end_ns;
    SpanKind kind;
    StatusCode status;
    uint32_t flags;
    std::string_view strs[kFixedStringCount];
    const TraceId* link_trace;
    const SpanId* link_span;
  };
  uint32_t AddFixed(const RowFixed& f, int64_t now_ns);
  // Adds attrs to `row`; `attrs` in increasing priority (later wins on equal keys).
  void AddAttrs(uint32_t row, const std::vector<const AttrView*>& attrs, int64_t now_ns);
  AttrColumn* ColumnFor(std::string_view key, ValueType type);

  StringPool pool_;
  std::vector<TraceId> trace_id_;
  std::vector<SpanId> span_id_;
  std::vector<SpanId> parent_id_;
  std::vector<int64_t> start_;
  std::vector<int64_t> end_;
  std::vector<uint8_t> row_kind_;
  std::vector<uint8_t> kind_;
  std::vector<uint8_t> status_;
  std::vector<uint32_t> flags_;
  std::vector<uint32_t> str_[kFixedStringCount];
  std::vector<uint32_t> link_rows_;  // ascending
  std::vector<std::pair<TraceId, SpanId>> link_ids_;
  std::deque<AttrColumn> attrs_;
  absl::flat_hash_map<std::pair<std::string_view, ValueType>, AttrColumn*> attr_index_;
  absl::flat_hash_map<TraceId, uint32_t> last_row_of_trace_;
  std::vector<uint32_t> prev_row_in_trace_;  // kNoRow ends the chain
  int64_t min_start_ = INT64_MAX;
  int64_t max_start_ = INT64_MIN;
  int64_t last_written_ns_ = 0;
  std::vector<const AttrView*> scratch_attrs_;
};

}  // namespace waggle::store_internal
