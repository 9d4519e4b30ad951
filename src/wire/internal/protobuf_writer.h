// Minimal protobuf wire-format writer (waggle-internal), used by the OTLP encoders.
//
// Appends to a caller-owned std::string. Nested messages are written in place: BeginLen()
// reserves room for the length, EndLen() fills it in (shifting the body if the length needs
// fewer bytes than reserved), so no temporary strings are needed.
// Thread-safety: a writer is a plain value over one string; not for concurrent use.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace waggle::wire_internal {

class ProtoWriter {
 public:
  explicit ProtoWriter(std::string* out) : out_(out) {}

  void Varint(uint64_t v) {
    char buf[10];
    size_t n = 0;
    while (v >= 0x80) {
      buf[n++] = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    buf[n++] = static_cast<char>(v);
    out_->append(buf, n);
  }
  void Tag(uint32_t field, uint32_t wire_type) { Varint(uint64_t{field} << 3 | wire_type); }

  void VarintField(uint32_t field, uint64_t v) {
    Tag(field, 0);
    Varint(v);
  }
  void Fixed64Field(uint32_t field, uint64_t v) {
    Tag(field, 1);
    char buf[8];
    std::memcpy(buf, &v, 8);  // little-endian host
    out_->append(buf, 8);
  }
  void Fixed32Field(uint32_t field, uint32_t v) {
    Tag(field, 5);
    char buf[4];
    std::memcpy(buf, &v, 4);
    out_->append(buf, 4);
  }
  void DoubleField(uint32_t field, double d) {
    uint64_t v;
    std::memcpy(&v, &d, 8);
    Fixed64Field(field, v);
  }
  void BytesField(uint32_t field, std::string_view s) {
    Tag(field, 2);
    Varint(s.size());
    out_->append(s);
  }

  // Starts a length-delimited field whose body the caller appends next; returns a token
  // for EndLen(). Calls nest like parentheses.
  size_t BeginLen(uint32_t field) {
    Tag(field, 2);
    size_t mark = out_->size();
    out_->append(kReserve, '\0');
    return mark;
  }
  void EndLen(size_t mark) {
    size_t body_begin = mark + kReserve;
    uint64_t len = out_->size() - body_begin;
    char buf[10];
    size_t n = 0;
    uint64_t v = len;
    while (v >= 0x80) {
      buf[n++] = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    buf[n++] = static_cast<char>(v);
    if (n <= kReserve) {
      std::memcpy(out_->data() + mark, buf, n);
      if (n < kReserve) out_->erase(mark + n, kReserve - n);
    } else {  // bodies of 256 MiB or more: make room
      out_->insert(body_begin, n - kReserve, '\0');
      std::memcpy(out_->data() + mark, buf, n);
    }
  }

 private:
  static constexpr size_t kReserve = 4;  // lengths < 2^28 fit
  std::string* out_;
};

}  // namespace waggle::wire_internal
