// DecodeSegmentDocument: simdjson DOM over one untrusted document. Strings are copied into chunks
// the batch arena owns (one allocation per document, not per string); column names built from
// keys are interned process-wide (internal/interned_names.h). Nesting is bounded (subsegments by SegmentLimits, flattened objects by
// kMaxFlattenDepth), so recursion depth is bounded whatever the input.
#include <cmath>

#include <cstring>

#include "simdjson.h"
#include "xray/internal/interned_names.h"
#include "xray/internal/columns.h"
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

std::string_view RenamedColumn(std::string_view xray_path) {
  for (const Rename& r : kRenames) {
    if (r.xray_path == xray_path) return r.column;
  }
  return xray_path;
}

std::string Sub(const std::string& path, std::string_view field) {
  return path.empty() ? std::string(field) : path + "." + std::string(field);
}

// Decodes one document into rows. One instance per call.
class Decoder {
 public:
  // `chunk_bytes`: the size of the arena chunks strings are copied into (the document's size
  // covers nearly every document in one chunk).
  Decoder(SpanBatch* batch, const SegmentLimits& limits, size_t chunk_bytes)
      : batch_(batch), limits_(limits), chunk_bytes_(std::max<size_t>(chunk_bytes, 256)) {}

  StatusOr<DocumentInfo> Decode(object root) {
    DocumentInfo info;
    std::string_view type;
    if (root["type"].get(type) == simdjson::SUCCESS) {
      if (type != "subsegment") {
        return Invalid("type", "expected \"subsegment\" or no type, got '" +
                                   std::string(type.substr(0, 40)) + "'");
      }
      info.is_subsegment = true;
    }
    std::string_view trace_text;
    if (root["trace_id"].get(trace_text) != simdjson::SUCCESS) {
      return Invalid("trace_id", "required string missing");
    }
    StatusOr<TraceId> trace = ParseTraceId(trace_text);
    if (!trace.ok()) return Annotate(trace.status(), "trace_id");
    trace_id_ = *trace;
    info.trace_id = trace_id_;

    SpanId parent{};
    std::string_view parent_text;
    if (root["parent_id"].get(parent_text) == simdjson::SUCCESS) {
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
      if (root["name"].get(name) == simdjson::SUCCESS) service_name_ = Copy(name);
    }
    RETURN_IF_ERROR(DecodeEntity(root, !info.is_subsegment, parent, 0, ""));
    const SpanRow& top = batch_->rows[first_row_];
    info.id = top.span_id;
    info.parent_id = parent;
    info.in_progress = top_in_progress_;
    return info;
  }

  void set_first_row(size_t r) { first_row_ = r; }

 private:
  static Status Invalid(std::string_view where, std::string_view what) {
    return absl::InvalidArgumentError(std::string(where) + ": " + std::string(what));
  }

  // A copy owned by the batch. Bump-allocated in a chunk: a std::string the arena owns, whose
  // characters (not the string object) are written through the view the arena returned; the
  // arena never moves or resizes its strings, so earlier views stay valid.
  std::string_view Copy(std::string_view s) {
    if (s.size() > chunk_free_) {
      if (s.size() > chunk_bytes_ / 4) return batch_->arena.Store(std::string(s));
      std::string_view chunk = batch_->arena.Store(std::string(chunk_bytes_, '\0'));
      chunk_next_ = const_cast<char*>(chunk.data());
      chunk_free_ = chunk.size();
    }
    if (!s.empty()) std::memcpy(chunk_next_, s.data(), s.size());
    std::string_view copy(chunk_next_, s.size());
    chunk_next_ += s.size();
    chunk_free_ -= s.size();
    return copy;
  }
  // `name` as a column name: interned, or copied once the interning table is full.
  std::string_view Column(std::string_view name) {
    std::string_view interned = InternName(name);
    return interned.empty() ? Copy(name) : interned;
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
      case element_type::OBJECT: AddString(key, Copy(simdjson::minify(v))); break;
    }
  }

  // `http`, `aws`, `sql`: dotted keys under `*path` (which is restored on return), renamed
  // where docs/XRAY.md says so.
  void Flatten(std::string* path, object obj, int depth) {
    const size_t prefix = path->size();
    for (auto [key, value] : obj) {
      path->resize(prefix);
      path->push_back('.');
      path->append(key);
      if (value.type() == element_type::OBJECT && depth < kMaxFlattenDepth) {
        Flatten(path, value.get_object().value_unsafe(), depth + 1);
        continue;
      }
      std::string_view column = RenamedColumn(*path);
      AddValue(column == *path ? Column(*path) : column, value);
    }
    path->resize(prefix);
  }

  // `path` and `field` name the value in an error (built only then).
  StatusOr<int64_t> EpochNanos(element v, const std::string& path, std::string_view field) {
    double seconds = 0;
    if (v.get_double().get(seconds) != simdjson::SUCCESS) {
      return Invalid(Sub(path, field), "expected epoch seconds as a number");
    }
    if (!(seconds >= 0 && seconds < kMaxEpochSeconds)) {
      return Invalid(Sub(path, field), "epoch seconds out of range");
    }
    // Microsecond resolution (what the SDKs send); exact for any epoch-seconds double.
    return static_cast<int64_t>(std::llround(seconds * 1e6)) * 1000;
  }

  Status DecodeEntity(object obj, bool is_segment, const SpanId& parent, int depth,
                      const std::string& path);
  Status DecodeFields(object obj, const std::string& path);
  Status DecodeCause(element cause, size_t span_row, const std::string& path);
  Status DecodeException(object ex, size_t span_row, const std::string& where);

  SpanBatch* const batch_;
  const SegmentLimits& limits_;
  const size_t chunk_bytes_;
  char* chunk_next_ = nullptr;  // the unused part of the current chunk
  size_t chunk_free_ = 0;
  std::string key_;             // scratch for column names built from keys
  TraceId trace_id_{};
  std::string_view service_name_ = "unknown_service";
  size_t first_row_ = 0;
  bool top_in_progress_ = false;
};

Status Decoder::DecodeEntity(object obj, bool is_segment, const SpanId& parent, int depth,
                             const std::string& path) {
  if (batch_->rows.size() - first_row_ >= limits_.max_rows) {
    return Invalid(path.empty() ? "document" : path,
                   "more than " + std::to_string(limits_.max_rows) + " rows");
  }
  SpanRow row;
  row.row_kind = RowKind::kSpan;
  row.trace_id = trace_id_;
  row.parent_span_id = parent;
  row.service_name = service_name_;

  std::string_view id_text;
  if (obj["id"].get(id_text) != simdjson::SUCCESS) {
    return Invalid(Sub(path, "id"), "required string missing");
  }
  StatusOr<SpanId> id = ParseSegmentId(id_text);
  if (!id.ok()) return Annotate(id.status(), Sub(path, "id"));
  row.span_id = *id;

  std::string_view name;
  if (obj["name"].get(name) != simdjson::SUCCESS || name.empty()) {
    return Invalid(Sub(path, "name"), "required non-empty string missing");
  }
  if (CodePoints(name) > limits_.max_name_chars) {
    return Invalid(Sub(path, "name"),
                   "longer than " + std::to_string(limits_.max_name_chars) + " characters");
  }
  row.name = Copy(name);

  element start;
  if (obj["start_time"].get(start) != simdjson::SUCCESS) {
    return Invalid(Sub(path, "start_time"), "required number missing");
  }
  ASSIGN_OR_RETURN(row.start_ns, EpochNanos(start, path, "start_time"));
  bool in_progress = false;
  GetOptional(obj["in_progress"], &in_progress);
  element end;
  if (in_progress) {
    row.end_ns = row.start_ns;
  } else if (obj["end_time"].get(end) == simdjson::SUCCESS) {
    ASSIGN_OR_RETURN(row.end_ns, EpochNanos(end, path, "end_time"));
    if (row.end_ns < row.start_ns) return Invalid(Sub(path, "end_time"), "before start_time");
  } else {
    return Invalid(Sub(path, "end_time"), "required unless \"in_progress\": true");
  }
  if (depth == 0) top_in_progress_ = in_progress;

  std::string_view ns;
  bool has_ns = obj["namespace"].get(ns) == simdjson::SUCCESS;
  row.kind = is_segment ? SpanKind::kServer
             : (has_ns && (ns == "remote" || ns == "aws")) ? SpanKind::kClient
                                                            : SpanKind::kInternal;
  bool fault = false, error = false;
  GetOptional(obj["fault"], &fault);
  GetOptional(obj["error"], &error);
  row.status_code = fault || error ? StatusCode::kError : StatusCode::kUnset;

  size_t span_row = batch_->rows.size();
  row.attrs.begin = static_cast<uint32_t>(batch_->attrs.size());
  AddString(kType, is_segment ? "segment" : "subsegment");
  if (in_progress) AddBool(kInProgress, true);
  RETURN_IF_ERROR(DecodeFields(obj, path));
  row.attrs.end = static_cast<uint32_t>(batch_->attrs.size());
  if (row.attrs.size() > limits_.max_attrs_per_row) {
    return Invalid(path.empty() ? "document" : path,
                   "more than " + std::to_string(limits_.max_attrs_per_row) + " attributes");
  }
  batch_->rows.push_back(row);

  element cause;
  if (obj["cause"].get(cause) == simdjson::SUCCESS) {
    RETURN_IF_ERROR(DecodeCause(cause, span_row, Sub(path, "cause")));
  }

  simdjson::dom::array subsegments;
  auto sub_err = obj["subsegments"].get(subsegments);
  if (sub_err == simdjson::INCORRECT_TYPE) {
    return Invalid(Sub(path, "subsegments"), "expected an array");
  }
  if (sub_err != simdjson::SUCCESS) return OkStatus();
  if (depth + 1 > limits_.max_subsegment_depth) {
    return Invalid(Sub(path, "subsegments"),
                   "nested deeper than " + std::to_string(limits_.max_subsegment_depth));
  }
  size_t index = 0;
  for (element child : subsegments) {
    std::string child_path = Sub(path, "subsegments[" + std::to_string(index++) + "]");
    object child_obj;
    if (child.get(child_obj) != simdjson::SUCCESS) return Invalid(child_path, "expected an object");
    RETURN_IF_ERROR(DecodeEntity(child_obj, false, batch_->rows[span_row].span_id, depth + 1,
                                 child_path));
  }
  return OkStatus();
}

// Every optional field except cause and subsegments, as attributes of the current row.
Status Decoder::DecodeFields(object obj, const std::string& path) {
  for (auto [key, value] : obj) {
    const element_type t = value.type();
    if (key == "namespace" || key == "origin") {
      std::string_view s;
      if (value.get(s) != simdjson::SUCCESS) return Invalid(Sub(path, key), "expected a string");
      AddString(key == "namespace" ? kNamespace : kOrigin, Copy(s));
    } else if (key == "user") {
      std::string_view s;
      if (value.get(s) != simdjson::SUCCESS) return Invalid(Sub(path, key), "expected a string");
      AddString(kUser, Copy(s));
    } else if (key == "error" || key == "fault" || key == "throttle" || key == "inferred") {
      bool b = false;
      if (value.get(b) != simdjson::SUCCESS) return Invalid(Sub(path, key), "expected a boolean");
      AddBool(key == "error" ? kError : key == "fault" ? kFault
              : key == "throttle" ? kThrottle : kInferred, b);
    } else if (key == "http" || key == "aws" || key == "sql") {  // "service" below
      if (t != element_type::OBJECT) return Invalid(Sub(path, key), "expected an object");
      key_.assign(key);
      Flatten(&key_, value.get_object().value_unsafe(), 1);
    } else if (key == "service") {
      // {"version", "runtime", "runtime_version", ...}: service.version is OTel's name too.
      if (t != element_type::OBJECT) return Invalid(Sub(path, key), "expected an object");
      key_.assign(key);
      Flatten(&key_, value.get_object().value_unsafe(), 1);
    } else if (key == "precursor_ids") {
      if (t != element_type::ARRAY) return Invalid(Sub(path, key), "expected an array");
      AddString(kPrecursorIds, Copy(simdjson::minify(value)));
    } else if (key == "annotations") {
      if (t != element_type::OBJECT) return Invalid(Sub(path, key), "expected an object");
      object annotations = value.get_object().value_unsafe();
      for (auto [akey, avalue] : annotations) {
        const element_type at = avalue.type();
        if (at == element_type::OBJECT || at == element_type::ARRAY) {
          return Invalid(Sub(Sub(path, key), akey),
                         "annotation values must be strings, numbers or booleans");
        }
        if (akey.empty()) return Invalid(Sub(path, key), "empty annotation key");
        key_.assign(kAnnotationPrefix);
        key_.append(akey);
        AddValue(Column(key_), avalue);
      }
    } else if (key == "metadata") {
      if (t != element_type::OBJECT) return Invalid(Sub(path, key), "expected an object");
      object metadata = value.get_object().value_unsafe();
      for (auto [mkey, mvalue] : metadata) {
        key_.assign(kMetadataPrefix);
        key_.append(mkey);
        std::string_view column = Column(key_);
        AddString(column, Copy(simdjson::minify(mvalue)));
      }
    }
    // id, name, times, trace_id, parent_id, type, in_progress, cause and subsegments are
    // handled by the caller; unknown fields are ignored (the schema may grow).
  }
  return OkStatus();
}

Status Decoder::DecodeCause(element cause, size_t span_row, const std::string& path) {
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
    return Invalid(path, "expected an exception id or an object");
  }
  std::string_view wd;
  if (obj["working_directory"].get(wd) == simdjson::SUCCESS) AddString(kCauseWorkingDirectory, Copy(wd));
  simdjson::dom::array paths;
  if (obj["paths"].get(paths) == simdjson::SUCCESS) {
    AddString(kCausePaths, Copy(simdjson::minify(paths)));
  }
  batch_->rows[span_row].attrs.end = static_cast<uint32_t>(batch_->attrs.size());

  simdjson::dom::array exceptions;
  auto err = obj["exceptions"].get(exceptions);
  if (err == simdjson::INCORRECT_TYPE) return Invalid(Sub(path, "exceptions"), "expected an array");
  if (err != simdjson::SUCCESS) return OkStatus();
  size_t index = 0;
  for (element ex : exceptions) {
    std::string where = Sub(path, "exceptions[" + std::to_string(index++) + "]");
    object ex_obj;
    if (ex.get(ex_obj) != simdjson::SUCCESS) return Invalid(where, "expected an object");
    RETURN_IF_ERROR(DecodeException(ex_obj, span_row, where));
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

Status Decoder::DecodeException(object ex, size_t span_row, const std::string& where) {
  if (batch_->rows.size() - first_row_ >= limits_.max_rows) {
    return Invalid(where, "more than " + std::to_string(limits_.max_rows) + " rows");
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
      if (value.get(frames) != simdjson::SUCCESS) return Invalid(Sub(where, "stack"), "expected an array");
      AddString(kExceptionStack, Copy(simdjson::minify(frames)));
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

StatusOr<DocumentInfo> DecodeSegmentDocument(std::string_view document, SpanBatch* batch,
                                             const SegmentLimits& limits) {
  if (document.size() > limits.max_document_bytes) {
    return absl::InvalidArgumentError("segment document of " + std::to_string(document.size()) +
                                      " bytes exceeds the limit of " +
                                      std::to_string(limits.max_document_bytes));
  }
  thread_local simdjson::dom::parser parser;
  element root;
  if (auto err = parser.parse(document.data(), document.size()).get(root); err) {
    return absl::InvalidArgumentError(std::string("segment document is not valid JSON: ") +
                                      simdjson::error_message(err));
  }
  object obj;
  if (root.get(obj) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("segment document must be a JSON object");
  }
  const size_t rows_before = batch->rows.size();
  const size_t attrs_before = batch->attrs.size();
  Decoder decoder(batch, limits, document.size());
  decoder.set_first_row(rows_before);
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
