// "host:port" parsing and endpoint formatting shared by HttpServer and HttpClient.
// Internal to waggle_net. Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>

#include "common/status.h"

namespace waggle::net_internal {

struct HostPort {
  std::string host;  // without brackets for IPv6; empty means "all interfaces"
  uint16_t port = 0;
};

// Parses "host:port", "[v6]:port" or ":port". Errors name the offending text.
StatusOr<HostPort> ParseHostPort(std::string_view address);

// Formats as "127.0.0.1:8080" or "[::1]:8080".
std::string FormatEndpoint(const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace waggle::net_internal
