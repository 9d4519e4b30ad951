// Request body decoding for HttpServer: undoes `Content-Encoding` (gzip, deflate) with a
// hard limit on the inflated size. Internal to waggle_net.
//
// Thread-safety: stateless free functions; safe to call concurrently.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace waggle::net_internal {

// Inflates `input` according to the HTTP `encoding` header value (case-insensitive;
// "", "identity", "gzip", "x-gzip", "deflate") into `*out`, which is cleared first (its
// capacity is reused). Multi-member gzip streams are accepted.
// Errors (the message is meant for the client):
//   kResourceExhausted — the inflated body would exceed `max_bytes`;
//   kInvalidArgument   — a corrupt or truncated stream ("invalid gzip body: ...");
//   kUnimplemented     — an unsupported encoding.
// For "" / "identity" `*out` receives a copy; callers should avoid calling it then.
Status DecodeBody(std::string_view encoding, std::string_view input, size_t max_bytes,
                  std::string* out);

// True if `encoding` means "no transformation" ("" or "identity").
bool IsIdentityEncoding(std::string_view encoding);

}  // namespace waggle::net_internal
