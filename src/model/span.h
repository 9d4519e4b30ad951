// The span model every subsystem shares: a span is a wide event (Honeycomb style).
//
// A decoder turns a request into a SpanBatch: rows (spans, span events, links) whose string
// fields are views into the request body or into the batch's own arena. The store copies what
// it keeps; nothing here outlives the batch. Span (below) is the owning form returned by reads.
//
// Column naming follows Honeycomb's OTLP translation (see docs/ARCHITECTURE.md): fixed columns
// `trace.trace_id`, `trace.span_id`, `trace.parent_id`, `name`, `service.name`, `span.kind`,
// `duration_ms`, `status_code`, `status_message`, `error`, `meta.annotation_type`, and one column
// per resource / scope / span attribute key with its type kept.
//
// Thread-safety: plain values; a SpanBatch is not safe for concurrent mutation.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace waggle {

using TraceId = std::array<uint8_t, 16>;
using SpanId = std::array<uint8_t, 8>;

inline bool IsZero(const TraceId& id) {
  for (uint8_t b : id) if (b) return false;
  return true;
}
inline bool IsZero(const SpanId& id) {
  for (uint8_t b : id) if (b) return false;
  return true;
}
// A span id's bytes as one integer (native order): equal ids, equal bits; one compare instead
// of a memcmp call.
inline uint64_t SpanIdBits(const SpanId& id) {
  uint64_t bits;
  std::memcpy(&bits, id.data(), sizeof bits);
  return bits;
}
// Byte equality for the short strings spans carry (keys, names, ids): views of the same bytes
// compare equal without reading them, strings of up to 16 bytes with two overlapping loads
// each, longer ones check their last 8 bytes before a full memcmp. Same result as a == b.
inline bool SameBytes(std::string_view a, std::string_view b) {
  const size_t n = a.size();
  if (n != b.size()) return false;
  const char* x = a.data();
  const char* y = b.data();
  if (x == y || n == 0) return true;
  auto load8 = [](const char* p) { uint64_t v; std::memcpy(&v, p, 8); return v; };
  auto load4 = [](const char* p) { uint32_t v; std::memcpy(&v, p, 4); return v; };
  if (n >= 8) {
    if (load8(x + n - 8) != load8(y + n - 8)) return false;
    if (n <= 16) return load8(x) == load8(y);
    return std::memcmp(x, y, n - 8) == 0;
  }
  if (n >= 4) return load4(x) == load4(y) && load4(x + n - 4) == load4(y + n - 4);
  return x[0] == y[0] && x[n / 2] == y[n / 2] && x[n - 1] == y[n - 1];
}

// Lowercase hex of an id ("4bf92f3577b34da6a3ce929d0e0e4736").
std::string ToHex(const TraceId& id);
std::string ToHex(const SpanId& id);
// Parses exactly 32 (resp. 16) hex digits, any case. Returns false on any other input, leaving
// *out unchanged.
bool ParseHex(std::string_view hex, TraceId* out);
bool ParseHex(std::string_view hex, SpanId* out);

// What a row is: the span itself, one of its events, or one of its links
// (Honeycomb's `meta.annotation_type`: absent, "span_event", "link").
enum class RowKind : uint8_t { kSpan = 0, kSpanEvent = 1, kLink = 2 };

// OTLP Span.SpanKind numbering.
enum class SpanKind : uint8_t {
  kUnspecified = 0, kInternal = 1, kServer = 2, kClient = 3, kProducer = 4, kConsumer = 5
};
// OTLP Status.StatusCode numbering.
enum class StatusCode : uint8_t { kUnset = 0, kOk = 1, kError = 2 };

std::string_view SpanKindName(SpanKind kind);        // "server", "client", ...
std::string_view StatusCodeName(StatusCode code);    // "unset", "ok", "error"
std::string_view RowKindName(RowKind kind);          // "span", "span_event", "link"

enum class ValueType : uint8_t { kString = 1, kInt = 2, kDouble = 3, kBool = 4 };
std::string_view ValueTypeName(ValueType type);      // "string", "integer", "float", "boolean"

// An attribute value whose string (if any) is a view. Arrays and nested maps arrive
// already flattened by the decoder: maps as dotted keys (depth ≤ 5), arrays as JSON text,
// bytes as base64 text.
// 48 bytes: a batch holds one per attribute and every stage walks them, so the three scalar
// members share storage; only the member named by `type` is meaningful (and may be read).
struct AttrView {
  std::string_view key;
  std::string_view str;  // kString
  union {
    int64_t i = 0;  // kInt
    double d;       // kDouble
    bool b;         // kBool
  };
  ValueType type = ValueType::kString;
};
static_assert(sizeof(AttrView) == 48);

// Half-open range [begin, end) into SpanBatch::attrs.
struct AttrRange {
  uint32_t begin = 0;
  uint32_t end = 0;
  uint32_t size() const { return end - begin; }
};

// One row of a batch. For kSpanEvent rows: span_id is the owning span's id, parent_id is empty,
// start_ns = end_ns = event time, name is the event name, parent_name the span's name.
// For kLink rows: span_id is the owning span's id, start_ns = end_ns = the span's start,
// link_trace_id/link_span_id name the linked span. The resource and scope ranges are shared
// by all rows from the same ResourceSpans/ScopeSpans.
struct SpanRow {
  RowKind row_kind = RowKind::kSpan;
  TraceId trace_id{};
  SpanId span_id{};
  SpanId parent_span_id{};  // all zero for a root span
  int64_t start_ns = 0;     // unix nanoseconds
  int64_t end_ns = 0;
  std::string_view name;
  std::string_view service_name;  // resource attribute service.name ("unknown_service" if absent)
  SpanKind kind = SpanKind::kUnspecified;
  StatusCode status_code = StatusCode::kUnset;
  std::string_view status_message;
  std::string_view trace_state;
  uint32_t flags = 0;
  std::string_view scope_name;
  std::string_view scope_version;
  std::string_view parent_name;  // kSpanEvent only
  TraceId link_trace_id{};       // kLink only
  SpanId link_span_id{};         // kLink only
  AttrRange resource_attrs;
  AttrRange scope_attrs;
  AttrRange attrs;               // the span's (or event's, link's) own attributes
};

// Owns copies of strings a decoder had to build (unescaped JSON, flattened keys), bump-allocated
// in 64 KiB blocks (a string over a quarter block gets its own allocation). Views stay valid
// until Clear() or destruction, and across moves (the blocks do not move). Not copyable; not
// thread-safe.
class StringArena {
 public:
  StringArena() = default;
  StringArena(StringArena&& other) noexcept { *this = std::move(other); }
  StringArena& operator=(StringArena&& other) noexcept;
  StringArena(const StringArena&) = delete;
  StringArena& operator=(const StringArena&) = delete;

  // A copy of `s` owned by the arena.
  std::string_view Store(std::string_view s);
  // Bytes stored since construction or the last Clear.
  size_t size() const { return stored_bytes_; }
  // Forgets every string (earlier views dangle) and keeps one block for the next strings.
  void Clear();

 private:
  static constexpr size_t kBlockBytes = 64 * 1024;
  std::vector<std::unique_ptr<char[]>> blocks_;  // kBlockBytes each; the last one is current
  std::vector<std::unique_ptr<char[]>> large_;   // one string each
  char* next_ = nullptr;                         // the unused part of the current block
  size_t free_ = 0;
  size_t stored_bytes_ = 0;
};

// The decoded form of one request. Views point into the caller's request body (which must
// outlive the batch) or into `arena`.
struct SpanBatch {
  std::vector<SpanRow> rows;
  std::vector<AttrView> attrs;
  StringArena arena;

  size_t span_count() const;  // rows of kind kSpan
  // Empties the batch for reuse, keeping its vectors' capacity and one arena block.
  void Clear() {
    rows.clear();
    attrs.clear();
    arena.Clear();
  }
};

// Owning attribute.
struct Attribute {
  std::string key;
  ValueType type = ValueType::kString;
  std::string str;
  int64_t i = 0;
  double d = 0;
  bool b = false;
};

// A view of `a` (its strings borrowed): only the value member `a.type` names is carried over.
inline AttrView ViewOf(const Attribute& a) {
  AttrView v;
  v.key = a.key;
  v.type = a.type;
  v.str = a.str;
  switch (a.type) {
    case ValueType::kInt: v.i = a.i; break;
    case ValueType::kDouble: v.d = a.d; break;
    case ValueType::kBool: v.b = a.b; break;
    case ValueType::kString: break;
  }
  return v;
}

// Owning row, as the store returns it. Attributes are resource, scope and own attributes
// merged into one list (own attributes win on key collisions).
struct Span {
  RowKind row_kind = RowKind::kSpan;
  TraceId trace_id{};
  SpanId span_id{};
  SpanId parent_span_id{};
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  std::string name;
  std::string service_name;
  SpanKind kind = SpanKind::kUnspecified;
  StatusCode status_code = StatusCode::kUnset;
  std::string status_message;
  std::string trace_state;
  uint32_t flags = 0;
  std::string scope_name;
  std::string scope_version;
  std::string parent_name;
  TraceId link_trace_id{};
  SpanId link_span_id{};
  std::vector<Attribute> attributes;

  double duration_ms() const { return end_ns > start_ns ? (end_ns - start_ns) / 1e6 : 0.0; }
  bool is_error() const { return status_code == StatusCode::kError; }
};

// Copies row `index` of `batch` into an owning Span.
Span ToSpan(const SpanBatch& batch, size_t index);

}  // namespace waggle
