#include "wire/otlp_encode.h"

#include <string_view>
#include <unordered_map>
#include <utility>

#include "wire/internal/protobuf_writer.h"

namespace waggle {
namespace {

using wire_internal::ProtoWriter;

constexpr std::string_view kServiceName = "service.name";

std::string IdKey(const TraceId& trace, const SpanId& span) {
  std::string key(reinterpret_cast<const char*>(trace.data()), trace.size());
  key.append(reinterpret_cast<const char*>(span.data()), span.size());
  return key;
}

template <size_t N>
std::string_view Bytes(const std::array<uint8_t, N>& id) {
  return std::string_view(reinterpret_cast<const char*>(id.data()), N);
}

// KeyValue{key=1, value=2 AnyValue{string=1, bool=2, int=3, double=4}}.
void WriteKeyValue(ProtoWriter& w, uint32_t field, std::string_view key, ValueType type,
                   std::string_view str, int64_t i, double d, bool b) {
  size_t kv = w.BeginLen(field);
  w.BytesField(1, key);
  size_t value = w.BeginLen(2);
  switch (type) {
    case ValueType::kString: w.BytesField(1, str); break;
    case ValueType::kBool: w.VarintField(2, b ? 1 : 0); break;
    case ValueType::kInt: w.VarintField(3, static_cast<uint64_t>(i)); break;
    case ValueType::kDouble: w.DoubleField(4, d); break;
  }
  w.EndLen(value);
  w.EndLen(kv);
}

void WriteAttributes(ProtoWriter& w, uint32_t field, const std::vector<Attribute>& attrs) {
  for (const Attribute& a : attrs) {
    if (a.key == kServiceName) continue;  // carried by the resource
    WriteKeyValue(w, field, a.key, a.type, a.str, a.i, a.d, a.b);
  }
}

void WriteEvent(ProtoWriter& w, const Span& e) {
  size_t mark = w.BeginLen(11);
  w.Fixed64Field(1, static_cast<uint64_t>(e.start_ns));
  if (!e.name.empty()) w.BytesField(2, e.name);
  WriteAttributes(w, 3, e.attributes);
  w.EndLen(mark);
}

void WriteLink(ProtoWriter& w, const Span& l) {
  size_t mark = w.BeginLen(13);
  w.BytesField(1, Bytes(l.link_trace_id));
  w.BytesField(2, Bytes(l.link_span_id));
  if (!l.trace_state.empty()) w.BytesField(3, l.trace_state);
  WriteAttributes(w, 4, l.attributes);
  if (l.flags != 0) w.Fixed32Field(6, l.flags);
  w.EndLen(mark);
}

void WriteSpan(ProtoWriter& w, const Span& s, const std::vector<const Span*>* children) {
  size_t mark = w.BeginLen(2);  // ScopeSpans.spans
  w.BytesField(1, Bytes(s.trace_id));
  w.BytesField(2, Bytes(s.span_id));
  if (!s.trace_state.empty()) w.BytesField(3, s.trace_state);
  if (!IsZero(s.parent_span_id)) w.BytesField(4, Bytes(s.parent_span_id));
  w.BytesField(5, s.name);
  if (s.kind != SpanKind::kUnspecified) w.VarintField(6, static_cast<uint64_t>(s.kind));
  w.Fixed64Field(7, static_cast<uint64_t>(s.start_ns));
  w.Fixed64Field(8, static_cast<uint64_t>(s.end_ns));
  WriteAttributes(w, 9, s.attributes);
  if (children != nullptr) {
    for (const Span* c : *children) {
      if (c->row_kind == RowKind::kSpanEvent) WriteEvent(w, *c);
    }
    for (const Span* c : *children) {
      if (c->row_kind == RowKind::kLink) WriteLink(w, *c);
    }
  }
  if (s.status_code != StatusCode::kUnset || !s.status_message.empty()) {
    size_t status = w.BeginLen(15);
    if (!s.status_message.empty()) w.BytesField(2, s.status_message);
    if (s.status_code != StatusCode::kUnset) {
      w.VarintField(3, static_cast<uint64_t>(s.status_code));
    }
    w.EndLen(status);
  }
  if (s.flags != 0) w.Fixed32Field(16, s.flags);
  w.EndLen(mark);
}

struct ScopeGroup {
  std::string_view name, version;
  std::vector<const Span*> spans;
};
struct ServiceGroup {
  std::string_view service;
  std::vector<ScopeGroup> scopes;
};

}  // namespace

std::string EncodeOtlpTracesProtobuf(const std::vector<Span>& spans) {
  std::unordered_map<std::string, std::vector<const Span*>> children;
  for (const Span& s : spans) {
    if (s.row_kind != RowKind::kSpan) children[IdKey(s.trace_id, s.span_id)].push_back(&s);
  }
  std::vector<ServiceGroup> services;
  std::unordered_map<std::string_view, size_t> service_index;
  for (const Span& s : spans) {
    if (s.row_kind != RowKind::kSpan) continue;
    auto [it, inserted] = service_index.try_emplace(s.service_name, services.size());
    if (inserted) services.push_back(ServiceGroup{s.service_name, {}});
    std::vector<ScopeGroup>& scopes = services[it->second].scopes;
    ScopeGroup* scope = nullptr;
    for (ScopeGroup& g : scopes) {
      if (g.name == s.scope_name && g.version == s.scope_version) scope = &g;
    }
    if (scope == nullptr) {
      scope = &scopes.emplace_back(ScopeGroup{s.scope_name, s.scope_version, {}});
    }
    scope->spans.push_back(&s);
  }

  std::string out;
  out.reserve(spans.size() * 256);
  ProtoWriter w(&out);
  for (const ServiceGroup& service : services) {
    size_t rs = w.BeginLen(1);         // ExportTraceServiceRequest.resource_spans
    size_t resource = w.BeginLen(1);   // ResourceSpans.resource
    WriteKeyValue(w, 1, kServiceName, ValueType::kString, service.service, 0, 0, false);
    w.EndLen(resource);
    for (const ScopeGroup& scope : service.scopes) {
      size_t ss = w.BeginLen(2);  // ResourceSpans.scope_spans
      if (!scope.name.empty() || !scope.version.empty()) {
        size_t is = w.BeginLen(1);
        if (!scope.name.empty()) w.BytesField(1, scope.name);
        if (!scope.version.empty()) w.BytesField(2, scope.version);
        w.EndLen(is);
      }
      for (const Span* s : scope.spans) {
        auto it = children.find(IdKey(s->trace_id, s->span_id));
        WriteSpan(w, *s, it == children.end() ? nullptr : &it->second);
      }
      w.EndLen(ss);
    }
    w.EndLen(rs);
  }
  return out;
}

}  // namespace waggle
