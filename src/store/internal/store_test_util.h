// Test helpers for the store: span batch construction and comparison, and an Env wrapper
// that "crashes" (fails every operation) after a budget of mutating operations.
// Test-only; not part of waggle_store.
#pragma once

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "env/env.h"
#include "model/span.h"

namespace waggle::store_internal {

inline TraceId TestTraceId(uint64_t n) {
  TraceId id{};
  for (int i = 0; i < 8; ++i) id[i] = static_cast<uint8_t>((n * 0x9e3779b97f4a7c15ull) >> (8 * i));
  for (int i = 0; i < 8; ++i) id[8 + i] = static_cast<uint8_t>(n >> (8 * i));
  return id;
}
inline SpanId TestSpanId(uint64_t n) {
  SpanId id{};
  for (int i = 0; i < 8; ++i) id[i] = static_cast<uint8_t>((n * 0xc2b2ae3d27d4eb4full + 1) >> (8 * i));
  return id;
}

// Builds a SpanBatch whose strings live in its arena.
class BatchBuilder {
 public:
  SpanRow& Add(RowKind kind, const TraceId& trace, const SpanId& span, const SpanId& parent,
               int64_t start, int64_t end, std::string_view name, std::string_view service) {
    SpanRow r;
    r.row_kind = kind;
    r.trace_id = trace;
    r.span_id = span;
    r.parent_span_id = parent;
    r.start_ns = start;
    r.end_ns = end;
    r.name = batch_.arena.Store(std::string(name));
    r.service_name = batch_.arena.Store(std::string(service));
    r.scope_name = batch_.arena.Store("io.opentelemetry.flask");
    r.scope_version = batch_.arena.Store("0.41b0");
    const uint32_t a = static_cast<uint32_t>(batch_.attrs.size());
    r.resource_attrs = {a, a};
    r.scope_attrs = {a, a};
    r.attrs = {a, a};
    batch_.rows.push_back(r);
    return batch_.rows.back();
  }
  // Attribute setters append to the last row's own (or resource) attributes.
  void Str(std::string_view key, std::string_view value, bool resource = false) {
    AttrView v;
    v.key = batch_.arena.Store(std::string(key));
    v.type = ValueType::kString;
    v.str = batch_.arena.Store(std::string(value));
    Push(v, resource);
  }
  void Int(std::string_view key, int64_t value) {
    AttrView v;
    v.key = batch_.arena.Store(std::string(key));
    v.type = ValueType::kInt;
    v.i = value;
    Push(v, false);
  }
  void Dbl(std::string_view key, double value) {
    AttrView v;
    v.key = batch_.arena.Store(std::string(key));
    v.type = ValueType::kDouble;
    v.d = value;
    Push(v, false);
  }
  void Bool(std::string_view key, bool value) {
    AttrView v;
    v.key = batch_.arena.Store(std::string(key));
    v.type = ValueType::kBool;
    v.b = value;
    Push(v, false);
  }
  SpanBatch& batch() { return batch_; }
  SpanBatch Take() { return std::move(batch_); }

 private:
  // Attributes of a row must be contiguous; resource ones are placed before own ones by
  // re-ordering the row's attribute slice.
  void Push(const AttrView& v, bool resource) {
    SpanRow& r = batch_.rows.back();
    if (resource) {
      batch_.attrs.insert(batch_.attrs.begin() + r.resource_attrs.end, v);
      ++r.resource_attrs.end;
      ++r.scope_attrs.begin;
      ++r.scope_attrs.end;
      ++r.attrs.begin;
    } else {
      batch_.attrs.push_back(v);
    }
    ++r.attrs.end;
  }
  SpanBatch batch_;
};

// Canonical text of a span (attributes sorted) for equality checks.
inline std::string Canonical(Span s) {
  std::sort(s.attributes.begin(), s.attributes.end(), [](const Attribute& a, const Attribute& b) {
    return a.key != b.key ? a.key < b.key : a.type < b.type;
  });
  std::string out = ToHex(s.trace_id) + "/" + ToHex(s.span_id) + "<" + ToHex(s.parent_span_id) +
                    " k" + std::to_string(static_cast<int>(s.row_kind)) + " " +
                    std::to_string(s.start_ns) + ".." + std::to_string(s.end_ns) + " " + s.name +
                    "|" + s.service_name + "|" + std::to_string(static_cast<int>(s.kind)) + "|" +
                    std::to_string(static_cast<int>(s.status_code)) + "|" + s.status_message +
                    "|" + s.trace_state + "|" + std::to_string(s.flags) + "|" + s.scope_name +
                    "|" + s.scope_version + "|" + s.parent_name + "|" + ToHex(s.link_trace_id) +
                    "/" + ToHex(s.link_span_id);
  for (const Attribute& a : s.attributes) {
    out += " " + a.key + ":" + std::to_string(static_cast<int>(a.type)) + "=";
    switch (a.type) {
      case ValueType::kString: out += a.str; break;
      case ValueType::kInt: out += std::to_string(a.i); break;
      case ValueType::kBool: out += a.b ? "true" : "false"; break;
      case ValueType::kDouble: {
        uint64_t bits;
        std::memcpy(&bits, &a.d, 8);
        out += std::to_string(bits);
        break;
      }
    }
  }
  return out;
}

inline std::vector<std::string> CanonicalAll(const std::vector<Span>& spans) {
  std::vector<std::string> out;
  for (const Span& s : spans) out.push_back(Canonical(s));
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace waggle::store_internal
