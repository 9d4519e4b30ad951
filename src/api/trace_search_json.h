// The JSON body of POST /api/v1/traces/search:
//
//   {"dataset": "__all__" | service, "order": "recent" | "slowest", "limit": 1..10000 (20),
//    "roots_only": true, "filters": [Honeycomb filters], "filter_combination": "AND" | "OR",
//    "time_range" / "start_time" / "end_time": as in a Honeycomb query spec (default: 2 h)}
//
// Every field is optional. Errors are InvalidArgument naming the field.
//
// Thread-safety: pure function.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/status.h"
#include "query/search.h"

namespace waggle {

StatusOr<query::RowSearch> ParseTraceSearchJson(std::string_view body, int64_t now_ns);

}  // namespace waggle
