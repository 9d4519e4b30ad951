// libFuzzer target: the X-Ray daemon datagram and segment document decoder on arbitrary bytes.
//
// The input is treated as a datagram when it has a valid header line, else as a bare document,
// parsed in place with padding after it, as the daemon does, and checked against a parse of a
// copy.
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
    // As the daemon receives it: padding after the datagram (here quotes, which would change
    // the answer if the parser took them for part of the document).
    std::string buffer(reinterpret_cast<const char*>(data), size);
    buffer.append(waggle::xray::kDocumentPadding, '"');
    const std::string_view input = std::string_view(buffer).substr(0, size);
    waggle::StatusOr<std::string_view> doc = waggle::xray_internal::DatagramDocument(input);
    if (!doc.ok() && doc.status().message().empty()) std::abort();
    std::string_view document = doc.ok() ? *doc : input;
    auto info = waggle::xray::DecodeSegmentDocument(document, &batch, {},
                                                    waggle::xray::Padding::kPadded);
    // Parsed in place or from a copy, the answer is the same.
    waggle::SpanBatch copied;
    auto copied_info = waggle::xray::DecodeSegmentDocument(document, &copied);
    if (info.ok() != copied_info.ok() || batch.rows.size() != copied.rows.size()) std::abort();
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
