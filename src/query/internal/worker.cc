#include "query/internal/worker.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "query/hash.h"
#include "query/internal/group_key.h"

namespace waggle::query::internal {
namespace {

uint32_t BucketOf(const PreparedQuery& q, const int64_t* start, uint32_t row) {
  if (q.layout.count == 1) return 0;
  return static_cast<uint32_t>((start[row] - q.layout.start_ns) / q.layout.width_ns);
}

}  // namespace

QueryWorker::QueryWorker(const PreparedQuery& query)
    : query_(query),
      aggregators_(MakeAggregators(query.calcs)),
      bucket_slot_(query.layout.count, kNoSlot) {
  if (query.top_groups) top_threshold_.emplace(query.top_groups->keep);
}

uint32_t QueryWorker::SlotFor(std::string_view key) {
  const absl::string_view k(key.data(), key.size());
  auto it = slot_of_key_.find(k);
  if (it != slot_of_key_.end()) return it->second;
  uint32_t slot = static_cast<uint32_t>(slot_keys_.size());
  std::string_view stored = StoreKey(key);
  slot_keys_.push_back(stored);
  slot_of_key_.emplace(absl::string_view(stored.data(), stored.size()), slot);
  key_bytes_ += stored.size() + sizeof(std::string_view);
  for (auto& a : aggregators_) a->Resize(slot + 1);
  return slot;
}

std::string_view QueryWorker::StoreKey(std::string_view key) {
  if (key.size() > key_left_) {
    const size_t size = std::max(kKeyBlockBytes, key.size());
    key_blocks_.push_back(std::make_unique<char[]>(size));
    key_next_ = key_blocks_.back().get();
    key_left_ = size;
  }
  std::memcpy(key_next_, key.data(), key.size());
  std::string_view stored(key_next_, key.size());
  key_next_ += key.size();
  key_left_ -= key.size();
  return stored;
}

size_t QueryWorker::MemoryBytes() const {
  size_t bytes = key_bytes_ + slot_of_key_.capacity() * (sizeof(std::string_view) + 8);
  for (const auto& a : aggregators_) bytes += a->MemoryBytes();
  return bytes;
}

Status QueryWorker::AssignSlots(Chunk& chunk, const std::vector<uint32_t>& rows) {
  const int64_t* start = nullptr;  // not read with a single bucket
  if (query_.layout.count > 1) {
    if (rows.size() * 8 < chunk.rows()) {  // few rows: only theirs (entries of other rows unread)
      sparse_starts_.resize(chunk.rows());
      RETURN_IF_ERROR(chunk.StartsOfRows(rows, sparse_starts_.data()));
      start = sparse_starts_.data();
    } else {
      ASSIGN_OR_RETURN(start, chunk.start_ns());
    }
  }
  const auto& breakdowns = query_.request.spec.breakdowns;
  slots_.resize(rows.size());
  if (breakdowns.empty()) {
    for (size_t k = 0; k < rows.size(); ++k) {
      uint32_t bucket = BucketOf(query_, start, rows[k]);
      uint32_t& slot = bucket_slot_[bucket];
      if (slot == kNoSlot) {
        key_.clear();
        AppendBucket(bucket, &key_);
        slot = SlotFor(key_);
      }
      slots_[k] = slot;
    }
    return OkStatus();
  }
  std::vector<ColumnView> cols;
  cols.reserve(breakdowns.size());
  for (const std::string& b : breakdowns) {
    ASSIGN_OR_RETURN(ColumnView col, columns_.Get(b));
    cols.push_back(col);
  }
  size_t k = 0;
  if (cols.size() <= 2 && query_.layout.count <= kMaxFastBuckets) k = AssignSlotsByIdentity(start, cols, rows);
  for (; k < rows.size(); ++k) slots_[k] = SlotForRow(cols, rows[k], BucketOf(query_, start, rows[k]));
  return OkStatus();
}

uint32_t QueryWorker::SlotForRow(const std::vector<ColumnView>& cols, uint32_t row,
                                 uint32_t bucket) {
  key_.clear();
  for (const ColumnView& col : cols) AppendGroupValue(col, row, &key_);
  AppendBucket(bucket, &key_);
  return SlotFor(key_);
}

namespace {

// The identity of a row's value within one chunk: equal identities mean equal values (a string
// is identified by where it lives, which the chunk shares between equal values when its column
// is dictionary-coded or pooled; equal strings elsewhere just get different identities).
std::pair<uint64_t, uint64_t> ValueIdentity(const ColumnView& col, uint32_t row) {
  const uint8_t type = col.TypeAt(row);
  switch (static_cast<ValueType>(type)) {
    case ValueType::kString:
      return {reinterpret_cast<uintptr_t>(col.strs[row].data()),
              col.strs[row].size() | (uint64_t{type} << 56)};
    case ValueType::kInt:
    case ValueType::kBool: return {static_cast<uint64_t>(col.ints[row]), uint64_t{type} << 56};
    case ValueType::kDouble: {
      uint64_t bits;
      std::memcpy(&bits, &col.doubles[row], sizeof bits);
      return {bits, uint64_t{type} << 56};
    }
  }
  return {0, 0};
}

}  // namespace

uint32_t QueryWorker::LocalValueId(size_t c, const ColumnView& col, uint32_t row) {
  std::vector<uint32_t>& by_code = code_ids_[c];
  if (col.codes != nullptr && col.TypeAt(row) == TypeCode(ValueType::kString)) {
    uint32_t& id = by_code[col.codes[row]];
    if (id == kNoSlot) id = next_local_id_[c]++;
    return id;
  }
  auto [it, fresh] = local_ids_[c].try_emplace(ValueIdentity(col, row), next_local_id_[c]);
  if (fresh) ++next_local_id_[c];
  return it->second;
}

size_t QueryWorker::AssignSlotsByIdentity(const int64_t* start,
                                          const std::vector<ColumnView>& cols,
                                          const std::vector<uint32_t>& rows) {
  // Values get chunk-local ids (24 bits each: chunks hold far fewer rows than 2^24), from their
  // dictionary code or their identity; (id0, id1, bucket) packs into one word whose slot is
  // looked up once per chunk. Gives up (returning how far it got) when most rows bring a new
  // value, i.e. on high-cardinality columns, where the direct path is cheaper.
  for (size_t c = 0; c < cols.size(); ++c) {
    local_ids_[c].clear();
    next_local_id_[c] = 0;
    code_ids_[c].assign(cols[c].codes != nullptr ? cols[c].dict_size : 0, kNoSlot);
  }
  packed_slot_.clear();
  // One breakdown, one bucket: the local id is the whole key, so slots go in an array.
  const bool by_id = cols.size() == 1 && query_.layout.count == 1;
  slot_of_local_id_.clear();
  // One dictionary-coded breakdown and a series: (code, bucket) indexes an array of slots.
  const size_t buckets = query_.layout.count;
  const bool by_code_bucket = !by_id && cols.size() == 1 && cols[0].codes != nullptr &&
                              uint64_t{cols[0].dict_size} * buckets <= kMaxFastBuckets;
  if (by_code_bucket) slot_of_code_bucket_.assign(cols[0].dict_size * buckets, kNoSlot);
  if (by_id && cols[0].codes != nullptr && cols[0].types == nullptr &&
      cols[0].uniform == TypeCode(ValueType::kString)) {
    // Every row a dictionary code: the slot of each code, found on its first row.
    std::vector<uint32_t>& slot_of_code = code_ids_[0];
    for (size_t k = 0; k < rows.size(); ++k) {
      uint32_t& slot = slot_of_code[cols[0].codes[rows[k]]];
      if (slot == kNoSlot) slot = SlotForRow(cols, rows[k], 0);
      slots_[k] = slot;
    }
    return rows.size();
  }
  size_t misses = 0;
  for (size_t k = 0; k < rows.size(); ++k) {
    const uint32_t row = rows[k];
    bool fresh;
    uint32_t* slot;
    if (by_id) {
      const uint32_t id = LocalValueId(0, cols[0], row);
      fresh = id == slot_of_local_id_.size();
      if (fresh) slot_of_local_id_.push_back(SlotForRow(cols, row, 0));
      slot = &slot_of_local_id_[id];
    } else if (by_code_bucket && cols[0].TypeAt(row) == TypeCode(ValueType::kString)) {
      const uint32_t bucket = BucketOf(query_, start, row);
      slot = &slot_of_code_bucket_[cols[0].codes[row] * buckets + bucket];
      fresh = *slot == kNoSlot;
      if (fresh) *slot = SlotForRow(cols, row, bucket);
    } else {
      const uint32_t bucket = BucketOf(query_, start, row);
      uint64_t packed = uint64_t{bucket} << 48;
      for (size_t c = 0; c < cols.size(); ++c) packed |= uint64_t{LocalValueId(c, cols[c], row)} << (24 * c);
      auto [it, inserted] = packed_slot_.try_emplace(packed, 0);
      fresh = inserted;
      if (fresh) it->second = SlotForRow(cols, row, bucket);
      slot = &it->second;
    }
    slots_[k] = *slot;
    if (fresh && ++misses > 256 && misses * 4 > k) return k + 1;
  }
  return rows.size();
}

Status QueryWorker::Feed(Chunk& chunk, size_t calc, const std::vector<uint32_t>& rows) {
  Aggregator& agg = *aggregators_[calc];
  const size_t n = rows.size();
  switch (agg.input()) {
    case AggInput::kShared: return OkStatus();  // another aggregator takes the values
    case AggInput::kNone:
      agg.AddCount(slots_.data(), n);
      return OkStatus();
    case AggInput::kInterval: {
      ASSIGN_OR_RETURN(const int64_t* end, chunk.end_ns());
      ASSIGN_OR_RETURN(const int64_t* start, chunk.start_ns());
      starts_.resize(n);
      ends_.resize(n);
      for (size_t k = 0; k < n; ++k) {
        starts_[k] = start[rows[k]];
        ends_[k] = end[rows[k]];
      }
      agg.AddIntervals(slots_.data(), starts_.data(), ends_.data(), n);
      return OkStatus();
    }
    case AggInput::kNumber:
    case AggInput::kHash: break;
  }
  ASSIGN_OR_RETURN(ColumnView col, columns_.Get(query_.calcs[calc].column));
  if (col.all_null()) return OkStatus();
  fed_slots_.clear();
  if (agg.input() == AggInput::kNumber) {
    numbers_.clear();
    if (col.types == nullptr && col.uniform == TypeCode(ValueType::kDouble)) {  // every row
      numbers_.resize(n);
      for (size_t k = 0; k < n; ++k) numbers_[k] = col.doubles[rows[k]];
      agg.AddNumbers(slots_.data(), numbers_.data(), n);
      return OkStatus();
    }
    for (size_t k = 0; k < n; ++k) {
      double v;
      if (!col.NumberAt(rows[k], &v)) continue;
      numbers_.push_back(v);
      fed_slots_.push_back(slots_[k]);
    }
    agg.AddNumbers(fed_slots_.data(), numbers_.data(), numbers_.size());
    return OkStatus();
  }
  hashes_.clear();
  for (size_t k = 0; k < n; ++k) {
    uint32_t r = rows[k];
    switch (static_cast<ValueType>(col.TypeAt(r))) {
      case ValueType::kString: hashes_.push_back(HashString(col.strs[r])); break;
      case ValueType::kInt: hashes_.push_back(HashInt(col.ints[r])); break;
      case ValueType::kDouble: hashes_.push_back(HashDouble(col.doubles[r])); break;
      case ValueType::kBool: hashes_.push_back(HashBool(col.ints[r] != 0)); break;
      default: continue;
    }
    fed_slots_.push_back(slots_[k]);
  }
  agg.AddHashes(fed_slots_.data(), hashes_.data(), hashes_.size());
  return OkStatus();
}

Status QueryWorker::DropRowsOutsideTopGroups() {
  const PreparedQuery::TopGroups& top = *query_.top_groups;
  ASSIGN_OR_RETURN(ColumnView col, columns_.Get(query_.calcs[top.calc].column));
  bound_keys_.clear();
  size_t kept = 0;
  for (uint32_t r : rows_) {
    double key;
    if (!col.NumberAt(r, &key)) key = std::nan("");
    if (!top.largest) key = -key;
    if (std::isnan(key) ? top_threshold_->active() : !top_threshold_->MayEnter(key)) continue;
    rows_[kept++] = r;
    bound_keys_.push_back(key);
  }
  rows_.resize(kept);
  return OkStatus();
}

void QueryWorker::OfferToTopGroups() {
  for (size_t k = 0; k < rows_.size(); ++k) {
    if (!std::isnan(bound_keys_[k])) top_threshold_->Offer(slots_[k], bound_keys_[k]);
  }
  top_threshold_->Settle();
}

Status QueryWorker::Consume(Chunk& chunk) {
  columns_.Reset(&chunk);
  ++stats_.chunks_scanned;
  stats_.rows_examined += chunk.rows();
  RETURN_IF_ERROR(query_.selector->Select(chunk, columns_, &rows_));
  if (rows_.empty()) return OkStatus();
  stats_.rows_matched += rows_.size();
  if (top_threshold_) {
    const size_t matched = rows_.size();
    RETURN_IF_ERROR(DropRowsOutsideTopGroups());
    stats_.rows_skipped += matched - rows_.size();
    if (rows_.empty()) return OkStatus();
  }
  RETURN_IF_ERROR(AssignSlots(chunk, rows_));
  if (top_threshold_) OfferToTopGroups();
  for (size_t c = 0; c < aggregators_.size(); ++c) RETURN_IF_ERROR(Feed(chunk, c, rows_));
  return OkStatus();
}

}  // namespace waggle::query::internal
