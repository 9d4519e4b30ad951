// JsonWriter: builds compact JSON text for API responses without an intermediate tree.
//
// Commas are inserted automatically; Key() must precede each value inside an object.
// Strings are escaped per RFC 8259 (control characters as \u00XX; invalid UTF-8 passed
// through byte for byte is replaced by U+FFFD so the output is always valid UTF-8 JSON).
// Non-finite doubles are written as null. The writer does not check nesting balance;
// callers pair Begin/End.
//
// Thread-safety: a JsonWriter is used by one thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace waggle {

class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view s);
  JsonWriter& Int(int64_t v);
  JsonWriter& Uint(uint64_t v);
  JsonWriter& Double(double v);
  JsonWriter& Bool(bool v);
  JsonWriter& Null();
  // Inserts `json` (a complete, valid JSON value the caller vouches for) as the next value.
  JsonWriter& Raw(std::string_view json);

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void BeforeValue();

  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

// Appends `s` as a quoted, escaped JSON string to `*out`.
void AppendJsonString(std::string_view s, std::string* out);

// {"error": message}
std::string JsonError(std::string_view message);

}  // namespace waggle
