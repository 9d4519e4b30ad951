#include "net/internal/address.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "net/internal/absl_compat.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace waggle::net_internal {

StatusOr<HostPort> ParseHostPort(std::string_view address) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid address \"", ToAbsl(address), "\": ", ToAbsl(why),
                     " (expected host:port)"));
  };
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return bad("missing ':port'");
  std::string_view host = address.substr(0, colon);
  const std::string_view port_text = address.substr(colon + 1);
  if (!host.empty() && host.front() == '[') {
    if (host.size() < 2 || host.back() != ']') return bad("unbalanced '[' in IPv6 host");
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return bad("IPv6 hosts must be written in brackets, e.g. [::1]:8080");
  }
  if (port_text.empty()) return bad("empty port");
  uint32_t port = 0;
  if (port_text.size() > 5 ||
      !std::all_of(port_text.begin(), port_text.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(ToAbsl(port_text), &port) || port > 65535) {
    return bad(absl::StrCat("bad port \"", ToAbsl(port_text), "\" (0-65535)"));
  }
  return HostPort{std::string(host), static_cast<uint16_t>(port)};
}

std::string FormatEndpoint(const boost::asio::ip::tcp::endpoint& endpoint) {
  const auto addr = endpoint.address();
  if (addr.is_v6()) return absl::StrCat("[", addr.to_string(), "]:", endpoint.port());
  return absl::StrCat(addr.to_string(), ":", endpoint.port());
}

}  // namespace waggle::net_internal
