// Head: the in-memory columnar builder that receives appended rows until it is frozen and
// written to a segment.
//
// Layout: one vector per fixed column (strings as codes into the head's StringPool), and one
// sparse column per attribute (key, type): ascending row numbers plus values, so a column
// created late needs no back-fill and absent values cost nothing. A hash index maps each trace
// id to its last row and a per-row back-link chains the rest of the trace's rows.
//
// Insert cost: string values are not interned exactly (most are high-cardinality ids): a value
// equal to the column's previous one or to one in the pool's small recent-value cache reuses
// its code, anything else is appended to the arena. Attribute columns are found through a
// per-batch cache (resource/scope attributes are shared by many rows) and, given the encoder's
// BatchHints (the store's Append path), through the batch's key numbering, so the hash index is
// consulted about once per key per batch; without hints, a "next column" hint (attributes of
// one kind of span arrive in the same key order) falls back to the hash index. The hints also
// say which row strings and attribute values repeat earlier ones, so those reuse a code without
// comparing bytes again.
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
#include "model/batch_codec.h"
#include "model/span.h"
#include "store/internal/schema.h"
#include "store/store.h"

namespace waggle::store_internal {

// Stores strings under uint32 codes; code 0 is the empty string. Views stay valid for the
// pool's lifetime.
class StringPool {
 public:
  StringPool();
  // Exact interning: equal strings always get the same code (for keys; keeps an index).
  uint32_t Intern(std::string_view s);
  // Best-effort dedup without a growing index: the code of an equal string found in a
  // direct-mapped cache of recently stored strings, else a new code for a copy of `s`.
  // Equal strings may have different codes.
  uint32_t Store(std::string_view s);
  std::string_view Get(uint32_t code) const { return strings_[code]; }
  // Forgets every string (views taken before become invalid) and keeps the arena's chunks and
  // the code table's capacity for the strings stored next.
  void Clear();
  // Hints that Get(code) comes soon (loads its entry, not the bytes).
  void Prefetch(uint32_t code) const { __builtin_prefetch(&strings_[code]); }
  size_t size() const { return strings_.size(); }
  size_t memory_bytes() const;

 private:
  static constexpr size_t kChunkBytes = 64 * 1024;
  static constexpr size_t kCacheSlots = 1 << 14;  // power of two
  uint32_t Append(std::string_view s);

  // Arena chunks of kChunkBytes, filled in order; chunks_[next_chunk_ ..] are free (kept by
  // Clear). Strings over kChunkBytes / 4 get a block of their own in large_.
  std::vector<std::unique_ptr<char[]>> chunks_;
  size_t next_chunk_ = 0;
  char* chunk_ = nullptr;  // the chunk being filled
  size_t chunk_used_ = kChunkBytes;
  std::vector<std::unique_ptr<char[]>> large_;
  size_t large_bytes_ = 0;
  std::vector<std::string_view> strings_;
  absl::flat_hash_map<std::string_view, uint32_t> index_;
  // kCacheSlots entries by hash of the string: its code (0 = empty) and the hash's high half.
  struct CacheSlot {
    uint32_t code = 0;
    uint32_t tag = 0;
  };
  std::vector<CacheSlot> cache_;
};

// One attribute column. INVARIANT: rows strictly ascending; values parallel to rows in
// `wide` (kInt: int64 bits, kDouble: double bits) or `narrow` (kString: pool code, kBool 0/1).
struct AttrColumn {
  std::string_view key;  // in the head's pool
  ValueType type = ValueType::kString;
  uint32_t key_id = 0;   // shared by the columns of one key (a row takes a key only once)
  std::vector<uint32_t> rows;
  std::vector<uint64_t> wide;
  std::vector<uint32_t> narrow;
  int64_t last_written_ns = 0;
  // Insert-path hints (no effect on content): the column that followed this one in the last
  // row that had it, and the pool code of the last string value.
  AttrColumn* next_hint = nullptr;
  uint32_t last_code = 0;

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

  // `expected_rows`: capacity reserved for the fixed columns (address space; pages are
  // touched only as rows arrive).
  explicit Head(size_t expected_rows = 0);
  Head(const Head&) = delete;
  Head& operator=(const Head&) = delete;

  // Empties the head for reuse, keeping its memory: the fixed columns, the string arena and
  // each attribute column's vectors (handed to the column of the same key and type when it is
  // created again), so a recycled head fills without page faults or vector regrowth. Memory
  // held: what the head held, until the next Clear frees the vectors no new column took.
  void Clear();

  // Copies every row of `batch`. `now_ns` is the wall-clock write time (Columns()). `hints`,
  // when given, are what EncodeBatch produced for this same batch: each key's column is then
  // looked up once per batch and repeated row strings are not compared again (hints whose sizes
  // do not match the batch are ignored). Same content with or without hints.
  void AddBatch(const SpanBatch& batch, int64_t now_ns);
  void AddBatch(const SpanBatch& batch, const BatchHints* hints, int64_t now_ns);
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
  // False when every row's string of fixed column `c` is empty (code 0): writers then need not
  // read the column row by row.
  bool any_string(FixedColumn c) const {
    return (nonempty_strings_ >> FixedStringSlot(c)) & 1;
  }
  // False when every row's flags are 0.
  bool any_flags() const { return flags_any_ != 0; }
  // Link ids of `row`, or false when the row has none.
  bool LinkIds(uint32_t row, TraceId* trace, SpanId* span) const;
  const std::deque<AttrColumn>& attr_columns() const { return attrs_; }
  // Each trace's last row; prev_rows_in_trace()[row] is the trace's row before `row` (kNoRow
  // ends the chain), so every row is on exactly one chain.
  const absl::flat_hash_map<TraceId, uint32_t>& last_row_of_traces() const {
    return last_row_of_trace_;
  }
  const std::vector<uint32_t>& prev_rows_in_trace() const { return prev_row_in_trace_; }
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
  static constexpr uint32_t kNoCode = UINT32_MAX;
  // AddBatch's per-batch memo of one batch.attrs entry: its column and, once stored, the pool
  // code of its string value (resource and scope attributes are shared by many rows).
  struct BatchAttr {
    AttrColumn* column = nullptr;
    uint32_t code = kNoCode;
  };

  // Appends the fixed columns of a row. Bit i of `same_strings` set: string i equals the head's
  // previous row's (REQUIRES: a previous row exists), its code is reused without comparing.
  uint32_t AddFixed(const RowFixed& f, uint8_t same_strings, int64_t now_ns);
  // Chains `row` (just appended) behind the previous row of its trace.
  void LinkTraceRow(const TraceId& id, uint32_t row);
  // The column of batch.attrs[i]: through the batch's key numbering when given (first column
  // of the key in this batch, re-checked by type), else ColumnFor.
  AttrColumn* BatchColumn(const SpanBatch& batch, const BatchHints* hints, uint32_t i,
                          AttrColumn* prev);
  // The column of (key, type), created on first sight; `prev` is the column of the attribute
  // inserted just before in this row (or null), whose next_hint is tried first and updated.
  AttrColumn* ColumnFor(std::string_view key, ValueType type, AttrColumn* prev);
  // Adds `a` to `row` in `col` unless the row already has a value for the key (attributes are
  // added in decreasing priority). `*code` memoizes the pool code of a string value (kNoCode:
  // not stored yet).
  void AddAttr(uint32_t row, AttrColumn* col, const AttrView& a, uint32_t* code, int64_t now_ns);
  uint32_t StoreString(std::string_view s, uint32_t* last_code);

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
  absl::flat_hash_map<std::string_view, uint32_t> key_ids_;
  std::vector<uint32_t> key_last_row_;  // by key id: the last row that took the key
  absl::flat_hash_map<TraceId, uint32_t> last_row_of_trace_;
  std::vector<uint32_t> prev_row_in_trace_;  // kNoRow ends the chain
  // Insert-path hint: &last_row_of_trace_[trace_id_.back()] (null before the first row). Valid
  // because only LinkTraceRow inserts into the map, and it re-points this after every insert.
  uint32_t* trace_run_last_ = nullptr;
  int64_t min_start_ = INT64_MAX;
  int64_t max_start_ = INT64_MIN;
  int64_t last_written_ns_ = 0;
  uint32_t last_fixed_code_[kFixedStringCount] = {};
  uint8_t nonempty_strings_ = 0;  // bit FixedStringSlot: a row has a non-empty string there
  uint32_t flags_any_ = 0;        // the OR of every row's flags
  // Clear: the vectors of the previous fill's attribute columns, by key and type (SpareKey).
  struct ColumnBuffers {
    std::vector<uint32_t> rows;
    std::vector<uint64_t> wide;
    std::vector<uint32_t> narrow;
  };
  absl::flat_hash_map<std::string, ColumnBuffers> spare_columns_;
  std::vector<BatchAttr> batch_attrs_;      // AddBatch: memo of each batch.attrs entry
  std::vector<AttrColumn*> key_columns_;    // AddBatch with hints: a column of each key
};

}  // namespace waggle::store_internal
