// Status and StatusOr<T>: waggle's single error channel (abseil's types).
//
// waggle code does not throw. Functions that can fail return Status or StatusOr<T>; the
// macros below propagate failures and may add context. Third-party exceptions are caught in
// the adapter that wraps the library and turned into a Status there.
#pragma once

#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace waggle {

using Status = absl::Status;
template <typename T>
using StatusOr = absl::StatusOr<T>;

inline Status OkStatus() { return absl::OkStatus(); }

// Returns `s` with "context: " prepended to its message, keeping its code.
inline Status Annotate(const Status& s, std::string_view context) {
  if (s.ok()) return s;
  // absl::string_view is not std::string_view in Debian's abseil build; convert explicitly.
  return Status(s.code(),
                absl::StrCat(absl::string_view(context.data(), context.size()), ": ", s.message()));
}

}  // namespace waggle

#define WAGGLE_CONCAT_INNER_(a, b) a##b
#define WAGGLE_CONCAT_(a, b) WAGGLE_CONCAT_INNER_(a, b)

// RETURN_IF_ERROR(expr): returns the Status of `expr` from the enclosing function if not ok.
#define RETURN_IF_ERROR(expr)                        \
  do {                                               \
    ::waggle::Status waggle_status_ = (expr);        \
    if (!waggle_status_.ok()) return waggle_status_; \
  } while (0)

// RETURN_IF_ERROR_CTX(expr, context): as RETURN_IF_ERROR, prefixing the message with context.
#define RETURN_IF_ERROR_CTX(expr, context)                                       \
  do {                                                                           \
    ::waggle::Status waggle_status_ = (expr);                                    \
    if (!waggle_status_.ok()) return ::waggle::Annotate(waggle_status_, context); \
  } while (0)

// ASSIGN_OR_RETURN(lhs, expr): evaluates the StatusOr `expr`; on error returns its status,
// otherwise moves the value into `lhs` (which may be a declaration, e.g. `auto x`).
#define ASSIGN_OR_RETURN(lhs, expr) \
  WAGGLE_ASSIGN_OR_RETURN_IMPL_(WAGGLE_CONCAT_(waggle_statusor_, __LINE__), lhs, expr)
#define WAGGLE_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()
