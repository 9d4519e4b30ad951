// libFuzzer target: DecodeOtlpTracesProtobuf on arbitrary bytes.
//
// Besides "no crash / no sanitizer report", checks the decoder's output invariants: every
// attribute range lies inside batch.attrs, every string view points into the input or the
// batch's arena (touched here so ASan sees any dangling view), and a successful decode
// survives a round trip through the encoder with the same span count.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "model/span.h"
#include "wire/otlp.h"
#include "wire/otlp_encode.h"

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
  std::string body(reinterpret_cast<const char*>(data), size);
  waggle::DecodeLimits limits;
  limits.max_decoded_bytes = 64 << 20;
  auto batch = waggle::DecodeOtlpTracesProtobuf(body, limits);
  if (!batch.ok()) {
    if (batch.status().message().empty()) std::abort();  // errors must say what is wrong
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
    if (row.row_kind == waggle::RowKind::kSpan && waggle::IsZero(row.trace_id)) std::abort();
  }
  for (const waggle::AttrView& a : batch->attrs) sum += Touch(a.key) + Touch(a.str);

  std::vector<waggle::Span> spans;
  for (size_t i = 0; i < batch->rows.size(); ++i) spans.push_back(waggle::ToSpan(*batch, i));
  std::string again = waggle::EncodeOtlpTracesProtobuf(spans);
  auto round = waggle::DecodeOtlpTracesProtobuf(again, limits);
  // Duplicate span ids multiply attached events, which may legitimately hit the budget.
  if (!round.ok() && round.status().code() != absl::StatusCode::kResourceExhausted) std::abort();
  if (round.ok() && round->span_count() != batch->span_count()) std::abort();
  return sum == 0xFFFFFFFF ? 1 : 0;  // keep `sum` observable
}
