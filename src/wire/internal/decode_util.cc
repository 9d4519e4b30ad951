#include "wire/internal/decode_util.h"

#include <charconv>
#include <cmath>
#include <cstring>


namespace waggle::wire_internal {

Status DecodeBudget::Exhausted() const {
  return absl::ResourceExhaustedError(
      Cat("decoded batch would exceed ", max_, " bytes (max_decoded_bytes)"));
}

bool ArenaWriter::Copy(std::string_view s, std::string_view* out) {
  if (!budget_->Charge(s.size())) return false;
  *out = arena_->Store(s);
  return true;
}

std::string_view TruncateUtf8(std::string_view s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  // Back off over continuation bytes (10xxxxxx) so we cut before a sequence's lead byte.
  while (n > 0 && (static_cast<uint8_t>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if invalid.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto at = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t c = at(i);
  size_t len;
  uint32_t cp;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((at(i + k) & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (at(i + k) & 0x3F);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;  // surrogates are not scalar values
  return len;
}

}  // namespace

void AppendJsonString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    uint8_t c = static_cast<uint8_t>(s[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      out->push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    switch (c) {
      case '"': out->append("\\\""); ++i; continue;
      case '\\': out->append("\\\\"); ++i; continue;
      case '\n': out->append("\\n"); ++i; continue;
      case '\r': out->append("\\r"); ++i; continue;
      case '\t': out->append("\\t"); ++i; continue;
      default: break;
    }
    if (c < 0x20) {
      char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      out->append(esc, 6);
      ++i;
      continue;
    }
    size_t len = Utf8SequenceLength(s, i);
    if (len == 0) {
      out->append("\xEF\xBF\xBD");  // U+FFFD
      ++i;
    } else {
      out->append(s.data() + i, len);
      i += len;
    }
  }
  out->push_back('"');
}

void AppendJsonDouble(double d, std::string* out) {
  if (std::isnan(d)) {
    out->append("\"NaN\"");
    return;
  }
  if (std::isinf(d)) {
    out->append(d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    return;
  }
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof(buf), d);
  out->append(buf, res.ptr);
}

void AppendBase64(std::string_view bytes, std::string* out) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t n = bytes.size();
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = uint32_t{p[i]} << 16 | uint32_t{p[i + 1]} << 8 | p[i + 2];
    char q[4] = {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63],
                 kAlphabet[v & 63]};
    out->append(q, 4);
  }
  if (n - i == 1) {
    uint32_t v = uint32_t{p[i]} << 16;
    char q[4] = {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], '=', '='};
    out->append(q, 4);
  } else if (n - i == 2) {
    uint32_t v = uint32_t{p[i]} << 16 | uint32_t{p[i + 1]} << 8;
    char q[4] = {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], '='};
    out->append(q, 4);
  }
}

std::string_view NormalizeServiceName(const SpanBatch& batch, AttrRange resource_attrs) {
  std::string_view name;
  bool found = false;
  for (uint32_t i = resource_attrs.begin; i < resource_attrs.end; ++i) {
    const AttrView& a = batch.attrs[i];
    if (a.type == ValueType::kString && a.key == "service.name") {
      name = a.str;  // the last occurrence wins, as for a protobuf map
      found = true;
    }
  }
  if (!found) return kUnknownService;
  constexpr std::string_view kSpace = " \t\r\n\f\v";
  size_t b = name.find_first_not_of(kSpace);
  if (b == std::string_view::npos) return kUnknownService;
  name = name.substr(b, name.find_last_not_of(kSpace) - b + 1);
  if (name.starts_with(kUnknownService)) return kUnknownService;
  return name;
}

std::string Location::ToString() const {
  std::string out;
  if (resource_spans >= 0) out += Cat(names->resource_spans, "[", resource_spans, "]");
  if (scope_spans >= 0) out += Cat(".", names->scope_spans, "[", scope_spans, "]");
  if (spans >= 0) out += Cat(".", names->spans, "[", spans, "]");
  if (sub == Sub::kEvent) out += Cat(".", names->events, "[", sub_index, "]");
  if (sub == Sub::kLink) out += Cat(".", names->links, "[", sub_index, "]");
  return out;
}

Status InvalidAt(const Location& where, std::string_view message) {
  std::string loc = where.ToString();
  if (loc.empty()) return absl::InvalidArgumentError(std::string(message));
  return absl::InvalidArgumentError(Cat(loc, ": ", message));
}

}  // namespace waggle::wire_internal
