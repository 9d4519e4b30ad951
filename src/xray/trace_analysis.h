// AnalyzeTrace: one stored trace seen the way X-Ray sees it — its segments grouped into service
// nodes, the calls between nodes (edges), the entry point, the root causes, and the trace-level
// facts filter expressions are evaluated against. GetTraceSummaries, GetTraceGraph,
// GetServiceGraph and GetTimeSeriesServiceStatistics are all built from it.
//
// The rows are those Store::GetTrace returns, X-Ray-born and OTLP-born alike (docs/XRAY.md,
// "Traces as X-Ray sees them"):
// - A segment is a row sent as an X-Ray segment; for OTLP rows, a span without a parent in the
//   trace, a server/consumer span, or a span whose parent belongs to another service. Every
//   other row belongs to the segment of its nearest segment ancestor.
// - A service node is identified by (name, type, account id): the segment's service.name, its
//   `xray.origin` (the X-Ray `origin`, e.g. AWS::EC2::Instance) and `cloud.account.id`.
// - An edge is a call from one node to another: a segment whose parent row is in another
//   node's segment, or a downstream call (an X-Ray subsegment in namespace `remote`/`aws`, an
//   OTLP client/producer span) with no segment under it, which calls an inferred node named
//   after the remote (aws: the subsegment's name, type AWS::<name>; otherwise peer.service,
//   server.address, db.system or the span name, type `remote`).
// - A row's outcome: X-Ray rows carry error/fault/throttle as sent; OTLP rows derive them from
//   the HTTP status (429 throttle + error, other 4xx error, 5xx fault), else an error status is
//   a fault. `ok` means none of error, fault, throttle.
// - Root causes: for faults (errors), every row with the flag none of whose child rows has it;
//   the entity path runs from its segment down to it, exceptions from its exception events.
//   Response-time root causes are not computed.
//
// Thread-safety: pure function.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/span.h"
#include "xray/filter_expression.h"

namespace waggle::xray {

// How one call (a segment serving a request, or a downstream call) went.
struct CallOutcome {
  int64_t start_ns = 0;
  double response_time = 0;  // seconds
  bool error = false, fault = false, throttle = false;
  bool ok() const { return !error && !fault && !throttle; }
};

// A call in the trace attributed to a node or an edge (index into facts.services / .edges).
struct AttributedCall {
  size_t index = 0;
  CallOutcome outcome;
};

struct TraceAnalysis {
  TraceId trace_id{};
  int64_t start_ns = 0;  // earliest span start
  int64_t end_ns = 0;    // latest span end
  TraceFacts facts;      // services and edges are the trace's nodes and edges
  std::optional<size_t> entry;  // the entry node (index into facts.services)
  // facts.edges[i] goes from node edge_nodes[i].first to node edge_nodes[i].second.
  std::vector<std::pair<size_t, size_t>> edge_nodes;
  std::vector<AttributedCall> node_calls;  // one per segment (and per call to an inferred node)
  std::vector<AttributedCall> edge_calls;  // one per call along an edge
  // The nodes that set each facts.annotations[i] / user, for the summary's ServiceIds.
  std::vector<std::vector<size_t>> annotation_nodes;
  std::vector<std::vector<size_t>> user_nodes;  // parallel to facts.users
};

// Analyses the rows of one trace (any order; span events are used for exceptions, links are
// ignored). Rows sharing a span id are de-duplicated (a completed row wins over an in-progress
// one). An empty or span-less input gives an analysis with no nodes.
TraceAnalysis AnalyzeTrace(const std::vector<Span>& rows);

}  // namespace waggle::xray
