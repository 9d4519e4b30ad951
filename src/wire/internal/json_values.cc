#include "wire/internal/json_values.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <string>

#include "wire/internal/decode_util.h"

namespace waggle::wire_internal {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

bool JsonIsNull(element e) { return e.type() == element_type::NULL_VALUE; }

bool JsonToInteger(element e, int64_t lo, uint64_t hi, int64_t* out_signed,
                   uint64_t* out_unsigned) {
  switch (e.type()) {
    case element_type::INT64: {
      int64_t v = e.get_int64().value_unsafe();
      if (v < lo || (v >= 0 && static_cast<uint64_t>(v) > hi)) return false;
      *out_signed = v;
      *out_unsigned = static_cast<uint64_t>(v);
      return true;
    }
    case element_type::UINT64: {
      uint64_t v = e.get_uint64().value_unsafe();
      if (v > hi) return false;
      *out_signed = static_cast<int64_t>(v);
      *out_unsigned = v;
      return true;
    }
    case element_type::DOUBLE: {  // e.g. 1.7e18 from a client that lost integer precision
      double d = e.get_double().value_unsafe();
      if (!std::isfinite(d) || d != std::floor(d) || d < static_cast<double>(lo) ||
          d >= 18446744073709551616.0 || d > static_cast<double>(hi)) {
        return false;
      }
      if (d < 0) {
        *out_signed = static_cast<int64_t>(d);
        *out_unsigned = static_cast<uint64_t>(*out_signed);
      } else {
        *out_unsigned = static_cast<uint64_t>(d);
        *out_signed = static_cast<int64_t>(*out_unsigned);
      }
      return true;
    }
    case element_type::STRING: {
      std::string_view s = e.get_string().value_unsafe();
      if (s.empty()) return false;
      const char* b = s.data();
      const char* end = b + s.size();
      if (*b == '-') {
        int64_t v;
        auto res = std::from_chars(b, end, v);
        if (res.ec != std::errc() || res.ptr != end || v < lo) return false;
        *out_signed = v;
        *out_unsigned = static_cast<uint64_t>(v);
        return true;
      }
      uint64_t v;
      auto res = std::from_chars(b, end, v);
      if (res.ec != std::errc() || res.ptr != end || v > hi) return false;
      *out_signed = static_cast<int64_t>(v);
      *out_unsigned = v;
      return true;
    }
    default:
      return false;
  }
}

bool JsonToDouble(element e, double* out) {
  switch (e.type()) {
    case element_type::INT64: *out = static_cast<double>(e.get_int64().value_unsafe()); return true;
    case element_type::UINT64:
      *out = static_cast<double>(e.get_uint64().value_unsafe());
      return true;
    case element_type::DOUBLE: *out = e.get_double().value_unsafe(); return true;
    case element_type::STRING: {
      std::string_view s = e.get_string().value_unsafe();
      if (s == "NaN") *out = std::numeric_limits<double>::quiet_NaN();
      else if (s == "Infinity") *out = std::numeric_limits<double>::infinity();
      else if (s == "-Infinity") *out = -std::numeric_limits<double>::infinity();
      else {
        auto res = std::from_chars(s.data(), s.data() + s.size(), *out);
        return res.ec == std::errc() && res.ptr == s.data() + s.size() && !s.empty();
      }
      return true;
    }
    default:
      return false;
  }
}

namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool IsHexString(std::string_view s) {
  if (s.size() % 2 != 0) return false;
  for (char c : s) {
    if (HexDigit(c) < 0) return false;
  }
  return true;
}

bool IsAnyValueMember(std::string_view k) {
  return k == "stringValue" || k == "boolValue" || k == "intValue" || k == "doubleValue" ||
         k == "arrayValue" || k == "kvlistValue" || k == "bytesValue";
}

namespace {

// Appends the JSON text of an AnyValue object; false if nested too deep.
bool AnyValueToText(element e, int nesting, const DecodeLimits& limits, std::string* out) {
  object any;
  if (e.get_object().get(any) != simdjson::SUCCESS) {
    out->append("null");
    return true;
  }
  std::string_view member;
  element v;
  for (auto field : any) {
    if (IsAnyValueMember(field.key) && !JsonIsNull(field.value)) {
      member = field.key;
      v = field.value;
    }
  }
  if (member.empty()) {
    out->append("null");
    return true;
  }
  return JsonMemberToText(member, v, nesting, limits, out);
}

}  // namespace

bool JsonMemberToText(std::string_view member, element v, int nesting,
                    const DecodeLimits& limits, std::string* out) {
  if (nesting > limits.max_nesting) return false;
  const size_t max = limits.max_string_bytes;
  if (member == "stringValue" || member == "bytesValue") {
    std::string_view s;
    if (v.get_string().get(s) != simdjson::SUCCESS) s = {};
    AppendJsonString(TruncateUtf8(s, max), out);
  } else if (member == "boolValue") {
    bool b = false;
    if (v.get_bool().get(b) != simdjson::SUCCESS) b = false;
    out->append(b ? "true" : "false");
  } else if (member == "intValue") {
    int64_t i = 0;
    uint64_t ignored;
    if (JsonToInteger(v, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
                  &i, &ignored)) {
      out->append(std::to_string(i));
    } else {
      out->append("null");
    }
  } else if (member == "doubleValue") {
    double d = 0;
    if (JsonToDouble(v, &d)) AppendJsonDouble(d, out);
    else out->append("null");
  } else {  // arrayValue / kvlistValue: {"values": [...]}
    const bool is_array = member == "arrayValue";
    out->push_back(is_array ? '[' : '{');
    object holder;
    array values;
    bool has_values = false;
    if (v.get_object().get(holder) == simdjson::SUCCESS) {
      for (auto field : holder) {
        if (field.key == "values") {
          has_values = field.value.get_array().get(values) == simdjson::SUCCESS;
        }
      }
    }
    bool first = true;
    if (!has_values) {
      out->push_back(is_array ? ']' : '}');
      return true;
    }
    for (element item : values) {
      if (out->size() > max) break;
      if (!first) out->push_back(',');
      first = false;
      if (is_array) {
        if (!AnyValueToText(item, nesting + 1, limits, out)) return false;
        continue;
      }
      std::string_view key;
      element value;
      bool has_value = false;
      object kv;
      if (item.get_object().get(kv) == simdjson::SUCCESS) {
        for (auto field : kv) {
          if (field.key == "key" && field.value.get_string().get(key) != simdjson::SUCCESS) {
            key = {};
          }
          if (field.key == "value") {
            value = field.value;
            has_value = true;
          }
        }
      }
      AppendJsonString(TruncateUtf8(key, max), out);
      out->push_back(':');
      if (has_value) {
        if (!AnyValueToText(value, nesting + 1, limits, out)) return false;
      } else {
        out->append("null");
      }
    }
    out->push_back(is_array ? ']' : '}');
  }
  return true;
}

}  // namespace waggle::wire_internal
