#include "store/internal/segment_writer.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "common/crc32c.h"
#include "store/internal/coding.h"
#include "store/internal/segment_order.h"

namespace waggle::store_internal {
namespace {

constexpr size_t kWriteBufferBytes = 1 << 20;
constexpr uint32_t kAbsent = UINT32_MAX;
// Gathers through the flush permutation read head columns at random: rows this far ahead are
// prefetched.
constexpr size_t kGatherAhead = 16;

class SegmentBuilder {
 public:
  SegmentBuilder(const Head& head, const SegmentWriteOptions& options, WritableFile* file)
      : head_(head), options_(options), file_(file) {}

  StatusOr<uint64_t> Build();

 private:
  Status Append(std::string_view bytes);
  Status Flush();
  Status EmitBlock(std::string_view raw, uint32_t nulls, ColumnMeta* col);
  Status WriteTraceIndex();
  Status WriteFixed(FixedColumn c);
  // Prefetches what WriteFixed(c) reads of head row `row`.
  void PrefetchFixed(FixedColumn c, uint32_t row) const;
  Status WriteAttr(const AttrColumn& c, int64_t same_as);
  void FindSameAs();
  void EncodeStarts(size_t lo, std::span<const int64_t> v, std::string* out);
  void EncodeParentRefs(size_t lo, size_t hi, std::string* out);
  // Where `parent` is among the rows of the trace of run `run` in other runs (or in run `run`
  // outside [lo, hi)): sets *k (the run's index among the trace's runs, ascending) and
  // *offset (row within it). False when absent or the trace is too large to search.
  bool FindParentInTrace(uint32_t run, const SpanId& parent, size_t lo, size_t hi, uint64_t* k,
                         uint64_t* offset) const;
  void TrackInts(std::span<const int64_t> v, ColumnMeta* col);
  void TrackDoubles(std::span<const double> v, ColumnMeta* col);

  const Head& head_;
  const SegmentWriteOptions& options_;
  WritableFile* file_;
  // Rows in segment order, their runs and the runs grouped by trace (segment_order.h).
  SegmentOrder order_;
  std::string buffer_;
  uint64_t offset_ = 0;
  SegmentFooter footer_;
  std::vector<uint32_t> pos_of_row_;  // head row -> sorted position (inverse of order_.perm)
  // WriteAttr: by sorted position, the index of the current column's value there, or kAbsent
  // (scattered writes per value, then a sequential scan: no random reads per row).
  std::vector<uint32_t> value_at_pos_;
  std::string raw_, stored_;
  std::vector<uint32_t> string_ids_;  // the head pool codes of a block's strings
  std::vector<uint32_t> present_in_block_;  // WriteAttr: values of the column per block
  StringEncodeScratch string_scratch_;
  // By attribute column (head order): footer index of an earlier string column whose value
  // equals this column's in every row where this one has a value, or -1.
  std::vector<int64_t> same_as_;
};

Status SegmentBuilder::Append(std::string_view bytes) {
  buffer_.append(bytes);
  offset_ += bytes.size();
  if (buffer_.size() >= kWriteBufferBytes) return Flush();
  return OkStatus();
}

Status SegmentBuilder::Flush() {
  if (buffer_.empty()) return OkStatus();
  RETURN_IF_ERROR(file_->Append(buffer_));
  buffer_.clear();
  return OkStatus();
}

Status SegmentBuilder::EmitBlock(std::string_view raw, uint32_t nulls, ColumnMeta* col) {
  stored_.clear();
  CompressBlock(raw, options_.compression, options_.zstd_level, &stored_);
  BlockMeta b;
  b.offset = offset_;
  b.length = stored_.size();
  b.crc = crc32c::Mask(crc32c::Value(stored_));
  b.null_count = nulls;
  col->blocks.push_back(b);
  col->null_count += nulls;
  return Append(stored_);
}

void SegmentBuilder::TrackInts(std::span<const int64_t> v, ColumnMeta* col) {
  for (int64_t x : v) {
    if (!col->has_min_max) {
      col->has_min_max = true;
      col->min_i = col->max_i = x;
    }
    col->min_i = std::min(col->min_i, x);
    col->max_i = std::max(col->max_i, x);
  }
}

void SegmentBuilder::TrackDoubles(std::span<const double> v, ColumnMeta* col) {
  for (double x : v) {
    if (std::isnan(x)) continue;
    if (!col->has_min_max) {
      col->has_min_max = true;
      col->min_d = col->max_d = x;
    }
    col->min_d = std::min(col->min_d, x);
    col->max_d = std::max(col->max_d, x);
  }
}

// The distinct trace ids, ascending, then per run the zigzag difference of its trace's
// position in that table from the previous run's (small within a service, whose runs ascend),
// then the run lengths; version 4 stores all of it in a block's compression envelope.
Status SegmentBuilder::WriteTraceIndex() {
  const auto& trace_ids = head_.trace_ids();
  const size_t n_runs = order_.runs();
  const size_t distinct = order_.distinct_traces();
  std::string index, ordinals, runs;
  index.reserve(distinct * 16 + n_runs * 3);
  for (size_t d = 0; d < distinct; ++d) {
    const TraceId& id = trace_ids[order_.first_row_of_trace(d)];
    index.append(reinterpret_cast<const char*>(id.data()), id.size());
  }
  int64_t previous = 0;
  for (size_t t = 0; t < n_runs; ++t) {
    const int64_t ordinal = order_.ordinal_of_run[t];
    PutZigZag(&ordinals, ordinal - previous);
    previous = ordinal;
    PutVarint(&runs, order_.rows_of_run(t));
  }
  footer_.trace_count = n_runs;
  footer_.distinct_traces = distinct;
  footer_.min_trace_id = trace_ids[order_.first_row_of_trace(0)];
  footer_.max_trace_id = trace_ids[order_.first_row_of_trace(distinct - 1)];
  index.append(ordinals);
  index.append(runs);
  stored_.clear();
  CompressBlock(index, options_.compression, options_.zstd_level, &stored_);
  footer_.trace_index.offset = offset_;
  footer_.trace_index.length = stored_.size();
  footer_.trace_index.crc = crc32c::Mask(crc32c::Value(stored_));
  return Append(stored_);
}

// Parent ids as back-references: 0 = zero id, 1 = exception (listed after the refs), else
// ZigZag(position - target) + 1 where `target` is a row of the same run in this block whose
// span id equals the parent id. An exception names a row of another run of the trace (another
// service, or the same run in another block) or, failing that, holds the raw id.
bool SegmentBuilder::FindParentInTrace(uint32_t run, const SpanId& parent, size_t lo, size_t hi,
                                       uint64_t* k, uint64_t* offset) const {
  constexpr size_t kMaxSearchRows = 4096;  // a huge trace falls back to raw ids
  const uint32_t d = order_.ordinal_of_run[run];
  const uint32_t first = order_.trace_runs_begin[d], last = order_.trace_runs_begin[d + 1];
  size_t rows = 0;
  for (uint32_t i = first; i < last; ++i) rows += order_.rows_of_run(order_.trace_runs[i]);
  if (rows > kMaxSearchRows) return false;
  const auto& span_ids = head_.span_ids();
  const uint64_t wanted = SpanIdBits(parent);
  for (uint32_t i = first; i < last; ++i) {
    const uint32_t r = order_.trace_runs[i];
    for (size_t p = order_.run_begin[r]; p < order_.run_begin[r + 1]; ++p) {
      if (r == run && p >= lo && p < hi) continue;  // the block's own rows were searched
      if (SpanIdBits(span_ids[order_.perm[p]]) == wanted) {
        *k = i - first;
        *offset = p - order_.run_begin[r];
        return true;
      }
    }
  }
  return false;
}

void SegmentBuilder::EncodeParentRefs(size_t lo, size_t hi, std::string* out) {
  constexpr size_t kLinearScanRows = 32;  // short traces: a scan beats a hash map
  const auto& span_ids = head_.span_ids();
  const auto& parents = head_.parent_ids();
  std::vector<int64_t> refs(hi - lo);
  std::string exceptions;
  size_t n_exceptions = 0;
  absl::flat_hash_map<SpanId, size_t> first_pos;
  std::vector<uint64_t> local;  // span ids of the current trace's rows in this block
  for (size_t t = lo; t < hi;) {
    const size_t end = std::min<size_t>(hi, order_.run_begin[order_.run_of_pos[t] + 1]);
    const bool linear = end - t <= kLinearScanRows;
    local.clear();
    first_pos.clear();
    for (size_t p = t; p < end; ++p) {
      if (linear) {
        local.push_back(SpanIdBits(span_ids[order_.perm[p]]));
      } else {
        first_pos.try_emplace(span_ids[order_.perm[p]], p);
      }
    }
    for (size_t p = t; p < end; ++p) {
      const SpanId& parent = parents[order_.perm[p]];
      int64_t& ref = refs[p - lo];
      size_t target = SIZE_MAX;
      if (!IsZero(parent)) {
        if (linear) {
          const uint64_t wanted = SpanIdBits(parent);
          for (size_t k = 0; k < local.size(); ++k) {
            if (local[k] == wanted) {
              target = t + k;
              break;
            }
          }
        } else if (auto it = first_pos.find(parent); it != first_pos.end()) {
          target = it->second;
        }
      }
      if (IsZero(parent)) {
        ref = 0;
      } else if (target != SIZE_MAX && target != p) {
        ref = static_cast<int64_t>(
            ZigZag(static_cast<int64_t>(p) - static_cast<int64_t>(target)) + 1);
      } else {
        ref = 1;
        ++n_exceptions;
        uint64_t k, offset;
        if (FindParentInTrace(order_.run_of_pos[p], parent, lo, hi, &k, &offset)) {
          PutVarint(&exceptions, k + 1);
          PutVarint(&exceptions, offset);
        } else {
          PutVarint(&exceptions, 0);
          exceptions.append(reinterpret_cast<const char*>(parent.data()), parent.size());
        }
      }
    }
    t = end;
  }
  EncodeInts(refs, out);
  PutVarint(out, n_exceptions);
  out->append(exceptions);
}

// Start times of rows [lo, lo + v.size()): `u8 0` then the values, or `u8 1` then the values
// of the rows that begin a trace within the block, then every other row's offset from the
// start of its trace's first row in the block; whichever is smaller.
void SegmentBuilder::EncodeStarts(size_t lo, std::span<const int64_t> v, std::string* out) {
  std::vector<int64_t> firsts, offsets;
  int64_t first = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i == 0 || order_.run_of_pos[lo + i] != order_.run_of_pos[lo + i - 1]) {
      first = v[i];
      firsts.push_back(first);
    } else {
      offsets.push_back(static_cast<int64_t>(static_cast<uint64_t>(v[i]) -
                                             static_cast<uint64_t>(first)));
    }
  }
  std::string absolute, relative;
  EncodeInts(v, &absolute);
  EncodeInts(firsts, &relative);
  EncodeInts(offsets, &relative);
  const bool rel = relative.size() < absolute.size();
  out->push_back(rel ? 1 : 0);
  out->append(rel ? relative : absolute);
}

// Finds string attribute columns that repeat an earlier column's value row by row (e.g. a
// user id recorded under two keys); those are written as a reference (StringEncoding::kSameAs).
void SegmentBuilder::FindSameAs() {
  const auto& attrs = head_.attr_columns();
  const auto& pool = head_.pool();
  same_as_.assign(attrs.size(), -1);
  auto same = [&](const AttrColumn& a, size_t ia, const AttrColumn& b, size_t ib) {
    return a.narrow[ia] == b.narrow[ib] || pool.Get(a.narrow[ia]) == pool.Get(b.narrow[ib]);
  };
  for (size_t j = 0; j < attrs.size(); ++j) {
    const AttrColumn& b = attrs[j];
    if (b.type != ValueType::kString || b.rows.empty()) continue;
    for (size_t i = 0; i < j && same_as_[j] < 0; ++i) {
      const AttrColumn& a = attrs[i];
      if (a.type != ValueType::kString || a.rows.size() < b.rows.size()) continue;
      const int64_t k0 = a.Find(b.rows[0]);
      if (k0 < 0 || !same(a, static_cast<size_t>(k0), b, 0)) continue;
      size_t k = static_cast<size_t>(k0);
      bool all = true;
      for (size_t r = 0; r < b.rows.size() && all; ++r) {
        while (k < a.rows.size() && a.rows[k] < b.rows[r]) ++k;
        all = k < a.rows.size() && a.rows[k] == b.rows[r] && same(a, k, b, r);
      }
      if (all) same_as_[j] = static_cast<int64_t>(kFixedColumnCount - 1 + i);
    }
  }
}

void SegmentBuilder::PrefetchFixed(FixedColumn c, uint32_t row) const {
  switch (c) {
    case FixedColumn::kStart: __builtin_prefetch(&head_.starts()[row]); break;
    case FixedColumn::kDuration:
      __builtin_prefetch(&head_.starts()[row]);
      __builtin_prefetch(&head_.ends()[row]);
      break;
    case FixedColumn::kRowKind: __builtin_prefetch(&head_.row_kinds()[row]); break;
    case FixedColumn::kKind: __builtin_prefetch(&head_.kinds()[row]); break;
    case FixedColumn::kStatusCode: __builtin_prefetch(&head_.status_codes()[row]); break;
    default: __builtin_prefetch(&head_.flags()[row]); break;
  }
}

Status SegmentBuilder::WriteFixed(FixedColumn c) {
  ColumnMeta col;
  col.fixed = true;
  col.fixed_id = c;
  col.physical = FixedColumnPhysical(c);
  col.last_written_ns = head_.last_written_ns();
  std::vector<int64_t> ints;
  std::vector<std::string_view> strs;
  std::vector<uint8_t> valid;
  for (size_t lo = 0; lo < order_.perm.size(); lo += options_.block_rows) {
    size_t hi = std::min(order_.perm.size(), lo + options_.block_rows);
    raw_.clear();
    PutVarint(&raw_, hi - lo);
    uint32_t nulls = 0;
    if (col.physical == Physical::kInt) {
      ints.clear();
      if (c == FixedColumn::kFlags && !head_.any_flags()) {
        ints.assign(hi - lo, 0);  // every row's is 0: no row to read
      } else {
        for (size_t p = lo; p < hi; ++p) {
          uint32_t r = order_.perm[p];
          if (p + kGatherAhead < hi) PrefetchFixed(c, order_.perm[p + kGatherAhead]);
          switch (c) {
            case FixedColumn::kStart: ints.push_back(head_.starts()[r]); break;
            case FixedColumn::kDuration:
              ints.push_back(static_cast<int64_t>(static_cast<uint64_t>(head_.ends()[r]) -
                                                  static_cast<uint64_t>(head_.starts()[r])));
              break;
            case FixedColumn::kRowKind: ints.push_back(head_.row_kinds()[r]); break;
            case FixedColumn::kKind: ints.push_back(head_.kinds()[r]); break;
            case FixedColumn::kStatusCode: ints.push_back(head_.status_codes()[r]); break;
            default: ints.push_back(head_.flags()[r]); break;
          }
        }
      }
      EncodeValidity(hi - lo, hi - lo, {}, &raw_);
      if (c == FixedColumn::kStart) {
        EncodeStarts(lo, ints, &raw_);
      } else {
        EncodeInts(ints, &raw_);
      }
      TrackInts(ints, &col);
    } else if (col.physical == Physical::kString) {
      strs.clear();
      string_ids_.clear();
      const auto& codes = head_.strings(c);
      if (!head_.any_string(c)) {  // every row's is empty: no row to read
        string_ids_.assign(hi - lo, 0);
        strs.assign(hi - lo, std::string_view());
      } else {
        for (size_t p = lo; p < hi; ++p) {
          if (p + kGatherAhead < hi) __builtin_prefetch(&codes[order_.perm[p + kGatherAhead]]);
          string_ids_.push_back(codes[order_.perm[p]]);
          strs.push_back(head_.pool().Get(string_ids_.back()));
        }
      }
      EncodeValidity(hi - lo, hi - lo, {}, &raw_);
      EncodeStringsById(strs, string_ids_, &string_scratch_, &raw_);
    } else if (col.physical == Physical::kParentRef) {
      EncodeValidity(hi - lo, hi - lo, {}, &raw_);
      EncodeParentRefs(lo, hi, &raw_);
    } else if (c == FixedColumn::kSpanId) {
      EncodeValidity(hi - lo, hi - lo, {}, &raw_);
      for (size_t p = lo; p < hi; ++p) {
        if (p + kGatherAhead < hi) __builtin_prefetch(&head_.span_ids()[order_.perm[p + kGatherAhead]]);
        const SpanId& id = head_.span_ids()[order_.perm[p]];
        raw_.append(reinterpret_cast<const char*>(id.data()), id.size());
      }
    } else {  // link ids: null unless the row is a link
      std::string values;
      valid.resize(hi - lo);
      for (size_t p = lo; p < hi; ++p) {
        TraceId trace;
        SpanId span;
        valid[p - lo] = head_.LinkIds(order_.perm[p], &trace, &span) ? 1 : 0;
        nulls += valid[p - lo] ? 0 : 1;
        if (!valid[p - lo]) continue;
        if (c == FixedColumn::kLinkTraceId) {
          values.append(reinterpret_cast<const char*>(trace.data()), trace.size());
        } else {
          values.append(reinterpret_cast<const char*>(span.data()), span.size());
        }
      }
      EncodeValidity(hi - lo, hi - lo - nulls, valid, &raw_);
      raw_.append(values);
    }
    RETURN_IF_ERROR(EmitBlock(raw_, nulls, &col));
  }
  footer_.columns.push_back(std::move(col));
  return OkStatus();
}

Status SegmentBuilder::WriteAttr(const AttrColumn& c, int64_t same_as) {
  ColumnMeta col;
  col.name = std::string(c.key);
  col.type = c.type;
  col.physical = AttrPhysical(c.type);
  col.last_written_ns = c.last_written_ns;
  // Values per block: a block without any (most blocks of a one-service attribute, rows being
  // sorted by service) is written all-null without scanning its rows.
  present_in_block_.assign((order_.perm.size() + options_.block_rows - 1) / options_.block_rows, 0);
  for (size_t i = 0; i < c.rows.size(); ++i) {
    if (i + kGatherAhead < c.rows.size()) {
      __builtin_prefetch(&value_at_pos_[pos_of_row_[c.rows[i + kGatherAhead]]], /*rw=*/1);
    }
    const uint32_t pos = pos_of_row_[c.rows[i]];
    value_at_pos_[pos] = static_cast<uint32_t>(i);
    ++present_in_block_[pos / options_.block_rows];
  }
  std::vector<uint8_t> valid;
  std::vector<int64_t> ints;
  std::vector<double> doubles;
  std::vector<std::string_view> strs;
  for (size_t lo = 0; lo < order_.perm.size(); lo += options_.block_rows) {
    size_t hi = std::min(order_.perm.size(), lo + options_.block_rows);
    raw_.clear();
    PutVarint(&raw_, hi - lo);
    if (present_in_block_[lo / options_.block_rows] == 0) {
      raw_.push_back(1);  // validity kind 1 (docs/formats/segment.md): every row null, no values
      RETURN_IF_ERROR(EmitBlock(raw_, static_cast<uint32_t>(hi - lo), &col));
      continue;
    }
    valid.assign(hi - lo, 0);
    ints.clear();
    doubles.clear();
    strs.clear();
    string_ids_.clear();
    size_t present = 0;
    for (size_t p = lo; p < hi; ++p) {
      // The values are gathered in sorted order from arrival order: fetch ahead.
      if (p + kGatherAhead < hi && value_at_pos_[p + kGatherAhead] != kAbsent) {
        const uint32_t ahead = value_at_pos_[p + kGatherAhead];
        if (c.type == ValueType::kString || c.type == ValueType::kBool) {
          __builtin_prefetch(&c.narrow[ahead]);
        } else {
          __builtin_prefetch(&c.wide[ahead]);
        }
      }
      // A string's pool entry, once its code (fetched above) has had time to arrive.
      if (c.type == ValueType::kString && p + kGatherAhead / 2 < hi &&
          value_at_pos_[p + kGatherAhead / 2] != kAbsent) {
        head_.pool().Prefetch(c.narrow[value_at_pos_[p + kGatherAhead / 2]]);
      }
      const uint32_t i = value_at_pos_[p];
      if (i == kAbsent) continue;
      value_at_pos_[p] = kAbsent;
      ++present;
      valid[p - lo] = 1;
      switch (c.type) {
        case ValueType::kString:
          string_ids_.push_back(c.narrow[i]);
          strs.push_back(head_.pool().Get(c.narrow[i]));
          break;
        case ValueType::kBool: ints.push_back(c.narrow[i]); break;
        case ValueType::kInt: ints.push_back(static_cast<int64_t>(c.wide[i])); break;
        case ValueType::kDouble: doubles.push_back(BitsDouble(c.wide[i])); break;
      }
    }
    const uint32_t nulls = static_cast<uint32_t>(hi - lo - present);
    EncodeValidity(hi - lo, present, valid, &raw_);
    if (nulls < hi - lo) {
      if (col.physical == Physical::kInt) {
        EncodeInts(ints, &raw_);
        TrackInts(ints, &col);
      } else if (col.physical == Physical::kDouble) {
        EncodeDoubles(doubles, &raw_);
        TrackDoubles(doubles, &col);
      } else if (same_as >= 0) {
        raw_.push_back(static_cast<char>(StringEncoding::kSameAs));
        PutVarint(&raw_, static_cast<uint64_t>(same_as));
      } else {
        EncodeStringsById(strs, string_ids_, &string_scratch_, &raw_);
      }
    }
    RETURN_IF_ERROR(EmitBlock(raw_, nulls, &col));
  }
  footer_.columns.push_back(std::move(col));
  return OkStatus();
}

StatusOr<uint64_t> SegmentBuilder::Build() {
  const size_t n = head_.rows();
  if (n == 0) return absl::InvalidArgumentError("cannot write an empty segment");
  if (options_.block_rows == 0) return absl::InvalidArgumentError("block_rows must be > 0");
  order_ = OrderHeadRows(head_);
  footer_.services = std::move(order_.services);
  footer_.segment_id = options_.segment_id;
  footer_.wal_seq_end = options_.wal_seq_end;
  footer_.created_ns = options_.created_ns;
  footer_.row_count = n;
  footer_.min_start_ns = head_.min_start();
  footer_.max_start_ns = head_.max_start();
  footer_.block_rows = options_.block_rows;
  footer_.replaces = options_.replaces;

  RETURN_IF_ERROR(Append(SegmentHeader()));
  RETURN_IF_ERROR(WriteTraceIndex());
  for (int c = 1; c < kFixedColumnCount; ++c) {
    RETURN_IF_ERROR(WriteFixed(static_cast<FixedColumn>(c)));
  }
  pos_of_row_.resize(n);
  for (size_t p = 0; p < n; ++p) pos_of_row_[order_.perm[p]] = static_cast<uint32_t>(p);
  value_at_pos_.assign(n, kAbsent);
  FindSameAs();
  for (size_t j = 0; j < head_.attr_columns().size(); ++j) {
    RETURN_IF_ERROR(WriteAttr(head_.attr_columns()[j], same_as_[j]));
  }
  std::string footer;
  EncodeFooter(footer_, &footer);
  RETURN_IF_ERROR(Append(footer));
  RETURN_IF_ERROR(Append(SegmentTrailer(footer)));
  RETURN_IF_ERROR(Flush());
  RETURN_IF_ERROR(file_->Sync());
  RETURN_IF_ERROR(file_->Close());
  return offset_;
}

}  // namespace

StatusOr<uint64_t> WriteSegment(const Head& head, const SegmentWriteOptions& options,
                                WritableFile* file) {
  SegmentBuilder builder(head, options, file);
  return builder.Build();
}

StatusOr<uint64_t> WriteSegmentFile(const Head& head, const SegmentWriteOptions& options,
                                    Env* env, const std::string& dir, const std::string& name) {
  const std::string tmp = JoinPath(dir, name + ".tmp");
  ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, env->NewWritableFile(tmp));
  StatusOr<uint64_t> size = WriteSegment(head, options, file.get());
  file.reset();
  if (!size.ok()) {
    (void)env->RemoveFile(tmp);
    return size.status();
  }
  RETURN_IF_ERROR(env->RenameFile(tmp, JoinPath(dir, name)));
  RETURN_IF_ERROR(env->SyncDir(dir));
  return size;
}

}  // namespace waggle::store_internal
