// EncodeTraceSegments: stored rows of one trace -> X-Ray segment documents (the inverse of the
// decoder's mapping in internal/columns.h; docs/XRAY.md). Nesting is rebuilt from parent ids
// with an explicit depth bound and a visited set, so cycles and deep chains in stored data
// cannot recurse without bound.
#include <algorithm>
#include <map>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "simdjson.h"
#include "xray/internal/columns.h"
#include "xray/internal/json_text.h"
#include "xray/internal/span_rows.h"
#include "xray/segment_document.h"
#include "xray/trace_id.h"

namespace waggle::xray {
namespace {

using namespace waggle::xray_internal;

constexpr int kMaxNestingDepth = 64;  // deeper spans become independent subsegment documents

// True if `text` is a JSON array or object (so it can be inserted as raw JSON).
bool IsJsonContainer(std::string_view text) {
  if (text.empty() || (text.front() != '[' && text.front() != '{')) return false;
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element e;
  return parser.parse(text.data(), text.size()).get(e) == simdjson::SUCCESS;
}

void AppendValue(const Attribute& a, bool raw_json_strings, std::string* out) {
  switch (a.type) {
    case ValueType::kString:
      if (raw_json_strings && IsJsonContainer(a.str)) {
        out->append(a.str);
      } else {
        AppendJsonString(a.str, out);
      }
      break;
    case ValueType::kInt: out->append(std::to_string(a.i)); break;
    case ValueType::kDouble: AppendDouble(a.d, out); break;
    case ValueType::kBool: out->append(a.b ? "true" : "false"); break;
  }
}

// A JSON object built from dotted paths ("request.method" -> {"request":{"method":...}}).
struct Tree {
  std::map<std::string, Tree> children;
  const Attribute* value = nullptr;

  void Put(std::string_view path, const Attribute* a) {
    size_t dot = path.find('.');
    if (dot == std::string_view::npos) {
      children[std::string(path)].value = a;
    } else {
      children[std::string(path.substr(0, dot))].Put(path.substr(dot + 1), a);
    }
  }
  bool empty() const { return children.empty() && value == nullptr; }
  void Write(std::string* out) const {
    if (value != nullptr && children.empty()) {
      AppendValue(*value, /*raw_json_strings=*/true, out);
      return;
    }
    out->push_back('{');
    bool first = true;
    for (const auto& [k, child] : children) {
      AppendKey(k, &first, out);
      child.Write(out);
    }
    out->push_back('}');
  }
};

std::string_view XrayPathOf(std::string_view column) {
  for (const Rename& r : kRenames) {
    if (r.column == column) return r.xray_path;
  }
  if (StartsWith(column, "http.request.") || StartsWith(column, "http.response.") ||
      StartsWith(column, "aws.") || StartsWith(column, "sql.") ||
      (StartsWith(column, "service.") && column != "service.name")) {
    return column;
  }
  return {};
}

class Encoder {
 public:
  explicit Encoder(const std::vector<Span>& rows) {
    for (const Span& s : rows) {
      if (s.row_kind == RowKind::kSpanEvent && s.name == kExceptionEvent) {
        exceptions_[s.span_id].push_back(&s);
      }
      if (s.row_kind != RowKind::kSpan) continue;
      auto [it, inserted] = spans_.emplace(s.span_id, &s);
      if (!inserted && Supersedes(s, *it->second)) it->second = &s;
    }
    for (const auto& [id, s] : spans_) {
      if (IsTopLevel(*s)) {
        tops_.push_back(s);
      } else {
        children_[s->parent_span_id].push_back(s);
      }
    }
    auto by_start = [](const Span* a, const Span* b) {
      return a->start_ns != b->start_ns ? a->start_ns < b->start_ns : a->span_id < b->span_id;
    };
    std::sort(tops_.begin(), tops_.end(), by_start);
    for (auto& [id, list] : children_) std::sort(list.begin(), list.end(), by_start);
  }

  std::vector<EncodedSegment> Encode() {
    std::vector<EncodedSegment> out;
    for (const Span* s : tops_) out.push_back(EncodeTop(*s));
    // Spans reachable only through a parent cycle or past the depth bound.
    std::vector<const Span*> rest;
    for (const auto& [id, s] : spans_) {
      if (!visited_.count(id)) rest.push_back(s);
    }
    std::sort(rest.begin(), rest.end(),
              [](const Span* a, const Span* b) { return a->start_ns < b->start_ns; });
    for (const Span* s : rest) {
      if (!visited_.count(s->span_id)) out.push_back(EncodeTop(*s));
    }
    return out;
  }

 private:
  bool IsTopLevel(const Span& s) const {
    bool parent_here = !IsZero(s.parent_span_id) && spans_.count(s.parent_span_id) &&
                       s.parent_span_id != s.span_id;
    std::string_view type = StringAttr(s, kType);
    if (type == "segment") return true;
    if (type == "subsegment") return !parent_here;
    return !parent_here || s.kind == SpanKind::kServer || s.kind == SpanKind::kConsumer;
  }

  static bool IsSegment(const Span& s) {
    std::string_view type = StringAttr(s, kType);
    if (!type.empty()) return type == "segment";
    return true;  // an OTLP span at the top of a document is drawn as a segment
  }

  EncodedSegment EncodeTop(const Span& s) {
    EncodedSegment seg;
    seg.id = ToHex(s.span_id);
    WriteEntity(s, /*top=*/true, 0, &seg.document);
    return seg;
  }

  void WriteEntity(const Span& s, bool top, int depth, std::string* out);
  void WriteCause(const Span& s, bool* first, std::string* out);

  std::unordered_map<SpanId, const Span*, SpanIdHash> spans_;
  std::unordered_map<SpanId, std::vector<const Span*>, SpanIdHash> children_;
  std::unordered_map<SpanId, std::vector<const Span*>, SpanIdHash> exceptions_;
  std::unordered_set<SpanId, SpanIdHash> visited_;
  std::vector<const Span*> tops_;
};

void Encoder::WriteEntity(const Span& s, bool top, int depth, std::string* out) {
  visited_.insert(s.span_id);
  const bool xray_born = !StringAttr(s, kType).empty();
  const bool segment = top && IsSegment(s);
  out->push_back('{');
  bool first = true;
  AppendKey("id", &first, out);
  AppendJsonString(ToHex(s.span_id), out);
  AppendKey("name", &first, out);
  AppendJsonString(segment && !xray_born ? s.service_name : s.name, out);
  AppendKey("start_time", &first, out);
  AppendEpochSeconds(s.start_ns, out);
  if (BoolAttr(s, kInProgress)) {
    AppendKey("in_progress", &first, out);
    out->append("true");
  } else {
    AppendKey("end_time", &first, out);
    AppendEpochSeconds(s.end_ns, out);
  }
  if (top) {
    AppendKey("trace_id", &first, out);
    AppendJsonString(FormatTraceId(s.trace_id), out);
    if (!IsZero(s.parent_span_id)) {
      AppendKey("parent_id", &first, out);
      AppendJsonString(ToHex(s.parent_span_id), out);
    }
    if (!segment) {
      AppendKey("type", &first, out);
      AppendJsonString("subsegment", out);
    }
  }
  Tree sections, annotations, metadata, otel;
  bool error = false, fault = false, throttle = false;
  for (const Attribute& a : s.attributes) {
    std::string_view key = a.key;
    if (key == kNamespace || key == kOrigin || key == kUser) {
      AppendKey(key == kNamespace ? "namespace" : key == kOrigin ? "origin" : "user", &first,
                out);
      AppendValue(a, false, out);
    } else if (key == kError || key == kFault || key == kThrottle) {
      (key == kError ? error : key == kFault ? fault : throttle) = a.type == ValueType::kBool && a.b;
    } else if (key == kInferred || key == kPrecursorIds) {
      AppendKey(key == kInferred ? "inferred" : "precursor_ids", &first, out);
      AppendValue(a, true, out);
    } else if (StartsWith(key, kAnnotationPrefix)) {
      annotations.children[std::string(key.substr(kAnnotationPrefix.size()))].value = &a;
    } else if (StartsWith(key, kMetadataPrefix)) {
      metadata.children[std::string(key.substr(kMetadataPrefix.size()))].value = &a;
    } else if (std::string_view path = XrayPathOf(key); !path.empty()) {
      sections.Put(path, &a);
    } else if (!xray_born && !StartsWith(key, "xray.")) {
      otel.children[std::string(key)].value = &a;
    }
  }
  if (!xray_born && s.status_code == StatusCode::kError) fault = true;
  for (const auto& [name, tree] : sections.children) {
    AppendKey(name, &first, out);
    tree.Write(out);
  }
  for (auto [name, flag] : {std::pair{"error", error}, {"fault", fault}, {"throttle", throttle}}) {
    if (!flag) continue;
    AppendKey(name, &first, out);
    out->append("true");
  }
  WriteCause(s, &first, out);
  if (!annotations.empty()) {
    AppendKey("annotations", &first, out);
    annotations.Write(out);
  }
  if (!otel.empty()) metadata.children["otel"] = std::move(otel);
  if (!metadata.empty()) {
    AppendKey("metadata", &first, out);
    metadata.Write(out);
  }
  auto kids = children_.find(s.span_id);
  if (kids != children_.end() && depth < kMaxNestingDepth) {
    AppendKey("subsegments", &first, out);
    out->push_back('[');
    bool first_child = true;
    for (const Span* child : kids->second) {
      if (visited_.count(child->span_id)) continue;
      if (!first_child) out->push_back(',');
      first_child = false;
      WriteEntity(*child, /*top=*/false, depth + 1, out);
    }
    out->push_back(']');
  }
  out->push_back('}');
}

void Encoder::WriteCause(const Span& s, bool* first, std::string* out) {
  std::string_view ref = StringAttr(s, kCauseId);
  if (!ref.empty()) {
    AppendKey("cause", first, out);
    AppendJsonString(ref, out);
    return;
  }
  auto ex = exceptions_.find(s.span_id);
  const Attribute* wd = FindAttr(s, kCauseWorkingDirectory);
  const Attribute* paths = FindAttr(s, kCausePaths);
  if (ex == exceptions_.end() && wd == nullptr && paths == nullptr) return;
  AppendKey("cause", first, out);
  out->push_back('{');
  bool cfirst = true;
  if (wd != nullptr) {
    AppendKey("working_directory", &cfirst, out);
    AppendValue(*wd, false, out);
  }
  if (paths != nullptr) {
    AppendKey("paths", &cfirst, out);
    AppendValue(*paths, true, out);
  }
  if (ex != exceptions_.end()) {
    AppendKey("exceptions", &cfirst, out);
    out->push_back('[');
    size_t index = 0;
    for (const Span* e : ex->second) {
      if (index) out->push_back(',');
      out->push_back('{');
      bool efirst = true;
      if (FindAttr(*e, kExceptionId) == nullptr) {
        // X-Ray requires an id; an OTLP exception event has none, so derive a stable one.
        SpanId id = s.span_id;
        id[7] ^= static_cast<uint8_t>(index + 1);
        AppendKey("id", &efirst, out);
        AppendJsonString(ToHex(id), out);
      }
      for (const Attribute& a : e->attributes) {
        std::string_view k = a.key;
        std::string_view field = k == kExceptionId ? "id" : k == kExceptionType ? "type"
                                 : k == kExceptionMessage ? "message"
                                 : k == kExceptionRemote ? "remote"
                                 : k == kExceptionTruncated ? "truncated"
                                 : k == kExceptionSkipped ? "skipped"
                                 : k == kExceptionCause ? "cause"
                                 : k == kExceptionStack ? "stack" : "";
        if (field.empty()) continue;
        AppendKey(field, &efirst, out);
        AppendValue(a, k == kExceptionStack, out);
      }
      out->push_back('}');
      ++index;
    }
    out->push_back(']');
  }
  out->push_back('}');
}

}  // namespace

std::vector<EncodedSegment> EncodeTraceSegments(const std::vector<Span>& rows) {
  return Encoder(rows).Encode();
}

}  // namespace waggle::xray
