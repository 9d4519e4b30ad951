// libFuzzer target: the X-Ray daemon datagram and segment document decoder on arbitrary bytes.
//
// The input is treated as a datagram when it has a valid header line, else as a bare document.
// Checks that errors carry a message, attribute ranges lie inside batch.attrs, every view is
// readable after the input is gone, and that whatever decodes re-encodes (EncodeTraceSegments)
// into documents that decode again (the BatchGetTraces round trip).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "model/span.h"
#include "xray/internal/datagram.h"
#include "xray/segment_document.h"

namespace {

size_t Touch(std::string_view s) {
  size_t sum = 0;
  for (char c : s) sum += static_cast<unsigned char>(c);
  return sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  waggle::SpanBatch batch;
  {
    std::string input(reinterpret_cast<const char*>(data), size);
    waggle::StatusOr<std::string_view> doc = waggle::xray_internal::DatagramDocument(input);
    if (!doc.ok() && doc.status().message().empty()) std::abort();
    std::string_view document = doc.ok() ? *doc : std::string_view(input);
    auto info = waggle::xray::DecodeSegmentDocument(document, &batch);
    if (!info.ok()) {
      if (info.status().message().empty() || !batch.rows.empty()) std::abort();
      return 0;
    }
    if (info->rows != batch.rows.size()) std::abort();
  }  // the input is destroyed here: views must not point into it
  size_t sum = 0;
  std::vector<waggle::Span> spans;
  for (size_t i = 0; i < batch.rows.size(); ++i) {
    const waggle::SpanRow& row = batch.rows[i];
    if (row.attrs.begin > row.attrs.end || row.attrs.end > batch.attrs.size()) std::abort();
    sum += Touch(row.name) + Touch(row.service_name) + Touch(row.status_message) +
           Touch(row.parent_name);
    spans.push_back(waggle::ToSpan(batch, i));
  }
  for (const waggle::AttrView& a : batch.attrs) sum += Touch(a.key) + Touch(a.str);

  waggle::xray::SegmentLimits unlimited;
  unlimited.max_document_bytes = std::numeric_limits<size_t>::max();
  for (const waggle::xray::EncodedSegment& seg : waggle::xray::EncodeTraceSegments(spans)) {
    waggle::SpanBatch again;
    if (!waggle::xray::DecodeSegmentDocument(seg.document, &again, unlimited).ok()) std::abort();
  }
  return sum == 0xFFFFFFFF ? 1 : 0;
}
