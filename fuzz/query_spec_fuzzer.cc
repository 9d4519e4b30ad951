// libFuzzer target: the Honeycomb query spec, trace-search and BubbleUp parsers on arbitrary
// bytes.
//
// Checks that errors carry a message and that every accepted spec survives a round trip
// through its canonical JSON unchanged (ParseQuerySpecJson(QuerySpecToJson(s)) == s).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "api/bubbleup_json.h"
#include "api/query_json.h"
#include "api/trace_search_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto spec = waggle::ParseQuerySpecJson(input);
  if (!spec.ok()) {
    if (spec.status().message().empty()) std::abort();
  } else {
    auto again = waggle::ParseQuerySpecJson(waggle::QuerySpecToJson(*spec, "x"));
    if (!again.ok() || !(*again == *spec)) std::abort();
  }
  auto search = waggle::ParseTraceSearchJson(input, 1'800'000'000'000'000'000);
  if (!search.ok() && search.status().message().empty()) std::abort();
  auto bubbleup = waggle::ParseBubbleUpJson(input);
  if (!bubbleup.ok()) {
    if (bubbleup.status().message().empty()) std::abort();
  } else if (bubbleup->limit == 0 || bubbleup->limit > waggle::query::kBubbleUpMaxLimit) {
    std::abort();
  }
  return 0;
}
