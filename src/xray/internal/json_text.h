// Minimal JSON text building for the segment encoder (waggle_xray-internal; the api layer's
// JsonWriter sits downstream of this library). Strings are escaped per RFC 8259 and invalid
// UTF-8 is replaced by U+FFFD, so output is always valid UTF-8 JSON.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace waggle::xray_internal {

// Appends `s` quoted and escaped.
void AppendJsonString(std::string_view s, std::string* out);
// Appends `"key":` (with a leading comma unless `*first`; clears `*first`).
void AppendKey(std::string_view key, bool* first, std::string* out);
// Appends epoch nanoseconds as seconds with exactly 6 decimals ("1480615200.010000").
void AppendEpochSeconds(int64_t unix_nanos, std::string* out);
// Appends a finite double in shortest round-trip form, always with a "." or an exponent so it
// reads back as a float ("3.0", "1e+300"); "null" if not finite.
void AppendDouble(double v, std::string* out);

}  // namespace waggle::xray_internal
