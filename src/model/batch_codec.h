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

// What the encoder learns about a batch that a consumer of the same batch (the store's head)
// would otherwise compute again: the distinct attribute keys numbered in order of first use (so
// each key's column is resolved once per batch, not once per attribute) and which row strings
// repeat the previous row's.
struct BatchHints {
  std::vector<uint32_t> key_of_attr;  // parallel to SpanBatch::attrs; each < key_count
  uint32_t key_count = 0;             // distinct keys (equal bytes = same key, whatever type)
  // Parallel to SpanBatch::attrs: for a string attribute whose value has the same bytes as the
  // previous string value of its key, that attribute's entry (so, transitively, the first
  // attribute of the run of equal values); else the attribute's own index.
  std::vector<uint32_t> value_of_attr;
  // Parallel to SpanBatch::rows: bit i set when string i of the row (name, service_name,
  // status_message, trace_state, scope_name, scope_version, parent_name, in that order) has the
  // same bytes as in the previous row ("" for the first row).
  std::vector<uint8_t> row_same_strings;
};

// Appends the encoding of `batch` to `*out`. When `hints` is not null it receives the batch's
// hints.
void EncodeBatch(const SpanBatch& batch, std::string* out, BatchHints* hints = nullptr);

// An upper bound of the bytes the encoding of `batch` takes (a few times the real size).
size_t EncodedSizeBound(const SpanBatch& batch);
// Writes the encoding of `batch` (the same bytes EncodeBatch appends) to `dst` and returns its
// length. The fast path: the caller may pass uninitialized memory, nothing is zero-filled.
// REQUIRES: `dst` holds at least EncodedSizeBound(batch) writable bytes.
size_t EncodeBatchTo(const SpanBatch& batch, char* dst, BatchHints* hints = nullptr);

// Decodes an encoding produced by EncodeBatch. The returned batch's views point into `bytes`,
// which must outlive it. Untrusted input: any malformed or truncated encoding yields
// InvalidArgument/DataLoss, never a crash or an unbounded allocation.
StatusOr<SpanBatch> DecodeBatch(std::string_view bytes);

}  // namespace waggle
