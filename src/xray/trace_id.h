// X-Ray ids and the X-Amzn-Trace-Id header.
//
// An X-Ray trace id is "1-" + 8 hex digits + "-" + 24 hex digits (35 characters). It maps onto
// the 16-byte W3C/OTLP trace id the way AWS documents: the 8 hex digits are bytes 0..3 and the
// 24 hex digits bytes 4..15 ("1-5759e988-bd862e3fe1be46a994272793" <->
// "5759e988bd862e3fe1be46a994272793"). The embedded time is neither checked nor used (AWS no
// longer validates it, and W3C ids have none). Segment ids are 16 hex digits = an 8-byte span id.
//
// Parsing accepts hex in either case; formatting writes lowercase. All-zero ids are invalid
// (W3C forbids them and waggle uses zero as "no parent").
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "model/span.h"

namespace waggle::xray {

// "1-5759e988-bd862e3fe1be46a994272793" -> bytes. InvalidArgument naming the problem otherwise.
StatusOr<TraceId> ParseTraceId(std::string_view xray_id);
// bytes -> "1-5759e988-bd862e3fe1be46a994272793".
std::string FormatTraceId(const TraceId& id);

// 16 hex digits -> bytes. InvalidArgument otherwise.
StatusOr<SpanId> ParseSegmentId(std::string_view hex);

// The X-Amzn-Trace-Id header: "Root=1-...;Parent=53995c3f42cd8ad8;Sampled=1".
struct TraceHeader {
  enum class Sampled { kUnknown, kYes, kNo, kDefer };  // absent, "1", "0", "?"

  TraceId root{};
  bool has_root = false;
  SpanId parent{};
  bool has_parent = false;
  Sampled sampled = Sampled::kUnknown;
  // Other "Key=Value" pairs in order (e.g. Lineage, Self), kept so they can be passed on.
  std::vector<std::pair<std::string, std::string>> extra;
};

// Lenient about whitespace around ';' and '=', and about key case ("root=" works); strict about
// the values of Root, Parent and Sampled (InvalidArgument naming the bad part). A header without
// Root is valid (Root is then absent: has_root false).
StatusOr<TraceHeader> ParseTraceHeader(std::string_view header);
// "Root=...;Parent=...;Sampled=1" followed by the extra pairs; absent parts are left out.
std::string FormatTraceHeader(const TraceHeader& header);

}  // namespace waggle::xray
