// Segment file layout constants and the footer codec (docs/formats/segment.md).
//
// File: header (magic, version) | column blocks | trace index | footer | trailer
// (footer length, masked crc32c of the footer, version, magic).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "model/span.h"
#include "store/internal/schema.h"

namespace waggle::store_internal {

inline constexpr char kSegmentMagic[8] = {'W', 'A', 'G', 'G', 'L', 'S', 'E', 'G'};
inline constexpr uint32_t kSegmentFormatVersion = 4;       // what this build writes
inline constexpr uint32_t kOldestSegmentFormatVersion = 2;  // the oldest it reads
inline constexpr size_t kSegmentHeaderSize = 12;   // magic + fixed32 version
inline constexpr size_t kSegmentTrailerSize = 20;  // fixed32 len, crc, version + magic
inline constexpr uint32_t kDefaultBlockRows = 2048;
inline constexpr size_t kMaxFooterBytes = 256u << 20;
inline constexpr size_t kMaxBlockRawBytes = 512u << 20;

struct BlockMeta {
  uint64_t offset = 0;      // in the file
  uint64_t length = 0;      // stored bytes (compression envelope included)
  uint32_t crc = 0;         // masked crc32c of the stored bytes
  uint32_t null_count = 0;  // rows of the block without a value
};

struct ColumnMeta {
  bool fixed = false;
  FixedColumn fixed_id = FixedColumn::kSpanId;  // fixed only
  std::string name;                              // attribute key (attributes only)
  ValueType type = ValueType::kString;           // attributes only
  Physical physical = Physical::kInt;
  int64_t last_written_ns = 0;
  uint64_t null_count = 0;
  bool has_min_max = false;  // kInt: min_i/max_i; kDouble: min_d/max_d (NaN ignored)
  int64_t min_i = 0, max_i = 0;
  double min_d = 0, max_d = 0;
  std::vector<BlockMeta> blocks;  // block b covers rows [b * block_rows, ...)
};

// Version 3: the rows of one service.name value, a contiguous range (services in byte order).
struct ServiceRange {
  std::string service;
  uint64_t rows = 0;  // >= 1; ranges follow each other from row 0
};

struct SegmentFooter {
  uint32_t format_version = kSegmentFormatVersion;  // from the file header; not in the footer
  uint64_t segment_id = 0;
  uint64_t wal_seq_end = 0;  // every WAL record in files < this is contained in segments
  int64_t created_ns = 0;
  uint64_t row_count = 0;
  int64_t min_start_ns = 0;
  int64_t max_start_ns = 0;
  uint32_t block_rows = kDefaultBlockRows;
  std::vector<uint64_t> replaces;  // ids of segments whose rows this one contains
  std::vector<ColumnMeta> columns;
  BlockMeta trace_index;  // null_count holds nothing
  uint64_t trace_count = 0;  // entries (runs) of the trace index
  TraceId min_trace_id{};
  TraceId max_trace_id{};
  std::vector<ServiceRange> services;  // version 3; empty in version 2
  uint64_t distinct_traces = 0;        // version 3: ids in the trace index's id table
};

void EncodeFooter(const SegmentFooter& footer, std::string* out);
// Parses and validates untrusted footer bytes of a file of `footer->format_version` (set by the
// caller); `file_size` bounds every block reference.
Status DecodeFooter(std::string_view bytes, uint64_t file_size, SegmentFooter* footer);

std::string SegmentHeader();
std::string SegmentTrailer(std::string_view footer);

}  // namespace waggle::store_internal
