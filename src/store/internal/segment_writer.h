// Writes a frozen Head as an immutable columnar segment file (docs/formats/segment.md).
//
// Rows are sorted by (service.name, trace id, start time, insertion order): a service's rows
// are one contiguous range (a query of one dataset reads only its blocks), and within it a
// trace's rows are one run. Each column is cut into blocks of `block_rows` rows, encoded (column_codec.h) and
// compressed; the trace index, footer and trailer follow.
//
// Thread-safety: WriteSegment reads `head`, which must not be mutated meanwhile.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "env/env.h"
#include "store/internal/column_codec.h"
#include "store/internal/head.h"
#include "store/internal/segment_format.h"

namespace waggle::store_internal {

struct SegmentWriteOptions {
  uint64_t segment_id = 0;
  uint64_t wal_seq_end = 0;
  std::vector<uint64_t> replaces;
  int64_t created_ns = 0;
  Compression compression = Compression::kZstd;
  int zstd_level = 1;
  uint32_t block_rows = kDefaultBlockRows;
};

// Appends the whole segment to `file` (which should be empty), syncs and closes it. Returns
// the file size.
// REQUIRES: !head.empty().
StatusOr<uint64_t> WriteSegment(const Head& head, const SegmentWriteOptions& options,
                                WritableFile* file);

// Writes the segment to `path` durably: a temp file beside it, synced, renamed over `path`,
// directory synced. Returns the file size.
StatusOr<uint64_t> WriteSegmentFile(const Head& head, const SegmentWriteOptions& options,
                                    Env* env, const std::string& dir, const std::string& name);

}  // namespace waggle::store_internal
