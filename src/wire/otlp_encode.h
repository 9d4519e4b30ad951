// OTLP trace encoder: owning Spans to an ExportTraceServiceRequest protobuf body.
//
// Used by the demo generator, benchmarks and tests to produce real OTLP/HTTP protobuf. The
// output decodes with DecodeOtlpTracesProtobuf back to the same spans (round trip).
//
// Mapping: kSpan rows become Spans, grouped into one ResourceSpans per service_name (resource
// attribute service.name = Span::service_name) and one ScopeSpans per (scope_name,
// scope_version) within it, in order of first appearance. A span's attributes (all of
// Span::attributes except service.name) are written with their types. kSpanEvent and kLink
// rows are attached as events/links to the kSpan row with the same trace_id and span_id in
// `spans`; those with no such span are dropped.
// Thread-safety: pure function.
#pragma once

#include <string>
#include <vector>

#include "model/span.h"

namespace waggle {

std::string EncodeOtlpTracesProtobuf(const std::vector<Span>& spans);

}  // namespace waggle
