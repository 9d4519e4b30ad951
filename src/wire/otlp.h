// OTLP trace decoders: untrusted request bodies in, SpanBatch out.
//
// DecodeOtlpTracesProtobuf reads ExportTraceServiceRequest with waggle's own protobuf wire
// reader (no generated code): strings and ids become views into `body`, which must outlive
// the batch. DecodeOtlpTracesJson implements the OTLP/JSON rules (hex ids, camelCase keys,
// 64-bit integers as strings or numbers, enums as integers, unknown fields ignored).
//
// Both flatten attributes the Honeycomb way: nested kvlists as dotted keys up to depth 5
// (deeper as JSON text), arrays as JSON text, bytes as base64. Events and links become rows
// of their own (RowKind::kSpanEvent / kLink). A missing service.name becomes
// "unknown_service".
//
// Errors: InvalidArgument with a message naming the problem and where it is
// ("resource_spans[0].scope_spans[1].spans[3]: trace_id must be 16 bytes, got 15"; the JSON
// decoder uses the JSON names, "resourceSpans[0].scopeSpans[1].spans[3]: traceId ...");
// a row with more than max_attrs_per_row attributes (after flattening) is InvalidArgument too.
// ResourceExhausted when the decoded batch would exceed DecodeLimits::max_decoded_bytes.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "model/span.h"

namespace waggle {

struct DecodeLimits {
  size_t max_attrs_per_row = 2000;
  size_t max_string_bytes = 64 * 1024;  // longer string values are truncated, not rejected
  int max_nesting = 32;                 // protobuf/JSON nesting guard
  // Cap on the memory the decoded batch may take (rows, attribute views, arena copies). A
  // tiny body can expand a lot (an empty span event becomes a whole row); beyond this cap
  // decoding fails with ResourceExhausted.
  size_t max_decoded_bytes = 256 * 1024 * 1024;
};

StatusOr<SpanBatch> DecodeOtlpTracesProtobuf(std::string_view body,
                                              const DecodeLimits& limits = {});
StatusOr<SpanBatch> DecodeOtlpTracesJson(std::string_view body,
                                         const DecodeLimits& limits = {});

// ExportTraceServiceResponse bodies. With rejected == 0 and an empty message the response is
// the empty message (partial_success unset), as the spec requires for full success.
std::string EncodeExportTraceResponseProtobuf(int64_t rejected_spans, std::string_view message);
std::string EncodeExportTraceResponseJson(int64_t rejected_spans, std::string_view message);

// google.rpc.Status bodies for failures (code omitted = 0 is allowed by OTLP; we send it).
std::string EncodeRpcStatusProtobuf(int32_t code, std::string_view message);
std::string EncodeRpcStatusJson(int32_t code, std::string_view message);

}  // namespace waggle
