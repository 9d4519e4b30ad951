// Debian's abseil is built with its own absl::string_view (not an alias of
// std::string_view); these convert explicitly at the boundary. Internal to waggle_net.
#pragma once

#include <string_view>

#include "absl/strings/string_view.h"

namespace waggle::net_internal {

inline absl::string_view ToAbsl(std::string_view s) { return {s.data(), s.size()}; }
inline std::string_view ToStd(absl::string_view s) { return {s.data(), s.size()}; }

}  // namespace waggle::net_internal
