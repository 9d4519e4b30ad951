// SpanBatch binary encoding (docs/formats/wal.md, "Record payload"). EncodeBatch writes
// version 3; DecodeBatch reads versions 1 and 3 (2 was never written).
//
// Version 3:
//   batch  := version u8 (=3) | varint attr_count | attr* | varint row_count | row*
//   attr   := varint (key_index << 2 | type - 1) | [str key, when key_index = keys defined so far]
//             | value: string → ref (against this key's previous string value); int → zigzag
//             varint; double → 8 bytes LE; bool → u8 0/1
//   row    := head u8 | kinds u8 | trace_id [16, absent when head bit 2]
//             | span_id [8, absent when head bit 4] | parent_span_id [8, absent when bit 3 or 5]
//             | zigzag varint (start_ns - previous start_ns) | zigzag varint (end_ns - start_ns)
//             | ref name | ref service_name | ref status_message | ref trace_state | varint flags
//             | ref scope_name | ref scope_version | ref parent_name
//             | [link_trace_id 16 | link_span_id 8, kLink]
//             | resource range, scope range (begin as zigzag delta against the previous row's
//               same range begin) | own range (begin as zigzag delta against previous row's end)
//             each range: varint begin_delta | varint count
//   head   := bits 0-1 row kind, bit 2 trace id equal to the previous row's, bit 3 parent span
//             id all zero, bit 4 span id equal to the previous row's, bit 5 parent span id equal
//             to the previous row's span id (not with bit 3); bits 6-7 must be 0
//
// Version 1 (read only):
//   batch  := version u8 (=1) | varint attr_count | attr* | varint row_count | row*
//   attr   := str key | type u8 (1..4) | value
//             value: string → str; int → zigzag varint; double → 8 bytes LE; bool → u8 0/1
//   row    := head u8 | kinds u8 | trace_id [16, absent when head bit 2] | span_id [8]
//             | parent_span_id [8, absent when head bit 3] | start_ns fixed64 LE
//             | zigzag varint (end_ns - start_ns) | ref name | ref service_name
//             | ref status_message | ref trace_state | varint flags | ref scope_name
//             | ref scope_version | ref parent_name | [link_trace_id 16 | link_span_id 8, kLink]
//             | 3 × (varint begin | varint count): resource, scope, own attribute ranges
//   head   := bits 0-1 row kind, bit 2 trace id equal to the previous row's,
//             bit 3 parent span id all zero; other bits must be 0
//   kinds  := bits 0-2 span kind (0..5), bits 3-4 status code (0..2); other bits must be 0
//   str    := varint length | bytes
//   ref    := varint 0 (same bytes as this field in the previous row) | varint length+1 | bytes
#include "model/batch_codec.h"

#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace waggle {
namespace {

constexpr uint8_t kVersion1 = 1;
constexpr uint8_t kVersion = 3;  // written by EncodeBatch
constexpr uint8_t kHeadKindMask = 0x03;
constexpr uint8_t kHeadSameTrace = 0x04;
constexpr uint8_t kHeadRootSpan = 0x08;
constexpr uint8_t kHeadSameSpan = 0x10;         // version 3
constexpr uint8_t kHeadParentIsPrevSpan = 0x20;  // version 3
constexpr size_t kMinAttrBytes = 3;  // empty key, type, one-byte value
// head, kinds, span id, start, duration, 7 refs, flags, 6 range varints.
constexpr size_t kMinRowBytes = 2 + 8 + 8 + 1 + 7 + 1 + 6;
constexpr size_t kMinAttrBytesV3 = 2;  // key/type varint, one-byte value
// head, kinds, start, duration, 7 refs, flags, 6 range varints.
constexpr size_t kMinRowBytesV3 = 2 + 1 + 1 + 7 + 1 + 6;

uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

// Worst-case encoded sizes, for sizing the output once.
constexpr size_t kMaxVarint = 10;
// tag varint, key length varint, value (ref length varint / int varint / double / bool).
constexpr size_t kMaxAttrOverhead = 3 * kMaxVarint;
// head, kinds, 3 ids, 2 time varints, 7 ref length varints, flags, link ids, 6 range varints.
constexpr size_t kMaxRowOverhead = 2 + 16 + 8 + 8 + 2 * kMaxVarint + 7 * kMaxVarint + kMaxVarint +
                                   16 + 8 + 6 * kMaxVarint;

}  // namespace

size_t EncodedSizeBound(const SpanBatch& batch) {
  size_t n = 1 + 2 * kMaxVarint;
  for (const AttrView& a : batch.attrs) n += kMaxAttrOverhead + a.key.size() + a.str.size();
  for (const SpanRow& r : batch.rows) {
    n += kMaxRowOverhead + r.name.size() + r.service_name.size() + r.status_message.size() +
         r.trace_state.size() + r.scope_name.size() + r.scope_version.size() +
         r.parent_name.size();
  }
  return n;
}

namespace {

// Unchecked output cursor. REQUIRES: the buffer holds EncodedSizeBound(batch) bytes from the
// position the sink started at, and the sink writes no more than that bound accounts for.
class Sink {
 public:
  explicit Sink(char* p) : p_(p) {}
  char* pos() const { return p_; }

  void Byte(uint8_t b) { *p_++ = static_cast<char>(b); }
  void Varint(uint64_t v) {
    while (v >= 0x80) {
      *p_++ = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    *p_++ = static_cast<char>(v);
  }
  void Fixed64(uint64_t v) {
    for (int i = 0; i < 8; ++i) p_[i] = static_cast<char>(v >> (8 * i));
    p_ += 8;
  }
  void Raw(const void* data, size_t n) {
    if (n == 0) return;  // an empty view may carry a null data(), which memcpy must not get
    std::memcpy(p_, data, n);
    p_ += n;
  }
  void Str(std::string_view s) {
    Varint(s.size());
    Raw(s.data(), s.size());
  }
  // A back-reference: 0 when `s` has the same bytes as `prev`, else the length + 1 and bytes.
  // Returns whether they were the same.
  [[gnu::always_inline]] bool Ref(std::string_view s, std::string_view prev) {
    if (SameBytes(s, prev)) {
      Byte(0);
      return true;
    }
    Varint(uint64_t{s.size()} + 1);
    Raw(s.data(), s.size());
    return false;
  }
  template <size_t N>
  void Id(const std::array<uint8_t, N>& id) {
    Raw(id.data(), N);
  }

 private:
  char* p_;
};

// Bounds-checked cursor over untrusted bytes. Every getter fails instead of reading past end.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  size_t remaining() const { return in_.size() - pos_; }
  size_t pos() const { return pos_; }

  Status Truncated(std::string_view what) const {
    return absl::DataLossError(absl::StrCat("span batch truncated at byte ", pos_, " reading ",
                                            absl::string_view(what.data(), what.size())));
  }
  Status Invalid(std::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(
        "span batch invalid at byte ", pos_, ": ", absl::string_view(what.data(), what.size())));
  }

  Status Byte(uint8_t* v, std::string_view what) {
    if (remaining() < 1) return Truncated(what);
    *v = static_cast<uint8_t>(in_[pos_++]);
    return OkStatus();
  }
  Status Varint(uint64_t* v, std::string_view what) {
    if (pos_ < in_.size() && static_cast<uint8_t>(in_[pos_]) < 0x80) {
      *v = static_cast<uint8_t>(in_[pos_++]);
      return OkStatus();
    }
    uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (remaining() < 1) return Truncated(what);
      uint8_t b = static_cast<uint8_t>(in_[pos_++]);
      if (shift == 63 && b > 1) return Invalid("varint overflows 64 bits");
      result |= uint64_t{b & 0x7fu} << shift;
      if (b < 0x80) {
        *v = result;
        return OkStatus();
      }
    }
    return Invalid("varint longer than 10 bytes");
  }
  Status Varint32(uint32_t* v, std::string_view what) {
    uint64_t x = 0;
    RETURN_IF_ERROR(Varint(&x, what));
    if (x > UINT32_MAX) return Invalid("value exceeds 32 bits");
    *v = static_cast<uint32_t>(x);
    return OkStatus();
  }
  Status Fixed64(uint64_t* v, std::string_view what) {
    if (remaining() < 8) return Truncated(what);
    uint64_t x = 0;
    for (int i = 0; i < 8; ++i) x |= uint64_t{static_cast<uint8_t>(in_[pos_ + i])} << (8 * i);
    pos_ += 8;
    *v = x;
    return OkStatus();
  }
  Status Bytes(size_t n, std::string_view* out, std::string_view what) {
    if (remaining() < n) return Truncated(what);
    *out = in_.substr(pos_, n);
    pos_ += n;
    return OkStatus();
  }
  Status Str(std::string_view* out, std::string_view what) {
    uint64_t n = 0;
    RETURN_IF_ERROR(Varint(&n, what));
    if (n > remaining()) return Truncated(what);
    return Bytes(static_cast<size_t>(n), out, what);
  }
  // A back-reference string: 0 keeps *inout (the previous row's value).
  Status Ref(std::string_view* inout, std::string_view what) {
    uint64_t n = 0;
    RETURN_IF_ERROR(Varint(&n, what));
    if (n == 0) return OkStatus();
    if (n - 1 > remaining()) return Truncated(what);
    return Bytes(static_cast<size_t>(n - 1), inout, what);
  }
  template <size_t N>
  Status Id(std::array<uint8_t, N>* id, std::string_view what) {
    std::string_view b;
    RETURN_IF_ERROR(Bytes(N, &b, what));
    std::memcpy(id->data(), b.data(), N);
    return OkStatus();
  }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

Status DecodeAttr(Reader* r, AttrView* a) {
  RETURN_IF_ERROR(r->Str(&a->key, "attribute key"));
  uint8_t type = 0;
  RETURN_IF_ERROR(r->Byte(&type, "attribute type"));
  switch (type) {
    case static_cast<uint8_t>(ValueType::kString):
      a->type = ValueType::kString;
      return r->Str(&a->str, "string attribute");
    case static_cast<uint8_t>(ValueType::kInt): {
      a->type = ValueType::kInt;
      uint64_t v = 0;
      RETURN_IF_ERROR(r->Varint(&v, "int attribute"));
      a->i = UnZigZag(v);
      return OkStatus();
    }
    case static_cast<uint8_t>(ValueType::kDouble): {
      a->type = ValueType::kDouble;
      uint64_t bits = 0;
      RETURN_IF_ERROR(r->Fixed64(&bits, "double attribute"));
      std::memcpy(&a->d, &bits, sizeof(bits));
      return OkStatus();
    }
    case static_cast<uint8_t>(ValueType::kBool): {
      a->type = ValueType::kBool;
      uint8_t b = 0;
      RETURN_IF_ERROR(r->Byte(&b, "bool attribute"));
      if (b > 1) return r->Invalid("bool attribute not 0 or 1");
      a->b = b == 1;
      return OkStatus();
    }
    default:
      return r->Invalid(absl::StrCat("unknown attribute type ", type));
  }
}

Status DecodeRange(Reader* r, size_t attr_count, AttrRange* range) {
  uint32_t begin = 0, count = 0;
  RETURN_IF_ERROR(r->Varint32(&begin, "attribute range"));
  RETURN_IF_ERROR(r->Varint32(&count, "attribute range"));
  if (uint64_t{begin} + count > attr_count) return r->Invalid("attribute range out of bounds");
  range->begin = begin;
  range->end = begin + count;
  return OkStatus();
}

// Decodes one row; `prev` is the previous row (or a default row) for back-references.
// The string fields (each a reference to the previous row's value or a new string), the flags
// and the link ids: laid out the same in payload v1 and v3.
Status DecodeRowStrings(Reader* r, const SpanRow& prev, SpanRow* row) {
  row->name = prev.name;
  row->service_name = prev.service_name;
  row->status_message = prev.status_message;
  row->trace_state = prev.trace_state;
  row->scope_name = prev.scope_name;
  row->scope_version = prev.scope_version;
  row->parent_name = prev.parent_name;
  RETURN_IF_ERROR(r->Ref(&row->name, "name"));
  RETURN_IF_ERROR(r->Ref(&row->service_name, "service name"));
  RETURN_IF_ERROR(r->Ref(&row->status_message, "status message"));
  RETURN_IF_ERROR(r->Ref(&row->trace_state, "trace state"));
  RETURN_IF_ERROR(r->Varint32(&row->flags, "flags"));
  RETURN_IF_ERROR(r->Ref(&row->scope_name, "scope name"));
  RETURN_IF_ERROR(r->Ref(&row->scope_version, "scope version"));
  RETURN_IF_ERROR(r->Ref(&row->parent_name, "parent name"));
  if (row->row_kind == RowKind::kLink) {
    RETURN_IF_ERROR(r->Id(&row->link_trace_id, "link trace id"));
    RETURN_IF_ERROR(r->Id(&row->link_span_id, "link span id"));
  }
  return OkStatus();
}

Status DecodeRow(Reader* r, size_t attr_count, const SpanRow& prev, SpanRow* row) {
  uint8_t head = 0, kinds = 0;
  RETURN_IF_ERROR(r->Byte(&head, "row header"));
  if (head & ~(kHeadKindMask | kHeadSameTrace | kHeadRootSpan)) return r->Invalid("row header");
  if ((head & kHeadKindMask) > static_cast<uint8_t>(RowKind::kLink)) {
    return r->Invalid("unknown row kind");
  }
  row->row_kind = static_cast<RowKind>(head & kHeadKindMask);
  RETURN_IF_ERROR(r->Byte(&kinds, "span kind"));
  const uint8_t kind = kinds & 0x07, status = (kinds >> 3) & 0x03;
  if ((kinds & 0xe0) || kind > static_cast<uint8_t>(SpanKind::kConsumer) ||
      status > static_cast<uint8_t>(StatusCode::kError)) {
    return r->Invalid("span kind or status code out of range");
  }
  row->kind = static_cast<SpanKind>(kind);
  row->status_code = static_cast<StatusCode>(status);
  if (head & kHeadSameTrace) {
    row->trace_id = prev.trace_id;
  } else {
    RETURN_IF_ERROR(r->Id(&row->trace_id, "trace id"));
  }
  RETURN_IF_ERROR(r->Id(&row->span_id, "span id"));
  if (!(head & kHeadRootSpan)) RETURN_IF_ERROR(r->Id(&row->parent_span_id, "parent span id"));
  uint64_t start = 0, duration = 0;
  RETURN_IF_ERROR(r->Fixed64(&start, "start time"));
  RETURN_IF_ERROR(r->Varint(&duration, "duration"));
  row->start_ns = static_cast<int64_t>(start);
  row->end_ns = static_cast<int64_t>(start + static_cast<uint64_t>(UnZigZag(duration)));
  RETURN_IF_ERROR(DecodeRowStrings(r, prev, row));
  RETURN_IF_ERROR(DecodeRange(r, attr_count, &row->resource_attrs));
  RETURN_IF_ERROR(DecodeRange(r, attr_count, &row->scope_attrs));
  return DecodeRange(r, attr_count, &row->attrs);
}


// Version 3 encoder state: the key table (keys in order of first use, found by content) and
// each key's previous string value.
class KeyTable {
 public:
  // Returns the index of `key`, adding it (and setting *added) if it is new. Attributes of one
  // kind of span arrive in the same key order, so the key that followed the previous one last
  // time is tried before the hash table.
  uint32_t Find(std::string_view key, bool* added) {
    if (prev_ != kNone) {
      const uint32_t hint = next_[prev_];
      if (hint != kNone && SameBytes(keys_[hint], key)) {
        *added = false;
        prev_ = hint;
        return hint;
      }
    }
    const uint32_t k = Lookup(key, added);
    if (prev_ != kNone) next_[prev_] = k;
    prev_ = k;
    return k;
  }
  static constexpr uint32_t kNone = UINT32_MAX;

  std::string_view& last_str(uint32_t index) { return last_str_[index]; }
  // The attribute that held last_str(index), or kNone.
  uint32_t& last_str_attr(uint32_t index) { return last_str_attr_[index]; }
  uint32_t size() const { return static_cast<uint32_t>(keys_.size()); }

 private:
  uint32_t Lookup(std::string_view key, bool* added) {
    if ((keys_.size() + 1) * 2 > slots_.size()) Grow();
    const size_t mask = slots_.size() - 1;
    for (size_t i = Hash(key) & mask;; i = (i + 1) & mask) {
      const uint32_t s = slots_[i];
      if (s == 0) {
        slots_[i] = static_cast<uint32_t>(keys_.size() + 1);
        keys_.push_back(key);
        last_str_.emplace_back();
        last_str_attr_.push_back(kNone);
        next_.push_back(kNone);
        *added = true;
        return static_cast<uint32_t>(keys_.size() - 1);
      }
      if (SameBytes(keys_[s - 1], key)) {
        *added = false;
        return s - 1;
      }
    }
  }
  // Cheap: length and up to 16 bytes from both ends (keys differ there in practice; a poor
  // hash costs probes, never correctness).
  static size_t Hash(std::string_view key) {
    uint64_t a = 0, b = 0;
    const size_t n = key.size();
    if (n >= 8) {
      std::memcpy(&a, key.data(), 8);
      std::memcpy(&b, key.data() + n - 8, 8);
    } else if (n > 0) {
      std::memcpy(&a, key.data(), n);
    }
    uint64_t h = (a ^ (n * 0x9e3779b97f4a7c15ULL)) * 0xbf58476d1ce4e5b9ULL;
    h = (h ^ b ^ (h >> 29)) * 0x94d049bb133111ebULL;
    return static_cast<size_t>(h ^ (h >> 32));
  }
  void Grow() {
    std::vector<uint32_t> slots(slots_.empty() ? 64 : slots_.size() * 2, 0);
    const size_t mask = slots.size() - 1;
    for (uint32_t k = 0; k < keys_.size(); ++k) {
      size_t i = Hash(keys_[k]) & mask;
      while (slots[i] != 0) i = (i + 1) & mask;
      slots[i] = k + 1;
    }
    slots_ = std::move(slots);
  }

  std::vector<uint32_t> slots_;  // 0 empty, else key index + 1; size a power of two
  std::vector<std::string_view> keys_;
  std::vector<std::string_view> last_str_;
  std::vector<uint32_t> last_str_attr_;
  std::vector<uint32_t> next_;  // by key: the key found right after it last time, or kNone
  uint32_t prev_ = kNone;       // the key found last
};

void PutRangeV3(Sink* out, AttrRange r, uint32_t base) {
  out->Varint(ZigZag(static_cast<int64_t>(r.begin) - static_cast<int64_t>(base)));
  out->Varint(r.end >= r.begin ? r.end - r.begin : 0);
}

// Writes the attribute list and fills the attribute hints.
void EncodeAttrsV3(const std::vector<AttrView>& attrs, Sink* out, BatchHints* hints) {
  out->Varint(attrs.size());
  hints->key_of_attr.resize(attrs.size());
  hints->value_of_attr.resize(attrs.size());
  // Raw pointers held in locals: the sink's char stores may alias anything reached through
  // memory, which would otherwise reload the vectors' data pointers after every write.
  uint32_t* const key_of_attr = hints->key_of_attr.data();
  uint32_t* const value_of_attr = hints->value_of_attr.data();
  KeyTable keys;
  for (size_t i = 0; i < attrs.size(); ++i) {
    const AttrView& a = attrs[i];
    bool added = false;
    const uint32_t k = keys.Find(a.key, &added);
    key_of_attr[i] = k;
    value_of_attr[i] = static_cast<uint32_t>(i);
    out->Varint(uint64_t{k} << 2 | ((static_cast<uint8_t>(a.type) - 1) & 0x03));
    if (added) out->Str(a.key);
    switch (a.type) {
      case ValueType::kString: {
        std::string_view& last = keys.last_str(k);
        uint32_t& last_index = keys.last_str_attr(k);
        if (out->Ref(a.str, last) && last_index != KeyTable::kNone) {
          value_of_attr[i] = value_of_attr[last_index];
        }
        last = a.str;
        last_index = static_cast<uint32_t>(i);
        break;
      }
      case ValueType::kInt: out->Varint(ZigZag(a.i)); break;
      case ValueType::kDouble: {
        uint64_t bits = 0;
        std::memcpy(&bits, &a.d, sizeof(bits));
        out->Fixed64(bits);
        break;
      }
      case ValueType::kBool: out->Byte(a.b ? 1 : 0); break;
    }
  }
  hints->key_count = keys.size();
}

Status DecodeAttrsV3(Reader* r, std::vector<AttrView>* attrs) {
  uint64_t attr_count = 0;
  RETURN_IF_ERROR(r->Varint(&attr_count, "attribute count"));
  if (attr_count > r->remaining() / kMinAttrBytesV3) {
    return r->Invalid(absl::StrCat("attribute count ", attr_count, " exceeds the remaining bytes"));
  }
  attrs->resize(static_cast<size_t>(attr_count));
  // Bounded by attr_count: a key is defined by the first attribute that uses it.
  std::vector<std::string_view> keys, last_str;
  for (AttrView& a : *attrs) {
    uint64_t tag = 0;
    RETURN_IF_ERROR(r->Varint(&tag, "attribute key"));
    const uint64_t k = tag >> 2;
    if (k > keys.size()) return r->Invalid("attribute key index out of range");
    if (k == keys.size()) {
      std::string_view key;
      RETURN_IF_ERROR(r->Str(&key, "attribute key"));
      keys.push_back(key);
      last_str.emplace_back();
    }
    a.key = keys[k];
    switch (tag & 0x03) {
      case 0:
        a.type = ValueType::kString;
        RETURN_IF_ERROR(r->Ref(&last_str[k], "string attribute"));
        a.str = last_str[k];
        break;
      case 1: {
        a.type = ValueType::kInt;
        uint64_t v = 0;
        RETURN_IF_ERROR(r->Varint(&v, "int attribute"));
        a.i = UnZigZag(v);
        break;
      }
      case 2: {
        a.type = ValueType::kDouble;
        uint64_t bits = 0;
        RETURN_IF_ERROR(r->Fixed64(&bits, "double attribute"));
        std::memcpy(&a.d, &bits, sizeof(bits));
        break;
      }
      default: {
        a.type = ValueType::kBool;
        uint8_t b = 0;
        RETURN_IF_ERROR(r->Byte(&b, "bool attribute"));
        if (b > 1) return r->Invalid("bool attribute not 0 or 1");
        a.b = b == 1;
        break;
      }
    }
  }
  return OkStatus();
}

Status DecodeRangeV3(Reader* r, size_t attr_count, uint32_t base, AttrRange* range) {
  uint64_t delta = 0;
  uint32_t count = 0;
  RETURN_IF_ERROR(r->Varint(&delta, "attribute range"));
  RETURN_IF_ERROR(r->Varint32(&count, "attribute range"));
  // base <= attr_count (it is a previous row's checked begin or end), so no overflow here.
  const int64_t d = UnZigZag(delta);
  if (d < -static_cast<int64_t>(base) || d > static_cast<int64_t>(attr_count)) {
    return r->Invalid("attribute range out of bounds");
  }
  const int64_t begin = static_cast<int64_t>(base) + d;
  if (static_cast<uint64_t>(begin) + count > attr_count) {
    return r->Invalid("attribute range out of bounds");
  }
  range->begin = static_cast<uint32_t>(begin);
  range->end = static_cast<uint32_t>(begin + count);
  return OkStatus();
}

// Returns the row's BatchHints::row_same_strings bits.
uint8_t EncodeRowV3(const SpanRow& row, const SpanRow& prev, Sink* out) {
  const bool same_trace = row.trace_id == prev.trace_id;
  const bool same_span = row.span_id == prev.span_id;
  const bool root = IsZero(row.parent_span_id);
  const bool parent_is_prev = !root && row.parent_span_id == prev.span_id;
  out->Byte((static_cast<uint8_t>(row.row_kind) & kHeadKindMask) |
            (same_trace ? kHeadSameTrace : 0) | (root ? kHeadRootSpan : 0) |
            (same_span ? kHeadSameSpan : 0) | (parent_is_prev ? kHeadParentIsPrevSpan : 0));
  out->Byte((static_cast<uint8_t>(row.kind) & 0x07) |
            (static_cast<uint8_t>(row.status_code) & 0x03) << 3);
  if (!same_trace) out->Id(row.trace_id);
  if (!same_span) out->Id(row.span_id);
  if (!root && !parent_is_prev) out->Id(row.parent_span_id);
  out->Varint(ZigZag(static_cast<int64_t>(static_cast<uint64_t>(row.start_ns) -
                                          static_cast<uint64_t>(prev.start_ns))));
  out->Varint(ZigZag(static_cast<int64_t>(static_cast<uint64_t>(row.end_ns) -
                                          static_cast<uint64_t>(row.start_ns))));
  uint8_t same = 0;
  same |= out->Ref(row.name, prev.name) << 0;
  same |= out->Ref(row.service_name, prev.service_name) << 1;
  same |= out->Ref(row.status_message, prev.status_message) << 2;
  same |= out->Ref(row.trace_state, prev.trace_state) << 3;
  out->Varint(row.flags);
  same |= out->Ref(row.scope_name, prev.scope_name) << 4;
  same |= out->Ref(row.scope_version, prev.scope_version) << 5;
  same |= out->Ref(row.parent_name, prev.parent_name) << 6;
  if (row.row_kind == RowKind::kLink) {
    out->Id(row.link_trace_id);
    out->Id(row.link_span_id);
  }
  PutRangeV3(out, row.resource_attrs, prev.resource_attrs.begin);
  PutRangeV3(out, row.scope_attrs, prev.scope_attrs.begin);
  PutRangeV3(out, row.attrs, prev.attrs.end);
  return same;
}

Status DecodeRowV3(Reader* r, size_t attr_count, const SpanRow& prev, SpanRow* row) {
  uint8_t head = 0, kinds = 0;
  RETURN_IF_ERROR(r->Byte(&head, "row header"));
  if ((head & 0xc0) || ((head & kHeadRootSpan) && (head & kHeadParentIsPrevSpan))) {
    return r->Invalid("row header");
  }
  if ((head & kHeadKindMask) > static_cast<uint8_t>(RowKind::kLink)) {
    return r->Invalid("unknown row kind");
  }
  row->row_kind = static_cast<RowKind>(head & kHeadKindMask);
  RETURN_IF_ERROR(r->Byte(&kinds, "span kind"));
  const uint8_t kind = kinds & 0x07, status = (kinds >> 3) & 0x03;
  if ((kinds & 0xe0) || kind > static_cast<uint8_t>(SpanKind::kConsumer) ||
      status > static_cast<uint8_t>(StatusCode::kError)) {
    return r->Invalid("span kind or status code out of range");
  }
  row->kind = static_cast<SpanKind>(kind);
  row->status_code = static_cast<StatusCode>(status);
  if (head & kHeadSameTrace) {
    row->trace_id = prev.trace_id;
  } else {
    RETURN_IF_ERROR(r->Id(&row->trace_id, "trace id"));
  }
  if (head & kHeadSameSpan) {
    row->span_id = prev.span_id;
  } else {
    RETURN_IF_ERROR(r->Id(&row->span_id, "span id"));
  }
  if (head & kHeadParentIsPrevSpan) {
    row->parent_span_id = prev.span_id;
    if (IsZero(row->parent_span_id)) return r->Invalid("row header");  // not canonical
  } else if (!(head & kHeadRootSpan)) {
    RETURN_IF_ERROR(r->Id(&row->parent_span_id, "parent span id"));
  }
  uint64_t start = 0, duration = 0;
  RETURN_IF_ERROR(r->Varint(&start, "start time"));
  RETURN_IF_ERROR(r->Varint(&duration, "duration"));
  row->start_ns = static_cast<int64_t>(static_cast<uint64_t>(prev.start_ns) +
                                       static_cast<uint64_t>(UnZigZag(start)));
  row->end_ns = static_cast<int64_t>(static_cast<uint64_t>(row->start_ns) +
                                     static_cast<uint64_t>(UnZigZag(duration)));
  RETURN_IF_ERROR(DecodeRowStrings(r, prev, row));
  RETURN_IF_ERROR(DecodeRangeV3(r, attr_count, prev.resource_attrs.begin, &row->resource_attrs));
  RETURN_IF_ERROR(DecodeRangeV3(r, attr_count, prev.scope_attrs.begin, &row->scope_attrs));
  return DecodeRangeV3(r, attr_count, prev.attrs.end, &row->attrs);
}

}  // namespace

size_t EncodeBatchTo(const SpanBatch& batch, char* dst, BatchHints* hints) {
  Sink sink(dst);
  sink.Byte(kVersion);
  BatchHints local;
  BatchHints* h = hints ? hints : &local;
  EncodeAttrsV3(batch.attrs, &sink, h);
  h->row_same_strings.resize(batch.rows.size());
  sink.Varint(batch.rows.size());
  const SpanRow empty;
  const SpanRow* prev = &empty;
  for (size_t i = 0; i < batch.rows.size(); ++i) {
    h->row_same_strings[i] = EncodeRowV3(batch.rows[i], *prev, &sink);
    prev = &batch.rows[i];
  }
  return static_cast<size_t>(sink.pos() - dst);
}

void EncodeBatch(const SpanBatch& batch, std::string* out, BatchHints* hints) {
  const size_t base = out->size();
  out->resize(base + EncodedSizeBound(batch));
  out->resize(base + EncodeBatchTo(batch, out->data() + base, hints));
}

StatusOr<SpanBatch> DecodeBatch(std::string_view bytes) {
  Reader r(bytes);
  uint8_t version = 0;
  RETURN_IF_ERROR(r.Byte(&version, "version"));
  if (version != kVersion && version != kVersion1) {
    return absl::InvalidArgumentError(absl::StrCat("unsupported span batch version ", version,
                                                   " (expected ", kVersion1, " or ", kVersion,
                                                   ")"));
  }
  const bool v1 = version == kVersion1;
  SpanBatch batch;
  if (v1) {
    uint64_t attr_count = 0;
    RETURN_IF_ERROR(r.Varint(&attr_count, "attribute count"));
    if (attr_count > r.remaining() / kMinAttrBytes) {
      return r.Invalid(
          absl::StrCat("attribute count ", attr_count, " exceeds the remaining bytes"));
    }
    batch.attrs.resize(static_cast<size_t>(attr_count));
    for (AttrView& a : batch.attrs) RETURN_IF_ERROR(DecodeAttr(&r, &a));
  } else {
    RETURN_IF_ERROR(DecodeAttrsV3(&r, &batch.attrs));
  }
  uint64_t row_count = 0;
  RETURN_IF_ERROR(r.Varint(&row_count, "row count"));
  if (row_count > r.remaining() / (v1 ? kMinRowBytes : kMinRowBytesV3)) {
    return r.Invalid(absl::StrCat("row count ", row_count, " exceeds the remaining bytes"));
  }
  batch.rows.resize(static_cast<size_t>(row_count));
  const SpanRow empty;
  const SpanRow* prev = &empty;
  for (SpanRow& row : batch.rows) {
    if (v1) {
      RETURN_IF_ERROR(DecodeRow(&r, batch.attrs.size(), *prev, &row));
    } else {
      RETURN_IF_ERROR(DecodeRowV3(&r, batch.attrs.size(), *prev, &row));
    }
    prev = &row;
  }
  if (r.remaining() != 0) {
    return r.Invalid(absl::StrCat(r.remaining(), " trailing bytes after the last row"));
  }
  return batch;
}

}  // namespace waggle
