#include "xray/internal/datagram.h"

#include <cctype>
#include <string>

#include "simdjson.h"

namespace waggle::xray_internal {
namespace {

constexpr size_t kMaxHeaderBytes = 256;

bool IsBlank(std::string_view s) {
  for (char c : s) {
    if (!std::isspace(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

StatusOr<std::string_view> NonBlank(std::string_view document) {
  if (IsBlank(document)) return absl::InvalidArgumentError("datagram has an empty document");
  return document;
}

}  // namespace

StatusOr<std::string_view> DatagramDocument(std::string_view datagram) {
  size_t newline = datagram.find('\n');
  if (newline == std::string_view::npos) {
    return absl::InvalidArgumentError("datagram has no header line (no newline)");
  }
  std::string_view header = datagram.substr(0, newline);
  if (header.size() > kMaxHeaderBytes) {
    return absl::InvalidArgumentError("datagram header line longer than 256 bytes");
  }
  // The headers the SDKs send, byte for byte, need no JSON parse.
  if (header == R"({"format":"json","version":1})" ||
      header == R"({"format": "json", "version": 1})") {
    return NonBlank(datagram.substr(newline + 1));
  }
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::string_view format;
  int64_t version = 0;
  if (parser.parse(header.data(), header.size()).get(root) != simdjson::SUCCESS ||
      root["format"].get(format) != simdjson::SUCCESS ||
      root["version"].get(version) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(
        "datagram header is not {\"format\": \"json\", \"version\": 1}");
  }
  std::string lower;
  for (char c : format) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (lower != "json" || version != 1) {
    return absl::InvalidArgumentError("datagram header has an unsupported format or version");
  }
  return NonBlank(datagram.substr(newline + 1));
}

}  // namespace waggle::xray_internal
