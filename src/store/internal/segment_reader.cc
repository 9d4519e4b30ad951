#include "store/internal/segment_reader.h"

#include <algorithm>
#include <cstring>

#include "common/crc32c.h"
#include "store/internal/coding.h"
#include "store/internal/column_codec.h"

namespace waggle::store_internal {
namespace {

Status Corrupt(std::string_view path, std::string_view what) {
  return absl::DataLossError(absl::StrCat("segment ", std::string(path), ": ", std::string(what)));
}

// Spreads `non_null` packed values over `rows` slots following `valid`.
template <typename T>
void Expand(const std::vector<uint8_t>& valid, size_t rows, std::vector<T>* v, T fill) {
  if (valid.empty()) return;
  std::vector<T> dense(rows, fill);
  size_t k = 0;
  for (size_t i = 0; i < rows; ++i) {
    if (valid[i]) dense[i] = (*v)[k++];
  }
  v->swap(dense);
}

}  // namespace

StatusOr<std::shared_ptr<Segment>> Segment::Open(Env* env, const std::string& path) {
  std::shared_ptr<Segment> seg(new Segment());
  seg->env_ = env;
  seg->path_ = path;
  ASSIGN_OR_RETURN(seg->file_, env->NewRandomAccessFile(path));
  const uint64_t size = seg->file_->Size();
  seg->file_bytes_ = size;
  if (size < kSegmentHeaderSize + kSegmentTrailerSize) return Corrupt(path, "file too short");
  char head_buf[kSegmentHeaderSize], tail_buf[kSegmentTrailerSize];
  ASSIGN_OR_RETURN(std::string_view header, seg->file_->Read(0, kSegmentHeaderSize, head_buf));
  ASSIGN_OR_RETURN(std::string_view trailer,
                   seg->file_->Read(size - kSegmentTrailerSize, kSegmentTrailerSize, tail_buf));
  if (header.size() != kSegmentHeaderSize || trailer.size() != kSegmentTrailerSize ||
      std::memcmp(header.data(), kSegmentMagic, 8) != 0 ||
      std::memcmp(trailer.data() + 12, kSegmentMagic, 8) != 0) {
    return Corrupt(path, "bad magic");
  }
  uint32_t version = DecodeFixed32(header.data() + 8);
  if (version < kOldestSegmentFormatVersion || version > kSegmentFormatVersion ||
      DecodeFixed32(trailer.data() + 8) != version) {
    return Corrupt(path, absl::StrCat("unsupported format version ", version, " (this build reads ",
                                      kOldestSegmentFormatVersion, " to ", kSegmentFormatVersion,
                                      ")"));
  }
  seg->footer_.format_version = version;
  uint64_t footer_len = DecodeFixed32(trailer.data());
  uint32_t footer_crc = crc32c::Unmask(DecodeFixed32(trailer.data() + 4));
  if (footer_len > size - kSegmentHeaderSize - kSegmentTrailerSize ||
      footer_len > kMaxFooterBytes) {
    return Corrupt(path, "bad footer length");
  }
  std::string footer_buf(footer_len, '\0');
  ASSIGN_OR_RETURN(std::string_view footer, seg->file_->Read(size - kSegmentTrailerSize -
                                                                 footer_len,
                                                             footer_len, footer_buf.data()));
  if (footer.size() != footer_len || crc32c::Value(footer) != footer_crc) {
    return Corrupt(path, "footer checksum mismatch");
  }
  RETURN_IF_ERROR(Annotate(DecodeFooter(footer, size, &seg->footer_), path));
  std::fill(std::begin(seg->fixed_index_), std::end(seg->fixed_index_), SIZE_MAX);
  for (size_t i = 0; i < seg->footer_.columns.size(); ++i) {
    const ColumnMeta& c = seg->footer_.columns[i];
    if (!c.fixed) continue;
    if (c.fixed_id == FixedColumn::kTraceId) return Corrupt(path, "trace id stored as a column");
    if (seg->fixed_index_[static_cast<int>(c.fixed_id)] != SIZE_MAX) {
      return Corrupt(path, "duplicate fixed column");
    }
    seg->fixed_index_[static_cast<int>(c.fixed_id)] = i;
  }
  for (int c = 1; c < kFixedColumnCount; ++c) {
    if (seg->fixed_index_[c] == SIZE_MAX) return Corrupt(path, "missing fixed column");
  }
  for (size_t i = 0; i < seg->footer_.columns.size(); ++i) {
    const ColumnMeta& c = seg->footer_.columns[i];
    if (!c.fixed) seg->attribute_columns_[c.name].push_back(i);
  }
  RETURN_IF_ERROR(seg->LoadTraceIndex());
  return seg;
}

const std::vector<size_t>& Segment::attribute_columns(std::string_view name) const {
  static const std::vector<size_t> kNone;
  auto it = attribute_columns_.find(absl::string_view(name.data(), name.size()));
  return it == attribute_columns_.end() ? kNone : it->second;
}

Segment::~Segment() {
  if (obsolete_.load()) {
    file_.reset();
    (void)env_->RemoveFile(path_);  // best effort: a leftover is dropped again at next open
  }
}

StatusOr<std::string_view> Segment::ReadStored(const BlockMeta& b, std::string* buffer) const {
  buffer->resize(b.length);
  ASSIGN_OR_RETURN(std::string_view data, file_->Read(b.offset, b.length, buffer->data()));
  if (data.size() != b.length) return Corrupt(path_, "short read");
  if (crc32c::Value(data) != crc32c::Unmask(b.crc)) return Corrupt(path_, "block checksum mismatch");
  if (data.data() != buffer->data()) std::memcpy(buffer->data(), data.data(), data.size());
  return std::string_view(*buffer);
}

Status Segment::LoadRunTraceIds(ByteReader* in, std::vector<uint32_t>* ordinals) {
  const uint64_t n = footer_.trace_count;
  trace_ids_.resize(n);
  std::string_view table;
  if (footer_.format_version < 3) {  // one id per run
    if (!in->ReadBytes(16 * n, &table)) return Corrupt(path_, "bad trace index size");
    for (uint64_t i = 0; i < n; ++i) std::memcpy(trace_ids_[i].data(), table.data() + 16 * i, 16);
    return OkStatus();
  }
  const uint64_t distinct = footer_.distinct_traces;
  if (distinct > n || !in->ReadBytes(16 * distinct, &table)) {
    return Corrupt(path_, "bad trace index size");
  }
  // The table ascends strictly and lies within the footer's range, so every run's id does.
  for (uint64_t d = 1; d < distinct; ++d) {
    if (std::memcmp(table.data() + 16 * (d - 1), table.data() + 16 * d, 16) >= 0) {
      return Corrupt(path_, "unsorted trace index");
    }
  }
  if (distinct > 0 &&
      (std::memcmp(table.data(), footer_.min_trace_id.data(), 16) < 0 ||
       std::memcmp(table.data() + 16 * (distinct - 1), footer_.max_trace_id.data(), 16) > 0)) {
    return Corrupt(path_, "trace id outside the footer's range");
  }
  ordinals->resize(n);
  int64_t ordinal = 0;
  for (uint64_t i = 0; i < n; ++i) {
    int64_t delta;
    if (!in->ReadZigZag(&delta) || delta < -ordinal || delta >= static_cast<int64_t>(distinct) - ordinal) {
      return Corrupt(path_, "bad trace index ordinal");
    }
    ordinal += delta;
    (*ordinals)[i] = static_cast<uint32_t>(ordinal);
    std::memcpy(trace_ids_[i].data(), table.data() + 16 * ordinal, 16);
  }
  return OkStatus();
}

// Runs ordered by (trace id, run): a counting sort by table position when the index has one
// (version 3 on), else a comparison sort of the ids.
void Segment::GroupRunsByTrace(const std::vector<uint32_t>& ordinals) {
  const size_t n = trace_ids_.size();
  runs_by_trace_.resize(n);
  if (ordinals.empty()) {
    for (uint32_t i = 0; i < n; ++i) runs_by_trace_[i] = i;
    std::sort(runs_by_trace_.begin(), runs_by_trace_.end(), [this](uint32_t a, uint32_t b) {
      return trace_ids_[a] < trace_ids_[b] || (trace_ids_[a] == trace_ids_[b] && a < b);
    });
    return;
  }
  std::vector<uint32_t> begin(footer_.distinct_traces + 1, 0);
  for (uint32_t d : ordinals) ++begin[d + 1];
  for (size_t d = 1; d < begin.size(); ++d) begin[d] += begin[d - 1];
  for (uint32_t i = 0; i < n; ++i) runs_by_trace_[begin[ordinals[i]]++] = i;
}

Status Segment::LoadTraceIndex() {
  std::string buffer;
  ASSIGN_OR_RETURN(std::string_view data, ReadStored(footer_.trace_index, &buffer));
  std::string raw_index;
  if (footer_.format_version >= 4) {
    RETURN_IF_ERROR(
        Annotate(DecompressBlock(data, kMaxBlockRawBytes, &raw_index, &data), path_));
  }
  const uint64_t n = footer_.trace_count;
  // Every run takes at least 2 bytes of the index (bounds the allocations below).
  if ((footer_.row_count > 0) != (n > 0) || data.size() / 2 < n || n > UINT32_MAX) {
    return Corrupt(path_, "bad trace index size");
  }
  ByteReader runs(data);
  std::vector<uint32_t> ordinals;  // by run, its id's table position (version 3 on)
  RETURN_IF_ERROR(LoadRunTraceIds(&runs, &ordinals));
  const bool by_ordinal = !ordinals.empty();
  trace_starts_.resize(n + 1);
  // Version 2: ids ascend over the whole index. Version 3: within each service's range, whose
  // bounds no run crosses.
  std::vector<uint64_t> service_ends;
  uint64_t row = 0;
  for (const ServiceRange& s : footer_.services) service_ends.push_back(row += s.rows);
  if (service_ends.empty()) service_ends.push_back(footer_.row_count);
  size_t service = 0;
  row = 0;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t len;
    if (!runs.ReadVarint(&len) || len == 0 || len > footer_.row_count - row) {
      return Corrupt(path_, "bad trace index run");
    }
    const bool service_begins = service > 0 && row == service_ends[service - 1];
    const bool ascends = i == 0 || (by_ordinal ? ordinals[i - 1] < ordinals[i]
                                               : trace_ids_[i - 1] < trace_ids_[i]);
    if (!service_begins && !ascends) return Corrupt(path_, "unsorted trace index");
    if (!by_ordinal &&
        (trace_ids_[i] < footer_.min_trace_id || footer_.max_trace_id < trace_ids_[i])) {
      return Corrupt(path_, "trace id outside the footer's range");
    }
    trace_starts_[i] = row;
    row += len;
    if (row > service_ends[service]) return Corrupt(path_, "trace run crosses a service range");
    if (row == service_ends[service] && service + 1 < service_ends.size()) ++service;
  }
  trace_starts_[n] = row;
  if (row != footer_.row_count || !runs.empty()) return Corrupt(path_, "trace index row mismatch");
  if (footer_.services.size() > 1) GroupRunsByTrace(ordinals);
  return OkStatus();
}

size_t Segment::blocks() const {
  return (footer_.row_count + footer_.block_rows - 1) / footer_.block_rows;
}

size_t Segment::block_row_count(size_t block) const {
  uint64_t lo = uint64_t{block} * footer_.block_rows;
  return static_cast<size_t>(std::min<uint64_t>(footer_.block_rows, footer_.row_count - lo));
}

bool Segment::FindTrace(const TraceId& id,
                        std::vector<std::pair<uint64_t, uint64_t>>* ranges) const {
  if (trace_ids_.empty() || id < footer_.min_trace_id || footer_.max_trace_id < id) return false;
  const size_t before = ranges->size();
  if (runs_by_trace_.empty()) {  // one sorted run per trace
    auto it = std::lower_bound(trace_ids_.begin(), trace_ids_.end(), id);
    if (it == trace_ids_.end() || *it != id) return false;
    const size_t i = it - trace_ids_.begin();
    ranges->emplace_back(trace_starts_[i], trace_starts_[i + 1]);
    return true;
  }
  auto it = std::lower_bound(runs_by_trace_.begin(), runs_by_trace_.end(), id,
                             [this](uint32_t run, const TraceId& t) { return trace_ids_[run] < t; });
  for (; it != runs_by_trace_.end() && trace_ids_[*it] == id; ++it) {
    ranges->emplace_back(trace_starts_[*it], trace_starts_[*it + 1]);
  }
  return ranges->size() > before;
}

std::optional<std::pair<uint64_t, uint64_t>> Segment::ServiceRows(
    std::string_view service) const {
  if (footer_.services.empty()) return std::nullopt;
  uint64_t begin = 0;
  for (const ServiceRange& s : footer_.services) {
    if (s.service == service) return std::make_pair(begin, begin + s.rows);
    begin += s.rows;
  }
  return std::make_pair(uint64_t{0}, uint64_t{0});
}

const TraceId& Segment::TraceOfRow(uint64_t row) const {
  auto it = std::upper_bound(trace_starts_.begin(), trace_starts_.end(), row);
  return trace_ids_[(it - trace_starts_.begin()) - 1];
}

namespace {

// A parent-ref exception: the raw id (run == 0), or (version 4) row `offset` of the
// (run - 1)-th run, ascending, of the row's trace.
struct ParentException {
  uint64_t run = 0;
  uint64_t offset = 0;
  std::string_view raw;
};

bool ReadParentExceptions(ByteReader* in, uint64_t n, bool run_refs,
                          std::vector<ParentException>* out) {
  out->resize(n);
  for (ParentException& e : *out) {
    if (run_refs && !in->ReadVarint(&e.run)) return false;
    if (e.run == 0 ? !in->ReadBytes(8, &e.raw) : !in->ReadVarint(&e.offset)) return false;
  }
  return true;
}

}  // namespace

const DecodedBlock* Segment::SpanIdBlocks::Find(size_t block) const {
  for (const auto& [b, d] : blocks_) {
    if (b == block) return d.get();
  }
  return nullptr;
}

const DecodedBlock* Segment::SpanIdBlocks::Add(size_t block, DecodedBlock d) {
  blocks_.emplace_back(block, std::make_unique<DecodedBlock>(std::move(d)));
  return blocks_.back().second.get();
}

StatusOr<const DecodedBlock*> Segment::SpanIdBlock(size_t block, SpanIdBlocks* cache) const {
  if (const DecodedBlock* d = cache->Find(block)) return d;
  ASSIGN_OR_RETURN(DecodedBlock d, ReadBlock(fixed_column(FixedColumn::kSpanId), block));
  return cache->Add(block, std::move(d));
}

StatusOr<DecodedBlock> Segment::ReadBlock(size_t column, size_t block, BlockDetail detail) const {
  return ReadBlockCached(column, block, detail, nullptr, RowWindow{});
}

StatusOr<DecodedBlock> Segment::ReadBlockCached(size_t column, size_t block, BlockDetail detail,
                                                SpanIdBlocks* cache, RowWindow window) const {
  if (column >= footer_.columns.size() || block >= blocks()) {
    return absl::OutOfRangeError("no such segment block");
  }
  const ColumnMeta& col = footer_.columns[column];
  DecodedBlock out;
  out.physical = col.physical;
  out.stored_buffer = std::make_unique<std::string>();
  out.raw_buffer = std::make_unique<std::string>();
  ASSIGN_OR_RETURN(std::string_view stored, ReadStored(col.blocks[block], out.stored_buffer.get()));
  std::string_view raw;
  RETURN_IF_ERROR(
      Annotate(DecompressBlock(stored, kMaxBlockRawBytes, out.raw_buffer.get(), &raw), path_));
  RETURN_IF_ERROR(DecodeValues(column, block, raw, detail, cache, window, &out));
  return out;
}

bool Segment::ReadStartParts(ByteReader* in, size_t block, size_t rows, StartParts* p) const {
  if (!in->ReadByte(&p->mode) || p->mode > 1) return false;
  if (p->mode == 0) return DecodeInts(in, rows, &p->firsts);
  if (rows == 0) return true;
  // The runs overlapping the block: run `first_run` holds its first row; a run begins at
  // each later trace_starts_ entry below the block's end.
  p->lo = uint64_t{block} * footer_.block_rows;
  p->first_run = static_cast<size_t>(
      std::upper_bound(trace_starts_.begin(), trace_starts_.end(), p->lo) - trace_starts_.begin() - 1);
  p->end_run = p->first_run + 1;
  while (p->end_run < trace_starts_.size() && trace_starts_[p->end_run] < p->lo + rows) ++p->end_run;
  const size_t n_first = p->end_run - p->first_run;
  return n_first <= rows && DecodeInts(in, n_first, &p->firsts) &&
         DecodeInts(in, rows - n_first, &p->offsets);
}

bool Segment::DecodeStarts(ByteReader* in, size_t block, size_t rows,
                           std::vector<int64_t>* out) const {
  StartParts p;
  if (!ReadStartParts(in, block, rows, &p)) return false;
  if (p.mode == 0) {
    out->insert(out->end(), p.firsts.begin(), p.firsts.end());
    return true;
  }
  if (rows == 0) return true;
  const size_t old = out->size();
  out->resize(old + rows);
  int64_t* dst = out->data() + old;
  const int64_t* offset = p.offsets.data();
  size_t row = 0;
  for (size_t run = p.first_run; run < p.end_run; ++run) {
    const size_t run_end = run + 1 < trace_starts_.size()
                               ? std::min<uint64_t>(trace_starts_[run + 1] - p.lo, rows)
                               : rows;
    const uint64_t first = static_cast<uint64_t>(p.firsts[run - p.first_run]);
    dst[row] = static_cast<int64_t>(first);
    for (size_t i = row + 1; i < run_end; ++i) {
      dst[i] = static_cast<int64_t>(first + static_cast<uint64_t>(*offset++));
    }
    row = run_end;
  }
  return row == rows;
}

Status Segment::StartsOfRows(size_t block, const std::vector<uint32_t>& rows, int64_t* dense) const {
  if (block >= blocks()) return absl::OutOfRangeError("no such segment block");
  const ColumnMeta& col = footer_.columns[fixed_column(FixedColumn::kStart)];
  std::string stored_buffer, raw_buffer;
  ASSIGN_OR_RETURN(std::string_view stored, ReadStored(col.blocks[block], &stored_buffer));
  std::string_view raw;
  RETURN_IF_ERROR(Annotate(DecompressBlock(stored, kMaxBlockRawBytes, &raw_buffer, &raw), path_));
  ByteReader in(raw);
  const size_t n = block_row_count(block);
  uint64_t count;
  std::vector<uint8_t> valid;
  size_t non_null = 0;
  StartParts p;
  if (!in.ReadVarint(&count) || count != n || !DecodeValidity(&in, n, &valid, &non_null) ||
      non_null != n || !ReadStartParts(&in, block, n, &p) || !in.empty()) {
    return Corrupt(path_, "bad start times");
  }
  if (p.mode == 0) {
    for (uint32_t r : rows) {
      if (r >= n) return absl::OutOfRangeError("no such row");
      dense[r] = p.firsts[r];
    }
    return OkStatus();
  }
  // Row r of run t (rows ascend, so t only moves forward) is the run's first row, or the
  // (r - runs begun so far)-th of the other rows, whose offsets follow the firsts.
  size_t run = p.first_run;
  uint32_t previous = 0;
  for (uint32_t r : rows) {
    if (r >= n) return absl::OutOfRangeError("no such row");
    if (r < previous) run = p.first_run;  // not ascending after all: walk again from the top
    previous = r;
    while (run + 1 < p.end_run && trace_starts_[run + 1] <= p.lo + r) ++run;
    const size_t begun = run - p.first_run + 1;
    const bool first_row = r == 0 || trace_starts_[run] == p.lo + r;
    const uint64_t first = static_cast<uint64_t>(p.firsts[run - p.first_run]);
    dense[r] = first_row ? static_cast<int64_t>(first)
                         : static_cast<int64_t>(first + static_cast<uint64_t>(p.offsets[r - begun]));
  }
  return OkStatus();
}

std::span<const uint32_t> Segment::TraceRuns(size_t t, uint32_t* self) const {
  if (runs_by_trace_.empty()) {
    *self = static_cast<uint32_t>(t);
    return {self, 1};
  }
  const TraceId& id = trace_ids_[t];
  auto first = std::lower_bound(runs_by_trace_.begin(), runs_by_trace_.end(), id,
                                [this](uint32_t r, const TraceId& x) { return trace_ids_[r] < x; });
  auto last = first;
  while (last != runs_by_trace_.end() && trace_ids_[*last] == id) ++last;
  return {&*first, static_cast<size_t>(last - first)};
}

Status Segment::DecodeParentRefs(ByteReader* in, size_t block, BlockDetail detail,
                                 SpanIdBlocks* cache, RowWindow window, DecodedBlock* out) const {
  const size_t rows = out->rows;
  out->width = 8;
  std::vector<int64_t> refs;
  uint64_t n_exc;
  if (!DecodeInts(in, rows, &refs) || !in->ReadVarint(&n_exc) || n_exc > rows) {
    return Corrupt(path_, "bad parent references");
  }
  if (detail == BlockDetail::kPresence) {
    // Every non-zero ref names a parent (a raw exception is never all zero), so the
    // exceptions need not be parsed.
    out->valid.resize(rows);
    for (size_t i = 0; i < rows; ++i) out->valid[i] = refs[i] != 0;
    std::string_view rest;
    (void)in->ReadBytes(in->rest().size(), &rest);
    return OkStatus();
  }
  std::vector<ParentException> exceptions;
  if (!ReadParentExceptions(in, n_exc, footer_.format_version >= 4, &exceptions)) {
    return Corrupt(path_, "bad parent references");
  }
  SpanIdBlocks local;  // when the caller keeps none
  if (cache == nullptr) cache = &local;
  ASSIGN_OR_RETURN(const DecodedBlock* own, SpanIdBlock(block, cache));
  const DecodedBlock& spans = *own;
  auto span_id_at = [&](uint64_t row) -> StatusOr<const char*> {
    ASSIGN_OR_RETURN(const DecodedBlock* d, SpanIdBlock(static_cast<size_t>(row / footer_.block_rows), cache));
    return &d->bytes[(row % footer_.block_rows) * 8];
  };
  const uint64_t block_lo = uint64_t{block} * footer_.block_rows;
  out->bytes.assign(rows * 8, '\0');
  size_t k = 0;
  // The run of row i (rows ascend, so it only moves forward) and, once needed, its trace's runs.
  size_t run = static_cast<size_t>(
      std::upper_bound(trace_starts_.begin(), trace_starts_.end(), block_lo) - trace_starts_.begin() - 1);
  size_t runs_of = SIZE_MAX;
  std::span<const uint32_t> runs;
  uint32_t self = 0;
  for (size_t i = 0; i < rows; ++i) {
    while (run + 1 < trace_ids_.size() && trace_starts_[run + 1] <= block_lo + i) ++run;
    const uint64_t ref = static_cast<uint64_t>(refs[i]);
    if (ref == 0) continue;
    char* dst = &out->bytes[i * 8];
    if (ref == 1) {
      if (k == exceptions.size()) return Corrupt(path_, "bad parent references");
      const ParentException& e = exceptions[k++];
      if (e.run == 0) {
        if (e.raw.find_first_not_of('\0') == std::string_view::npos) {
          return Corrupt(path_, "bad parent reference: a raw exception of zeros");
        }
        std::memcpy(dst, e.raw.data(), 8);
        continue;
      }
      if (i < window.lo || i >= window.hi) continue;  // a row the read does not need
      if (runs_of != run) {
        runs = TraceRuns(run, &self);
        runs_of = run;
      }
      if (e.run > runs.size() ||
          e.offset >= trace_starts_[runs[e.run - 1] + 1] - trace_starts_[runs[e.run - 1]]) {
        return Corrupt(path_, "bad parent reference to another run");
      }
      ASSIGN_OR_RETURN(const char* id, span_id_at(trace_starts_[runs[e.run - 1]] + e.offset));
      std::memcpy(dst, id, 8);
      continue;
    }
    const int64_t target = static_cast<int64_t>(i) - UnZigZag(ref - 1);
    if (target < 0 || static_cast<uint64_t>(target) >= rows) {
      return Corrupt(path_, "bad parent references");
    }
    std::memcpy(dst, &spans.bytes[target * 8], 8);
  }
  if (k != exceptions.size()) return Corrupt(path_, "bad parent references");
  return OkStatus();
}

Status Segment::DecodeValues(size_t column, size_t block, std::string_view raw,
                             BlockDetail detail, SpanIdBlocks* cache, RowWindow window,
                             DecodedBlock* out) const {
  const ColumnMeta& col = footer_.columns[column];
  ByteReader in(raw);
  const size_t rows = block_row_count(block);
  uint64_t n;
  size_t non_null = 0;
  if (!in.ReadVarint(&n) || n != rows || !DecodeValidity(&in, rows, &out->valid, &non_null) ||
      rows - non_null != col.blocks[block].null_count) {
    return Corrupt(path_, "bad block header");
  }
  out->rows = rows;
  bool ok = true;
  switch (col.physical) {
    case Physical::kInt:
      if (col.fixed && col.fixed_id == FixedColumn::kStart) {
        ok = non_null == rows && DecodeStarts(&in, block, rows, &out->ints);
        break;
      }
      ok = non_null == 0 || DecodeInts(&in, non_null, &out->ints);
      if (ok) Expand<int64_t>(out->valid, rows, &out->ints, 0);
      break;
    case Physical::kDouble:
      ok = non_null == 0 || DecodeDoubles(&in, non_null, &out->doubles);
      if (ok) Expand<double>(out->valid, rows, &out->doubles, 0.0);
      break;
    case Physical::kString: {
      if (non_null > 0 && !in.empty() &&
          static_cast<uint8_t>(in.rest()[0]) == static_cast<uint8_t>(StringEncoding::kSameAs)) {
        uint8_t enc;
        uint64_t target;
        ok = in.ReadByte(&enc) && in.ReadVarint(&target) && target < column &&
             footer_.columns[target].physical == Physical::kString;
        if (!ok) break;
        ASSIGN_OR_RETURN(DecodedBlock ref, ReadBlock(static_cast<size_t>(target), block));
        out->strs.assign(rows, std::string_view());
        for (size_t i = 0; i < rows && ok; ++i) {
          if (!out->IsValid(i)) continue;
          ok = ref.IsValid(i);
          if (ok) out->strs[i] = ref.strs[i];
        }
        out->same_as_block = std::make_unique<DecodedBlock>(std::move(ref));
        break;
      }
      // A read of some rows (a window) materialises only their values.
      size_t first = 0, count = SIZE_MAX;
      if (window.lo > 0 || window.hi < rows) {
        const size_t lo = std::min(window.lo, rows), hi = std::min(window.hi, rows);
        first = out->valid.empty() ? lo : std::count(out->valid.begin(), out->valid.begin() + lo, 1);
        count = out->valid.empty() ? hi - lo
                                   : std::count(out->valid.begin() + lo, out->valid.begin() + hi, 1);
      }
      DecodedStrings s;
      ok = non_null == 0 || DecodeStrings(&in, non_null, &s, first, count);
      if (!ok) break;
      out->strs = std::move(s.values);
      out->text_buffer = std::move(s.text);
      Expand<std::string_view>(out->valid, rows, &out->strs, std::string_view());
      out->dict_encoded = s.dict_encoded;
      if (s.dict_encoded) {
        out->dict = std::move(s.dict);
        out->codes = std::move(s.codes);
        Expand<uint32_t>(out->valid, rows, &out->codes, 0);
      }
      break;
    }
    case Physical::kBytes: {
      out->width = FixedColumnWidth(col.fixed_id);
      std::string_view packed;
      ok = col.fixed && out->width > 0 && in.ReadBytes(non_null * out->width, &packed);
      if (!ok) break;
      out->bytes.assign(rows * out->width, '\0');
      for (size_t i = 0, k = 0; i < rows; ++i) {
        if (out->IsValid(i)) std::memcpy(&out->bytes[i * out->width], &packed[k++ * out->width],
                                         out->width);
      }
      break;
    }
    case Physical::kParentRef:
      ok = non_null == rows;
      if (ok) RETURN_IF_ERROR(DecodeParentRefs(&in, block, detail, cache, window, out));
      break;
  }
  if (!ok || !in.empty()) return Corrupt(path_, "bad block values");
  return OkStatus();
}

Status Segment::FillColumn(size_t column, const std::vector<RowRange>& ranges, RowDetail detail,
                           SpanIdBlocks* cache, std::vector<Span>* spans) const {
  const ColumnMeta& col = footer_.columns[column];
  const uint64_t br = footer_.block_rows;
  const bool span_ids = col.fixed && col.fixed_id == FixedColumn::kSpanId;
  const bool parent_presence =
      detail == RowDetail::kSummary && col.fixed && col.fixed_id == FixedColumn::kParentId;
  DecodedBlock owned;
  const DecodedBlock* d = nullptr;
  uint64_t decoded = UINT64_MAX;  // the block `d` holds; ranges are sorted, so each decodes once
  for (size_t r = 0; r < ranges.size(); ++r) {
    const RowRange& range = ranges[r];
    for (uint64_t b = range.begin / br; b * br < range.end; ++b) {
      if (col.blocks[b].null_count == block_row_count(b)) continue;
      if (decoded != b) {
        if (span_ids) {
          ASSIGN_OR_RETURN(d, SpanIdBlock(b, cache));
        } else {
          // The block's rows this read needs: from this range to the last range in the block.
          RowWindow window;
          window.lo = static_cast<size_t>(std::max(range.begin, b * br) - b * br);
          size_t last = r;
          while (last + 1 < ranges.size() && ranges[last + 1].begin < (b + 1) * br) ++last;
          window.hi = static_cast<size_t>(std::min(ranges[last].end, (b + 1) * br) - b * br);
          ASSIGN_OR_RETURN(owned, ReadBlockCached(column, b,
                                                  parent_presence ? BlockDetail::kPresence
                                                                  : BlockDetail::kValues,
                                                  cache, window));
          d = &owned;
        }
        decoded = b;
      }
      const uint64_t lo = std::max(range.begin, b * br), hi = std::min(range.end, (b + 1) * br);
      for (uint64_t row = lo; row < hi; ++row) {
        const size_t i = row - b * br;
        Span& span = (*spans)[range.offset + (row - range.begin)];
        if (!d->IsValid(i)) continue;
        if (parent_presence) {
          span.parent_span_id = kParentPresent;
        } else {
          FillValue(col, *d, i, &span);
        }
      }
    }
  }
  return OkStatus();
}

void Segment::FillValue(const ColumnMeta& col, const DecodedBlock& d, size_t i, Span* span) {
  Span& s = *span;
  if (!col.fixed) {
    Attribute a;
    a.key = col.name;
    a.type = col.type;
    switch (col.type) {
      case ValueType::kString: a.str = std::string(d.strs[i]); break;
      case ValueType::kInt: a.i = d.ints[i]; break;
      case ValueType::kBool: a.b = d.ints[i] != 0; break;
      case ValueType::kDouble: a.d = d.doubles[i]; break;
    }
    s.attributes.push_back(std::move(a));
    return;
  }
  const char* id = d.bytes.data() + i * d.width;
  switch (col.fixed_id) {
    case FixedColumn::kSpanId: std::memcpy(s.span_id.data(), id, 8); break;
    case FixedColumn::kParentId: std::memcpy(s.parent_span_id.data(), id, 8); break;
    case FixedColumn::kLinkTraceId: std::memcpy(s.link_trace_id.data(), id, 16); break;
    case FixedColumn::kLinkSpanId: std::memcpy(s.link_span_id.data(), id, 8); break;
    case FixedColumn::kStart: s.start_ns = d.ints[i]; break;
    case FixedColumn::kDuration: s.end_ns = d.ints[i]; break;  // start added by the reader
    case FixedColumn::kRowKind: s.row_kind = static_cast<RowKind>(d.ints[i]); break;
    case FixedColumn::kKind: s.kind = static_cast<SpanKind>(d.ints[i]); break;
    case FixedColumn::kStatusCode: s.status_code = static_cast<StatusCode>(d.ints[i]); break;
    case FixedColumn::kFlags: s.flags = static_cast<uint32_t>(d.ints[i]); break;
    case FixedColumn::kName: s.name = d.strs[i]; break;
    case FixedColumn::kService: s.service_name = d.strs[i]; break;
    case FixedColumn::kStatusMessage: s.status_message = d.strs[i]; break;
    case FixedColumn::kTraceState: s.trace_state = d.strs[i]; break;
    case FixedColumn::kScopeName: s.scope_name = d.strs[i]; break;
    case FixedColumn::kScopeVersion: s.scope_version = d.strs[i]; break;
    case FixedColumn::kParentName: s.parent_name = d.strs[i]; break;
    case FixedColumn::kTraceId: break;
  }
}

StatusOr<std::vector<Span>> Segment::ReadRows(uint64_t begin, uint64_t end) const {
  if (begin > end || end > footer_.row_count) return absl::OutOfRangeError("bad row range");
  ASSIGN_OR_RETURN(std::vector<Span> spans, ReadRanges({RowRange{begin, end, 0}}, end - begin));
  return spans;
}

StatusOr<std::vector<std::vector<Span>>> Segment::ReadRowRanges(
    std::vector<std::pair<uint64_t, uint64_t>> ranges, RowDetail detail) const {
  std::vector<size_t> order(ranges.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ranges[a] < ranges[b]; });
  std::vector<RowRange> sorted;
  uint64_t total = 0, last_end = 0;
  for (size_t i : order) {
    const auto [begin, end] = ranges[i];
    if (begin > end || end > footer_.row_count || begin < last_end) {
      return absl::OutOfRangeError("bad row ranges");
    }
    sorted.push_back(RowRange{begin, end, total});
    total += end - begin;
    last_end = end;
  }
  ASSIGN_OR_RETURN(std::vector<Span> all, ReadRanges(sorted, total, detail));
  std::vector<std::vector<Span>> out(ranges.size());
  for (size_t k = 0; k < order.size(); ++k) {
    const RowRange& r = sorted[k];
    out[order[k]].assign(std::make_move_iterator(all.begin() + r.offset),
                         std::make_move_iterator(all.begin() + r.offset + (r.end - r.begin)));
  }
  return out;
}

namespace {

bool InSummary(const ColumnMeta& col) {
  if (!col.fixed) return false;
  switch (col.fixed_id) {
    case FixedColumn::kParentId:
    case FixedColumn::kStart:
    case FixedColumn::kDuration:
    case FixedColumn::kRowKind:
    case FixedColumn::kStatusCode:
    case FixedColumn::kName:
    case FixedColumn::kService: return true;
    default: return false;
  }
}

}  // namespace

StatusOr<std::vector<Span>> Segment::ReadRanges(const std::vector<RowRange>& ranges,
                                                uint64_t total, RowDetail detail) const {
  std::vector<Span> spans(total);
  for (const RowRange& r : ranges) {
    ForEachRowTrace(r.begin, static_cast<size_t>(r.end - r.begin),
                    [&](size_t i, const TraceId& id) { spans[r.offset + i].trace_id = id; });
  }
  SpanIdBlocks span_id_blocks;
  for (size_t c = 0; c < footer_.columns.size(); ++c) {
    if (detail == RowDetail::kSummary && !InSummary(footer_.columns[c])) continue;
    RETURN_IF_ERROR(FillColumn(c, ranges, detail, &span_id_blocks, &spans));
  }
  for (Span& s : spans) {
    s.end_ns = static_cast<int64_t>(static_cast<uint64_t>(s.start_ns) +
                                    static_cast<uint64_t>(s.end_ns));
    if (s.row_kind > RowKind::kLink) return Corrupt(path_, "bad row kind");
  }
  return spans;
}

Status Segment::ForEachRoot(
    int64_t min_start, int64_t max_start,
    const std::function<void(const TraceId&, int64_t, std::string_view)>& fn) const {
  if (footer_.row_count == 0 || footer_.max_start_ns < min_start ||
      footer_.min_start_ns >= max_start) {
    return OkStatus();
  }
  for (size_t b = 0; b < blocks(); ++b) {
    ASSIGN_OR_RETURN(DecodedBlock start, ReadBlock(fixed_column(FixedColumn::kStart), b));
    bool any = false;
    for (int64_t s : start.ints) any = any || (s >= min_start && s < max_start);
    if (!any) continue;
    ASSIGN_OR_RETURN(DecodedBlock kind, ReadBlock(fixed_column(FixedColumn::kRowKind), b));
    ASSIGN_OR_RETURN(DecodedBlock parent, ReadBlock(fixed_column(FixedColumn::kParentId), b,
                                                    BlockDetail::kPresence));
    ASSIGN_OR_RETURN(DecodedBlock service, ReadBlock(fixed_column(FixedColumn::kService), b));
    for (size_t i = 0; i < start.rows; ++i) {
      if (kind.ints[i] != static_cast<int64_t>(RowKind::kSpan) || parent.IsValid(i) ||
          start.ints[i] < min_start ||
          start.ints[i] >= max_start) {
        continue;
      }
      fn(TraceOfRow(uint64_t{b} * footer_.block_rows + i), start.ints[i], service.strs[i]);
    }
  }
  return OkStatus();
}

}  // namespace waggle::store_internal
