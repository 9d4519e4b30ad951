// Helpers shared by the OTLP decoders (waggle-internal): arena copies under a memory budget,
// JSON text building for flattened attribute values, base64, UTF-8-safe truncation, error
// locations.
//
// Thread-safety: plain values and pure functions; a DecodeBudget/ArenaWriter belongs to one
// decode call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

#include "common/status.h"
#include "model/span.h"
#include "wire/otlp.h"

namespace waggle::wire_internal {

// Concatenates string pieces and integers. (Debian's abseil has its own absl::string_view,
// so absl::StrCat does not take std::string_view.)
inline void AppendPiece(std::string* out, std::string_view s) { out->append(s); }
inline void AppendPiece(std::string* out, const char* s) { out->append(s); }
inline void AppendPiece(std::string* out, char c) { out->push_back(c); }
template <typename T>
  requires std::is_integral_v<T>
inline void AppendPiece(std::string* out, T v) {
  out->append(std::to_string(v));
}
template <typename... Args>
std::string Cat(const Args&... args) {
  std::string out;
  (AppendPiece(&out, args), ...);
  return out;
}

// Attribute nesting flattened into dotted keys: a top-level attribute is depth 1; kvlists
// whose entries would sit deeper than this become JSON text.
inline constexpr int kMaxFlattenDepth = 5;

inline constexpr std::string_view kUnknownService = "unknown_service";

// Tracks the memory a decoded batch uses (rows, attribute views, arena bytes) against
// DecodeLimits::max_decoded_bytes.
class DecodeBudget {
 public:
  explicit DecodeBudget(size_t max_bytes) : remaining_(max_bytes), max_(max_bytes) {}
  // Charges `n` bytes; false once the budget is exhausted.
  bool Charge(size_t n) {
    if (n > remaining_) {
      remaining_ = 0;
      return false;
    }
    remaining_ -= n;
    return true;
  }
  Status Exhausted() const;

 private:
  size_t remaining_;
  size_t max_;
};

// Copies strings into a StringArena, charged to the decode budget. Views stay valid as long as
// the arena's strings.
class ArenaWriter {
 public:
  ArenaWriter(StringArena* arena, DecodeBudget* budget) : arena_(arena), budget_(budget) {}
  ArenaWriter(const ArenaWriter&) = delete;
  ArenaWriter& operator=(const ArenaWriter&) = delete;

  // Returns a stable copy of `s`, or false if the budget is exhausted.
  bool Copy(std::string_view s, std::string_view* out);

 private:
  StringArena* arena_;
  DecodeBudget* budget_;
};

// Longest prefix of `s` of at most `max` bytes that does not split a UTF-8 sequence.
std::string_view TruncateUtf8(std::string_view s, size_t max);

// Appends `s` as a JSON string literal (quotes included). Control characters are escaped and
// invalid UTF-8 is replaced by U+FFFD, so the output is always valid JSON.
void AppendJsonString(std::string_view s, std::string* out);
// Appends a JSON number for `d` (shortest round-trip form); NaN/Infinity become strings
// "NaN"/"Infinity"/"-Infinity" as in proto3 JSON.
void AppendJsonDouble(double d, std::string* out);

// Standard base64 with padding.
void AppendBase64(std::string_view bytes, std::string* out);

// The service name for rows of a resource: service.name trimmed; missing, blank or starting
// with "unknown_service" gives "unknown_service" (Honeycomb's dataset rule).
std::string_view NormalizeServiceName(const SpanBatch& batch, AttrRange resource_attrs);

// Where a decoder is in the request, for error messages such as
// "resource_spans[0].scope_spans[1].spans[3].events[0]: ...".
struct Location {
  enum class Sub : uint8_t { kNone, kEvent, kLink };
  struct Names {
    std::string_view resource_spans, scope_spans, spans, events, links;
  };
  const Names* names;
  int resource_spans = -1;
  int scope_spans = -1;
  int spans = -1;
  Sub sub = Sub::kNone;
  int sub_index = -1;

  std::string ToString() const;
};

inline constexpr Location::Names kProtoNames{"resource_spans", "scope_spans", "spans", "events",
                                             "links"};
inline constexpr Location::Names kJsonNames{"resourceSpans", "scopeSpans", "spans", "events",
                                            "links"};

// InvalidArgument "<location>: <message>" (just the message at the top level).
Status InvalidAt(const Location& where, std::string_view message);

}  // namespace waggle::wire_internal
