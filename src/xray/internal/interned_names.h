// Names that repeat across untrusted documents, interned
// (waggle_xray-internal): column names built from keys ("http.request.method",
// "annotation.user_id", "aws.xray.sdk_version"), so the decoder neither
// allocates nor copies one per row, and service names the ingester remembers.
//
// InternName returns a view valid for the rest of the process of a process-wide
// table entry equal to `name`, or an empty view once the table holds
// kMaxInternedNames names (the caller then copies the name itself, so a flood
// of distinct keys costs memory only up to the bound). Lookups go through a
// per-thread cache first and take the table's mutex only on a miss.
//
// Thread-safety: thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

namespace waggle::xray_internal {

inline constexpr size_t kMaxInternedNames = 16'384;

std::string_view InternName(std::string_view name);

} // namespace waggle::xray_internal
