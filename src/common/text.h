// Small text helpers shared by the parsers of configuration, credentials and headers.
//
// Thread-safety: pure functions.
#pragma once

#include <cctype>
#include <string>
#include <string_view>

#include "common/status.h"

namespace waggle {

// `s` without leading and trailing whitespace (std::isspace in the C locale).
inline std::string_view TrimWhitespace(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// Calls fn(where, line) for every line of a `file_name` text that is neither blank nor a
// comment (first character in `comment_chars`), with the line trimmed and `where` the
// "file:line: " prefix for error messages. Stops at, and returns, the first error fn returns.
template <typename Fn>
Status ForEachContentLine(std::string_view text, std::string_view file_name,
                          std::string_view comment_chars, Fn&& fn) {
  int line_no = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    const std::string_view line = TrimWhitespace(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    if (line.empty() || comment_chars.find(line.front()) != std::string_view::npos) continue;
    RETURN_IF_ERROR(fn(std::string(file_name) + ":" + std::to_string(line_no) + ": ", line));
  }
  return OkStatus();
}

}  // namespace waggle
