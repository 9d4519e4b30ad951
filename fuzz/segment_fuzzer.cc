// libFuzzer target: untrusted bytes as a segment file (docs/formats/segment.md), opened and read
// through a MemEnv. Checksums would stop almost every mutation at the first check, so the
// harness seals the input instead: input = u8 version selector (2, 3 or 4) | u16 footer length | body |
// footer; the harness decodes the footer, recomputes every block's checksum over the body,
// re-encodes the footer and appends a trailer with the footer's checksum. The decoders behind
// the checksums (trace index, validity, int/double/string encodings, parent references, start
// times) then see the mutated bytes. Invariants beyond "no crash": a segment that opens reads
// every block and every row range, or fails cleanly.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/crc32c.h"
#include "env/env.h"
#include "store/internal/coding.h"
#include "store/internal/segment_format.h"
#include "store/internal/segment_reader.h"

namespace {

using namespace waggle;
using namespace waggle::store_internal;

constexpr uint64_t kMaxRowsRead = 1 << 16;  // keeps ReadRows' allocation bounded

// Recomputes the checksums of every block the footer references (within `file`).
void Seal(const std::string& file, SegmentFooter* footer) {
  auto seal = [&](BlockMeta& b) {
    if (b.offset <= file.size() && b.length <= file.size() - b.offset) {
      b.crc = crc32c::Mask(crc32c::Value(std::string_view(file).substr(b.offset, b.length)));
    }
  };
  seal(footer->trace_index);
  for (ColumnMeta& c : footer->columns) {
    for (BlockMeta& b : c.blocks) seal(b);
  }
}

void ReadEverything(const Segment& seg) {
  for (size_t c = 0; c < seg.footer().columns.size(); ++c) {
    for (size_t b = 0; b < seg.blocks() && b < 64; ++b) {
      (void)seg.ReadBlock(c, b);
      (void)seg.ReadBlock(c, b, Segment::BlockDetail::kPresence);
    }
  }
  const uint64_t rows = std::min<uint64_t>(seg.rows(), kMaxRowsRead);
  (void)seg.ReadRows(0, rows);
  (void)seg.ReadRowRanges({{0, rows / 2}, {rows / 2, rows}}, Segment::RowDetail::kSummary);
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  seg.FindTrace(seg.footer().min_trace_id, &ranges);
  for (const ServiceRange& s : seg.footer().services) (void)seg.ServiceRows(s.service);
  (void)seg.ForEachRoot(INT64_MIN, INT64_MAX, [](const TraceId&, int64_t, std::string_view) {});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  constexpr uint32_t kVersions[] = {3, 2, 4};  // selector % 3 (seeds: 0 = demo_v3, 2 = demo_v4)
  const uint32_t version = kVersions[data[0] % 3];
  const size_t footer_len = std::min<size_t>(data[1] | (size_t{data[2]} << 8), size - 3);
  const std::string_view rest(reinterpret_cast<const char*>(data) + 3, size - 3);
  std::string file = SegmentHeader();
  file.replace(8, 4, std::string("\0\0\0\0", 4));
  file[8] = static_cast<char>(version);
  file.append(rest.substr(0, rest.size() - footer_len));
  SegmentFooter footer;
  footer.format_version = version;
  std::string footer_bytes(rest.substr(rest.size() - footer_len));
  const uint64_t size_with_footer = file.size() + footer_bytes.size() + kSegmentTrailerSize;
  if (DecodeFooter(footer_bytes, size_with_footer, &footer).ok()) {
    Seal(file, &footer);
    footer_bytes.clear();
    EncodeFooter(footer, &footer_bytes);
  }
  file.append(footer_bytes);
  std::string trailer = SegmentTrailer(footer_bytes);
  trailer[8] = static_cast<char>(version);
  file.append(trailer);
  auto env = NewMemEnv();
  if (!env->CreateDirs("/d").ok() || !env->WriteFileAtomic("/d/seg", file).ok()) std::abort();
  auto seg = Segment::Open(env.get(), "/d/seg");
  if (seg.ok()) ReadEverything(**seg);
  return 0;
}
