// The daemon datagram: a JSON header line, "\n", one segment document (waggle_xray-internal).
// Thread-safety: pure functions.
#pragma once

#include <string_view>

#include "common/status.h"

namespace waggle::xray_internal {

// Returns the document part of a datagram. The header must be a JSON object whose "format" is
// "json" (any case) and whose "version" is 1, as the AWS daemon checks; it is parsed as JSON,
// never string-compared. Splits on the first "\n" only. InvalidArgument naming the problem for
// a missing newline, a bad header or an empty document.
StatusOr<std::string_view> DatagramDocument(std::string_view datagram);

}  // namespace waggle::xray_internal
