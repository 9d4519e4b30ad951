// JSON of the X-Ray read operations (botocore's shapes, PROTOCOLS.md B.4): trace summaries,
// service-graph nodes and edges, and summary statistics.
//
// Thread-safety: pure functions.
#pragma once

#include <vector>

#include "api/json_writer.h"
#include "xray/service_graph.h"
#include "xray/trace_analysis.h"

namespace waggle::xray_json {

// One TraceSummary object (Id, StartTime, Duration, ResponseTime, Has*, IsPartial, Http,
// Annotations, Users, ServiceIds, EntryPoint, *RootCauses, ...).
void WriteTraceSummary(const xray::TraceAnalysis& trace, JsonWriter* w);

// The Services array of a graph: one Service object per node, ReferenceId = its index.
void WriteServices(const std::vector<xray::GraphNode>& nodes, JsonWriter* w);

// {OkCount, ErrorStatistics{ThrottleCount, OtherCount, TotalCount}, FaultStatistics{OtherCount,
// TotalCount}, TotalCount, TotalResponseTime}
void WriteSummaryStatistics(const xray::CallStatistics& stats, JsonWriter* w);

// [{Value, Count}] ordered by value.
void WriteHistogram(const xray::CallStatistics& stats, JsonWriter* w);

}  // namespace waggle::xray_json
