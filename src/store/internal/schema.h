// The column namespace shared by heads and segments (docs/formats/segment.md, "Columns").
//
// Every row has the fixed columns below; attributes (resource, scope and own, flattened, own
// winning on key collisions) become one column per (key, type), created on first sight.
//
// Thread-safety: constants and pure functions.
#pragma once

#include <cstdint>
#include <string_view>

#include "model/span.h"

namespace waggle::store_internal {

enum class FixedColumn : uint8_t {
  kTraceId = 0,      // 16 bytes; segments store it as the trace index
  kSpanId = 1,       // 8 bytes
  kParentId = 2,     // 8 bytes; segments store a reference to the parent's row when they can
  kStart = 3,        // unix ns
  kDuration = 4,     // end - start, ns
  kRowKind = 5,
  kKind = 6,
  kStatusCode = 7,
  kFlags = 8,
  kName = 9,
  kService = 10,
  kStatusMessage = 11,
  kTraceState = 12,
  kScopeName = 13,
  kScopeVersion = 14,
  kParentName = 15,
  kLinkTraceId = 16,  // 16 bytes, null unless a link row
  kLinkSpanId = 17,   // 8 bytes, null unless a link row
};
inline constexpr int kFixedColumnCount = 18;

// How a column's values are laid out in a segment block.
enum class Physical : uint8_t {
  kInt = 0,        // ints, bools (0/1), enums, times
  kDouble = 1,
  kString = 2,
  kBytes = 3,      // fixed width ids
  kParentRef = 4,  // parent span ids as back-references to rows of the same block
};

// Fixed string columns are stored in the head in this order.
inline constexpr FixedColumn kFixedStringColumns[] = {
    FixedColumn::kName,      FixedColumn::kService,      FixedColumn::kStatusMessage,
    FixedColumn::kTraceState, FixedColumn::kScopeName,   FixedColumn::kScopeVersion,
    FixedColumn::kParentName};
inline constexpr int kFixedStringCount = 7;

inline int FixedStringSlot(FixedColumn c) {
  return static_cast<int>(c) - static_cast<int>(FixedColumn::kName);
}
inline bool IsFixedString(FixedColumn c) {
  return c >= FixedColumn::kName && c <= FixedColumn::kParentName;
}

std::string_view FixedColumnName(FixedColumn c);
Physical FixedColumnPhysical(FixedColumn c);
int FixedColumnWidth(FixedColumn c);  // bytes for kBytes columns, else 0

inline Physical AttrPhysical(ValueType t) {
  switch (t) {
    case ValueType::kString: return Physical::kString;
    case ValueType::kDouble: return Physical::kDouble;
    case ValueType::kInt:
    case ValueType::kBool: return Physical::kInt;
  }
  return Physical::kString;
}

}  // namespace waggle::store_internal
