// The JSON forms of POST /api/v1/bubbleup (query/bubbleup.h).
//
// Request (untrusted, at most 1 MiB):
//   {"dataset"?: service | "__all__" (default),
//    "query"?: a Honeycomb query spec (api/query_json.h); its time range and filters define the
//              population (default: the last 2 h, no filters),
//    "selection": a heatmap region {"<numeric column>": [lo, hi], "start_time"?: t0,
//                 "end_time"?: t1} (one column, e.g. "duration_ms"; lo <= v <= hi; epoch
//                 seconds, fractions allowed, t0 <= start < t1; unset = the query's window)
//                 or {"filters": [Honeycomb filters], "filter_combination"?: "AND" | "OR"},
//    "columns"?: ["col", ...] (default: every column but the selection's and the ids),
//    "limit"?: buckets per column, 1..1000 (default 10)}
// Errors: InvalidArgument whose message starts with the field's path ("selection.filters[0].op:
// unknown operator \"~\"", "query.time_range: ...", "limit: ...").
//
// Response:
//   {"selection": {"rows"}, "baseline": {"rows"}, "start_time", "end_time" (epoch seconds),
//    "score": "max_abs_difference",
//    "columns": [{"column", "score", "approximate",
//                 "buckets": [{"value": v | "range": [lo, hi] | "missing": true |
//                              "other": true,
//                              "selection": {"count", "fraction"}, "baseline": {...},
//                              "difference"}]}],
//    "stats": {rows_examined, rows_matched, chunks_scanned, chunks_pruned, elapsed_ms}}
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "query/bubbleup.h"

namespace waggle {

StatusOr<query::BubbleUpRequest> ParseBubbleUpJson(std::string_view body);

std::string BubbleUpResultToJson(const query::BubbleUpResult& result);

}  // namespace waggle
