#include "model/span.h"

#include <cstring>
#include <utility>

namespace waggle {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

template <size_t N>
std::string HexOf(const std::array<uint8_t, N>& id) {
  std::string out(2 * N, '0');
  for (size_t i = 0; i < N; ++i) {
    out[2 * i] = kHexDigits[id[i] >> 4];
    out[2 * i + 1] = kHexDigits[id[i] & 0xf];
  }
  return out;
}

// The value of each hex digit (either case); -1 for every other byte. A table, not range
// checks: ids are random, so branches on digit-or-letter would mispredict half the time.
constexpr std::array<int8_t, 256> kHexValue = [] {
  std::array<int8_t, 256> t{};
  t.fill(-1);
  for (int c = '0'; c <= '9'; ++c) t[c] = static_cast<int8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[c] = static_cast<int8_t>(c - 'a' + 10);
  for (int c = 'A'; c <= 'F'; ++c) t[c] = static_cast<int8_t>(c - 'A' + 10);
  return t;
}();

template <size_t N>
bool ParseHexInto(std::string_view hex, std::array<uint8_t, N>* out) {
  if (hex.size() != 2 * N) return false;
  std::array<uint8_t, N> bytes;
  int invalid = 0;  // ORs every digit's value: negative iff some byte was not a hex digit
  for (size_t i = 0; i < N; ++i) {
    const int hi = kHexValue[static_cast<uint8_t>(hex[2 * i])];
    const int lo = kHexValue[static_cast<uint8_t>(hex[2 * i + 1])];
    invalid |= hi | lo;
    bytes[i] = static_cast<uint8_t>((hi & 0x0f) << 4 | (lo & 0x0f));
  }
  if (invalid < 0) return false;  // *out unchanged
  *out = bytes;
  return true;
}

void AppendAttrs(const SpanBatch& batch, AttrRange range, std::vector<Attribute>* out) {
  for (uint32_t i = range.begin; i < range.end; ++i) {
    const AttrView& v = batch.attrs[i];
    Attribute a;
    a.key = std::string(v.key);
    a.type = v.type;
    a.str = std::string(v.str);
    switch (v.type) {  // only the member the type names is meaningful
      case ValueType::kInt: a.i = v.i; break;
      case ValueType::kDouble: a.d = v.d; break;
      case ValueType::kBool: a.b = v.b; break;
      case ValueType::kString: break;
    }
    bool replaced = false;
    for (Attribute& existing : *out) {
      if (existing.key == a.key) {
        existing = a;
        replaced = true;
        break;
      }
    }
    if (!replaced) out->push_back(std::move(a));
  }
}

}  // namespace

std::string ToHex(const TraceId& id) { return HexOf(id); }
std::string ToHex(const SpanId& id) { return HexOf(id); }
bool ParseHex(std::string_view hex, TraceId* out) { return ParseHexInto(hex, out); }
bool ParseHex(std::string_view hex, SpanId* out) { return ParseHexInto(hex, out); }

std::string_view SpanKindName(SpanKind kind) {
  switch (kind) {
    case SpanKind::kInternal: return "internal";
    case SpanKind::kServer: return "server";
    case SpanKind::kClient: return "client";
    case SpanKind::kProducer: return "producer";
    case SpanKind::kConsumer: return "consumer";
    case SpanKind::kUnspecified: break;
  }
  return "unspecified";
}

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kError: return "error";
    case StatusCode::kUnset: break;
  }
  return "unset";
}

std::string_view RowKindName(RowKind kind) {
  switch (kind) {
    case RowKind::kSpanEvent: return "span_event";
    case RowKind::kLink: return "link";
    case RowKind::kSpan: break;
  }
  return "span";
}

std::string_view ValueTypeName(ValueType type) {
  switch (type) {
    case ValueType::kInt: return "integer";
    case ValueType::kDouble: return "float";
    case ValueType::kBool: return "boolean";
    case ValueType::kString: break;
  }
  return "string";
}

size_t SpanBatch::span_count() const {
  size_t n = 0;
  for (const SpanRow& r : rows) n += r.row_kind == RowKind::kSpan;
  return n;
}

Span ToSpan(const SpanBatch& batch, size_t index) {
  const SpanRow& r = batch.rows[index];
  Span s;
  s.row_kind = r.row_kind;
  s.trace_id = r.trace_id;
  s.span_id = r.span_id;
  s.parent_span_id = r.parent_span_id;
  s.start_ns = r.start_ns;
  s.end_ns = r.end_ns;
  s.name = std::string(r.name);
  s.service_name = std::string(r.service_name);
  s.kind = r.kind;
  s.status_code = r.status_code;
  s.status_message = std::string(r.status_message);
  s.trace_state = std::string(r.trace_state);
  s.flags = r.flags;
  s.scope_name = std::string(r.scope_name);
  s.scope_version = std::string(r.scope_version);
  s.parent_name = std::string(r.parent_name);
  s.link_trace_id = r.link_trace_id;
  s.link_span_id = r.link_span_id;
  AppendAttrs(batch, r.resource_attrs, &s.attributes);
  AppendAttrs(batch, r.scope_attrs, &s.attributes);
  AppendAttrs(batch, r.attrs, &s.attributes);
  return s;
}

StringArena& StringArena::operator=(StringArena&& other) noexcept {
  blocks_ = std::move(other.blocks_);
  large_ = std::move(other.large_);
  next_ = std::exchange(other.next_, nullptr);
  free_ = std::exchange(other.free_, 0);
  stored_bytes_ = std::exchange(other.stored_bytes_, 0);
  other.blocks_.clear();
  other.large_.clear();
  return *this;
}

std::string_view StringArena::Store(std::string_view s) {
  if (s.empty()) return {};
  stored_bytes_ += s.size();
  if (s.size() > kBlockBytes / 4) {
    large_.push_back(std::make_unique_for_overwrite<char[]>(s.size()));
    std::memcpy(large_.back().get(), s.data(), s.size());
    return std::string_view(large_.back().get(), s.size());
  }
  if (s.size() > free_) {
    blocks_.push_back(std::make_unique_for_overwrite<char[]>(kBlockBytes));
    next_ = blocks_.back().get();
    free_ = kBlockBytes;
  }
  std::memcpy(next_, s.data(), s.size());
  const std::string_view copy(next_, s.size());
  next_ += s.size();
  free_ -= s.size();
  return copy;
}

void StringArena::Clear() {
  large_.clear();
  if (blocks_.size() > 1) blocks_.resize(1);
  next_ = blocks_.empty() ? nullptr : blocks_.front().get();
  free_ = blocks_.empty() ? 0 : kBlockBytes;
  stored_bytes_ = 0;
}

}  // namespace waggle
