#include "api/xray_read_json.h"

#include <string>
#include <variant>

#include "xray/trace_id.h"

namespace waggle::xray_json {
namespace {

double Seconds(int64_t ns) { return ns / 1e9; }

void WriteServiceId(const xray::ServiceFacts& s, JsonWriter* w) {
  w->BeginObject().Key("Name").String(s.name);
  w->Key("Names").BeginArray().String(s.name).EndArray();
  if (!s.account_id.empty()) w->Key("AccountId").String(s.account_id);
  if (!s.type.empty()) w->Key("Type").String(s.type);
  w->EndObject();
}

void WriteServiceIds(const xray::TraceAnalysis& t, const std::vector<size_t>& nodes,
                     JsonWriter* w) {
  w->BeginArray();
  for (size_t n : nodes) WriteServiceId(t.facts.services[n], w);
  w->EndArray();
}

void WriteAnnotationValue(const xray::FilterValue& v, JsonWriter* w) {
  w->BeginObject();
  if (const double* d = std::get_if<double>(&v)) {
    w->Key("NumberValue").Double(*d);
  } else if (const bool* b = std::get_if<bool>(&v)) {
    w->Key("BooleanValue").Bool(*b);
  } else {
    w->Key("StringValue").String(std::get<std::string>(v));
  }
  w->EndObject();
}

// Annotations: {key: [{AnnotationValue, ServiceIds}]}, keys in first-seen order.
void WriteAnnotations(const xray::TraceAnalysis& t, JsonWriter* w) {
  const auto& all = t.facts.annotations;
  std::vector<bool> written(all.size());
  w->BeginObject();
  for (size_t i = 0; i < all.size(); ++i) {
    if (written[i]) continue;
    w->Key(all[i].key).BeginArray();
    for (size_t j = i; j < all.size(); ++j) {
      if (all[j].key != all[i].key) continue;
      written[j] = true;
      w->BeginObject().Key("AnnotationValue");
      WriteAnnotationValue(all[j].value, w);
      w->Key("ServiceIds");
      WriteServiceIds(t, t.annotation_nodes[j], w);
      w->EndObject();
    }
    w->EndArray();
  }
  w->EndObject();
}

void WriteHttp(const xray::TraceFacts& f, JsonWriter* w) {
  w->BeginObject();
  if (f.http_url) w->Key("HttpURL").String(*f.http_url);
  if (f.http_status) w->Key("HttpStatus").Int(*f.http_status);
  if (f.http_method) w->Key("HttpMethod").String(*f.http_method);
  if (f.http_useragent) w->Key("UserAgent").String(*f.http_useragent);
  if (f.http_clientip) w->Key("ClientIp").String(*f.http_clientip);
  w->EndObject();
}

void WriteNamedList(const std::vector<std::string>& values, std::string_view key, JsonWriter* w) {
  w->BeginArray();
  for (const std::string& v : values) w->BeginObject().Key(key).String(v).EndObject();
  w->EndArray();
}

void WriteRootCauses(const xray::TraceFacts& f, xray::RootCauseKind kind, JsonWriter* w) {
  w->BeginArray();
  for (const xray::RootCauseFacts& cause : f.root_causes) {
    if (cause.kind != kind) continue;
    w->BeginObject().Key("Services").BeginArray();
    for (const xray::RootCauseService& s : cause.services) {
      w->BeginObject().Key("Name").String(s.name);
      w->Key("Names").BeginArray().String(s.name).EndArray();
      if (!s.type.empty()) w->Key("Type").String(s.type);
      if (!s.account_id.empty()) w->Key("AccountId").String(s.account_id);
      w->Key("Inferred").Bool(s.inferred).Key("EntityPath").BeginArray();
      for (const xray::RootCauseEntity& e : s.entity_path) {
        w->BeginObject().Key("Name").String(e.name).Key("Remote").Bool(e.remote);
        if (kind == xray::RootCauseKind::kResponseTime) {  // ResponseTimeRootCauseEntity
          if (e.coverage) w->Key("Coverage").Double(*e.coverage);
          w->EndObject();
          continue;
        }
        w->Key("Exceptions").BeginArray();
        for (const xray::RootCauseException& ex : e.exceptions) {
          w->BeginObject().Key("Name").String(ex.name).Key("Message").String(ex.message);
          w->EndObject();
        }
        w->EndArray().EndObject();
      }
      w->EndArray().EndObject();
    }
    w->EndArray().Key("ClientImpacting").Bool(true).EndObject();
  }
  w->EndArray();
}

}  // namespace

void WriteTraceSummary(const xray::TraceAnalysis& t, JsonWriter* w) {
  const xray::TraceFacts& f = t.facts;
  w->BeginObject();
  w->Key("Id").String(xray::FormatTraceId(t.trace_id));
  w->Key("StartTime").Double(Seconds(t.start_ns));
  w->Key("Duration").Double(f.duration);
  if (f.response_time) w->Key("ResponseTime").Double(*f.response_time);
  w->Key("HasFault").Bool(f.fault).Key("HasError").Bool(f.error);
  w->Key("HasThrottle").Bool(f.throttle).Key("IsPartial").Bool(f.partial);
  w->Key("Http");
  WriteHttp(f, w);
  w->Key("Annotations");
  WriteAnnotations(t, w);
  w->Key("Users").BeginArray();
  for (size_t i = 0; i < f.users.size(); ++i) {
    w->BeginObject().Key("UserName").String(f.users[i]).Key("ServiceIds");
    WriteServiceIds(t, t.user_nodes[i], w);
    w->EndObject();
  }
  w->EndArray().Key("ServiceIds").BeginArray();
  for (const xray::ServiceFacts& s : f.services) WriteServiceId(s, w);
  w->EndArray();
  if (t.entry) {
    w->Key("EntryPoint");
    WriteServiceId(f.services[*t.entry], w);
  }
  w->Key("ResourceARNs");
  WriteNamedList(f.resource_arns, "ARN", w);
  w->Key("InstanceIds");
  WriteNamedList(f.instance_ids, "Id", w);
  w->Key("AvailabilityZones");
  WriteNamedList(f.availability_zones, "Name", w);
  w->Key("FaultRootCauses");
  WriteRootCauses(f, xray::RootCauseKind::kFault, w);
  w->Key("ErrorRootCauses");
  WriteRootCauses(f, xray::RootCauseKind::kError, w);
  w->Key("ResponseTimeRootCauses");
  WriteRootCauses(f, xray::RootCauseKind::kResponseTime, w);
  w->Key("Revision").Int(1);
  w->Key("MatchedEventTime").Double(Seconds(t.start_ns));
  w->EndObject();
}

void WriteSummaryStatistics(const xray::CallStatistics& s, JsonWriter* w) {
  w->BeginObject().Key("OkCount").Int(s.ok);
  w->Key("ErrorStatistics").BeginObject().Key("ThrottleCount").Int(s.throttle);
  w->Key("OtherCount").Int(s.error_other).Key("TotalCount").Int(s.errors()).EndObject();
  w->Key("FaultStatistics").BeginObject().Key("OtherCount").Int(s.fault);
  w->Key("TotalCount").Int(s.fault).EndObject();
  w->Key("TotalCount").Int(s.total).Key("TotalResponseTime").Double(s.total_response_time);
  w->EndObject();
}

void WriteHistogram(const xray::CallStatistics& s, JsonWriter* w) {
  w->BeginArray();
  for (const auto& [value, count] : s.response_times) {
    w->BeginObject().Key("Value").Double(value).Key("Count").Int(count).EndObject();
  }
  w->EndArray();
}

void WriteServices(const std::vector<xray::GraphNode>& nodes, JsonWriter* w) {
  w->BeginArray();
  for (size_t i = 0; i < nodes.size(); ++i) {
    const xray::GraphNode& n = nodes[i];
    w->BeginObject().Key("ReferenceId").Int(static_cast<int64_t>(i));
    w->Key("Name").String(n.name).Key("Names").BeginArray().String(n.name).EndArray();
    w->Key("Root").Bool(n.root);
    if (!n.account_id.empty()) w->Key("AccountId").String(n.account_id);
    if (!n.type.empty()) w->Key("Type").String(n.type);
    w->Key("State").String(n.inferred ? "unknown" : "active");
    w->Key("StartTime").Double(Seconds(n.start_ns)).Key("EndTime").Double(Seconds(n.end_ns));
    w->Key("Edges").BeginArray();
    for (const xray::GraphEdge& e : n.edges) {
      w->BeginObject().Key("ReferenceId").Int(static_cast<int64_t>(e.destination));
      w->Key("StartTime").Double(Seconds(e.start_ns)).Key("EndTime").Double(Seconds(e.end_ns));
      w->Key("SummaryStatistics");
      WriteSummaryStatistics(e.stats, w);
      w->Key("ResponseTimeHistogram");
      WriteHistogram(e.stats, w);
      w->Key("Aliases").BeginArray().EndArray().EndObject();
    }
    w->EndArray().Key("SummaryStatistics");
    WriteSummaryStatistics(n.stats, w);
    w->Key("DurationHistogram");
    WriteHistogram(n.stats, w);
    w->Key("ResponseTimeHistogram");
    WriteHistogram(n.stats, w);
    w->EndObject();
  }
  w->EndArray();
}

}  // namespace waggle::xray_json
