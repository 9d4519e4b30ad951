#include "store/internal/segment_format.h"

#include <cstring>

#include "common/crc32c.h"
#include "store/internal/coding.h"

namespace waggle::store_internal {
namespace {

constexpr uint64_t kMaxColumns = 1 << 20;

void PutBlock(std::string* out, const BlockMeta& b) {
  PutVarint(out, b.offset);
  PutVarint(out, b.length);
  PutFixed32(out, b.crc);
  PutVarint(out, b.null_count);
}

bool ReadBlock(ByteReader* in, uint64_t file_size, BlockMeta* b) {
  uint64_t nulls;
  if (!in->ReadVarint(&b->offset) || !in->ReadVarint(&b->length) || !in->ReadFixed32(&b->crc) ||
      !in->ReadVarint(&nulls) || nulls > UINT32_MAX) {
    return false;
  }
  b->null_count = static_cast<uint32_t>(nulls);
  return b->offset >= kSegmentHeaderSize && b->length <= file_size &&
         b->offset <= file_size - b->length;
}

bool ReadColumn(ByteReader* in, uint64_t file_size, uint64_t n_blocks_expected, ColumnMeta* c) {
  uint8_t fixed, id_or_type, physical, has_min_max;
  if (!in->ReadByte(&fixed) || fixed > 1) return false;
  c->fixed = fixed == 1;
  if (c->fixed) {
    if (!in->ReadByte(&id_or_type) || id_or_type >= kFixedColumnCount) return false;
    c->fixed_id = static_cast<FixedColumn>(id_or_type);
  } else {
    std::string_view name;
    if (!in->ReadLengthPrefixed(&name) || !in->ReadByte(&id_or_type) || id_or_type < 1 ||
        id_or_type > 4) {
      return false;
    }
    c->name = std::string(name);
    c->type = static_cast<ValueType>(id_or_type);
  }
  if (!in->ReadByte(&physical) || physical > static_cast<uint8_t>(Physical::kParentRef)) {
    return false;
  }
  c->physical = static_cast<Physical>(physical);
  Physical expected = c->fixed ? FixedColumnPhysical(c->fixed_id) : AttrPhysical(c->type);
  if (c->physical != expected) return false;
  uint64_t min_bits, max_bits, n_blocks;
  if (!in->ReadZigZag(&c->last_written_ns) || !in->ReadVarint(&c->null_count) ||
      !in->ReadByte(&has_min_max) || has_min_max > 1) {
    return false;
  }
  c->has_min_max = has_min_max == 1;
  if (c->has_min_max) {
    if (!in->ReadFixed64(&min_bits) || !in->ReadFixed64(&max_bits)) return false;
    c->min_i = static_cast<int64_t>(min_bits);
    c->max_i = static_cast<int64_t>(max_bits);
    c->min_d = BitsDouble(min_bits);
    c->max_d = BitsDouble(max_bits);
  }
  if (!in->ReadVarint(&n_blocks) || n_blocks != n_blocks_expected) return false;
  c->blocks.resize(n_blocks);
  for (BlockMeta& b : c->blocks) {
    if (!ReadBlock(in, file_size, &b)) return false;
  }
  return true;
}

}  // namespace

std::string SegmentHeader() {
  std::string h(kSegmentMagic, sizeof kSegmentMagic);
  PutFixed32(&h, kSegmentFormatVersion);
  return h;
}

std::string SegmentTrailer(std::string_view footer) {
  std::string t;
  PutFixed32(&t, static_cast<uint32_t>(footer.size()));
  PutFixed32(&t, crc32c::Mask(crc32c::Value(footer)));
  PutFixed32(&t, kSegmentFormatVersion);
  t.append(kSegmentMagic, sizeof kSegmentMagic);
  return t;
}

void EncodeFooter(const SegmentFooter& f, std::string* out) {
  PutVarint(out, f.segment_id);
  PutVarint(out, f.wal_seq_end);
  PutZigZag(out, f.created_ns);
  PutVarint(out, f.row_count);
  PutZigZag(out, f.min_start_ns);
  PutZigZag(out, f.max_start_ns);
  PutVarint(out, f.block_rows);
  PutVarint(out, f.replaces.size());
  for (uint64_t id : f.replaces) PutVarint(out, id);
  PutVarint(out, f.columns.size());
  for (const ColumnMeta& c : f.columns) {
    out->push_back(c.fixed ? 1 : 0);
    if (c.fixed) {
      out->push_back(static_cast<char>(c.fixed_id));
    } else {
      PutLengthPrefixed(out, c.name);
      out->push_back(static_cast<char>(c.type));
    }
    out->push_back(static_cast<char>(c.physical));
    PutZigZag(out, c.last_written_ns);
    PutVarint(out, c.null_count);
    out->push_back(c.has_min_max ? 1 : 0);
    if (c.has_min_max) {
      bool dbl = c.physical == Physical::kDouble;
      PutFixed64(out, dbl ? DoubleBits(c.min_d) : static_cast<uint64_t>(c.min_i));
      PutFixed64(out, dbl ? DoubleBits(c.max_d) : static_cast<uint64_t>(c.max_i));
    }
    PutVarint(out, c.blocks.size());
    for (const BlockMeta& b : c.blocks) PutBlock(out, b);
  }
  PutBlock(out, f.trace_index);
  PutVarint(out, f.trace_count);
  out->append(reinterpret_cast<const char*>(f.min_trace_id.data()), 16);
  out->append(reinterpret_cast<const char*>(f.max_trace_id.data()), 16);
  if (f.format_version < 3) return;
  PutVarint(out, f.services.size());
  for (const ServiceRange& s : f.services) {
    PutLengthPrefixed(out, s.service);
    PutVarint(out, s.rows);
  }
  PutVarint(out, f.distinct_traces);
}

namespace {

// Services in strictly ascending byte order, each >= 1 row, covering every row exactly.
bool ReadServices(ByteReader* in, SegmentFooter* f) {
  uint64_t n;
  if (!in->ReadVarint(&n) || n > in->remaining() || (n == 0) != (f->row_count == 0)) return false;
  f->services.resize(n);
  uint64_t rows = 0;
  for (size_t i = 0; i < n; ++i) {
    ServiceRange& s = f->services[i];
    std::string_view name;
    if (!in->ReadLengthPrefixed(&name) || !in->ReadVarint(&s.rows) || s.rows == 0 ||
        s.rows > f->row_count - rows) {
      return false;
    }
    s.service.assign(name);
    if (i > 0 && !(f->services[i - 1].service < s.service)) return false;
    rows += s.rows;
  }
  return rows == f->row_count;
}

}  // namespace

Status DecodeFooter(std::string_view bytes, uint64_t file_size, SegmentFooter* f) {
  ByteReader in(bytes);
  uint64_t block_rows, n_replaces, n_columns;
  auto bad = [](std::string_view what) {
    return absl::DataLossError(absl::StrCat("segment footer: bad ", std::string(what)));
  };
  if (!in.ReadVarint(&f->segment_id) || !in.ReadVarint(&f->wal_seq_end) ||
      !in.ReadZigZag(&f->created_ns) || !in.ReadVarint(&f->row_count) ||
      !in.ReadZigZag(&f->min_start_ns) || !in.ReadZigZag(&f->max_start_ns) ||
      !in.ReadVarint(&block_rows)) {
    return bad("header fields");
  }
  if (block_rows == 0 || block_rows > (1u << 20)) return bad("block_rows");
  if (f->row_count > (uint64_t{1} << 40)) return bad("row_count");
  f->block_rows = static_cast<uint32_t>(block_rows);
  if (!in.ReadVarint(&n_replaces) || n_replaces > in.remaining()) return bad("replaces");
  f->replaces.resize(n_replaces);
  for (uint64_t& id : f->replaces) {
    if (!in.ReadVarint(&id)) return bad("replaces");
  }
  if (!in.ReadVarint(&n_columns) || n_columns > kMaxColumns || n_columns > in.remaining()) {
    return bad("column count");
  }
  const uint64_t n_blocks = (f->row_count + block_rows - 1) / block_rows;
  if (n_blocks > in.remaining()) return bad("block count");
  f->columns.resize(n_columns);
  for (ColumnMeta& c : f->columns) {
    if (!ReadColumn(&in, file_size, n_blocks, &c)) return bad("column directory");
  }
  std::string_view min_id, max_id;
  if (!ReadBlock(&in, file_size, &f->trace_index) || !in.ReadVarint(&f->trace_count) ||
      f->trace_count > f->row_count || !in.ReadBytes(16, &min_id) || !in.ReadBytes(16, &max_id)) {
    return bad("trace index reference");
  }
  std::memcpy(f->min_trace_id.data(), min_id.data(), 16);
  std::memcpy(f->max_trace_id.data(), max_id.data(), 16);
  if (f->format_version >= 3) {
    if (!ReadServices(&in, f)) return bad("service ranges");
    if (!in.ReadVarint(&f->distinct_traces) || f->distinct_traces > f->trace_count ||
        (f->distinct_traces == 0) != (f->trace_count == 0)) {
      return bad("distinct trace count");
    }
  }
  if (!in.empty()) return bad("trailing bytes");
  return OkStatus();
}

}  // namespace waggle::store_internal
