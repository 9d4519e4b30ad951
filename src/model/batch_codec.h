// Binary encoding of a SpanBatch: the payload of one WAL record.
//
// Compact, self-describing only as far as the WAL needs (a format version byte first);
// documented in docs/formats/wal.md. Thread-safe (pure functions).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "model/span.h"

namespace waggle {

// The distinct attribute keys of a batch numbered in order of first use, as the encoding's key
// table numbers them: a consumer of the same batch (the store's head) can then resolve each key
// once per batch instead of once per attribute.
struct BatchKeys {
  std::vector<uint32_t> key_of_attr;  // parallel to SpanBatch::attrs; each < count
  uint32_t count = 0;                 // distinct keys (equal bytes = same key, whatever type)
};

// Appends the encoding of `batch` to `*out`. When `keys` is not null it receives the batch's
// key numbering.
void EncodeBatch(const SpanBatch& batch, std::string* out, BatchKeys* keys = nullptr);

// An upper bound of the bytes the encoding of `batch` takes (a few times the real size).
size_t EncodedSizeBound(const SpanBatch& batch);
// Writes the encoding of `batch` (the same bytes EncodeBatch appends) to `dst` and returns its
// length. The fast path: the caller may pass uninitialized memory, nothing is zero-filled.
// REQUIRES: `dst` holds at least EncodedSizeBound(batch) writable bytes.
size_t EncodeBatchTo(const SpanBatch& batch, char* dst, BatchKeys* keys = nullptr);

// Decodes an encoding produced by EncodeBatch. The returned batch's views point into `bytes`,
// which must outlive it. Untrusted input: any malformed or truncated encoding yields
// InvalidArgument/DataLoss, never a crash or an unbounded allocation.
StatusOr<SpanBatch> DecodeBatch(std::string_view bytes);

}  // namespace waggle
