// Segment: an open, immutable segment file. Reads the footer and the trace index at open and
// decodes column blocks on demand.
//
// Segment files are untrusted: Open verifies magic, format version, footer CRC, the footer's
// structure and the trace index; every block read verifies its CRC and decodes defensively.
// Any failure is a DataLoss status (the store quarantines the segment), never a crash.
//
// Lifetime: a Segment is shared (std::shared_ptr) by the store's segment list and by running
// reads. MarkObsolete() makes the destructor delete the file, so a dropped segment's file
// lives until the last read using it ends.
//
// Thread-safety: all const methods are thread-safe; MarkObsolete is thread-safe.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "common/status.h"
#include "env/env.h"
#include "model/span.h"
#include "store/internal/coding.h"
#include "store/internal/segment_format.h"

namespace waggle::store_internal {

// One decoded column block: dense, one entry per row (placeholders where null).
// Views (strs, dict) point into buffers owned by this object; moving it keeps them valid.
struct DecodedBlock {
  Physical physical = Physical::kInt;
  size_t rows = 0;
  std::vector<uint8_t> valid;          // empty = every row valid
  std::vector<int64_t> ints;           // kInt
  std::vector<double> doubles;         // kDouble
  std::vector<std::string_view> strs;  // kString
  bool dict_encoded = false;           // kString: dict + codes below are set
  std::vector<std::string_view> dict;
  std::vector<uint32_t> codes;         // per row; 0 where null
  std::string bytes;                   // kBytes / kParentRef: width bytes per row
  int width = 0;

  bool IsValid(size_t row) const { return valid.empty() || valid[row] != 0; }
  std::unique_ptr<std::string> stored_buffer;
  std::unique_ptr<std::string> raw_buffer;
  std::unique_ptr<std::string> text_buffer;     // UUID/hex values expanded to text
  std::unique_ptr<DecodedBlock> same_as_block;  // kSameAs: the block the views point into
};

class Segment {
 public:
  // Opens and validates the segment at `path`.
  static StatusOr<std::shared_ptr<Segment>> Open(Env* env, const std::string& path);
  ~Segment();
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  const SegmentFooter& footer() const { return footer_; }
  uint64_t id() const { return footer_.segment_id; }
  uint64_t rows() const { return footer_.row_count; }
  uint64_t file_bytes() const { return file_bytes_; }
  const std::string& path() const { return path_; }
  // Index in footer().columns of a fixed column (every fixed column but kTraceId exists).
  size_t fixed_column(FixedColumn c) const { return fixed_index_[static_cast<int>(c)]; }
  // Indices in footer().columns of the attribute columns named `name` (one per value type).
  const std::vector<size_t>& attribute_columns(std::string_view name) const;
  size_t blocks() const;
  size_t block_row_count(size_t block) const;

  // Appends the row ranges [first, second) holding the trace (one per service it has rows of,
  // ascending); false if the segment does not hold it.
  bool FindTrace(const TraceId& id, std::vector<std::pair<uint64_t, uint64_t>>* ranges) const;
  // The rows [first, second) of `service` (empty when the segment has none), or nullopt when
  // the segment does not record its services (version 2: any row may be of any service).
  std::optional<std::pair<uint64_t, uint64_t>> ServiceRows(std::string_view service) const;
  const TraceId& TraceOfRow(uint64_t row) const;
  // Calls fn(row - first, trace id) for rows [first, first + n), walking the trace index once
  // (one search, then sequential) instead of searching per row.
  template <typename Fn>
  void ForEachRowTrace(uint64_t first, size_t n, Fn&& fn) const;

  // Decodes block `block` of column `column` (indices into footer().columns). With kPresence,
  // a parent-id column's block comes back with only `valid` (1 = the row has a parent) and no
  // bytes, without reading the span ids it refers to; other columns decode fully.
  enum class BlockDetail { kValues, kPresence };
  StatusOr<DecodedBlock> ReadBlock(size_t column, size_t block,
                                   BlockDetail detail = BlockDetail::kValues) const;
  // dense[r] = the start time of row r of block `block`, for each r of `rows` (ascending, <
  // the block's rows), decoding only those rows' times.
  Status StartsOfRows(size_t block, const std::vector<uint32_t>& rows, int64_t* dense) const;
  // Rows [begin, end) as owning spans, in segment order.
  StatusOr<std::vector<Span>> ReadRows(uint64_t begin, uint64_t end) const;
  // The rows of several disjoint ranges [first, second), one vector per range in the order
  // given, decoding each (column, block) at most once: many traces of one segment at the cost
  // of reading the blocks they touch once.
  // kSummary fills only what a trace summary reads (row kind, start, end, name, service,
  // status code, and whether the row has a parent: its parent id is then kParentPresent, not
  // the real one), leaving every other field empty.
  enum class RowDetail { kFull, kSummary };
  static constexpr SpanId kParentPresent = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  StatusOr<std::vector<std::vector<Span>>> ReadRowRanges(
      std::vector<std::pair<uint64_t, uint64_t>> ranges,
      RowDetail detail = RowDetail::kFull) const;
  // Calls fn(trace_id, start_ns, service, row) for every root span row (kSpan, zero parent),
  // skipping blocks whose rows all start outside [min_start, max_start).
  Status ForEachRoot(int64_t min_start, int64_t max_start,
                     const std::function<void(const TraceId&, int64_t, std::string_view)>& fn)
      const;

  // The file is deleted when the last reference goes away.
  void MarkObsolete() { obsolete_.store(true); }

 private:
  Segment() = default;
  Status LoadTraceIndex();
  // The trace id of every run, from the index block's id part (which `in` is positioned at).
  // Reads each run's trace id; from version 3 on also *ordinals (the id's table position by
  // run), left empty before.
  Status LoadRunTraceIds(ByteReader* in, std::vector<uint32_t>* ordinals);
  void GroupRunsByTrace(const std::vector<uint32_t>& ordinals);
  StatusOr<std::string_view> ReadStored(const BlockMeta& b, std::string* buffer) const;
  // Span-id blocks decoded during one read, by block: the parent ids of a trace's runs refer
  // to span ids of its other runs, which the same read decodes anyway.
  class SpanIdBlocks {
   public:
    const DecodedBlock* Find(size_t block) const;
    const DecodedBlock* Add(size_t block, DecodedBlock d);

   private:
    std::vector<std::pair<size_t, std::unique_ptr<DecodedBlock>>> blocks_;
  };
  // The span-id block `block`, from `cache` or read into it.
  StatusOr<const DecodedBlock*> SpanIdBlock(size_t block, SpanIdBlocks* cache) const;
  // Rows [lo, hi) of a block whose parent ids a read needs: references to other runs are
  // resolved only there (other rows' parent ids come back zero unless in the same block).
  struct RowWindow {
    size_t lo = 0, hi = SIZE_MAX;
  };
  StatusOr<DecodedBlock> ReadBlockCached(size_t column, size_t block, BlockDetail detail,
                                         SpanIdBlocks* cache, RowWindow window) const;
  Status DecodeValues(size_t column, size_t block, std::string_view raw, BlockDetail detail,
                      SpanIdBlocks* cache, RowWindow window, DecodedBlock* out) const;
  // kParentRef values of block `block` (out->rows set): refs, then exceptions, which in
  // version 4 may name rows of other blocks (their span ids are read).
  Status DecodeParentRefs(ByteReader* in, size_t block, BlockDetail detail, SpanIdBlocks* cache,
                          RowWindow window, DecodedBlock* out) const;
  // The runs of run t's trace, ascending: a view of runs_by_trace_, or of *self = t when the
  // segment has one run per trace.
  std::span<const uint32_t> TraceRuns(size_t t, uint32_t* self) const;
  // kStart values (u8 mode, then ints; see segment_writer.cc EncodeStarts).
  bool DecodeStarts(ByteReader* in, size_t block, size_t rows, std::vector<int64_t>* out) const;
  // A start-time block's parts: mode 0, every start in `firsts`; mode 1, the starts of the
  // runs [first_run, end_run) overlapping the block (the block's first row starts the first)
  // in `firsts`, and every other row's offset from its run's start in `offsets`.
  struct StartParts {
    uint8_t mode = 0;
    uint64_t lo = 0;  // the block's first row
    size_t first_run = 0, end_run = 0;
    std::vector<int64_t> firsts, offsets;
  };
  bool ReadStartParts(ByteReader* in, size_t block, size_t rows, StartParts* p) const;
  // Rows [begin, end) go to spans[offset...].
  struct RowRange {
    uint64_t begin, end, offset;
  };
  // REQUIRES: ranges sorted by begin, disjoint, inside the segment.
  StatusOr<std::vector<Span>> ReadRanges(const std::vector<RowRange>& ranges, uint64_t total,
                                         RowDetail detail = RowDetail::kFull) const;
  // kSummary: a parent id is only marked present (kParentPresent), not read.
  Status FillColumn(size_t column, const std::vector<RowRange>& ranges, RowDetail detail,
                    SpanIdBlocks* cache, std::vector<Span>* spans) const;
  static void FillValue(const ColumnMeta& col, const DecodedBlock& d, size_t i, Span* span);

  Env* env_ = nullptr;
  std::string path_;
  std::unique_ptr<RandomAccessFile> file_;
  uint64_t file_bytes_ = 0;
  SegmentFooter footer_;
  // The trace index: runs of rows of one trace (and, in version 3, one service), in row order.
  std::vector<TraceId> trace_ids_;       // by run; ascending within a service's rows
  std::vector<uint64_t> trace_starts_;   // trace_ids_.size() + 1 entries, last = rows
  // Runs ordered by (trace id, run); empty when trace_ids_ is itself ascending (one service).
  std::vector<uint32_t> runs_by_trace_;
  size_t fixed_index_[kFixedColumnCount] = {};
  absl::flat_hash_map<std::string, std::vector<size_t>> attribute_columns_;
  std::atomic<bool> obsolete_{false};
};

template <typename Fn>
void Segment::ForEachRowTrace(uint64_t first, size_t n, Fn&& fn) const {
  if (n == 0 || trace_ids_.empty()) return;
  size_t t = static_cast<size_t>(
      std::upper_bound(trace_starts_.begin(), trace_starts_.end(), first) - trace_starts_.begin() - 1);
  for (size_t i = 0; i < n; ++i) {
    while (t + 1 < trace_ids_.size() && trace_starts_[t + 1] <= first + i) ++t;
    fn(i, trace_ids_[t]);
  }
}

}  // namespace waggle::store_internal
