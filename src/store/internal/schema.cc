#include "store/internal/schema.h"

namespace waggle::store_internal {

std::string_view FixedColumnName(FixedColumn c) {
  switch (c) {
    case FixedColumn::kTraceId: return "trace.trace_id";
    case FixedColumn::kSpanId: return "trace.span_id";
    case FixedColumn::kParentId: return "trace.parent_id";
    case FixedColumn::kStart: return "timestamp";
    case FixedColumn::kDuration: return "duration_ns";
    case FixedColumn::kRowKind: return "meta.annotation_type";
    case FixedColumn::kKind: return "span.kind";
    case FixedColumn::kStatusCode: return "status_code";
    case FixedColumn::kFlags: return "trace.flags";
    case FixedColumn::kName: return "name";
    case FixedColumn::kService: return "service.name";
    case FixedColumn::kStatusMessage: return "status_message";
    case FixedColumn::kTraceState: return "trace.trace_state";
    case FixedColumn::kScopeName: return "library.name";
    case FixedColumn::kScopeVersion: return "library.version";
    case FixedColumn::kParentName: return "parent_name";
    case FixedColumn::kLinkTraceId: return "trace.link.trace_id";
    case FixedColumn::kLinkSpanId: return "trace.link.span_id";
  }
  return "?";
}

Physical FixedColumnPhysical(FixedColumn c) {
  switch (c) {
    case FixedColumn::kTraceId:
    case FixedColumn::kSpanId:
    case FixedColumn::kLinkTraceId:
    case FixedColumn::kLinkSpanId: return Physical::kBytes;
    case FixedColumn::kParentId: return Physical::kParentRef;
    default: return IsFixedString(c) ? Physical::kString : Physical::kInt;
  }
}

int FixedColumnWidth(FixedColumn c) {
  switch (c) {
    case FixedColumn::kTraceId:
    case FixedColumn::kLinkTraceId: return 16;
    case FixedColumn::kSpanId:
    case FixedColumn::kParentId:
    case FixedColumn::kLinkSpanId: return 8;
    default: return 0;
  }
}

}  // namespace waggle::store_internal
