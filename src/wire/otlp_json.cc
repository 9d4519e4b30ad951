// DecodeOtlpTracesJson: OTLP/JSON ExportTraceServiceRequest to SpanBatch with simdjson's DOM
// API (error codes only; simdjson never throws here). Strings live in the parser's buffers,
// so every string the batch keeps is copied into batch.arena (in 64 KiB chunks).
//
// OTLP/JSON rules followed: lowerCamelCase keys (snake_case keys are unknown and ignored),
// hex trace/span ids in any case ("" parentSpanId = root), 64-bit integers as decimal strings
// or numbers, enums as integers (enum names are accepted too), null = absent, unknown keys
// ignored.
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <iterator>
#include <limits>
#include <memory>

#include "simdjson.h"
#include "wire/internal/decode_util.h"
#include "wire/internal/json_values.h"
#include "wire/otlp.h"

namespace waggle {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;
using wire_internal::ArenaWriter;
using wire_internal::DecodeBudget;
using wire_internal::InvalidAt;
using wire_internal::IsAnyValueMember;
using wire_internal::IsHexString;
using wire_internal::JsonIsNull;
using wire_internal::JsonToDouble;
using wire_internal::JsonToInteger;
using wire_internal::Location;

// Bodies up to this size reuse a per-thread parser (and its buffers); bigger ones get a
// parser of their own so a single huge request does not pin memory for the thread's life.
constexpr size_t kReusableParserBytes = 4 * 1024 * 1024;

class JsonDecoder {
 public:
  JsonDecoder(const DecodeLimits& limits, SpanBatch* batch)
      : limits_(limits),
        batch_(batch),
        budget_(limits.max_decoded_bytes),
        arena_(&batch->arena, &budget_) {}

  // `body_size` sizes the initial reservations (see the protobuf decoder).
  Status Run(element root, size_t body_size) {
    batch_->rows.reserve(std::min<size_t>(body_size / 512, 1 << 16));
    batch_->attrs.reserve(std::min<size_t>(body_size / 48, 1 << 20));
    object obj;
    if (root.get_object().get(obj) != simdjson::SUCCESS) {
      return absl::InvalidArgumentError("request must be a JSON object");
    }
    for (auto field : obj) {
      if (field.key != "resourceSpans" || JsonIsNull(field.value)) continue;
      array list;
      if (field.value.get_array().get(list) != simdjson::SUCCESS) {
        return absl::InvalidArgumentError("resourceSpans must be an array");
      }
      int index = 0;
      for (element rs : list) {
        where_ = Location{&wire_internal::kJsonNames, index++};
        RETURN_IF_ERROR(DecodeResourceSpans(rs));
      }
    }
    return OkStatus();
  }

 private:
  // The object in `e`, or an error naming `what`.
  Status AsObject(element e, std::string_view what, object* out) const {
    if (e.get_object().get(*out) == simdjson::SUCCESS) return OkStatus();
    return InvalidAt(where_, wire_internal::Cat(what, " must be an object"));
  }
  // The array in `e`, or an error naming `what`. *present is false for null (then `out` is
  // untouched and must not be iterated).
  Status AsArray(element e, std::string_view what, array* out, bool* present) const {
    *present = false;
    if (JsonIsNull(e)) return OkStatus();
    *present = true;
    if (e.get_array().get(*out) == simdjson::SUCCESS) return OkStatus();
    return InvalidAt(where_, wire_internal::Cat(what, " must be an array"));
  }
  Status AsString(element e, std::string_view what, std::string_view* out) const {
    if (JsonIsNull(e)) {
      *out = {};
      return OkStatus();
    }
    if (e.get_string().get(*out) == simdjson::SUCCESS) return OkStatus();
    return InvalidAt(where_, wire_internal::Cat(what, " must be a string"));
  }
  // A string field copied (truncated) into the arena.
  Status CopyString(element e, std::string_view what, std::string_view* out) {
    std::string_view s;
    RETURN_IF_ERROR(AsString(e, what, &s));
    if (!arena_.Copy(wire_internal::TruncateUtf8(s, limits_.max_string_bytes), out)) {
      return budget_.Exhausted();
    }
    return OkStatus();
  }
  Status AsUint(element e, std::string_view what, uint64_t hi, uint64_t* out) const {
    if (JsonIsNull(e)) return OkStatus();
    int64_t ignored;
    if (JsonToInteger(e, 0, hi, &ignored, out)) return OkStatus();
    return InvalidAt(where_, wire_internal::Cat(what, " must be an integer in [0, ", hi,
                                          "] (a number or a decimal string)"));
  }
  Status AsNanos(element e, std::string_view what, int64_t* out) const {
    uint64_t v = 0;
    RETURN_IF_ERROR(AsUint(e, what, std::numeric_limits<int64_t>::max(), &v));
    *out = static_cast<int64_t>(v);
    return OkStatus();
  }

  Status DecodeResourceSpans(element e) {
    object obj;
    RETURN_IF_ERROR(AsObject(e, "resourceSpans entry", &obj));
    element resource, scope_spans;
    bool has_resource = false, has_scope_spans = false;
    for (auto field : obj) {
      if (field.key == "resource") {
        resource = field.value;
        has_resource = !JsonIsNull(field.value);
      } else if (field.key == "scopeSpans") {
        scope_spans = field.value;
        has_scope_spans = true;
      }
    }
    AttrRange range{Size(), 0};
    if (has_resource) {
      object res;
      RETURN_IF_ERROR(AsObject(resource, "resource", &res));
      for (auto field : res) {
        if (field.key == "attributes") RETURN_IF_ERROR(DecodeAttributes(field.value));
      }
    }
    range.end = Size();
    RETURN_IF_ERROR(CheckAttrCount(range.size(), "resource"));
    std::string_view service = wire_internal::NormalizeServiceName(*batch_, range);
    if (!has_scope_spans) return OkStatus();
    array list;
    bool present;
    RETURN_IF_ERROR(AsArray(scope_spans, "scopeSpans", &list, &present));
    if (!present) return OkStatus();
    int index = 0;
    for (element ss : list) {
      where_.scope_spans = index++;
      RETURN_IF_ERROR(DecodeScopeSpans(ss, range, service));
    }
    where_.scope_spans = -1;
    return OkStatus();
  }

  Status DecodeScopeSpans(element e, AttrRange resource, std::string_view service) {
    object obj;
    RETURN_IF_ERROR(AsObject(e, "scopeSpans entry", &obj));
    SpanRow proto;
    proto.service_name = service;
    proto.resource_attrs = resource;
    proto.scope_attrs.begin = Size();
    element spans;
    bool has_spans = false;
    for (auto field : obj) {
      if (field.key == "scope" && !JsonIsNull(field.value)) {
        RETURN_IF_ERROR(DecodeScope(field.value, &proto));
      } else if (field.key == "spans") {
        spans = field.value;
        has_spans = true;
      }
    }
    proto.scope_attrs.end = Size();
    RETURN_IF_ERROR(CheckAttrCount(proto.scope_attrs.size(), "scope"));
    if (!has_spans) return OkStatus();
    array list;
    bool present;
    RETURN_IF_ERROR(AsArray(spans, "spans", &list, &present));
    if (!present) return OkStatus();
    int index = 0;
    for (element span : list) {
      where_.spans = index++;
      RETURN_IF_ERROR(DecodeSpan(span, proto));
    }
    where_.spans = -1;
    return OkStatus();
  }

  Status DecodeScope(element e, SpanRow* proto) {
    object obj;
    RETURN_IF_ERROR(AsObject(e, "scope", &obj));
    for (auto field : obj) {
      if (field.key == "name") {
        RETURN_IF_ERROR(CopyString(field.value, "scope.name", &proto->scope_name));
      } else if (field.key == "version") {
        RETURN_IF_ERROR(CopyString(field.value, "scope.version", &proto->scope_version));
      } else if (field.key == "attributes") {
        RETURN_IF_ERROR(DecodeAttributes(field.value));
      }
    }
    return OkStatus();
  }

  Status DecodeSpan(element e, const SpanRow& proto) {
    object obj;
    RETURN_IF_ERROR(AsObject(e, "span", &obj));
    SpanRow row = proto;
    std::string_view trace_id, span_id, parent_id;
    element events, links;
    bool has_events = false, has_links = false;
    row.attrs.begin = Size();
    for (auto field : obj) {
      std::string_view k = field.key;
      element v = field.value;
      if (k == "traceId") {
        RETURN_IF_ERROR(AsString(v, "traceId", &trace_id));
      } else if (k == "spanId") {
        RETURN_IF_ERROR(AsString(v, "spanId", &span_id));
      } else if (k == "parentSpanId") {
        RETURN_IF_ERROR(AsString(v, "parentSpanId", &parent_id));
      } else if (k == "name") {
        RETURN_IF_ERROR(CopyString(v, "name", &row.name));
      } else if (k == "traceState") {
        RETURN_IF_ERROR(CopyString(v, "traceState", &row.trace_state));
      } else if (k == "kind") {
        RETURN_IF_ERROR(DecodeKind(v, &row.kind));
      } else if (k == "startTimeUnixNano") {
        RETURN_IF_ERROR(AsNanos(v, "startTimeUnixNano", &row.start_ns));
      } else if (k == "endTimeUnixNano") {
        RETURN_IF_ERROR(AsNanos(v, "endTimeUnixNano", &row.end_ns));
      } else if (k == "attributes") {
        RETURN_IF_ERROR(DecodeAttributes(v));
      } else if (k == "events") {
        events = v;
        has_events = true;
      } else if (k == "links") {
        links = v;
        has_links = true;
      } else if (k == "status") {
        RETURN_IF_ERROR(DecodeStatus(v, &row));
      } else if (k == "flags") {
        uint64_t flags = 0;
        RETURN_IF_ERROR(AsUint(v, "flags", std::numeric_limits<uint32_t>::max(), &flags));
        row.flags = static_cast<uint32_t>(flags);
      }
    }
    row.attrs.end = Size();
    RETURN_IF_ERROR(CheckRowAttrs(row));
    RETURN_IF_ERROR(ParseId(trace_id, "traceId", false, &row.trace_id));
    RETURN_IF_ERROR(ParseId(span_id, "spanId", false, &row.span_id));
    RETURN_IF_ERROR(ParseId(parent_id, "parentSpanId", true, &row.parent_span_id));
    RETURN_IF_ERROR(PushRow(row));

    if (has_events && !JsonIsNull(events)) {
      array list;
      bool present;
      RETURN_IF_ERROR(AsArray(events, "events", &list, &present));
      int index = 0;
      for (element ev : list) {
        where_.sub = Location::Sub::kEvent;
        where_.sub_index = index++;
        RETURN_IF_ERROR(DecodeEvent(ev, row));
      }
    }
    if (has_links && !JsonIsNull(links)) {
      where_.sub = Location::Sub::kNone;
      array list;
      bool present;
      RETURN_IF_ERROR(AsArray(links, "links", &list, &present));
      int index = 0;
      for (element link : list) {
        where_.sub = Location::Sub::kLink;
        where_.sub_index = index++;
        RETURN_IF_ERROR(DecodeLink(link, row));
      }
    }
    where_.sub = Location::Sub::kNone;
    return OkStatus();
  }

  Status DecodeEvent(element e, const SpanRow& span) {
    object obj;
    RETURN_IF_ERROR(AsObject(e, "event", &obj));
    SpanRow row = EventOrLinkBase(span, RowKind::kSpanEvent);
    row.attrs.begin = Size();
    for (auto field : obj) {
      if (field.key == "timeUnixNano") {
        RETURN_IF_ERROR(AsNanos(field.value, "timeUnixNano", &row.start_ns));
      } else if (field.key == "name") {
        RETURN_IF_ERROR(CopyString(field.value, "name", &row.name));
      } else if (field.key == "attributes") {
        RETURN_IF_ERROR(DecodeAttributes(field.value));
      }
    }
    row.end_ns = row.start_ns;
    row.attrs.end = Size();
    RETURN_IF_ERROR(CheckRowAttrs(row));
    return PushRow(row);
  }

  Status DecodeLink(element e, const SpanRow& span) {
    object obj;
    RETURN_IF_ERROR(AsObject(e, "link", &obj));
    SpanRow row = EventOrLinkBase(span, RowKind::kLink);
    row.start_ns = row.end_ns = span.start_ns;
    std::string_view trace_id, span_id;
    row.attrs.begin = Size();
    for (auto field : obj) {
      std::string_view k = field.key;
      if (k == "traceId") {
        RETURN_IF_ERROR(AsString(field.value, "traceId", &trace_id));
      } else if (k == "spanId") {
        RETURN_IF_ERROR(AsString(field.value, "spanId", &span_id));
      } else if (k == "traceState") {
        RETURN_IF_ERROR(CopyString(field.value, "traceState", &row.trace_state));
      } else if (k == "attributes") {
        RETURN_IF_ERROR(DecodeAttributes(field.value));
      } else if (k == "flags") {
        uint64_t flags = 0;
        RETURN_IF_ERROR(
            AsUint(field.value, "flags", std::numeric_limits<uint32_t>::max(), &flags));
        row.flags = static_cast<uint32_t>(flags);
      }
    }
    row.attrs.end = Size();
    RETURN_IF_ERROR(CheckRowAttrs(row));
    RETURN_IF_ERROR(ParseId(trace_id, "traceId", false, &row.link_trace_id));
    RETURN_IF_ERROR(ParseId(span_id, "spanId", false, &row.link_span_id));
    return PushRow(row);
  }

  static SpanRow EventOrLinkBase(const SpanRow& span, RowKind kind) {
    SpanRow row;
    row.row_kind = kind;
    row.trace_id = span.trace_id;
    row.span_id = span.span_id;
    row.service_name = span.service_name;
    row.scope_name = span.scope_name;
    row.scope_version = span.scope_version;
    row.parent_name = span.name;
    row.resource_attrs = span.resource_attrs;
    row.scope_attrs = span.scope_attrs;
    return row;
  }

  Status DecodeKind(element e, SpanKind* out) const {
    if (JsonIsNull(e)) return OkStatus();
    std::string_view name;
    if (e.get_string().get(name) == simdjson::SUCCESS) {
      static constexpr std::string_view kNames[] = {
          "SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER",
          "SPAN_KIND_CLIENT",      "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER"};
      for (size_t i = 0; i < std::size(kNames); ++i) {
        if (name == kNames[i]) {
          *out = static_cast<SpanKind>(i);
          return OkStatus();
        }
      }
    }
    uint64_t v = 0;
    RETURN_IF_ERROR(AsUint(e, "kind", std::numeric_limits<int32_t>::max(), &v));
    *out = v <= 5 ? static_cast<SpanKind>(v) : SpanKind::kUnspecified;
    return OkStatus();
  }

  Status DecodeStatus(element e, SpanRow* row) {
    if (JsonIsNull(e)) return OkStatus();
    object obj;
    RETURN_IF_ERROR(AsObject(e, "status", &obj));
    for (auto field : obj) {
      if (field.key == "message") {
        RETURN_IF_ERROR(CopyString(field.value, "status.message", &row->status_message));
      } else if (field.key == "code") {
        std::string_view name;
        if (field.value.get_string().get(name) == simdjson::SUCCESS) {
          if (name == "STATUS_CODE_OK") { row->status_code = StatusCode::kOk; continue; }
          if (name == "STATUS_CODE_ERROR") { row->status_code = StatusCode::kError; continue; }
          if (name == "STATUS_CODE_UNSET") { row->status_code = StatusCode::kUnset; continue; }
        }
        uint64_t v = 0;
        RETURN_IF_ERROR(
            AsUint(field.value, "status.code", std::numeric_limits<int32_t>::max(), &v));
        row->status_code = v <= 2 ? static_cast<StatusCode>(v) : StatusCode::kUnset;
      }
    }
    return OkStatus();
  }

  // An `attributes` array of KeyValue objects at depth 1.
  Status DecodeAttributes(element e) {
    array list;
    bool present;
    RETURN_IF_ERROR(AsArray(e, "attributes", &list, &present));
    if (!present) return OkStatus();
    for (element kv : list) RETURN_IF_ERROR(DecodeKeyValue(kv, {}, 1));
    return OkStatus();
  }

  // {"key": ..., "value": AnyValue}; appends zero or more AttrViews (kvlists flatten).
  Status DecodeKeyValue(element e, std::string_view prefix, int depth) {
    object obj;
    RETURN_IF_ERROR(AsObject(e, "attribute", &obj));
    std::string_view key;
    element value;
    bool has_value = false;
    for (auto field : obj) {
      if (field.key == "key") {
        RETURN_IF_ERROR(AsString(field.value, "attribute key", &key));
      } else if (field.key == "value" && !JsonIsNull(field.value)) {
        value = field.value;
        has_value = true;
      }
    }
    if (!has_value) return OkStatus();
    object any;
    RETURN_IF_ERROR(AsObject(value, "attribute value", &any));
    std::string_view member;
    element v;
    for (auto field : any) {  // the last known member wins
      if (IsAnyValueMember(field.key) && !JsonIsNull(field.value)) {
        member = field.key;
        v = field.value;
      }
    }
    if (member.empty()) return OkStatus();

    AttrView attr;
    if (!prefix.empty()) {
      std::string joined = wire_internal::Cat(prefix, ".", key);
      if (!arena_.Copy(joined, &attr.key)) return budget_.Exhausted();
    } else if (!arena_.Copy(key, &attr.key)) {
      return budget_.Exhausted();
    }
    const std::string bad =
        wire_internal::Cat("attribute \"", key.substr(0, 64), "\": bad ", member);
    if (member == "stringValue") {
      RETURN_IF_ERROR(CopyString(v, bad, &attr.str));
    } else if (member == "boolValue") {
      attr.type = ValueType::kBool;
      if (v.get_bool().get(attr.b) != simdjson::SUCCESS) return InvalidAt(where_, bad);
    } else if (member == "intValue") {
      attr.type = ValueType::kInt;
      uint64_t ignored;
      if (!JsonToInteger(v, std::numeric_limits<int64_t>::min(),
                     std::numeric_limits<int64_t>::max(), &attr.i, &ignored)) {
        return InvalidAt(where_, bad);
      }
    } else if (member == "doubleValue") {
      attr.type = ValueType::kDouble;
      if (!JsonToDouble(v, &attr.d)) return InvalidAt(where_, bad);
    } else if (member == "bytesValue") {
      RETURN_IF_ERROR(CopyString(v, bad, &attr.str));  // already base64 in OTLP/JSON
    } else if (member == "kvlistValue" && depth < wire_internal::kMaxFlattenDepth) {
      object kvlist;
      RETURN_IF_ERROR(AsObject(v, bad, &kvlist));
      for (auto field : kvlist) {
        if (field.key != "values") continue;
        array values;
        bool present;
        RETURN_IF_ERROR(AsArray(field.value, bad, &values, &present));
        if (!present) continue;
        for (element kv : values) RETURN_IF_ERROR(DecodeKeyValue(kv, attr.key, depth + 1));
      }
      return OkStatus();
    } else {  // arrayValue, or a kvlistValue nested too deep: JSON text
      std::string text;
      if (!wire_internal::JsonMemberToText(member, v, 0, limits_, &text)) {
        return InvalidAt(where_, "attribute value nesting too deep");
      }
      if (!arena_.Copy(wire_internal::TruncateUtf8(text, limits_.max_string_bytes), &attr.str)) {
        return budget_.Exhausted();
      }
    }
    return PushAttr(attr);
  }

  template <size_t N>
  Status ParseId(std::string_view hex, std::string_view name, bool optional,
                 std::array<uint8_t, N>* out) const {
    if (optional && hex.empty()) return OkStatus();  // root span
    if (!IsHexString(hex)) {
      return InvalidAt(where_, wire_internal::Cat(name, " must be ", 2 * N, " hex digits, got \"",
                                            hex.substr(0, 2 * N + 8),
                                            hex.size() > 2 * N + 8 ? "...\"" : "\""));
    }
    if (hex.size() != 2 * N) {
      return InvalidAt(where_,
                       wire_internal::Cat(name, " must be ", N, " bytes, got ", hex.size() / 2));
    }
    ParseHex(hex, out);
    if (!optional && IsZero(*out)) {
      return InvalidAt(where_, wire_internal::Cat(name, " must not be all zeros"));
    }
    return OkStatus();
  }

  uint32_t Size() const { return static_cast<uint32_t>(batch_->attrs.size()); }

  Status CheckAttrCount(size_t n, std::string_view what) const {
    if (n <= limits_.max_attrs_per_row) return OkStatus();
    return InvalidAt(where_, wire_internal::Cat("too many ", what, " attributes: ", n, " (limit ",
                                          limits_.max_attrs_per_row, ")"));
  }
  Status CheckRowAttrs(const SpanRow& row) const {
    return CheckAttrCount(
        size_t{row.resource_attrs.size()} + row.scope_attrs.size() + row.attrs.size(),
        "resource+scope+own");
  }
  Status PushAttr(const AttrView& attr) {
    if (!budget_.Charge(sizeof(AttrView))) return budget_.Exhausted();
    batch_->attrs.push_back(attr);
    return OkStatus();
  }
  Status PushRow(const SpanRow& row) {
    if (!budget_.Charge(sizeof(SpanRow))) return budget_.Exhausted();
    batch_->rows.push_back(row);
    return OkStatus();
  }

  const DecodeLimits& limits_;
  SpanBatch* batch_;
  DecodeBudget budget_;
  ArenaWriter arena_;
  Location where_{&wire_internal::kJsonNames};
};

}  // namespace

StatusOr<SpanBatch> DecodeOtlpTracesJson(std::string_view body, const DecodeLimits& limits) {
  thread_local simdjson::dom::parser reusable;
  std::unique_ptr<simdjson::dom::parser> own;
  simdjson::dom::parser* parser = &reusable;
  if (body.size() > kReusableParserBytes) {
    own = std::make_unique<simdjson::dom::parser>();
    parser = own.get();
  }
  element root;
  simdjson::error_code err = parser->parse(body.data(), body.size(), true).get(root);
  if (err != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(
        wire_internal::Cat("invalid JSON: ", simdjson::error_message(err)));
  }
  SpanBatch batch;
  JsonDecoder decoder(limits, &batch);
  RETURN_IF_ERROR(decoder.Run(root, body.size()));
  return batch;
}

}  // namespace waggle
