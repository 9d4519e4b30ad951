// Trace JSON: the shapes `GET /api/v1/traces/{id}` and `GET /api/v1/traces` return.
//
// A trace is rendered as a forest: each span carries its events, links and children (sorted
// by start time). Roots are spans without a parent, followed by orphans (whose parent is not
// in the trace) and by any span only reachable through a parent cycle, so every stored span
// appears exactly once whatever the input. Rendering is iterative (no recursion depth limit).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/span.h"
#include "store/store.h"

namespace waggle {

// Accepts 32 hex digits (OTel/W3C), the X-Ray form "1-<8 hex>-<24 hex>", or 16 hex digits
// (Honeycomb's shortened form of an id with 8 leading zero bytes). Any case.
bool ParseTraceIdParam(std::string_view text, TraceId* out);

// "2023-11-14T22:13:20.123456789Z" (always 9 fractional digits, UTC).
std::string FormatRfc3339Nanos(int64_t unix_nanos);

// {"trace_id", "span_count", "start", "start_unix_nano", "duration_ms", "services", "spans":[...]}
// from every row the store returned for the trace (spans, span events and links).
std::string TraceTreeJson(const TraceId& trace_id, const std::vector<Span>& rows);

// {"traces": [{"trace_id", "root_service", "root_name", "start", "start_unix_nano",
// "duration_ms", "span_count", "error", "services"}]}
std::string TraceSummariesJson(const std::vector<TraceSummary>& traces);

}  // namespace waggle
