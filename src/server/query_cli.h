// `waggle query`: runs a Honeycomb query spec against a running waggle (its Query Data API) or
// directly against a data directory no server is using, and prints a table or JSON.
//
// The spec comes from a JSON argument (or @file, or - for stdin) and/or shorthand flags:
//   --calc 'P99(duration_ms)'  --breakdown name  --filter 'http.status_code >= 500'
//   --order 'P99(duration_ms) desc'  --limit 10  --time-range 1h  --granularity 60
// Shorthand values are typed like JSON would be: integers, floats, true/false, else strings;
// `in`/`not-in` take a comma-separated list.
//
// Thread-safety: BuildQuerySpecJson and RenderQueryTable are pure; RunQueryCommand does I/O.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace waggle {

struct QueryCommandOptions {
  std::string spec;  // JSON, @file or -; may be empty when shorthand flags are given
  std::vector<std::string> calcs, breakdowns, filters, orders;
  std::string filter_combination;
  int64_t limit = 0;
  std::string time_range;  // "3600", "15m", "2h", "7d"
  int64_t granularity = 0;
  std::string dataset = "__all__";
  std::string server = "127.0.0.1:8080";
  std::string data_dir;  // set: query the directory instead of a server
  std::string api_key;
  bool json = false;
  bool no_series = false;  // the table never shows the series; JSON has it unless this is set
};

// The spec JSON: `spec` (already read from file/stdin) with the shorthand flags merged in
// (flags append to its lists; scalar flags override). InvalidArgument on bad shorthand.
StatusOr<std::string> BuildQuerySpecJson(const QueryCommandOptions& options,
                                         std::string_view spec_text);

// A Honeycomb query-result JSON as an aligned text table: one row per result group, columns
// = breakdowns then calculation labels; HEATMAP cells as a sparkline of their counts.
StatusOr<std::string> RenderQueryTable(std::string_view result_json,
                                       const std::vector<std::string>& breakdowns,
                                       const std::vector<std::string>& calc_labels);

// Returns the process exit code (0 ok, 1 error, 2 usage) after printing.
int RunQueryCommand(const QueryCommandOptions& options);

}  // namespace waggle
