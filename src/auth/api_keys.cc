#include "auth/api_keys.h"

#include <algorithm>
#include <cctype>

#include "common/text.h"


namespace waggle {
namespace {

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i]))) {
      return false;
    }
  }
  return true;
}

// Constant-time in the contents of both strings for equal lengths; a length mismatch is
// still compared over max(len) bytes so timing reveals at most the length.
bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  size_t n = std::max(a.size(), b.size());
  volatile unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff = diff | (x ^ y);
  }
  return diff == 0;
}

// Strips the port from "host:port" / "[v6]:port"; returns a bare address unchanged.
std::string_view HostOf(std::string_view address) {
  if (!address.empty() && address.front() == '[') {
    size_t close = address.find(']');
    return close == std::string_view::npos ? address.substr(1) : address.substr(1, close - 1);
  }
  size_t first = address.find(':');
  if (first != std::string_view::npos && address.find(':', first + 1) == std::string_view::npos) {
    return address.substr(0, first);  // exactly one colon: IPv4 host:port
  }
  return address;  // bare IPv4 or bare IPv6
}

bool IsIpv4Loopback(std::string_view host) {
  // 127.0.0.0/8: "127." followed by three dotted numbers.
  if (host.substr(0, 4) != "127.") return false;
  int dots = 0;
  for (char c : host) {
    if (c == '.') {
      ++dots;
    } else if (!std::isdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return dots == 3;
}

}  // namespace

ApiKeys::ApiKeys(std::vector<std::string> keys) {
  for (std::string& k : keys) {
    std::string_view trimmed = TrimWhitespace(k);
    if (!trimmed.empty()) keys_.emplace_back(trimmed);
  }
}

std::string_view ApiKeys::PresentedKey(const HttpRequest& request) {
  std::string_view team = TrimWhitespace(request.Header("x-honeycomb-team"));
  if (!team.empty()) return team;
  std::string_view auth = TrimWhitespace(request.Header("authorization"));
  if (StartsWithIgnoreCase(auth, "bearer ")) {
    return TrimWhitespace(auth.substr(7));
  }
  return {};
}

bool ApiKeys::IsLoopback(std::string_view remote_address) {
  std::string_view host = HostOf(remote_address);
  if (host == "::1" || host == "0:0:0:0:0:0:0:1") return true;
  if (StartsWithIgnoreCase(host, "::ffff:")) host.remove_prefix(7);
  return IsIpv4Loopback(host);
}

Status ApiKeys::Check(const HttpRequest& request) const {
  if (keys_.empty()) {
    if (IsLoopback(request.remote_address)) return OkStatus();
    return absl::UnauthenticatedError(
        "no API keys are configured (local mode), so only loopback clients are accepted; "
        "request came from " +
        (request.remote_address.empty() ? std::string("an unknown peer")
                                        : request.remote_address) +
        " — start waggle with --api-key to accept remote clients");
  }
  std::string_view presented = PresentedKey(request);
  if (presented.empty()) {
    return absl::UnauthenticatedError(
        "missing API key: send it in the x-honeycomb-team header (or Authorization: Bearer)");
  }
  bool match = false;
  for (const std::string& key : keys_) match |= ConstantTimeEquals(presented, key);
  if (!match) return absl::UnauthenticatedError("unknown API key");
  return OkStatus();
}

}  // namespace waggle
