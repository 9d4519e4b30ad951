// Binary encoding of a SpanBatch: the payload of one WAL record.
//
// Compact, self-describing only as far as the WAL needs (a format version byte first);
// documented in docs/formats/wal.md. Thread-safe (pure functions).
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "model/span.h"

namespace waggle {

// Appends the encoding of `batch` to `*out`.
void EncodeBatch(const SpanBatch& batch, std::string* out);

// Decodes an encoding produced by EncodeBatch. The returned batch's views point into `bytes`,
// which must outlive it. Untrusted input: any malformed or truncated encoding yields
// InvalidArgument/DataLoss, never a crash or an unbounded allocation.
StatusOr<SpanBatch> DecodeBatch(std::string_view bytes);

}  // namespace waggle
