// Zero-copy protobuf wire-format reader over untrusted bytes (waggle-internal).
//
// ProtoReader walks the fields of ONE message: each Next() decodes a field's tag and its
// value. Length-delimited values are views into the input (no copies); nested messages are
// read with Child(), which enforces a nesting-depth limit. Unknown fields need no special
// handling: a caller that ignores a field number has already skipped it.
//
// Rejected input (Next() returns false, ok() becomes false, error() says why): varints longer
// than 10 bytes or overflowing 64 bits, truncated values, lengths past the end, field number
// 0 or above 2^29-1, groups (wire types 3/4), wire types 6/7, nesting beyond the limit.
//
// Usage:
//   ProtoReader r(bytes, /*max_depth=*/32);
//   while (r.Next()) {
//     if (r.field() == 1 && r.wire_type() == WireType::kLen) Use(r.bytes());
//   }
//   if (!r.ok()) return Error(r.error());
//
// Thread-safety: a reader is a plain value; distinct readers may be used concurrently.
// The input must outlive the reader and every view it returns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace waggle::wire_internal {

enum class WireType : uint8_t {
  kVarint = 0,
  kFixed64 = 1,
  kLen = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5,
};

// Decodes a base-128 varint from [*p, end). On success advances *p and returns true.
// Fails on truncation, on more than 10 bytes, and on a 10th byte that overflows 64 bits.
inline bool ReadVarint(const uint8_t** p, const uint8_t* end, uint64_t* out) {
  const uint8_t* q = *p;
  if (q < end && *q < 0x80) {  // one-byte fast path (tags, small ints, short lengths)
    *out = *q;
    *p = q + 1;
    return true;
  }
  uint64_t result = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (q >= end) return false;
    uint8_t byte = *q++;
    if (shift == 63 && byte > 1) return false;  // the 10th byte carries bit 63 only
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (byte < 0x80) {
      *out = result;
      *p = q;
      return true;
    }
  }
  return false;  // more than 10 bytes
}

class ProtoReader {
 public:
  static constexpr int kDefaultMaxDepth = 32;

  // Reads the message in `data` at nesting depth 0.
  explicit ProtoReader(std::string_view data, int max_depth = kDefaultMaxDepth)
      : ProtoReader(data, data.data(), 0, max_depth) {}

  // Advances to the next field. Returns false at the end of the message or on malformed
  // input (then ok() is false). After a true return, field()/wire_type() and the accessor
  // matching the wire type are valid.
  bool Next() {
    if (pos_ >= end_ || error_ != nullptr) return false;
    uint64_t tag;
    if (!ReadVarint(&pos_, end_, &tag)) return Fail("truncated or overlong field tag");
    field_ = static_cast<uint32_t>(tag >> 3);
    if (field_ == 0 || tag >> 32 != 0) return Fail("invalid field number");
    wire_type_ = static_cast<WireType>(tag & 7);
    switch (wire_type_) {
      case WireType::kVarint:
        if (!ReadVarint(&pos_, end_, &scalar_)) return Fail("truncated or overlong varint");
        return true;
      case WireType::kFixed64:
        if (end_ - pos_ < 8) return Fail("truncated fixed64");
        std::memcpy(&scalar_, pos_, 8);  // little-endian host (x86-64, aarch64)
        pos_ += 8;
        return true;
      case WireType::kFixed32: {
        if (end_ - pos_ < 4) return Fail("truncated fixed32");
        uint32_t v;
        std::memcpy(&v, pos_, 4);
        scalar_ = v;
        pos_ += 4;
        return true;
      }
      case WireType::kLen: {
        uint64_t len;
        if (!ReadVarint(&pos_, end_, &len)) return Fail("truncated or overlong length");
        if (len > static_cast<uint64_t>(end_ - pos_)) return Fail("length past end of message");
        bytes_ = std::string_view(reinterpret_cast<const char*>(pos_), len);
        pos_ += len;
        return true;
      }
      case WireType::kStartGroup:
      case WireType::kEndGroup:
        return Fail("groups are not supported");
    }
    return Fail("invalid wire type");
  }

  uint32_t field() const { return field_; }
  WireType wire_type() const { return wire_type_; }
  // REQUIRES: wire_type() is kVarint, kFixed64 or kFixed32.
  uint64_t scalar() const { return scalar_; }
  // REQUIRES: wire_type() is kLen. A view into the input.
  std::string_view bytes() const { return bytes_; }

  // A reader over the current length-delimited field as a nested message, one level deeper.
  // If that exceeds the depth limit the child starts in the failed state.
  // REQUIRES: wire_type() is kLen.
  ProtoReader Child() const {
    ProtoReader child(bytes_, origin_, depth_ + 1, max_depth_);
    if (depth_ + 1 > max_depth_) child.Fail("message nesting too deep");
    return child;
  }

  bool ok() const { return error_ == nullptr; }
  // A static description of the failure, or nullptr if ok().
  const char* error() const { return error_; }
  // Byte offset of the failure from the start of the outermost message.
  size_t error_offset() const { return error_offset_; }
  // "truncated fixed64 at byte 17", or "" if ok().
  std::string ErrorString() const;
  int depth() const { return depth_; }
  // True when Child() of a field of this reader would not exceed the depth limit.
  bool CanDescend() const { return depth_ + 1 <= max_depth_; }
  // The bytes not read yet (a view into the input).
  std::string_view unread() const {
    return std::string_view(reinterpret_cast<const char*>(pos_), static_cast<size_t>(end_ - pos_));
  }

 private:
  ProtoReader(std::string_view data, const char* origin, int depth, int max_depth)
      : pos_(reinterpret_cast<const uint8_t*>(data.data())),
        end_(pos_ + data.size()),
        origin_(origin),
        depth_(depth),
        max_depth_(max_depth) {}

  bool Fail(const char* why) {
    if (error_ == nullptr) {
      error_ = why;
      error_offset_ = static_cast<size_t>(reinterpret_cast<const char*>(pos_) - origin_);
    }
    return false;
  }

  const uint8_t* pos_;
  const uint8_t* end_;
  const char* origin_;  // start of the outermost message, for error offsets
  int depth_;
  int max_depth_;
  uint32_t field_ = 0;
  WireType wire_type_ = WireType::kVarint;
  uint64_t scalar_ = 0;
  std::string_view bytes_;
  const char* error_ = nullptr;
  size_t error_offset_ = 0;
};

}  // namespace waggle::wire_internal
