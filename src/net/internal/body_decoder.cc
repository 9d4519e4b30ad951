#include "net/internal/body_decoder.h"

#include <libdeflate.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <memory>

#include "absl/strings/ascii.h"
#include "net/internal/absl_compat.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace waggle::net_internal {
namespace {

enum class Kind { kGzip, kDeflate };

std::string_view KindName(Kind kind) { return kind == Kind::kGzip ? "gzip" : "deflate"; }

Status TooLarge(size_t max_bytes) {
  return absl::ResourceExhaustedError(
      absl::StrCat("request body exceeds the limit of ", max_bytes, " bytes after decompression"));
}

Status Corrupt(Kind kind, std::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid ", ToAbsl(KindName(kind)), " body: ", ToAbsl(why)));
}

// RFC 1950 header check: CM=8 and the FCHECK checksum. Raw deflate ("deflate" as some
// clients mean it) fails this test with overwhelming probability.
bool LooksLikeZlib(std::string_view in) {
  if (in.size() < 2) return false;
  const auto b0 = static_cast<uint8_t>(in[0]);
  const auto b1 = static_cast<uint8_t>(in[1]);
  return (b0 & 0x0f) == 8 && (b0 >> 4) <= 7 && ((b0 << 8) | b1) % 31 == 0;
}

// Fast path for the common single-member gzip body whose trailer (ISIZE) states the size:
// one libdeflate call into an exactly sized buffer. Returns false to fall back to zlib
// (multi-member, lying ISIZE, corrupt data — zlib then produces the precise error).
bool TryLibdeflateGzip(std::string_view in, size_t max_bytes, std::string* out) {
  if (in.size() < 18) return false;
  const auto* tail = reinterpret_cast<const uint8_t*>(in.data() + in.size() - 4);
  const size_t isize = tail[0] | (tail[1] << 8) | (tail[2] << 16) | (size_t{tail[3]} << 24);
  // Deflate cannot expand more than ~1032:1, so a larger claim is a lie; let zlib judge it.
  if (isize == 0 || isize > max_bytes || isize / 1032 > in.size()) return false;
  struct Free {
    void operator()(libdeflate_decompressor* d) const { libdeflate_free_decompressor(d); }
  };
  thread_local std::unique_ptr<libdeflate_decompressor, Free> decompressor(
      libdeflate_alloc_decompressor());
  if (decompressor == nullptr) return false;
  out->resize(isize);
  size_t in_used = 0;
  size_t out_len = 0;
  const libdeflate_result r = libdeflate_gzip_decompress_ex(
      decompressor.get(), in.data(), in.size(), out->data(), isize, &in_used, &out_len);
  if (r != LIBDEFLATE_SUCCESS || in_used != in.size() || out_len != isize) {
    out->clear();
    return false;
  }
  return true;
}

// Streaming zlib inflate with the limit enforced on the produced size.
Status InflateStream(Kind kind, std::string_view in, size_t max_bytes, std::string* out) {
  z_stream zs{};
  const int window_bits = kind == Kind::kGzip ? 16 + MAX_WBITS
                          : LooksLikeZlib(in) ? MAX_WBITS
                                              : -MAX_WBITS;
  if (inflateInit2(&zs, window_bits) != Z_OK) {
    return absl::InternalError("zlib inflateInit2 failed");
  }
  struct End {
    z_stream* zs;
    ~End() { inflateEnd(zs); }
  } end{&zs};

  out->clear();
  // Start modestly; grow geometrically. One byte beyond the limit detects overflow.
  const size_t hard_cap = max_bytes + 1;
  out->resize(std::min(hard_cap, std::max<size_t>(in.size() * 4, 64 << 10)));
  size_t produced = 0;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  size_t in_left = in.size();
  for (;;) {
    if (produced == out->size()) {
      if (out->size() >= hard_cap) return TooLarge(max_bytes);
      out->resize(std::min(hard_cap, out->size() * 2));
    }
    const uInt in_chunk = static_cast<uInt>(std::min<size_t>(in_left, 1u << 30));
    const uInt out_chunk = static_cast<uInt>(std::min<size_t>(out->size() - produced, 1u << 30));
    zs.avail_in = in_chunk;
    zs.next_out = reinterpret_cast<Bytef*>(out->data() + produced);
    zs.avail_out = out_chunk;
    const int rc = inflate(&zs, Z_NO_FLUSH);
    in_left -= in_chunk - zs.avail_in;
    produced += out_chunk - zs.avail_out;
    if (produced > max_bytes) return TooLarge(max_bytes);
    if (rc == Z_STREAM_END) {
      if (in_left == 0) break;
      if (kind != Kind::kGzip) return Corrupt(kind, "trailing data after the stream");
      if (inflateReset(&zs) != Z_OK) return Corrupt(kind, "cannot start next member");
      continue;  // next gzip member
    }
    if (rc == Z_BUF_ERROR && in_left == 0 && zs.avail_out != 0) {
      return Corrupt(kind, "unexpected end of stream");
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return Corrupt(kind, zs.msg != nullptr ? zs.msg : zError(rc));
    }
  }
  out->resize(produced);
  return OkStatus();
}

}  // namespace

bool IsIdentityEncoding(std::string_view raw) {
  const absl::string_view encoding = absl::StripAsciiWhitespace(ToAbsl(raw));
  return encoding.empty() || absl::EqualsIgnoreCase(encoding, "identity");
}

Status DecodeBody(std::string_view raw_encoding, std::string_view input, size_t max_bytes,
                  std::string* out) {
  const absl::string_view encoding = absl::StripAsciiWhitespace(ToAbsl(raw_encoding));
  if (IsIdentityEncoding(raw_encoding)) {
    if (input.size() > max_bytes) return TooLarge(max_bytes);
    out->assign(input);
    return OkStatus();
  }
  if (absl::EqualsIgnoreCase(encoding, "gzip") || absl::EqualsIgnoreCase(encoding, "x-gzip")) {
    if (input.empty()) return Corrupt(Kind::kGzip, "empty stream");
    if (TryLibdeflateGzip(input, max_bytes, out)) return OkStatus();
    return InflateStream(Kind::kGzip, input, max_bytes, out);
  }
  if (absl::EqualsIgnoreCase(encoding, "deflate")) {
    if (input.empty()) return Corrupt(Kind::kDeflate, "empty stream");
    return InflateStream(Kind::kDeflate, input, max_bytes, out);
  }
  return absl::UnimplementedError(
      absl::StrCat("unsupported Content-Encoding \"", encoding,
                   "\" (supported: gzip, deflate, identity)"));
}

}  // namespace waggle::net_internal
