// Chunks: how a storage backend hands rows to the query executor, column by column.
//
// A ChunkSource plans a scan into independent ChunkTasks (typically one per segment block or
// per slice of an in-memory head); the executor runs tasks on several threads at once. A task
// loads its rows and calls the consumer once per Chunk; a Chunk answers Column(name) with a
// dense ColumnView over its rows, materialised on demand.
//
// Column names are Honeycomb's: fixed columns (`trace.trace_id`, `name`, `service.name`,
// `duration_ms`, `status_code`, `error`, `meta.annotation_type`, ...) and attribute keys. One
// name may hold values of several types (an attribute sent as string by one service and as
// int by another): a ColumnView then carries a per-row type.
//
// Thread-safety: a Chunk and its views are used by the one thread running its task. Views stay
// valid until the Chunk is destroyed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "model/span.h"
#include "query/query_spec.h"

namespace waggle::query {

// A dense view of one column over a chunk's rows. Row r's type is types[r] (0 = null) or, when
// `types` is null, `uniform` for every row (uniform 0 = all null). The value of a row of type
// kInt/kBool is ints[r] (bools 0/1), kDouble doubles[r], kString strs[r]; arrays of types that
// no row has may be null.
struct ColumnView {
  size_t rows = 0;
  const uint8_t* types = nullptr;
  uint8_t uniform = 0;
  const int64_t* ints = nullptr;
  const double* doubles = nullptr;
  const std::string_view* strs = nullptr;
  // Optional dictionary of the string rows: for rows of type kString, codes[r] < dict_size and
  // strs[r] == dict[codes[r]]; dict entries are distinct, so two string rows have equal codes
  // exactly when their strings are equal (codes of other rows are unspecified). Lets grouping
  // and filters work per distinct value.
  const uint32_t* codes = nullptr;
  const std::string_view* dict = nullptr;
  uint32_t dict_size = 0;

  // With `types`: when non-zero, the one type every non-null row has (0: not known to be one).
  uint8_t only_type = 0;

  uint8_t TypeAt(size_t r) const { return types ? types[r] : uniform; }
  bool all_null() const { return types == nullptr && uniform == 0; }
  // The row's value as a number (an int converted, a double as is); false for other types and
  // nulls.
  bool NumberAt(size_t r, double* v) const {
    const uint8_t t = TypeAt(r);
    if (t == static_cast<uint8_t>(ValueType::kInt)) {
      *v = static_cast<double>(ints[r]);
      return true;
    }
    if (t == static_cast<uint8_t>(ValueType::kDouble)) {
      *v = doubles[r];
      return true;
    }
    return false;
  }
};

inline uint8_t TypeCode(ValueType t) { return static_cast<uint8_t>(t); }

// Owns the arrays of a ColumnView that a chunk had to build. Fill with Set*; then View().
class ColumnBuffer {
 public:
  // Every row null.
  explicit ColumnBuffer(size_t rows) : rows_(rows) {}

  void SetInt(size_t r, int64_t v) { Mark(r, ValueType::kInt); Ints()[r] = v; }
  void SetBool(size_t r, bool v) { Mark(r, ValueType::kBool); Ints()[r] = v ? 1 : 0; }
  void SetDouble(size_t r, double v) { Mark(r, ValueType::kDouble); Doubles()[r] = v; }
  void SetString(size_t r, std::string_view v) { Mark(r, ValueType::kString); Strs()[r] = v; }
  // Sets only the row's type, no value: for presence views (Chunk::ColumnPresence).
  void MarkPresent(size_t r, ValueType t) { Mark(r, t); }
  // Presence view in one go: row r is of type t exactly when `present` is empty or
  // present[r] != 0; no values. Not to be mixed with Set* on the same buffer.
  void AdoptPresence(const std::vector<uint8_t>& present, ValueType t);

  // Whole-column fast paths: every row non-null of one type (the buffer takes the vector).
  // Not to be mixed with Set* on the same buffer.
  void AdoptInts(std::vector<int64_t> v, ValueType type);
  void AdoptDoubles(std::vector<double> v);
  void AdoptStrings(std::vector<std::string_view> v);
  // The same with nulls: row r holds a value (v[r]) of the one type exactly when `present` is
  // empty or present[r] != 0.
  void AdoptInts(std::vector<int64_t> v, ValueType type, const std::vector<uint8_t>& present);
  void AdoptDoubles(std::vector<double> v, const std::vector<uint8_t>& present);
  void AdoptStrings(std::vector<std::string_view> v, const std::vector<uint8_t>& present);
  // The dictionary of the string rows (see ColumnView::codes); both arrays must outlive the
  // views.
  void SetDictionary(const uint32_t* codes, const std::string_view* dict, uint32_t dict_size) {
    codes_ = codes;
    dict_ = dict;
    dict_size_ = dict_size;
  }
  // Storage for `n` bytes of text the chunk builds itself (hex ids), valid as long as the
  // buffer; the caller fills it and views it.
  char* AllocateText(size_t n);

  ColumnView View() const;

 private:
  void Mark(size_t r, ValueType t);
  // After an Adopt*: row types from `present` (empty = every row has a value).
  void TypesFromPresence(const std::vector<uint8_t>& present, ValueType t);
  int64_t* Ints();
  double* Doubles();
  std::string_view* Strs();

  size_t rows_;
  bool any_set_ = false;
  bool all_set_ = false;  // after an Adopt* call: every row has type uniform_
  uint8_t uniform_ = 0;
  uint8_t only_type_ = 0;  // after an Adopt* with presence: the non-null rows' one type
  std::vector<uint8_t> types_;
  std::vector<int64_t> ints_;
  std::vector<double> doubles_;
  std::vector<std::string_view> strs_;
  const uint32_t* codes_ = nullptr;
  const std::string_view* dict_ = nullptr;
  uint32_t dict_size_ = 0;
  std::vector<std::unique_ptr<char[]>> text_blocks_;
  char* text_next_ = nullptr;
  size_t text_left_ = 0;
};

class Chunk {
 public:
  virtual ~Chunk() = default;
  virtual size_t rows() const = 0;
  // Row start times, unix ns (may be decoded on first call).
  virtual StatusOr<const int64_t*> start_ns() = 0;
  // Writes start[r] for every r in `rows` (ascending) into dense[r] (dense has rows() entries;
  // other entries are left as they are). The default reads every start time; a chunk that can
  // decode only the rows asked for (few rows of a block) does so.
  virtual Status StartsOfRows(const std::vector<uint32_t>& rows, int64_t* dense);
  // True when every row is known to start in [lo, hi) without reading the start times.
  virtual bool StartsWithin(int64_t lo, int64_t hi) const {
    (void)lo;
    (void)hi;
    return false;
  }
  // Row end times, unix ns (CONCURRENCY).
  virtual StatusOr<const int64_t*> end_ns() = 0;
  // end − start per row (wrapping). The default derives it from both; a chunk that stores
  // durations hands them over without reading the start times.
  virtual StatusOr<const int64_t*> duration_ns();
  // The named column; a column the chunk does not have is all null.
  virtual StatusOr<ColumnView> Column(std::string_view name) = 0;
  // A view of the named column whose row types are exact but whose value arrays may be absent
  // (only null / non-null may be read): for `exists` filters, where a chunk can skip building
  // values (hex ids).
  virtual StatusOr<ColumnView> ColumnPresence(std::string_view name) { return Column(name); }

 private:
  std::vector<int64_t> durations_;  // the default duration_ns()
};

// What the executor needs from a scan, for pruning.
struct ScanPlan {
  int64_t start_ns = 0;  // rows starting in [start_ns, end_ns)
  int64_t end_ns = 0;
  std::string service;   // empty = every service (dataset __all__)
  std::vector<std::string> columns;  // every column the query reads
};

using ChunkConsumer = std::function<Status(Chunk&)>;
// Loads its rows and calls the consumer for each chunk (possibly none, when pruned).
using ChunkTask = std::function<Status(const ChunkConsumer&)>;

class ChunkSource {
 public:
  virtual ~ChunkSource() = default;
  // Independent tasks covering every row that may match `plan`; callable concurrently.
  virtual std::vector<ChunkTask> PlanScan(const ScanPlan& plan) = 0;
  // Chunks skipped whole while planning (statistics).
  virtual uint64_t chunks_pruned() const { return 0; }
};

}  // namespace waggle::query
