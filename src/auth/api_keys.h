// ApiKeys: the configured API keys and the check every ingest and API request goes through.
//
// A request presents its key in `x-honeycomb-team: <key>` (Honeycomb's header, also sent by
// OTLP exporters configured with OTEL_EXPORTER_OTLP_HEADERS) or `Authorization: Bearer <key>`.
// Keys are compared in constant time (the comparison does not stop at the first mismatch).
//
// Local mode: with no key configured, any key (or none) is accepted from loopback peers
// (127.0.0.0/8, ::1, ::ffff:127.x) and every other peer is rejected with a message saying no
// keys are configured — a laptop install works with zero set-up and is never open to the LAN.
//
// Thread-safety: immutable after construction; Check() is safe from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "net/http_server.h"

namespace waggle {

class ApiKeys {
 public:
  // Empty strings are ignored; duplicates are harmless.
  explicit ApiKeys(std::vector<std::string> keys = {});

  // OK if the request may proceed; Unauthenticated with a message naming the problem
  // (missing key, unknown key, non-loopback peer in local mode) otherwise.
  Status Check(const HttpRequest& request) const;

  // True when no key is configured.
  bool local_mode() const { return keys_.empty(); }
  size_t size() const { return keys_.size(); }

  // The key the request presents (x-honeycomb-team, else the Bearer token), or empty.
  static std::string_view PresentedKey(const HttpRequest& request);
  // True if `remote_address` ("127.0.0.1:5432", "[::1]:80", "::1") is a loopback peer.
  static bool IsLoopback(std::string_view remote_address);

 private:
  std::vector<std::string> keys_;
};

}  // namespace waggle
