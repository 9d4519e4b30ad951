// `waggle trace`: fetches traces from a running waggle and prints them for a terminal.
//
// RenderWaterfall turns the JSON of `GET /api/v1/traces/{id}` into one line per span:
// start offset, duration, service, name indented by depth, a bar scaled to the trace, and
// errors marked (red ✗ with color, "ERROR" without). RenderTraceList does the same for
// `GET /api/v1/traces`. Both treat the JSON as untrusted (any shape mismatch is an error).
//
// Thread-safety: pure functions, except RunTraceCommand, which does network I/O and prints.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace waggle {

StatusOr<std::string> RenderWaterfall(std::string_view trace_json, bool color,
                                      int bar_width = 40);
StatusOr<std::string> RenderTraceList(std::string_view list_json, bool color);

struct TraceCommandOptions {
  std::string trace_id;  // empty = list recent traces
  std::string server = "127.0.0.1:8080";
  std::string api_key;
  bool json = false;
  int limit = 20;
  std::string service;
};

// Runs the command; returns the process exit code (0 ok, 1 error — printed to stderr).
int RunTraceCommand(const TraceCommandOptions& options);

}  // namespace waggle
