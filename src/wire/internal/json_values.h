// Reading OTLP/JSON values out of simdjson DOM elements (waggle-internal): lenient integer and
// double conversion (numbers or strings, as OTLP/JSON allows), hex checks, and the JSON text
// of an AnyValue (arrays, over-deep kvlists) in the same form the protobuf decoder produces.
// Thread-safety: pure functions; elements are valid only while their parser's document is.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "simdjson.h"
#include "wire/otlp.h"

namespace waggle::wire_internal {

bool JsonIsNull(simdjson::dom::element e);

// The integral value of a JSON number (integral doubles included) or decimal string within
// [lo, hi], as both signed and unsigned 64-bit; false otherwise.
bool JsonToInteger(simdjson::dom::element e, int64_t lo, uint64_t hi, int64_t* out_signed,
                   uint64_t* out_unsigned);
// A JSON number, a numeric string, or "NaN" / "Infinity" / "-Infinity".
bool JsonToDouble(simdjson::dom::element e, double* out);

// True if `s` is an even number of hex digits (any case).
bool IsHexString(std::string_view s);

// True for the AnyValue member names (stringValue, intValue, ..., bytesValue).
bool IsAnyValueMember(std::string_view key);

// Appends the JSON text of AnyValue member `member` whose value is `v` (e.g. arrayValue ->
// `["a",1]`). Output past limits.max_string_bytes is cut short. Returns false if values nest
// deeper than limits.max_nesting.
bool JsonMemberToText(std::string_view member, simdjson::dom::element v, int nesting,
                      const DecodeLimits& limits, std::string* out);

}  // namespace waggle::wire_internal
