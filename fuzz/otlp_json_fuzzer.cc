// libFuzzer target: DecodeOtlpTracesJson on arbitrary bytes.
//
// Checks that errors carry a message, attribute ranges lie inside batch.attrs and every
// string view is readable after the input is gone (the JSON decoder copies into the arena).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "model/span.h"
#include "wire/otlp.h"

namespace {

size_t Touch(std::string_view s) {
  size_t sum = 0;
  for (char c : s) sum += static_cast<unsigned char>(c);
  return sum;
}

void CheckRange(const waggle::SpanBatch& b, waggle::AttrRange r) {
  if (r.begin > r.end || r.end > b.attrs.size()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  waggle::DecodeLimits limits;
  limits.max_decoded_bytes = 64 << 20;
  auto batch = [&] {
    std::string body(reinterpret_cast<const char*>(data), size);
    return waggle::DecodeOtlpTracesJson(body, limits);
  }();  // the body is destroyed here: views must not point into it
  if (!batch.ok()) {
    if (batch.status().message().empty()) std::abort();
    return 0;
  }
  size_t sum = 0;
  for (const waggle::SpanRow& row : batch->rows) {
    CheckRange(*batch, row.resource_attrs);
    CheckRange(*batch, row.scope_attrs);
    CheckRange(*batch, row.attrs);
    sum += Touch(row.name) + Touch(row.service_name) + Touch(row.status_message) +
           Touch(row.trace_state) + Touch(row.scope_name) + Touch(row.scope_version) +
           Touch(row.parent_name);
  }
  for (const waggle::AttrView& a : batch->attrs) sum += Touch(a.key) + Touch(a.str);
  return sum == 0xFFFFFFFF ? 1 : 0;
}
