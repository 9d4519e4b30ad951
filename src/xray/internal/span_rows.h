// Reading stored span rows the way the X-Ray code needs (waggle_xray-internal): attribute
// lookup by key, the span-id hash, and which rows supersede which.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "model/span.h"
#include "xray/internal/columns.h"

namespace waggle::xray_internal {

inline bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// The attribute `key` of `s`, or null. Linear: rows have tens of attributes.
inline const Attribute* FindAttr(const Span& s, std::string_view key) {
  for (const Attribute& a : s.attributes) {
    if (a.key == key) return &a;
  }
  return nullptr;
}

inline bool BoolAttr(const Span& s, std::string_view key) {
  const Attribute* a = FindAttr(s, key);
  return a != nullptr && a->type == ValueType::kBool && a->b;
}

// A string attribute's value; empty if absent or not a string.
inline std::string_view StringAttr(const Span& s, std::string_view key) {
  const Attribute* a = FindAttr(s, key);
  return a != nullptr && a->type == ValueType::kString ? std::string_view(a->str)
                                                       : std::string_view();
}

struct SpanIdHash {
  size_t operator()(const SpanId& id) const {
    uint64_t v = 0;
    for (uint8_t b : id) v = (v << 8) | b;
    return std::hash<uint64_t>()(v);
  }
};

// When several rows share a span id: a completed row wins over an in-progress one; otherwise
// the one that ends later.
inline bool Supersedes(const Span& a, const Span& b) {
  bool a_open = BoolAttr(a, kInProgress), b_open = BoolAttr(b, kInProgress);
  if (a_open != b_open) return !a_open;
  return a.end_ns > b.end_ns;
}

}  // namespace waggle::xray_internal
