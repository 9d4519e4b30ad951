// libFuzzer target: X-Ray filter expressions (untrusted text from GetTraceSummaries and
// CreateGroup/UpdateGroup). Parses, renders, and evaluates against a small trace.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "xray/filter_expression.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto expr = waggle::xray::FilterExpression::Parse(text);
  if (!expr.ok()) return 0;
  (void)expr->DebugString();
  waggle::xray::TraceFacts trace;
  trace.http_status = 500;
  trace.users = {"alice"};
  trace.annotations = {{"k", 1.0}, {"s", std::string("v")}};
  trace.services.resize(2);
  trace.services[0].name = "a";
  trace.services[0].root = true;
  trace.edges.resize(1);
  trace.root_causes.resize(1);
  trace.root_causes[0].services.resize(1);
  trace.root_causes[0].services[0].entity_path.resize(1);
  trace.root_causes[0].services[0].entity_path[0].exceptions.resize(1);
  auto self = std::make_shared<waggle::xray::FilterExpression>(*expr);
  (void)expr->Matches(trace, [&](std::string_view, bool) { return self; });
  return 0;
}
