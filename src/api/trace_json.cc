#include "api/trace_json.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>
#include <set>

#include "api/json_writer.h"

namespace waggle {
namespace {

void WriteAttributeValue(const Attribute& a, JsonWriter* w) {
  switch (a.type) {
    case ValueType::kString: w->String(a.str); break;
    case ValueType::kInt: w->Int(a.i); break;
    case ValueType::kDouble: w->Double(a.d); break;
    case ValueType::kBool: w->Bool(a.b); break;
  }
}

void WriteAttributes(const std::vector<Attribute>& attrs, JsonWriter* w) {
  w->Key("attributes").BeginObject();
  for (const Attribute& a : attrs) {
    w->Key(a.key);
    WriteAttributeValue(a, w);
  }
  w->EndObject();
}

// Rows grouped for rendering. Indices refer to the input vector.
struct Tree {
  std::vector<size_t> spans;                         // rows of kind kSpan
  std::map<SpanId, std::vector<size_t>> children;    // parent span id → child span rows
  std::map<SpanId, std::vector<size_t>> events;      // span id → event rows
  std::map<SpanId, std::vector<size_t>> links;       // span id → link rows
  std::vector<size_t> roots;                         // render order
};

Tree BuildTree(const std::vector<Span>& rows) {
  Tree t;
  std::set<SpanId> present;
  for (size_t i = 0; i < rows.size(); ++i) {
    const Span& s = rows[i];
    switch (s.row_kind) {
      case RowKind::kSpan:
        t.spans.push_back(i);
        present.insert(s.span_id);
        break;
      case RowKind::kSpanEvent: t.events[s.span_id].push_back(i); break;
      case RowKind::kLink: t.links[s.span_id].push_back(i); break;
    }
  }
  auto by_start = [&rows](size_t a, size_t b) {
    if (rows[a].start_ns != rows[b].start_ns) return rows[a].start_ns < rows[b].start_ns;
    return a < b;
  };
  std::sort(t.spans.begin(), t.spans.end(), by_start);
  std::vector<size_t> orphans;
  for (size_t i : t.spans) {
    const Span& s = rows[i];
    if (IsZero(s.parent_span_id)) {
      t.roots.push_back(i);
    } else if (s.parent_span_id == s.span_id || !present.count(s.parent_span_id)) {
      orphans.push_back(i);
    } else {
      t.children[s.parent_span_id].push_back(i);
    }
  }
  t.roots.insert(t.roots.end(), orphans.begin(), orphans.end());
  for (auto& [id, v] : t.events) std::sort(v.begin(), v.end(), by_start);
  return t;
}

void WriteSpanFields(const Span& s, const Tree& t, const std::vector<Span>& rows,
                     JsonWriter* w) {
  w->Key("span_id").String(ToHex(s.span_id));
  if (IsZero(s.parent_span_id)) {
    w->Key("parent_id").Null();
  } else {
    w->Key("parent_id").String(ToHex(s.parent_span_id));
  }
  w->Key("name").String(s.name);
  w->Key("service.name").String(s.service_name);
  w->Key("span.kind").String(SpanKindName(s.kind));
  w->Key("start").String(FormatRfc3339Nanos(s.start_ns));
  w->Key("start_unix_nano").Int(s.start_ns);
  w->Key("duration_ms").Double(s.duration_ms());
  w->Key("status_code").Int(static_cast<int>(s.status_code));
  w->Key("status_message").String(s.status_message);
  w->Key("error").Bool(s.is_error());
  if (!s.scope_name.empty()) w->Key("library.name").String(s.scope_name);
  WriteAttributes(s.attributes, w);
  w->Key("events").BeginArray();
  if (auto it = t.events.find(s.span_id); it != t.events.end()) {
    for (size_t e : it->second) {
      const Span& ev = rows[e];
      w->BeginObject();
      w->Key("name").String(ev.name);
      w->Key("time").String(FormatRfc3339Nanos(ev.start_ns));
      w->Key("time_unix_nano").Int(ev.start_ns);
      w->Key("time_since_span_start_ms").Double((ev.start_ns - s.start_ns) / 1e6);
      WriteAttributes(ev.attributes, w);
      w->EndObject();
    }
  }
  w->EndArray();
  w->Key("links").BeginArray();
  if (auto it = t.links.find(s.span_id); it != t.links.end()) {
    for (size_t l : it->second) {
      const Span& link = rows[l];
      w->BeginObject();
      w->Key("trace_id").String(ToHex(link.link_trace_id));
      w->Key("span_id").String(ToHex(link.link_span_id));
      WriteAttributes(link.attributes, w);
      w->EndObject();
    }
  }
  w->EndArray();
}

// Writes the span forest depth-first with an explicit stack. A span already written (reached
// again through a cycle or a duplicate id) is not written twice.
void WriteForest(const Tree& t, const std::vector<Span>& rows, JsonWriter* w) {
  std::vector<bool> written(rows.size(), false);
  struct Frame {
    const std::vector<size_t>* children;
    size_t next;
  };
  static const std::vector<size_t> kNone;
  auto write_all_from = [&](size_t root) {
    std::vector<Frame> stack;
    auto open = [&](size_t i) {
      written[i] = true;
      w->BeginObject();
      WriteSpanFields(rows[i], t, rows, w);
      w->Key("children").BeginArray();
      auto it = t.children.find(rows[i].span_id);
      stack.push_back({it == t.children.end() ? &kNone : &it->second, 0});
    };
    open(root);
    while (!stack.empty()) {
      Frame& f = stack.back();
      if (f.next < f.children->size()) {
        size_t child = (*f.children)[f.next++];
        if (!written[child]) open(child);
      } else {
        w->EndArray().EndObject();
        stack.pop_back();
      }
    }
  };
  for (size_t r : t.roots) {
    if (!written[r]) write_all_from(r);
  }
  // Spans only reachable through a parent cycle become extra roots.
  for (size_t i : t.spans) {
    if (!written[i]) write_all_from(i);
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool AllHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return HexValue(c) >= 0; });
}

}  // namespace

bool ParseTraceIdParam(std::string_view text, TraceId* out) {
  if (text.size() == 32) return ParseHex(text, out);
  if (text.size() == 16 && AllHex(text)) {
    std::string padded(16, '0');
    padded.append(text);
    return ParseHex(padded, out);
  }
  // X-Ray: "1-" + 8 hex (epoch seconds) + "-" + 24 hex.
  if (text.size() == 35 && text[0] == '1' && text[1] == '-' && text[10] == '-') {
    std::string joined(text.substr(2, 8));
    joined.append(text.substr(11));
    return ParseHex(joined, out);
  }
  return false;
}

std::string FormatRfc3339Nanos(int64_t unix_nanos) {
  int64_t secs = unix_nanos / 1'000'000'000;
  int64_t frac = unix_nanos % 1'000'000'000;
  if (frac < 0) {
    frac += 1'000'000'000;
    --secs;
  }
  std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  if (gmtime_r(&tt, &tm) == nullptr) return "invalid-time";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(frac));
  return buf;
}

std::string TraceTreeJson(const TraceId& trace_id, const std::vector<Span>& rows) {
  Tree t = BuildTree(rows);
  int64_t start = 0, end = 0;
  std::set<std::string> services;
  for (size_t k = 0; k < t.spans.size(); ++k) {
    const Span& s = rows[t.spans[k]];
    if (k == 0 || s.start_ns < start) start = s.start_ns;
    if (k == 0 || s.end_ns > end) end = s.end_ns;
    services.insert(s.service_name);
  }
  JsonWriter w;
  w.BeginObject();
  w.Key("trace_id").String(ToHex(trace_id));
  w.Key("span_count").Uint(t.spans.size());
  w.Key("start").String(FormatRfc3339Nanos(start));
  w.Key("start_unix_nano").Int(start);
  w.Key("duration_ms").Double(end > start ? (end - start) / 1e6 : 0.0);
  w.Key("services").BeginArray();
  for (const std::string& s : services) w.String(s);
  w.EndArray();
  w.Key("spans").BeginArray();
  WriteForest(t, rows, &w);
  w.EndArray();
  w.EndObject();
  return w.Take();
}

std::string TraceSummariesJson(const std::vector<TraceSummary>& traces) {
  JsonWriter w;
  w.BeginObject().Key("traces").BeginArray();
  for (const TraceSummary& t : traces) {
    w.BeginObject();
    w.Key("trace_id").String(ToHex(t.trace_id));
    w.Key("root_service").String(t.root_service);
    w.Key("root_name").String(t.root_name);
    w.Key("start").String(FormatRfc3339Nanos(t.start_ns));
    w.Key("start_unix_nano").Int(t.start_ns);
    w.Key("duration_ms").Double(t.duration_ns / 1e6);
    w.Key("span_count").Uint(t.span_count);
    w.Key("error").Bool(t.has_error);
    w.Key("services").BeginArray();
    for (const std::string& s : t.services) w.String(s);
    w.EndArray();
    w.EndObject();
  }
  w.EndArray().EndObject();
  return w.Take();
}

}  // namespace waggle
