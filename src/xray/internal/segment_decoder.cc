// DecodeSegmentDocument: simdjson DOM over one untrusted document, walked once per object.
// Each (sub)segment object is scanned once for the members the decoder reads by name (first
// occurrence wins, as simdjson's at_key) and once, in document order, for its attributes;
// member keys are classified by a switch on length, not by string lookups. Strings are copied
// into the batch arena's blocks (no allocation per string); column names
// built from keys are interned process-wide (internal/interned_names.h); error paths
// ("subsegments[2].id") are rendered only when an error is returned. Nesting is bounded
// (subsegments by SegmentLimits, flattened objects by kMaxFlattenDepth), so recursion depth is
// bounded whatever the input.
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "simdjson.h"
#include "xray/internal/columns.h"
#include "xray/internal/interned_names.h"
#include "xray/internal/known_fields.h"
#include "xray/segment_document.h"
#include "xray/trace_id.h"

namespace waggle::xray {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;
using namespace waggle::xray_internal;

constexpr int kMaxFlattenDepth = 5;  // deeper objects are kept as JSON text
constexpr double kMaxEpochSeconds = 9e9;  // year 2255; keeps nanoseconds within int64

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// Reads an optional member: `*out` keeps its value if the member is absent or of another type.
template <typename T>
void GetOptional(simdjson::simdjson_result<element> member, T* out) {
  T value;
  if (member.get(value) == simdjson::SUCCESS) *out = value;
}

// A flattened object's place (`http`, `aws.ec2`, ...): its dotted path, rendered only for a key
// that is not a KnownKey. A frame on the decoder's stack; the root frame's path is known.
struct PathPart {
  const PathPart* parent = nullptr;
  std::string_view key;
  std::string_view known_path;  // the whole path when it is a KnownKey's (or the root's)

  void RenderTo(std::string* out) const {
    if (!known_path.empty()) {
      out->assign(known_path);
      return;
    }
    parent->RenderTo(out);
    out->push_back('.');
    out->append(key);
  }
};

// Where a value is in the document, for error messages: a chain of frames on the decoder's
// stack, rendered only when an error is returned. The root renders as ""; a frame renders as
// its parent's text, ".", and `field` (without the "." when the parent's text is empty), with
// "[index]" appended when it names an array element.
struct Where {
  static constexpr size_t kNoIndex = ~size_t{0};
  const Where* parent = nullptr;
  std::string_view field;
  size_t index = kNoIndex;

  std::string Render() const {
    if (parent == nullptr) return std::string(field);
    std::string text = parent->Render();
    if (!text.empty()) text += '.';
    text += field;
    if (index != kNoIndex) text += "[" + std::to_string(index) + "]";
    return text;
  }
  // The text of `field` under this place.
  std::string Sub(std::string_view child) const { return Where{this, child}.Render(); }
};

// The members of a (sub)segment object the decoder handles by name. kOther: ignored.
enum class Member : uint8_t {
  kOther, kId, kName, kStartTime, kEndTime, kInProgress, kType, kTraceId, kParentId,
  kNamespace, kOrigin, kUser, kError, kFault, kThrottle, kInferred, kHttp, kAws, kSql,
  kService, kPrecursorIds, kAnnotations, kMetadata, kCause, kSubsegments, kCount
};

// `m` if `key` is `name` (a literal, so the comparison is a few fixed-size loads), else kOther.
template <size_t N>
inline Member If(std::string_view key, const char (&name)[N], Member m) {
  return key.size() == N - 1 && std::memcmp(key.data(), name, N - 1) == 0 ? m : Member::kOther;
}

Member Classify(std::string_view key) {
  auto is = [key](const auto& name, Member m) { return If(key, name, m); };
  switch (key.size()) {
    case 2: return is("id", Member::kId);
    case 3: return key[0] == 'a' ? is("aws", Member::kAws) : is("sql", Member::kSql);
    case 4:
      switch (key[0]) {
        case 'n': return is("name", Member::kName);
        case 'h': return is("http", Member::kHttp);
        case 'u': return is("user", Member::kUser);
        case 't': return is("type", Member::kType);
      }
      return Member::kOther;
    case 5:
      switch (key[0]) {
        case 'e': return is("error", Member::kError);
        case 'f': return is("fault", Member::kFault);
        case 'c': return is("cause", Member::kCause);
      }
      return Member::kOther;
    case 6: return is("origin", Member::kOrigin);
    case 7: return is("service", Member::kService);
    case 8:
      switch (key[0]) {
        case 'e': return is("end_time", Member::kEndTime);
        case 't': return key[1] == 'h' ? is("throttle", Member::kThrottle)
                                       : is("trace_id", Member::kTraceId);
        case 'i': return is("inferred", Member::kInferred);
        case 'm': return is("metadata", Member::kMetadata);
      }
      return Member::kOther;
    case 9: return key[0] == 'n' ? is("namespace", Member::kNamespace)
                                 : is("parent_id", Member::kParentId);
    case 10: return is("start_time", Member::kStartTime);
    case 11:
      switch (key[0]) {
        case 'i': return is("in_progress", Member::kInProgress);
        case 'a': return is("annotations", Member::kAnnotations);
        case 's': return is("subsegments", Member::kSubsegments);
      }
      return Member::kOther;
    case 13: return is("precursor_ids", Member::kPrecursorIds);
  }
  return Member::kOther;
}

// The first occurrence of each member of one object, found in one pass (what obj["key"] would
// return, without a scan per key).
class Members {
 public:
  explicit Members(object obj) {
    for (auto [key, value] : obj) {
      const auto m = static_cast<size_t>(Classify(key));
      if (!(present_ & (uint32_t{1} << m))) {
        present_ |= uint32_t{1} << m;
        values_[m] = value;
      }
    }
  }
  // As simdjson's obj["key"].get(*out): NO_SUCH_FIELD if absent, INCORRECT_TYPE if not a T.
  template <typename T>
  simdjson::error_code Get(Member m, T* out) const {
    const auto i = static_cast<size_t>(m);
    if (!(present_ & (uint32_t{1} << i))) return simdjson::NO_SUCH_FIELD;
    return values_[i].get(*out);
  }
  // Reads an optional member: `*out` keeps its value if the member is absent or of another type.
  template <typename T>
  void GetOptional(Member m, T* out) const {
    T value;
    if (Get(m, &value) == simdjson::SUCCESS) *out = value;
  }

 private:
  static_assert(static_cast<size_t>(Member::kCount) <= 32);
  uint32_t present_ = 0;
  std::array<element, static_cast<size_t>(Member::kCount)> values_;
};

// Per-thread scratch reused across documents: the parser, the minifier, the column-name buffer.
struct Scratch {
  simdjson::dom::parser parser;
  // simdjson's own minifier (simdjson::minify builds the same text in a new std::string);
  // internal API, pinned by the simdjson version the build finds.
  simdjson::internal::string_builder<> minifier;
  std::string path;
};

Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

// Decodes one document into rows. One instance per call.
class Decoder {
 public:
  Decoder(SpanBatch* batch, const SegmentLimits& limits, Scratch* scratch)
      : batch_(batch),
        limits_(limits),
        scratch_(scratch),
        first_row_(batch->rows.size()) {}

  StatusOr<DocumentInfo> Decode(object root) {
    const Members members(root);
    DocumentInfo info;
    std::string_view type;
    if (members.Get(Member::kType, &type) == simdjson::SUCCESS) {
      if (type != "subsegment") {
        return Invalid("type", "expected \"subsegment\" or no type, got '" +
                                   std::string(type.substr(0, 40)) + "'");
      }
      info.is_subsegment = true;
    }
    std::string_view trace_text;
    if (members.Get(Member::kTraceId, &trace_text) != simdjson::SUCCESS) {
      return Invalid("trace_id", "required string missing");
    }
    StatusOr<TraceId> trace = ParseTraceId(trace_text);
    if (!trace.ok()) return Annotate(trace.status(), "trace_id");
    trace_id_ = *trace;
    info.trace_id = trace_id_;

    SpanId parent{};
    std::string_view parent_text;
    if (members.Get(Member::kParentId, &parent_text) == simdjson::SUCCESS) {
      StatusOr<SpanId> p = ParseSegmentId(parent_text);
      if (!p.ok()) return Annotate(p.status(), "parent_id");
      parent = *p;
    } else if (info.is_subsegment) {
      return Invalid("parent_id", "required for a subsegment sent on its own");
    }
    if (info.is_subsegment) {
      service_name_ = "unknown_service";
    } else {
      std::string_view name;
      if (members.Get(Member::kName, &name) == simdjson::SUCCESS) service_name_ = Copy(name);
    }
    const Where where;
    RETURN_IF_ERROR(DecodeEntity(root, members, !info.is_subsegment, parent, 0, where));
    const SpanRow& top = batch_->rows[first_row_];
    info.id = top.span_id;
    info.parent_id = parent;
    info.in_progress = top_in_progress_;
    return info;
  }

 private:
  static Status Invalid(std::string_view where, std::string_view what) {
    return absl::InvalidArgumentError(std::string(where) + ": " + std::string(what));
  }
  // `where` as the place of a document-wide limit: "document" for the top level.
  static std::string PlaceOrDocument(const Where& where) {
    std::string text = where.Render();
    return text.empty() ? "document" : text;
  }

  // A copy owned by the batch (its arena).
  std::string_view Copy(std::string_view s) { return batch_->arena.Store(s); }
  // `name` as a column name: interned, or copied once the interning table is full.
  std::string_view Column(std::string_view name) {
    std::string_view interned = InternName(name);
    return interned.empty() ? Copy(name) : interned;
  }
  // The compact JSON text of `v` (simdjson::minify's), copied into the batch.
  template <typename T>
  std::string_view Minified(T v) {
    scratch_->minifier.clear();
    scratch_->minifier.append(v);
    return Copy(scratch_->minifier.str());
  }

  AttrView& NewAttr(std::string_view key, ValueType type) {
    AttrView& a = batch_->attrs.emplace_back();
    a.key = key;
    a.type = type;
    return a;
  }
  void AddString(std::string_view key, std::string_view value) {
    NewAttr(key, ValueType::kString).str = value;
  }
  void AddInt(std::string_view key, int64_t v) { NewAttr(key, ValueType::kInt).i = v; }
  void AddDouble(std::string_view key, double v) { NewAttr(key, ValueType::kDouble).d = v; }
  void AddBool(std::string_view key, bool v) { NewAttr(key, ValueType::kBool).b = v; }

  // A scalar JSON value as an attribute; arrays and objects as JSON text. Null is skipped.
  void AddValue(std::string_view key, element v) {
    switch (v.type()) {
      case element_type::STRING: AddString(key, Copy(v.get_string().value_unsafe())); break;
      case element_type::INT64: AddInt(key, v.get_int64().value_unsafe()); break;
      case element_type::UINT64: {
        uint64_t u = v.get_uint64().value_unsafe();
        AddDouble(key, static_cast<double>(u));
        break;
      }
      case element_type::DOUBLE: AddDouble(key, v.get_double().value_unsafe()); break;
      case element_type::BOOL: AddBool(key, v.get_bool().value_unsafe()); break;
      case element_type::NULL_VALUE: break;
      case element_type::ARRAY:
      case element_type::OBJECT: AddString(key, Minified(v)); break;
    }
  }

  // `http`, `aws`, `sql`, `service`: dotted keys under `prefix`, renamed where docs/XRAY.md
  // says so. `known`: the known keys of `obj`, whose columns need no path building.
  void Flatten(const PathPart& prefix, std::span<const KnownKey> known, object obj, int depth) {
    for (auto [key, value] : obj) {
      const KnownKey* k = FindKnownKey(known, key);
      if (value.type() == element_type::OBJECT && depth < kMaxFlattenDepth) {
        const PathPart part{&prefix, key, k != nullptr ? k->path : std::string_view()};
        Flatten(part, k != nullptr ? k->children : std::span<const KnownKey>(),
                value.get_object().value_unsafe(), depth + 1);
        continue;
      }
      AddValue(k != nullptr ? k->column : UnknownKeyColumn(prefix, key), value);
    }
  }
  // The column of `key` under `prefix` when it is not a KnownKey: the dotted path, built in the
  // scratch buffer, renamed or interned.
  std::string_view UnknownKeyColumn(const PathPart& prefix, std::string_view key) {
    std::string& path = scratch_->path;
    prefix.RenderTo(&path);
    path.push_back('.');
    path.append(key);
    std::string_view column = RenamedColumn(path);
    return column == path ? Column(path) : column;
  }
  // `prefix` + `key` as an interned column name, built in the scratch buffer.
  std::string_view PrefixedColumn(std::string_view prefix, std::string_view key) {
    std::string& name = scratch_->path;
    name.assign(prefix);
    name.append(key);
    return Column(name);
  }

  // `where` names the value in an error.
  StatusOr<int64_t> EpochNanos(element v, const Where& where) {
    double seconds = 0;
    if (v.get_double().get(seconds) != simdjson::SUCCESS) {
      return Invalid(where.Render(), "expected epoch seconds as a number");
    }
    if (!(seconds >= 0 && seconds < kMaxEpochSeconds)) {
      return Invalid(where.Render(), "epoch seconds out of range");
    }
    // Microsecond resolution (what the SDKs send); exact for any epoch-seconds double.
    return static_cast<int64_t>(std::llround(seconds * 1e6)) * 1000;
  }

  Status DecodeEntity(object obj, const Members& members, bool is_segment, const SpanId& parent,
                      int depth, const Where& where);
  Status DecodeRow(const Members& members, bool is_segment, const Where& where, SpanRow* row,
                   bool* in_progress);
  Status DecodeSubsegments(const Members& members, size_t span_row, int depth,
                           const Where& where);
  Status DecodeFields(object obj, const Where& where);
  Status DecodeAnnotations(element value, const Where& where);
  Status DecodeCause(element cause, size_t span_row, const Where& where);
  Status DecodeException(object ex, size_t span_row, const Where& where);

  SpanBatch* const batch_;
  const SegmentLimits& limits_;
  Scratch* const scratch_;
  const size_t first_row_;      // the batch's row count before this document
  TraceId trace_id_{};
  std::string_view service_name_ = "unknown_service";
  bool top_in_progress_ = false;
};

Status Decoder::DecodeEntity(object obj, const Members& members, bool is_segment,
                             const SpanId& parent, int depth, const Where& where) {
  if (batch_->rows.size() - first_row_ >= limits_.max_rows) {
    return Invalid(PlaceOrDocument(where),
                   "more than " + std::to_string(limits_.max_rows) + " rows");
  }
  SpanRow row;
  row.row_kind = RowKind::kSpan;
  row.trace_id = trace_id_;
  row.parent_span_id = parent;
  row.service_name = service_name_;
  bool in_progress = false;
  RETURN_IF_ERROR(DecodeRow(members, is_segment, where, &row, &in_progress));
  if (depth == 0) top_in_progress_ = in_progress;

  size_t span_row = batch_->rows.size();
  row.attrs.begin = static_cast<uint32_t>(batch_->attrs.size());
  AddString(kType, is_segment ? "segment" : "subsegment");
  if (in_progress) AddBool(kInProgress, true);
  RETURN_IF_ERROR(DecodeFields(obj, where));
  row.attrs.end = static_cast<uint32_t>(batch_->attrs.size());
  if (row.attrs.size() > limits_.max_attrs_per_row) {
    return Invalid(PlaceOrDocument(where),
                   "more than " + std::to_string(limits_.max_attrs_per_row) + " attributes");
  }
  batch_->rows.push_back(row);

  element cause;
  if (members.Get(Member::kCause, &cause) == simdjson::SUCCESS) {
    RETURN_IF_ERROR(DecodeCause(cause, span_row, Where{&where, "cause"}));
  }
  return DecodeSubsegments(members, span_row, depth, where);
}
// The row's own facts: id, name, times, kind, status. `*in_progress` as sent.
Status Decoder::DecodeRow(const Members& members, bool is_segment, const Where& where,
                          SpanRow* row, bool* in_progress) {
  std::string_view id_text;
  if (members.Get(Member::kId, &id_text) != simdjson::SUCCESS) {
    return Invalid(where.Sub("id"), "required string missing");
  }
  StatusOr<SpanId> id = ParseSegmentId(id_text);
  if (!id.ok()) return Annotate(id.status(), where.Sub("id"));
  row->span_id = *id;

  std::string_view name;
  if (members.Get(Member::kName, &name) != simdjson::SUCCESS || name.empty()) {
    return Invalid(where.Sub("name"), "required non-empty string missing");
  }
  if (CodePoints(name) > limits_.max_name_chars) {
    return Invalid(where.Sub("name"),
                   "longer than " + std::to_string(limits_.max_name_chars) + " characters");
  }
  row->name = Copy(name);

  element start;
  if (members.Get(Member::kStartTime, &start) != simdjson::SUCCESS) {
    return Invalid(where.Sub("start_time"), "required number missing");
  }
  ASSIGN_OR_RETURN(row->start_ns, EpochNanos(start, Where{&where, "start_time"}));
  members.GetOptional(Member::kInProgress, in_progress);
  element end;
  if (*in_progress) {
    row->end_ns = row->start_ns;
  } else if (members.Get(Member::kEndTime, &end) == simdjson::SUCCESS) {
    ASSIGN_OR_RETURN(row->end_ns, EpochNanos(end, Where{&where, "end_time"}));
    if (row->end_ns < row->start_ns) return Invalid(where.Sub("end_time"), "before start_time");
  } else {
    return Invalid(where.Sub("end_time"), "required unless \"in_progress\": true");
  }

  std::string_view ns;
  bool has_ns = members.Get(Member::kNamespace, &ns) == simdjson::SUCCESS;
  row->kind = is_segment ? SpanKind::kServer
              : (has_ns && (ns == "remote" || ns == "aws")) ? SpanKind::kClient
                                                             : SpanKind::kInternal;
  bool fault = false, error = false;
  members.GetOptional(Member::kFault, &fault);
  members.GetOptional(Member::kError, &error);
  row->status_code = fault || error ? StatusCode::kError : StatusCode::kUnset;
  return OkStatus();
}

// The nested subsegments of the (sub)segment at `span_row`, each a row of its own.
Status Decoder::DecodeSubsegments(const Members& members, size_t span_row, int depth,
                                  const Where& where) {
  simdjson::dom::array subsegments;
  auto sub_err = members.Get(Member::kSubsegments, &subsegments);
  if (sub_err == simdjson::INCORRECT_TYPE) {
    return Invalid(where.Sub("subsegments"), "expected an array");
  }
  if (sub_err != simdjson::SUCCESS) return OkStatus();
  if (depth + 1 > limits_.max_subsegment_depth) {
    return Invalid(where.Sub("subsegments"),
                   "nested deeper than " + std::to_string(limits_.max_subsegment_depth));
  }
  size_t index = 0;
  for (element child : subsegments) {
    const Where child_where{&where, "subsegments", index++};
    object child_obj;
    if (child.get(child_obj) != simdjson::SUCCESS) {
      return Invalid(child_where.Render(), "expected an object");
    }
    RETURN_IF_ERROR(DecodeEntity(child_obj, Members(child_obj), false,
                                 batch_->rows[span_row].span_id, depth + 1, child_where));
  }
  return OkStatus();
}

// Every optional field except cause and subsegments, as attributes of the current row, in
// document order.
Status Decoder::DecodeFields(object obj, const Where& where) {
  for (auto [key, value] : obj) {
    const Member member = Classify(key);
    switch (member) {
      case Member::kNamespace:
      case Member::kOrigin:
      case Member::kUser: {
        std::string_view s;
        if (value.get(s) != simdjson::SUCCESS) return Invalid(where.Sub(key), "expected a string");
        AddString(member == Member::kNamespace ? kNamespace
                  : member == Member::kOrigin  ? kOrigin
                                               : kUser,
                  Copy(s));
        break;
      }
      case Member::kError:
      case Member::kFault:
      case Member::kThrottle:
      case Member::kInferred: {
        bool b = false;
        if (value.get(b) != simdjson::SUCCESS) return Invalid(where.Sub(key), "expected a boolean");
        AddBool(member == Member::kError      ? kError
                : member == Member::kFault    ? kFault
                : member == Member::kThrottle ? kThrottle
                                              : kInferred,
                b);
        break;
      }
      case Member::kHttp:
      case Member::kAws:
      case Member::kSql:
      case Member::kService: {
        // service: {"version", "runtime", "runtime_version", ...}; service.version is OTel's
        // name too.
        object fields;
        if (value.get(fields) != simdjson::SUCCESS) {
          return Invalid(where.Sub(key), "expected an object");
        }
        const PathPart root{nullptr, key, key};
        Flatten(root, member == Member::kHttp  ? std::span<const KnownKey>(kHttpKeys)
                      : member == Member::kAws ? std::span<const KnownKey>(kAwsKeys)
                      : member == Member::kSql ? std::span<const KnownKey>(kSqlKeys)
                                               : std::span<const KnownKey>(kServiceKeys),
                fields, 1);
        break;
      }
      case Member::kPrecursorIds:
        if (value.type() != element_type::ARRAY) {
          return Invalid(where.Sub(key), "expected an array");
        }
        AddString(kPrecursorIds, Minified(value));
        break;
      case Member::kAnnotations:
        RETURN_IF_ERROR(DecodeAnnotations(value, Where{&where, key}));
        break;
      case Member::kMetadata: {
        object metadata;
        if (value.get(metadata) != simdjson::SUCCESS) {
          return Invalid(where.Sub(key), "expected an object");
        }
        for (auto [mkey, mvalue] : metadata) {
          std::string_view column = PrefixedColumn(kMetadataPrefix, mkey);
          AddString(column, Minified(mvalue));
        }
        break;
      }
      default:
        // id, name, times, trace_id, parent_id, type, in_progress, cause and subsegments are
        // handled by the caller; unknown fields are ignored (the schema may grow).
        break;
    }
  }
  return OkStatus();
}

// `annotations`: one typed column per key. `where` is the annotations object's place.
Status Decoder::DecodeAnnotations(element value, const Where& where) {
  object annotations;
  if (value.get(annotations) != simdjson::SUCCESS) {
    return Invalid(where.Render(), "expected an object");
  }
  for (auto [akey, avalue] : annotations) {
    const element_type at = avalue.type();
    if (at == element_type::OBJECT || at == element_type::ARRAY) {
      return Invalid(where.Sub(akey), "annotation values must be strings, numbers or booleans");
    }
    if (akey.empty()) return Invalid(where.Render(), "empty annotation key");
    AddValue(PrefixedColumn(kAnnotationPrefix, akey), avalue);
  }
  return OkStatus();
}

Status Decoder::DecodeCause(element cause, size_t span_row, const Where& where) {
  std::string_view ref;
  if (cause.get(ref) == simdjson::SUCCESS) {
    // A reference to an exception recorded elsewhere: kept on the span row itself, whose
    // attribute range is the last one in the batch so far.
    AddString(kCauseId, Copy(ref));
    batch_->rows[span_row].attrs.end = static_cast<uint32_t>(batch_->attrs.size());
    return OkStatus();
  }
  object obj;
  if (cause.get(obj) != simdjson::SUCCESS) {
    return Invalid(where.Render(), "expected an exception id or an object");
  }
  std::string_view wd;
  if (obj["working_directory"].get(wd) == simdjson::SUCCESS) AddString(kCauseWorkingDirectory, Copy(wd));
  simdjson::dom::array paths;
  if (obj["paths"].get(paths) == simdjson::SUCCESS) {
    AddString(kCausePaths, Minified(paths));
  }
  batch_->rows[span_row].attrs.end = static_cast<uint32_t>(batch_->attrs.size());

  simdjson::dom::array exceptions;
  auto err = obj["exceptions"].get(exceptions);
  if (err == simdjson::INCORRECT_TYPE) return Invalid(where.Sub("exceptions"), "expected an array");
  if (err != simdjson::SUCCESS) return OkStatus();
  size_t index = 0;
  for (element ex : exceptions) {
    const Where ex_where{&where, "exceptions", index++};
    object ex_obj;
    if (ex.get(ex_obj) != simdjson::SUCCESS) return Invalid(ex_where.Render(), "expected an object");
    RETURN_IF_ERROR(DecodeException(ex_obj, span_row, ex_where));
  }
  const SpanRow& span = batch_->rows[span_row];
  if (span.status_message.empty()) {
    // The first exception's message explains the error, as OTel's status message would.
    for (size_t r = span_row + 1; r < batch_->rows.size(); ++r) {
      const SpanRow& ev = batch_->rows[r];
      for (uint32_t a = ev.attrs.begin; a < ev.attrs.end; ++a) {
        if (batch_->attrs[a].key == kExceptionMessage) {
          batch_->rows[span_row].status_message = batch_->attrs[a].str;
          return OkStatus();
        }
      }
    }
  }
  return OkStatus();
}

Status Decoder::DecodeException(object ex, size_t span_row, const Where& where) {
  if (batch_->rows.size() - first_row_ >= limits_.max_rows) {
    return Invalid(where.Render(), "more than " + std::to_string(limits_.max_rows) + " rows");
  }
  const SpanRow& span = batch_->rows[span_row];
  SpanRow event;
  event.row_kind = RowKind::kSpanEvent;
  event.trace_id = span.trace_id;
  event.span_id = span.span_id;
  event.start_ns = event.end_ns = span.end_ns;
  event.name = kExceptionEvent;
  event.parent_name = span.name;
  event.service_name = span.service_name;
  event.kind = span.kind;
  event.attrs.begin = static_cast<uint32_t>(batch_->attrs.size());
  std::string stacktrace;
  for (auto [key, value] : ex) {
    if (key == "id") {
      AddValue(kExceptionId, value);
    } else if (key == "type") {
      AddValue(kExceptionType, value);
    } else if (key == "message") {
      AddValue(kExceptionMessage, value);
    } else if (key == "remote") {
      AddValue(kExceptionRemote, value);
    } else if (key == "truncated") {
      AddValue(kExceptionTruncated, value);
    } else if (key == "skipped") {
      AddValue(kExceptionSkipped, value);
    } else if (key == "cause") {
      AddValue(kExceptionCause, value);
    } else if (key == "stack") {
      simdjson::dom::array frames;
      if (value.get(frames) != simdjson::SUCCESS) {
        return Invalid(where.Sub("stack"), "expected an array");
      }
      AddString(kExceptionStack, Minified(frames));
      for (element frame : frames) {
        std::string_view label, file;
        int64_t line = 0;
        GetOptional(frame["label"], &label);
        GetOptional(frame["path"], &file);
        GetOptional(frame["line"], &line);
        stacktrace += "  at " + std::string(label) + " (" + std::string(file) + ":" +
                      std::to_string(line) + ")\n";
      }
    }
  }
  if (!stacktrace.empty()) AddString(kExceptionStacktrace, Copy(stacktrace));
  event.attrs.end = static_cast<uint32_t>(batch_->attrs.size());
  batch_->rows.push_back(event);
  return OkStatus();
}

}  // namespace

static_assert(kDocumentPadding >= simdjson::SIMDJSON_PADDING);

StatusOr<DocumentInfo> DecodeSegmentDocument(std::string_view document, SpanBatch* batch,
                                             const SegmentLimits& limits, Padding padding) {
  if (document.size() > limits.max_document_bytes) {
    return absl::InvalidArgumentError("segment document of " + std::to_string(document.size()) +
                                      " bytes exceeds the limit of " +
                                      std::to_string(limits.max_document_bytes));
  }
  Scratch& scratch = ThreadScratch();
  element root;
  const bool copy_to_pad = padding == Padding::kNone;
  if (auto err = scratch.parser.parse(document.data(), document.size(), copy_to_pad).get(root);
      err) {
    return absl::InvalidArgumentError(std::string("segment document is not valid JSON: ") +
                                      simdjson::error_message(err));
  }
  object obj;
  if (root.get(obj) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("segment document must be a JSON object");
  }
  const size_t rows_before = batch->rows.size();
  const size_t attrs_before = batch->attrs.size();
  Decoder decoder(batch, limits, &scratch);
  StatusOr<DocumentInfo> info = decoder.Decode(obj);
  if (!info.ok()) {
    batch->rows.resize(rows_before);
    batch->attrs.resize(attrs_before);
    return info.status();
  }
  info->rows = batch->rows.size() - rows_before;
  return info;
}

}  // namespace waggle::xray
