// X-Ray segment documents <-> waggle span rows.
//
// DecodeSegmentDocument turns one untrusted segment document (a segment, or a subsegment sent
// on its own with "type": "subsegment", "trace_id" and "parent_id") into span rows: the
// (sub)segment itself, every nested subsegment as a row of its own whose parent is the
// enclosing (sub)segment, and one "exception" span-event row per exception in a `cause`.
// EncodeTraceSegments does the reverse for the stored rows of one trace, as BatchGetTraces
// returns them: one document per segment with its subsegments nested again.
//
// The column mapping (which X-Ray field becomes which column, and back) is in docs/XRAY.md.
//
// Errors: InvalidArgument naming the field and where it is
// ("subsegments[2].subsegments[0].id: invalid segment id 'xyz': expected 16 hex digits").
// On error `batch` is left as it was (its arena may have grown).
//
// Thread-safety: pure functions (the decoder uses a thread-local JSON parser).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "model/span.h"

namespace waggle::xray {

struct SegmentLimits {
  size_t max_document_bytes = 64 * 1024;  // the daemon's datagram limit
  int max_subsegment_depth = 32;
  size_t max_rows = 10'000;               // span + event rows per document
  size_t max_attrs_per_row = 2'000;
  size_t max_name_chars = 200;            // X-Ray's limit on names (code points)
};

// What the caller needs to know about a decoded document besides its rows.
struct DocumentInfo {
  TraceId trace_id{};
  SpanId id{};               // the top-level (sub)segment's id
  SpanId parent_id{};        // its parent_id, zero if none
  bool is_subsegment = false;  // sent on its own with "type": "subsegment"
  bool in_progress = false;    // the top-level (sub)segment is in progress
  size_t rows = 0;             // rows appended to the batch
};

// Whether a document is followed by at least kDocumentPadding readable bytes of its buffer (any
// content). A padded document is parsed where it lies; any other is first copied into the
// parser's padded buffer.
inline constexpr size_t kDocumentPadding = 64;
enum class Padding { kNone, kPadded };

// Appends the rows of `document` to `*batch`. Strings are copied into batch->arena, so
// `document` need not outlive the batch.
StatusOr<DocumentInfo> DecodeSegmentDocument(std::string_view document, SpanBatch* batch,
                                             const SegmentLimits& limits = {},
                                             Padding padding = Padding::kNone);

struct EncodedSegment {
  std::string id;        // 16 hex
  std::string document;  // JSON text of the segment with its subsegments nested
};

// The segment documents of one trace from its stored rows (spans, span events, links; links are
// ignored). Segments are the rows decoded from X-Ray segments, and for rows that came from
// elsewhere (OTLP) the server/consumer spans and spans whose parent is not in the trace; every
// other span is nested under its parent. A subsegment whose parent is absent becomes an
// independent subsegment document. When several rows share a span id, a completed one wins over
// an in-progress one. Documents are ordered by start time.
std::vector<EncodedSegment> EncodeTraceSegments(const std::vector<Span>& rows);

}  // namespace waggle::xray
