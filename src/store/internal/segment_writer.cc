#include "store/internal/segment_writer.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "common/crc32c.h"
#include "store/internal/coding.h"

namespace waggle::store_internal {
namespace {

constexpr size_t kWriteBufferBytes = 1 << 20;
constexpr uint32_t kAbsent = UINT32_MAX;

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
  Status WriteAttr(const AttrColumn& c);
  void EncodeParentRefs(size_t lo, size_t hi, std::string* out);
  void TrackInts(std::span<const int64_t> v, ColumnMeta* col);
  void TrackDoubles(std::span<const double> v, ColumnMeta* col);

  const Head& head_;
  const SegmentWriteOptions& options_;
  WritableFile* file_;
  std::vector<uint32_t> perm_;  // sorted position -> head row
  std::string buffer_;
  uint64_t offset_ = 0;
  SegmentFooter footer_;
  std::vector<uint32_t> pos_of_row_;  // head row -> sorted position (inverse of perm_)
  // WriteAttr: by sorted position, the index of the current column's value there, or kAbsent
  // (scattered writes per value, then a sequential scan: no random reads per row).
  std::vector<uint32_t> value_at_pos_;
  std::string raw_, stored_;
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

Status SegmentBuilder::WriteTraceIndex() {
  std::string ids, runs;
  const auto& trace_ids = head_.trace_ids();
  size_t run_start = 0;
  for (size_t p = 1; p <= perm_.size(); ++p) {
    if (p == perm_.size() || trace_ids[perm_[p]] != trace_ids[perm_[run_start]]) {
      const TraceId& id = trace_ids[perm_[run_start]];
      ids.append(reinterpret_cast<const char*>(id.data()), id.size());
      PutVarint(&runs, p - run_start);
      ++footer_.trace_count;
      run_start = p;
    }
  }
  footer_.min_trace_id = trace_ids[perm_.front()];
  footer_.max_trace_id = trace_ids[perm_.back()];
  ids.append(runs);
  footer_.trace_index.offset = offset_;
  footer_.trace_index.length = ids.size();
  footer_.trace_index.crc = crc32c::Mask(crc32c::Value(ids));
  return Append(ids);
}

// Parent ids as back-references: 0 = zero id, 1 = exception (raw id follows the refs),
// else ZigZag(position - target) + 1 where `target` is a row of the same trace in this block
// whose span id equals the parent id.
void SegmentBuilder::EncodeParentRefs(size_t lo, size_t hi, std::string* out) {
  const auto& trace_ids = head_.trace_ids();
  const auto& span_ids = head_.span_ids();
  const auto& parents = head_.parent_ids();
  std::vector<int64_t> refs(hi - lo);
  std::string exceptions;
  size_t n_exceptions = 0;
  absl::flat_hash_map<SpanId, size_t> first_pos;
  for (size_t t = lo; t < hi;) {
    size_t end = t;
    first_pos.clear();
    while (end < hi && trace_ids[perm_[end]] == trace_ids[perm_[t]]) {
      first_pos.try_emplace(span_ids[perm_[end]], end);
      ++end;
    }
    for (size_t p = t; p < end; ++p) {
      const SpanId& parent = parents[perm_[p]];
      int64_t& ref = refs[p - lo];
      auto it = IsZero(parent) ? first_pos.end() : first_pos.find(parent);
      if (IsZero(parent)) {
        ref = 0;
      } else if (it != first_pos.end() && it->second != p) {
        ref = static_cast<int64_t>(
            ZigZag(static_cast<int64_t>(p) - static_cast<int64_t>(it->second)) + 1);
      } else {
        ref = 1;
        exceptions.append(reinterpret_cast<const char*>(parent.data()), parent.size());
        ++n_exceptions;
      }
    }
    t = end;
  }
  EncodeInts(refs, out);
  PutVarint(out, n_exceptions);
  out->append(exceptions);
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
  for (size_t lo = 0; lo < perm_.size(); lo += options_.block_rows) {
    size_t hi = std::min(perm_.size(), lo + options_.block_rows);
    raw_.clear();
    PutVarint(&raw_, hi - lo);
    valid.assign(hi - lo, 1);
    uint32_t nulls = 0;
    if (col.physical == Physical::kInt) {
      ints.clear();
      for (size_t p = lo; p < hi; ++p) {
        uint32_t r = perm_[p];
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
      EncodeValidity(valid, &raw_);
      EncodeInts(ints, &raw_);
      TrackInts(ints, &col);
    } else if (col.physical == Physical::kString) {
      strs.clear();
      const auto& codes = head_.strings(c);
      for (size_t p = lo; p < hi; ++p) strs.push_back(head_.pool().Get(codes[perm_[p]]));
      EncodeValidity(valid, &raw_);
      EncodeStrings(strs, &raw_);
    } else if (col.physical == Physical::kParentRef) {
      EncodeValidity(valid, &raw_);
      EncodeParentRefs(lo, hi, &raw_);
    } else if (c == FixedColumn::kSpanId) {
      EncodeValidity(valid, &raw_);
      for (size_t p = lo; p < hi; ++p) {
        const SpanId& id = head_.span_ids()[perm_[p]];
        raw_.append(reinterpret_cast<const char*>(id.data()), id.size());
      }
    } else {  // link ids: null unless the row is a link
      std::string values;
      for (size_t p = lo; p < hi; ++p) {
        TraceId trace;
        SpanId span;
        valid[p - lo] = head_.LinkIds(perm_[p], &trace, &span) ? 1 : 0;
        nulls += valid[p - lo] ? 0 : 1;
        if (!valid[p - lo]) continue;
        if (c == FixedColumn::kLinkTraceId) {
          values.append(reinterpret_cast<const char*>(trace.data()), trace.size());
        } else {
          values.append(reinterpret_cast<const char*>(span.data()), span.size());
        }
      }
      EncodeValidity(valid, &raw_);
      raw_.append(values);
    }
    RETURN_IF_ERROR(EmitBlock(raw_, nulls, &col));
  }
  footer_.columns.push_back(std::move(col));
  return OkStatus();
}

Status SegmentBuilder::WriteAttr(const AttrColumn& c) {
  ColumnMeta col;
  col.name = std::string(c.key);
  col.type = c.type;
  col.physical = AttrPhysical(c.type);
  col.last_written_ns = c.last_written_ns;
  for (size_t i = 0; i < c.rows.size(); ++i) {
    value_at_pos_[pos_of_row_[c.rows[i]]] = static_cast<uint32_t>(i);
  }
  std::vector<uint8_t> valid;
  std::vector<int64_t> ints;
  std::vector<double> doubles;
  std::vector<std::string_view> strs;
  for (size_t lo = 0; lo < perm_.size(); lo += options_.block_rows) {
    size_t hi = std::min(perm_.size(), lo + options_.block_rows);
    raw_.clear();
    PutVarint(&raw_, hi - lo);
    valid.assign(hi - lo, 0);
    ints.clear();
    doubles.clear();
    strs.clear();
    size_t present = 0;
    for (size_t p = lo; p < hi; ++p) {
      const uint32_t i = value_at_pos_[p];
      if (i == kAbsent) continue;
      value_at_pos_[p] = kAbsent;
      ++present;
      valid[p - lo] = 1;
      switch (c.type) {
        case ValueType::kString: strs.push_back(head_.pool().Get(c.narrow[i])); break;
        case ValueType::kBool: ints.push_back(c.narrow[i]); break;
        case ValueType::kInt: ints.push_back(static_cast<int64_t>(c.wide[i])); break;
        case ValueType::kDouble: doubles.push_back(BitsDouble(c.wide[i])); break;
      }
    }
    const uint32_t nulls = static_cast<uint32_t>(hi - lo - present);
    EncodeValidity(valid, &raw_);
    if (nulls < hi - lo) {
      if (col.physical == Physical::kInt) {
        EncodeInts(ints, &raw_);
        TrackInts(ints, &col);
      } else if (col.physical == Physical::kDouble) {
        EncodeDoubles(doubles, &raw_);
        TrackDoubles(doubles, &col);
      } else {
        EncodeStrings(strs, &raw_);
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
  perm_.resize(n);
  for (size_t i = 0; i < n; ++i) perm_[i] = static_cast<uint32_t>(i);
  const auto& ids = head_.trace_ids();
  const auto& starts = head_.starts();
  std::sort(perm_.begin(), perm_.end(), [&](uint32_t a, uint32_t b) {
    int c = std::memcmp(ids[a].data(), ids[b].data(), ids[a].size());
    if (c != 0) return c < 0;
    if (starts[a] != starts[b]) return starts[a] < starts[b];
    return a < b;
  });
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
  for (size_t p = 0; p < n; ++p) pos_of_row_[perm_[p]] = static_cast<uint32_t>(p);
  value_at_pos_.assign(n, kAbsent);
  for (const AttrColumn& c : head_.attr_columns()) RETURN_IF_ERROR(WriteAttr(c));
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
