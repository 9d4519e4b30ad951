// DecodeOtlpTracesProtobuf: ExportTraceServiceRequest (OTLP field numbers, PROTOCOLS.md B.7)
// to SpanBatch with the zero-copy wire reader.
//
// Fields may arrive in any order, so each ResourceSpans / ScopeSpans is read twice (first its
// resource / scope, then its children) and a Span twice when it has events or links (first
// its own fields and attributes, so its attribute range stays contiguous, then the children).
// A known field with an unexpected wire type is skipped like an unknown one.
#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <limits>

#include "wire/internal/decode_util.h"
#include "wire/internal/protobuf_reader.h"
#include "wire/otlp.h"

namespace waggle {
namespace {

using wire_internal::ArenaWriter;
using wire_internal::DecodeBudget;
using wire_internal::InvalidAt;
using wire_internal::Location;
using wire_internal::ProtoReader;
using wire_internal::WireType;

// AnyValue oneof members (common.proto).
enum AnyField : uint32_t {
  kNone = 0, kString = 1, kBool = 2, kInt = 3, kDouble = 4, kArray = 5, kKvlist = 6, kBytes = 7
};

struct AnyValueParts {
  uint32_t which = kNone;  // the member set last on the wire
  uint64_t scalar = 0;
  ProtoReader holder{std::string_view()};  // positioned on a length-delimited member
};

// Reads one AnyValue; the caller checks v.ok() afterwards.
void ParseAnyValue(ProtoReader& v, AnyValueParts* out) {
  while (v.Next()) {
    uint32_t f = v.field();
    WireType w = v.wire_type();
    if ((f == kString || f == kArray || f == kKvlist || f == kBytes) && w == WireType::kLen) {
      out->which = f;
      out->holder = v;
    } else if ((f == kBool || f == kInt) && w == WireType::kVarint) {
      out->which = f;
      out->scalar = v.scalar();
    } else if (f == kDouble && w == WireType::kFixed64) {
      out->which = f;
      out->scalar = v.scalar();
    }
  }
}

double BitsToDouble(uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

class ProtobufDecoder {
 public:
  ProtobufDecoder(std::string_view body, const DecodeLimits& limits, SpanBatch* batch)
      : body_(body),
        limits_(limits),
        batch_(batch),
        budget_(limits.max_decoded_bytes),
        arena_(&batch->arena, &budget_) {}

  Status Run() {
    // Growing these vectors from empty re-faults fresh pages on every doubling, which costs
    // more than decoding; reserve for typical spans (~500 bytes, ~20 attributes), capped.
    batch_->rows.reserve(std::min<size_t>(body_.size() / 256, 1 << 16));
    batch_->attrs.reserve(std::min<size_t>(body_.size() / 24, 1 << 20));
    ProtoReader r(body_, limits_.max_nesting);
    int index = 0;
    while (r.Next()) {
      if (r.field() != 1 || r.wire_type() != WireType::kLen) continue;
      where_ = Location{&wire_internal::kProtoNames, index++};
      RETURN_IF_ERROR(DecodeResourceSpans(r.Child()));
    }
    where_ = Location{&wire_internal::kProtoNames};
    return ReaderStatus(r);
  }

 private:
  Status ReaderStatus(const ProtoReader& r) const {
    if (r.ok()) return OkStatus();
    return InvalidAt(where_, r.ErrorString());
  }

  Status DecodeResourceSpans(ProtoReader r) {
    AttrRange resource{Size(), 0};
    ProtoReader first = r;
    while (first.Next()) {
      if (first.field() == 1 && first.wire_type() == WireType::kLen) {
        RETURN_IF_ERROR(DecodeResource(first.Child()));
      }
    }
    RETURN_IF_ERROR(ReaderStatus(first));
    resource.end = Size();
    RETURN_IF_ERROR(CheckAttrCount(resource.size(), "resource"));
    std::string_view service = wire_internal::NormalizeServiceName(*batch_, resource);
    int index = 0;
    while (r.Next()) {
      if (r.field() != 2 || r.wire_type() != WireType::kLen) continue;
      where_.scope_spans = index++;
      RETURN_IF_ERROR(DecodeScopeSpans(r.Child(), resource, service));
    }
    where_.scope_spans = -1;
    return ReaderStatus(r);
  }

  Status DecodeScopeSpans(ProtoReader r, AttrRange resource, std::string_view service) {
    SpanRow proto;  // the fields every row of this scope shares
    proto.service_name = service;
    proto.resource_attrs = resource;
    proto.scope_attrs.begin = Size();
    ProtoReader first = r;
    while (first.Next()) {
      if (first.field() == 1 && first.wire_type() == WireType::kLen) {
        RETURN_IF_ERROR(DecodeScope(first.Child(), &proto));
      }
    }
    RETURN_IF_ERROR(ReaderStatus(first));
    proto.scope_attrs.end = Size();
    RETURN_IF_ERROR(CheckAttrCount(proto.scope_attrs.size(), "scope"));
    int index = 0;
    while (r.Next()) {
      if (r.field() != 2 || r.wire_type() != WireType::kLen) continue;
      where_.spans = index++;
      RETURN_IF_ERROR(DecodeSpan(r.Child(), proto));
    }
    where_.spans = -1;
    return ReaderStatus(r);
  }

  // InstrumentationScope{name=1, version=2, attributes=3}.
  Status DecodeScope(ProtoReader r, SpanRow* proto) {
    while (r.Next()) {
      if (r.wire_type() != WireType::kLen) continue;
      switch (r.field()) {
        case 1: proto->scope_name = Str(r.bytes()); break;
        case 2: proto->scope_version = Str(r.bytes()); break;
        case 3: RETURN_IF_ERROR(DecodeKeyValue(r.Child(), {}, 1)); break;
        default: break;
      }
    }
    return ReaderStatus(r);
  }

  Status DecodeSpan(ProtoReader r, const SpanRow& proto) {
    SpanRow row = proto;
    std::string_view trace_id, span_id, parent_id;
    uint64_t start = 0, end = 0;
    bool has_children = false;
    ProtoReader first = r;
    row.attrs.begin = Size();
    while (first.Next()) {
      const WireType w = first.wire_type();
      switch (first.field()) {
        case 1: if (w == WireType::kLen) trace_id = first.bytes(); break;
        case 2: if (w == WireType::kLen) span_id = first.bytes(); break;
        case 3: if (w == WireType::kLen) row.trace_state = Str(first.bytes()); break;
        case 4: if (w == WireType::kLen) parent_id = first.bytes(); break;
        case 5: if (w == WireType::kLen) row.name = Str(first.bytes()); break;
        case 6:
          if (w == WireType::kVarint) row.kind = ToSpanKind(first.scalar());
          break;
        case 7: if (w == WireType::kFixed64) start = first.scalar(); break;
        case 8: if (w == WireType::kFixed64) end = first.scalar(); break;
        case 9:
          if (w == WireType::kLen) RETURN_IF_ERROR(DecodeKeyValue(first.Child(), {}, 1));
          break;
        case 11:
        case 13: has_children |= w == WireType::kLen; break;
        case 15:
          if (w == WireType::kLen) RETURN_IF_ERROR(DecodeStatus(first.Child(), &row));
          break;
        case 16:
          if (w == WireType::kFixed32) row.flags = static_cast<uint32_t>(first.scalar());
          break;
        default: break;
      }
    }
    RETURN_IF_ERROR(ReaderStatus(first));
    row.attrs.end = Size();
    RETURN_IF_ERROR(CheckRowAttrs(row));
    RETURN_IF_ERROR(ParseId(trace_id, "trace_id", false, &row.trace_id));
    RETURN_IF_ERROR(ParseId(span_id, "span_id", false, &row.span_id));
    RETURN_IF_ERROR(ParseId(parent_id, "parent_span_id", true, &row.parent_span_id));
    RETURN_IF_ERROR(ToNanos(start, "start_time_unix_nano", &row.start_ns));
    RETURN_IF_ERROR(ToNanos(end, "end_time_unix_nano", &row.end_ns));
    RETURN_IF_ERROR(PushRow(row));
    if (!has_children) return OkStatus();

    int events = 0, links = 0;
    while (r.Next()) {
      if (r.wire_type() != WireType::kLen) continue;
      if (r.field() == 11) {
        where_.sub = Location::Sub::kEvent;
        where_.sub_index = events++;
        RETURN_IF_ERROR(DecodeEvent(r.Child(), row));
      } else if (r.field() == 13) {
        where_.sub = Location::Sub::kLink;
        where_.sub_index = links++;
        RETURN_IF_ERROR(DecodeLink(r.Child(), row));
      }
    }
    where_.sub = Location::Sub::kNone;
    return ReaderStatus(r);  // already read once without error
  }

  // Span.Event{time_unix_nano=1, name=2, attributes=3}.
  Status DecodeEvent(ProtoReader r, const SpanRow& span) {
    SpanRow row = EventOrLinkBase(span, RowKind::kSpanEvent);
    uint64_t time = 0;
    row.attrs.begin = Size();
    while (r.Next()) {
      const WireType w = r.wire_type();
      switch (r.field()) {
        case 1: if (w == WireType::kFixed64) time = r.scalar(); break;
        case 2: if (w == WireType::kLen) row.name = Str(r.bytes()); break;
        case 3:
          if (w == WireType::kLen) RETURN_IF_ERROR(DecodeKeyValue(r.Child(), {}, 1));
          break;
        default: break;
      }
    }
    RETURN_IF_ERROR(ReaderStatus(r));
    row.attrs.end = Size();
    RETURN_IF_ERROR(CheckRowAttrs(row));
    RETURN_IF_ERROR(ToNanos(time, "time_unix_nano", &row.start_ns));
    row.end_ns = row.start_ns;
    return PushRow(row);
  }

  // Span.Link{trace_id=1, span_id=2, trace_state=3, attributes=4, flags=6}.
  Status DecodeLink(ProtoReader r, const SpanRow& span) {
    SpanRow row = EventOrLinkBase(span, RowKind::kLink);
    row.start_ns = row.end_ns = span.start_ns;
    std::string_view trace_id, span_id;
    row.attrs.begin = Size();
    while (r.Next()) {
      const WireType w = r.wire_type();
      switch (r.field()) {
        case 1: if (w == WireType::kLen) trace_id = r.bytes(); break;
        case 2: if (w == WireType::kLen) span_id = r.bytes(); break;
        case 3: if (w == WireType::kLen) row.trace_state = Str(r.bytes()); break;
        case 4:
          if (w == WireType::kLen) RETURN_IF_ERROR(DecodeKeyValue(r.Child(), {}, 1));
          break;
        case 6: if (w == WireType::kFixed32) row.flags = static_cast<uint32_t>(r.scalar()); break;
        default: break;
      }
    }
    RETURN_IF_ERROR(ReaderStatus(r));
    row.attrs.end = Size();
    RETURN_IF_ERROR(CheckRowAttrs(row));
    RETURN_IF_ERROR(ParseId(trace_id, "trace_id", false, &row.link_trace_id));
    RETURN_IF_ERROR(ParseId(span_id, "span_id", false, &row.link_span_id));
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

  // Status{message=2, code=3}.
  Status DecodeStatus(ProtoReader r, SpanRow* row) {
    while (r.Next()) {
      if (r.field() == 2 && r.wire_type() == WireType::kLen) row->status_message = Str(r.bytes());
      if (r.field() == 3 && r.wire_type() == WireType::kVarint) {
        uint64_t c = r.scalar();
        row->status_code = c <= 2 ? static_cast<StatusCode>(c) : StatusCode::kUnset;
      }
    }
    return ReaderStatus(r);
  }

  // Resource{attributes=1}.
  Status DecodeResource(ProtoReader r) {
    while (r.Next()) {
      if (r.field() == 1 && r.wire_type() == WireType::kLen) {
        RETURN_IF_ERROR(DecodeKeyValue(r.Child(), {}, 1));
      }
    }
    return ReaderStatus(r);
  }

  // The common encoding of a KeyValue, exactly `key=1 (len) | value=2 (len)` where the value
  // holds exactly one string, bool, int or double member. Fills *attr and returns true for
  // that form; anything else (including errors) returns false, and the caller takes the general
  // path, which yields the same result for this form.
  bool FastKeyValue(const ProtoReader& r, AttrView* attr) const {
    if (!r.ok() || !r.CanDescend()) return false;
    const std::string_view in = r.unread();
    const uint8_t* p = reinterpret_cast<const uint8_t*>(in.data());
    const uint8_t* const end = p + in.size();
    uint64_t len = 0;
    if (p == end || *p++ != 0x0a) return false;  // field 1, wire type 2
    if (!wire_internal::ReadVarint(&p, end, &len) || len > static_cast<uint64_t>(end - p)) {
      return false;
    }
    attr->key = std::string_view(reinterpret_cast<const char*>(p), len);
    p += len;
    if (p == end || *p++ != 0x12) return false;  // field 2, wire type 2: the last field
    if (!wire_internal::ReadVarint(&p, end, &len) || len != static_cast<uint64_t>(end - p) ||
        p == end) {
      return false;
    }
    uint64_t v = 0;
    switch (*p++) {
      case 0x0a:  // string_value
        if (!wire_internal::ReadVarint(&p, end, &len) || len != static_cast<uint64_t>(end - p)) {
          return false;
        }
        attr->type = ValueType::kString;
        attr->str = Str(std::string_view(reinterpret_cast<const char*>(p), len));
        return true;
      case 0x10:  // bool_value
        if (!wire_internal::ReadVarint(&p, end, &v) || p != end) return false;
        attr->type = ValueType::kBool;
        attr->b = v != 0;
        return true;
      case 0x18:  // int_value
        if (!wire_internal::ReadVarint(&p, end, &v) || p != end) return false;
        attr->type = ValueType::kInt;
        attr->i = static_cast<int64_t>(v);
        return true;
      case 0x21:  // double_value
        if (end - p != 8) return false;
        std::memcpy(&v, p, 8);
        attr->type = ValueType::kDouble;
        attr->d = BitsToDouble(v);
        return true;
      default:
        return false;
    }
  }

  // KeyValue{key=1, value=2}; appends zero or more AttrViews (kvlists flatten).
  Status DecodeKeyValue(ProtoReader r, std::string_view prefix, int depth) {
    if (prefix.empty()) {
      AttrView fast;
      if (FastKeyValue(r, &fast)) return PushAttr(fast);
    }
    std::string_view key;
    ProtoReader value{std::string_view()};
    bool has_value = false;
    while (r.Next()) {
      if (r.wire_type() != WireType::kLen) continue;
      if (r.field() == 1) {
        key = r.bytes();
      } else if (r.field() == 2) {
        value = r.Child();
        has_value = true;
      }
    }
    RETURN_IF_ERROR(ReaderStatus(r));
    if (!has_value) return OkStatus();  // no value: nothing to store
    if (!prefix.empty()) {
      std::string joined = wire_internal::Cat(prefix, ".", key);
      if (!arena_.Copy(joined, &key)) return budget_.Exhausted();
    }
    AnyValueParts parts;
    ParseAnyValue(value, &parts);
    RETURN_IF_ERROR(ReaderStatus(value));

    AttrView attr;
    attr.key = key;
    switch (parts.which) {
      case kNone:
        return OkStatus();
      case kString:
        attr.str = Str(parts.holder.bytes());
        break;
      case kBool:
        attr.type = ValueType::kBool;
        attr.b = parts.scalar != 0;
        break;
      case kInt:
        attr.type = ValueType::kInt;
        attr.i = static_cast<int64_t>(parts.scalar);
        break;
      case kDouble:
        attr.type = ValueType::kDouble;
        attr.d = BitsToDouble(parts.scalar);
        break;
      case kKvlist:
        if (depth < wire_internal::kMaxFlattenDepth) {
          ProtoReader list = parts.holder.Child();
          while (list.Next()) {  // KeyValueList{values=1}
            if (list.field() == 1 && list.wire_type() == WireType::kLen) {
              RETURN_IF_ERROR(DecodeKeyValue(list.Child(), key, depth + 1));
            }
          }
          return ReaderStatus(list);
        }
        [[fallthrough]];  // too deep: JSON text
      case kArray:
      case kBytes: {
        std::string text;
        if (parts.which == kBytes) {
          wire_internal::AppendBase64(
              parts.holder.bytes().substr(0, limits_.max_string_bytes / 4 * 3 + 3), &text);
        } else {
          RETURN_IF_ERROR(MemberToJson(parts.which, parts.scalar, parts.holder, &text));
        }
        std::string_view truncated = wire_internal::TruncateUtf8(text, limits_.max_string_bytes);
        if (!arena_.Copy(truncated, &attr.str)) return budget_.Exhausted();
        break;
      }
      default:
        return OkStatus();
    }
    return PushAttr(attr);
  }

  // Appends the JSON text of one AnyValue.
  Status AnyValueToJson(ProtoReader v, std::string* out) {
    AnyValueParts parts;
    ParseAnyValue(v, &parts);
    RETURN_IF_ERROR(ReaderStatus(v));
    return MemberToJson(parts.which, parts.scalar, parts.holder, out);
  }

  // Appends the JSON text of the AnyValue member `which` (scalar value or `holder`).
  // Output beyond max_string_bytes is cut short (the caller truncates anyway).
  Status MemberToJson(uint32_t which, uint64_t scalar, const ProtoReader& holder,
                      std::string* out) {
    const size_t max = limits_.max_string_bytes;
    switch (which) {
      case kString:
        wire_internal::AppendJsonString(wire_internal::TruncateUtf8(holder.bytes(), max), out);
        return OkStatus();
      case kBool:
        out->append(scalar ? "true" : "false");
        return OkStatus();
      case kInt:
        out->append(std::to_string(static_cast<int64_t>(scalar)));
        return OkStatus();
      case kDouble:
        wire_internal::AppendJsonDouble(BitsToDouble(scalar), out);
        return OkStatus();
      case kBytes:
        out->push_back('"');
        wire_internal::AppendBase64(holder.bytes().substr(0, max / 4 * 3 + 3), out);
        out->push_back('"');
        return OkStatus();
      case kArray:
      case kKvlist: {
        const bool is_array = which == kArray;
        out->push_back(is_array ? '[' : '{');
        ProtoReader list = holder.Child();
        bool first = true;
        while (list.Next() && out->size() <= max) {
          if (list.field() != 1 || list.wire_type() != WireType::kLen) continue;
          if (!first) out->push_back(',');
          first = false;
          if (is_array) {
            RETURN_IF_ERROR(AnyValueToJson(list.Child(), out));
          } else {
            RETURN_IF_ERROR(KeyValueToJson(list.Child(), out));
          }
        }
        RETURN_IF_ERROR(ReaderStatus(list));
        out->push_back(is_array ? ']' : '}');
        return OkStatus();
      }
      default:
        out->append("null");
        return OkStatus();
    }
  }

  Status KeyValueToJson(ProtoReader r, std::string* out) {
    std::string_view key;
    ProtoReader value{std::string_view()};
    bool has_value = false;
    while (r.Next()) {
      if (r.wire_type() != WireType::kLen) continue;
      if (r.field() == 1) key = r.bytes();
      if (r.field() == 2) {
        value = r.Child();
        has_value = true;
      }
    }
    RETURN_IF_ERROR(ReaderStatus(r));
    wire_internal::AppendJsonString(wire_internal::TruncateUtf8(key, limits_.max_string_bytes),
                                    out);
    out->push_back(':');
    if (!has_value) {
      out->append("null");
      return OkStatus();
    }
    return AnyValueToJson(value, out);
  }

  template <size_t N>
  Status ParseId(std::string_view bytes, std::string_view name, bool optional,
                 std::array<uint8_t, N>* out) {
    if (optional && bytes.empty()) return OkStatus();  // root span
    if (bytes.size() != N) {
      return InvalidAt(where_,
                       wire_internal::Cat(name, " must be ", N, " bytes, got ", bytes.size()));
    }
    std::memcpy(out->data(), bytes.data(), N);
    if (!optional && IsZero(*out)) {
      return InvalidAt(where_, wire_internal::Cat(name, " must not be all zeros"));
    }
    return OkStatus();
  }

  Status ToNanos(uint64_t v, std::string_view name, int64_t* out) {
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return InvalidAt(where_, wire_internal::Cat(name, " out of range: ", v));
    }
    *out = static_cast<int64_t>(v);
    return OkStatus();
  }

  static SpanKind ToSpanKind(uint64_t v) {
    return v <= 5 ? static_cast<SpanKind>(v) : SpanKind::kUnspecified;
  }

  std::string_view Str(std::string_view s) const {
    return wire_internal::TruncateUtf8(s, limits_.max_string_bytes);
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
    // AttrRange holds uint32 indices; the budget keeps us far below 2^32 entries.
    if (!budget_.Charge(sizeof(AttrView))) return budget_.Exhausted();
    batch_->attrs.push_back(attr);
    return OkStatus();
  }
  Status PushRow(const SpanRow& row) {
    if (!budget_.Charge(sizeof(SpanRow))) return budget_.Exhausted();
    batch_->rows.push_back(row);
    return OkStatus();
  }

  std::string_view body_;
  const DecodeLimits& limits_;
  SpanBatch* batch_;
  DecodeBudget budget_;
  ArenaWriter arena_;
  Location where_{&wire_internal::kProtoNames};
};

}  // namespace

StatusOr<SpanBatch> DecodeOtlpTracesProtobuf(std::string_view body, const DecodeLimits& limits) {
  SpanBatch batch;
  ProtobufDecoder decoder(body, limits, &batch);
  RETURN_IF_ERROR(decoder.Run());
  return batch;
}

}  // namespace waggle
