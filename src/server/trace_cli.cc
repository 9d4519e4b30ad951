#include "server/trace_cli.h"

#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <vector>

#include "net/http_client.h"

namespace waggle {
namespace {

constexpr const char* kRed = "\x1b[31m";
constexpr const char* kDim = "\x1b[2m";
constexpr const char* kReset = "\x1b[0m";
constexpr size_t kMaxDepth = 64;  // deeper spans are drawn at this indentation

std::string FormatMs(double ms) {
  char buf[32];
  if (ms < 1) {
    std::snprintf(buf, sizeof(buf), "%.3f ms", ms);
  } else if (ms < 1000) {
    std::snprintf(buf, sizeof(buf), "%.1f ms", ms);
  } else {
    std::snprintf(buf, sizeof(buf), "%.2f s", ms / 1000);
  }
  return buf;
}

std::string Pad(std::string s, size_t width) {
  // Pads by bytes, counting UTF-8 continuation bytes as zero width.
  size_t visible = 0;
  for (unsigned char c : s) visible += (c & 0xc0) != 0x80;
  if (visible < width) s.append(width - visible, ' ');
  return s;
}

std::string Bar(double offset_ms, double dur_ms, double total_ms, int width) {
  if (width <= 0) return "";
  double scale = total_ms > 0 ? width / total_ms : 0;
  int begin = std::clamp(static_cast<int>(std::floor(offset_ms * scale)), 0, width - 1);
  int len = std::max(1, static_cast<int>(std::lround(dur_ms * scale)));
  len = std::min(len, width - begin);
  std::string bar;
  bar.append(begin, ' ');
  for (int i = 0; i < len; ++i) bar.append("█");
  bar.append(width - begin - len, ' ');
  return bar;
}

template <typename T>
bool Get(simdjson::dom::element e, const char* key, T* out) {
  return e[key].get(*out) == simdjson::SUCCESS;
}

std::string StrOr(simdjson::dom::element e, const char* key, std::string_view fallback = "") {
  std::string_view v;
  return Get(e, key, &v) ? std::string(v) : std::string(fallback);
}

double NumOr(simdjson::dom::element e, const char* key) {
  double d;
  if (Get(e, key, &d)) return d;
  int64_t i;
  if (Get(e, key, &i)) return static_cast<double>(i);
  return 0;
}

}  // namespace

StatusOr<std::string> RenderWaterfall(std::string_view trace_json, bool color, int bar_width) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(trace_json);
  simdjson::dom::element doc;
  if (parser.parse(padded).get(doc) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("server sent invalid JSON");
  }
  simdjson::dom::array roots;
  if (doc["spans"].get(roots) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("server response has no 'spans' array");
  }
  int64_t trace_start = 0;
  Get(doc, "start_unix_nano", &trace_start);
  double total_ms = NumOr(doc, "duration_ms");

  struct Item {
    simdjson::dom::element span;
    size_t depth;
  };
  std::vector<Item> stack;
  std::vector<simdjson::dom::element> root_list;
  for (simdjson::dom::element r : roots) root_list.push_back(r);
  for (auto it = root_list.rbegin(); it != root_list.rend(); ++it) stack.push_back({*it, 0});

  // First pass: column widths.
  struct Line {
    size_t depth;
    std::string service, name;
    double offset_ms, dur_ms;
    bool error;
  };
  std::vector<Line> lines;
  while (!stack.empty()) {
    Item item = stack.back();
    stack.pop_back();
    Line l;
    l.depth = std::min(item.depth, kMaxDepth);
    l.service = StrOr(item.span, "service.name", "?");
    l.name = StrOr(item.span, "name", "?");
    int64_t start = 0;
    Get(item.span, "start_unix_nano", &start);
    l.offset_ms = (start - trace_start) / 1e6;
    l.dur_ms = NumOr(item.span, "duration_ms");
    bool error = false;
    Get(item.span, "error", &error);
    l.error = error;
    lines.push_back(std::move(l));
    simdjson::dom::array children;
    if (item.span["children"].get(children) == simdjson::SUCCESS) {
      std::vector<simdjson::dom::element> kids;
      for (simdjson::dom::element c : children) kids.push_back(c);
      for (auto it = kids.rbegin(); it != kids.rend(); ++it) {
        stack.push_back({*it, item.depth + 1});
      }
    }
  }
  size_t service_w = 7, name_w = 4;
  for (const Line& l : lines) {
    service_w = std::max(service_w, std::min<size_t>(l.service.size(), 24));
    name_w = std::max(name_w, std::min<size_t>(2 * l.depth + l.name.size(), 60));
  }
  std::string out;
  size_t errors = 0;
  for (const Line& l : lines) errors += l.error;
  out += "trace " + StrOr(doc, "trace_id") + "  " + std::to_string(lines.size()) + " spans, " +
         FormatMs(total_ms) + ", started " + StrOr(doc, "start");
  if (errors > 0) out += ", " + std::to_string(errors) + " with errors";
  out += "\n\n";
  std::string header = Pad("    offset", 12) + Pad("duration", 12) +
                       Pad("service", service_w + 2) + "span";
  out += header + "\n";
  for (const Line& l : lines) {
    std::string name = std::string(2 * l.depth, ' ') + l.name;
    if (name.size() > 60) name = name.substr(0, 57) + "...";
    std::string service = l.service.size() > 24 ? l.service.substr(0, 21) + "..." : l.service;
    std::string mark = !l.error ? "" : color ? std::string(kRed) + "✗ ERROR" + kReset : "ERROR";
    std::string bar = Bar(l.offset_ms, l.dur_ms, total_ms, bar_width);
    if (color && l.error) bar = std::string(kRed) + bar + kReset;
    char offset[32];
    std::snprintf(offset, sizeof(offset), "%10s", FormatMs(l.offset_ms).c_str());
    char dur[32];
    std::snprintf(dur, sizeof(dur), "%10s", FormatMs(l.dur_ms).c_str());
    out += std::string(offset) + "  " + dur + "  " + Pad(service, service_w + 2) +
           Pad(name, name_w + 2) + "|" + bar + "| " + mark;
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += "\n";
  }
  return out;
}

StatusOr<std::string> RenderTraceList(std::string_view list_json, bool color) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(list_json);
  simdjson::dom::element doc;
  simdjson::dom::array traces;
  if (parser.parse(padded).get(doc) != simdjson::SUCCESS ||
      doc["traces"].get(traces) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("server response has no 'traces' array");
  }
  std::string out = Pad("start", 32) + Pad("trace id", 34) + Pad("spans", 7) +
                    Pad("duration", 12) + "root\n";
  size_t n = 0;
  for (simdjson::dom::element t : traces) {
    ++n;
    bool error = false;
    Get(t, "error", &error);
    int64_t spans = 0;
    Get(t, "span_count", &spans);
    std::string line = Pad(StrOr(t, "start"), 32) + Pad(StrOr(t, "trace_id"), 34) +
                       Pad(std::to_string(spans), 7) +
                       Pad(FormatMs(NumOr(t, "duration_ms")), 12) + StrOr(t, "root_service") +
                       " " + StrOr(t, "root_name");
    if (error) line += color ? std::string(" ") + kRed + "✗ ERROR" + kReset : " ERROR";
    out += line + "\n";
  }
  if (n == 0) {
    out = "no traces yet — send some with OTLP to /v1/traces, or run `waggle demo`\n";
  } else if (color) {
    out += std::string(kDim) + "show one with: waggle trace <trace id>" + kReset + "\n";
  } else {
    out += "show one with: waggle trace <trace id>\n";
  }
  return out;
}

int RunTraceCommand(const TraceCommandOptions& options) {
  std::unique_ptr<HttpClient> client = NewHttpClient(options.server, 10000);
  std::vector<std::pair<std::string, std::string>> headers = {{"Accept", "application/json"}};
  if (!options.api_key.empty()) headers.emplace_back("x-honeycomb-team", options.api_key);
  std::string target;
  if (options.trace_id.empty()) {
    target = "/api/v1/traces?limit=" + std::to_string(options.limit);
    if (!options.service.empty()) {
      std::string encoded;
      for (unsigned char c : options.service) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
          encoded.push_back(static_cast<char>(c));
        } else {
          char buf[4];
          std::snprintf(buf, sizeof(buf), "%%%02X", c);
          encoded += buf;
        }
      }
      target += "&service=" + encoded;
    }
  } else {
    for (char c : options.trace_id) {
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != '-') {
        std::cerr << "waggle trace: '" << options.trace_id
                  << "' is not a trace id (expected 32 hex digits or 1-xxxxxxxx-xxx...)\n";
        return 1;
      }
    }
    target = "/api/v1/traces/" + options.trace_id;
  }
  StatusOr<HttpClientResponse> r = client->Request("GET", target, headers, "");
  if (!r.ok()) {
    std::cerr << "waggle trace: cannot reach waggle at " << options.server << ": "
              << r.status().message() << "\n(is `waggle serve` running? use --server HOST:PORT)\n";
    return 1;
  }
  if (r->status != 200) {
    std::string message = r->body;
    simdjson::dom::parser parser;
    simdjson::padded_string padded(r->body);
    simdjson::dom::element doc;
    std::string_view err;
    if (parser.parse(padded).get(doc) == simdjson::SUCCESS && doc["error"].get(err) ==
                                                                  simdjson::SUCCESS) {
      message = std::string(err);
    }
    std::cerr << "waggle trace: HTTP " << r->status << ": " << message << "\n";
    return 1;
  }
  if (options.json) {
    std::cout << r->body << "\n";
    return 0;
  }
  bool color = ::isatty(STDOUT_FILENO) == 1;
  StatusOr<std::string> text = options.trace_id.empty() ? RenderTraceList(r->body, color)
                                                        : RenderWaterfall(r->body, color);
  if (!text.ok()) {
    std::cerr << "waggle trace: " << text.status().message() << "\n";
    return 1;
  }
  std::cout << *text;
  return 0;
}

}  // namespace waggle
