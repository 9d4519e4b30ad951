// JSON forms of the query model (src/query/query_spec.h) in Honeycomb's shapes:
// the query specification (POST /1/queries/{dataset}, GET /1/queries/{dataset}/{id}) and the
// query result (GET /1/query_results/{dataset}/{id}). Errors are written with JsonError
// (api/json_writer.h): {"error": "..."}.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "query/query_spec.h"

namespace waggle {

// Largest query spec body accepted, and deepest JSON nesting.
inline constexpr size_t kMaxQuerySpecBytes = 1 << 20;
inline constexpr size_t kMaxQuerySpecDepth = 32;

// Parses an untrusted Honeycomb query spec:
//   {"calculations":[{"op","column"?}], "filters":[{"column","op","value"?}],
//    "filter_combination":"AND"|"OR", "breakdowns":["col"], "orders":[{"op"?,"column"?,
//    "order"?:"ascending"|"descending"}], "havings":[{"calculate_op","column"?,"op","value"}],
//    "limit", "time_range", "start_time", "end_time", "granularity"}
// Every key is optional; a null value counts as absent; "id" is accepted and ignored (so a
// spec read back from GET /1/queries parses). Filter operands: JSON strings, booleans,
// integers (Value::Kind::kInt) and other numbers (kDouble); `in`/`not-in` take an array.
// Then runs query::ValidateSpec.
// Errors: InvalidArgument whose message starts with the JSON path of the field
// ("filters[2].value: expected a string, number or boolean"); Honeycomb keys waggle does not
// implement (calculated_fields, compare_time_offset_seconds, formulas) are called unsupported.
StatusOr<query::QuerySpec> ParseQuerySpecJson(std::string_view json);

// Canonical JSON of `spec` with "id" first: the same spec always gives the same text, and
// ParseQuerySpecJson(QuerySpecToJson(s, id)) == s. Lists are always written (possibly empty),
// unset optionals are omitted.
std::string QuerySpecToJson(const query::QuerySpec& spec, std::string_view id);

// Honeycomb's query result:
//   {"id","complete","data":{"series":[{"time":"2026-11-26T19:00:00Z","data":{...}}],
//    "results":[{"data":{...}}], ...},"links":{"query_url","graph_image_url":""}}
// Each inner "data" object has one key per breakdown (its value, null included) and one key
// per calculation label with its value; null calculation values are left out, COUNT and
// CONCURRENCY are integers, HEATMAP is {"lo","hi","counts":[...]}. waggle adds under the
// outer "data": "count_distinct_approximate": true and "count_distinct_relative_error" (only
// when approximate) and "stats": {rows_examined, rows_matched, chunks_scanned, chunks_pruned,
// elapsed_ms}. With `complete` false the outer "data" is omitted.
// RFC 3339 in UTC: "2026-11-26T19:00:00Z", with a fraction of a second (up to 9 digits, no
// trailing zeros) only when there is one.
std::string FormatRfc3339Utc(int64_t unix_ns);

std::string QueryResultToJson(const query::QueryResult& result, std::string_view result_id,
                              std::string_view query_url, bool complete);

}  // namespace waggle
