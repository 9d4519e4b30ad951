#include "xray/trace_id.h"

#include <cctype>
#include <cstring>

#include "common/text.h"

namespace waggle::xray {
namespace {

constexpr size_t kXrayTraceIdLength = 35;  // "1-" + 8 + "-" + 24

std::string Shown(std::string_view s) {
  constexpr size_t kMaxShown = 64;
  return std::string(s.substr(0, kMaxShown)) + (s.size() > kMaxShown ? "..." : "");
}

}  // namespace

StatusOr<TraceId> ParseTraceId(std::string_view xray_id) {
  if (xray_id.size() != kXrayTraceIdLength || xray_id.substr(0, 2) != "1-" ||
      xray_id[10] != '-') {
    return absl::InvalidArgumentError(
        "invalid X-Ray trace id '" + Shown(xray_id) +
        "': expected 1-<8 hex digits>-<24 hex digits>, e.g. 1-5759e988-bd862e3fe1be46a994272793");
  }
  char hex[32];  // the 8 and 24 hex digits, without the dashes
  std::memcpy(hex, xray_id.data() + 2, 8);
  std::memcpy(hex + 8, xray_id.data() + 11, 24);
  TraceId id{};
  if (!ParseHex(std::string_view(hex, sizeof hex), &id)) {
    return absl::InvalidArgumentError("invalid X-Ray trace id '" + Shown(xray_id) +
                                      "': not hexadecimal");
  }
  if (IsZero(id)) {
    return absl::InvalidArgumentError("invalid X-Ray trace id '" + Shown(xray_id) +
                                      "': all zero");
  }
  return id;
}

std::string FormatTraceId(const TraceId& id) {
  std::string hex = ToHex(id);
  return "1-" + hex.substr(0, 8) + "-" + hex.substr(8);
}

StatusOr<SpanId> ParseSegmentId(std::string_view hex) {
  SpanId id{};
  if (!ParseHex(hex, &id)) {
    return absl::InvalidArgumentError("invalid segment id '" + Shown(hex) +
                                      "': expected 16 hex digits");
  }
  if (IsZero(id)) {
    return absl::InvalidArgumentError("invalid segment id '" + Shown(hex) + "': all zero");
  }
  return id;
}

StatusOr<TraceHeader> ParseTraceHeader(std::string_view header) {
  TraceHeader out;
  while (!header.empty()) {
    size_t semi = header.find(';');
    std::string_view part = TrimWhitespace(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      return absl::InvalidArgumentError("X-Amzn-Trace-Id: '" + Shown(part) +
                                        "' is not Key=Value");
    }
    std::string_view key = TrimWhitespace(part.substr(0, eq));
    std::string_view value = TrimWhitespace(part.substr(eq + 1));
    if (EqualsIgnoreCase(key, "Root")) {
      StatusOr<TraceId> root = ParseTraceId(value);
      if (!root.ok()) return Annotate(root.status(), "X-Amzn-Trace-Id Root");
      out.root = *root;
      out.has_root = true;
    } else if (EqualsIgnoreCase(key, "Parent")) {
      StatusOr<SpanId> parent = ParseSegmentId(value);
      if (!parent.ok()) return Annotate(parent.status(), "X-Amzn-Trace-Id Parent");
      out.parent = *parent;
      out.has_parent = true;
    } else if (EqualsIgnoreCase(key, "Sampled")) {
      if (value == "1") {
        out.sampled = TraceHeader::Sampled::kYes;
      } else if (value == "0") {
        out.sampled = TraceHeader::Sampled::kNo;
      } else if (value == "?") {
        out.sampled = TraceHeader::Sampled::kDefer;
      } else {
        return absl::InvalidArgumentError("X-Amzn-Trace-Id Sampled: '" + Shown(value) +
                                          "' is not 1, 0 or ?");
      }
    } else {
      out.extra.emplace_back(std::string(key), std::string(value));
    }
  }
  return out;
}

std::string FormatTraceHeader(const TraceHeader& header) {
  std::string out;
  auto add = [&out](std::string_view key, std::string_view value) {
    if (!out.empty()) out.push_back(';');
    out.append(key).push_back('=');
    out.append(value);
  };
  if (header.has_root) add("Root", FormatTraceId(header.root));
  if (header.has_parent) add("Parent", ToHex(header.parent));
  switch (header.sampled) {
    case TraceHeader::Sampled::kYes: add("Sampled", "1"); break;
    case TraceHeader::Sampled::kNo: add("Sampled", "0"); break;
    case TraceHeader::Sampled::kDefer: add("Sampled", "?"); break;
    case TraceHeader::Sampled::kUnknown: break;
  }
  for (const auto& [k, v] : header.extra) add(k, v);
  return out;
}

}  // namespace waggle::xray
