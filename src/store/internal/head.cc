#include "store/internal/head.h"

#include <algorithm>

#include "store/internal/coding.h"
// Header-only XXH3: the pool hashes a value per distinct string, inlined saves the call.
#define XXH_INLINE_ALL
#include "xxhash.h"

namespace waggle::store_internal {
namespace {

std::string_view AsBytes(const TraceId& id) {
  return std::string_view(reinterpret_cast<const char*>(id.data()), id.size());
}

}  // namespace

StringPool::StringPool() : cache_(kCacheSlots) {
  strings_.push_back(std::string_view());
  index_.emplace(std::string_view(), 0);
}

uint32_t StringPool::Intern(std::string_view s) {
  auto it = index_.find(s);
  if (it != index_.end()) return it->second;
  uint32_t code = Append(s);
  index_.emplace(strings_[code], code);
  return code;
}

uint32_t StringPool::Store(std::string_view s) {
  if (s.empty()) return 0;
  const uint64_t hash = XXH3_64bits(s.data(), s.size());
  CacheSlot& slot = cache_[hash & (kCacheSlots - 1)];
  const uint32_t tag = static_cast<uint32_t>(hash >> 32);
  // The tag rejects almost every other string without touching strings_ or the arena (two
  // cache misses per high-cardinality value otherwise).
  if (slot.code != 0 && slot.tag == tag && SameBytes(strings_[slot.code], s)) return slot.code;
  slot = CacheSlot{Append(s), tag};
  return slot.code;
}

uint32_t StringPool::Append(std::string_view s) {
  char* dst;
  if (s.size() > kChunkBytes / 4) {
    large_.push_back(std::make_unique_for_overwrite<char[]>(s.size()));
    large_bytes_ += s.size();
    dst = large_.back().get();
  } else {
    if (chunk_used_ + s.size() > kChunkBytes) {
      if (next_chunk_ == chunks_.size()) {
        chunks_.push_back(std::make_unique_for_overwrite<char[]>(kChunkBytes));
      }
      chunk_ = chunks_[next_chunk_++].get();
      chunk_used_ = 0;
    }
    dst = chunk_ + chunk_used_;
    chunk_used_ += s.size();
  }
  std::copy(s.begin(), s.end(), dst);
  uint32_t code = static_cast<uint32_t>(strings_.size());
  strings_.push_back(std::string_view(dst, s.size()));
  return code;
}

void StringPool::Clear() {
  large_.clear();
  next_chunk_ = 0;
  chunk_ = nullptr;
  chunk_used_ = kChunkBytes;
  large_bytes_ = 0;
  strings_.resize(1);  // code 0, the empty string
  index_.clear();
  index_.emplace(std::string_view(), 0);
  std::fill(cache_.begin(), cache_.end(), CacheSlot{});
}

size_t StringPool::memory_bytes() const {
  return chunks_.size() * kChunkBytes + large_bytes_ +
         strings_.capacity() * sizeof(std::string_view) +
         index_.capacity() * (sizeof(std::string_view) + sizeof(uint32_t) + 1) +
         cache_.capacity() * sizeof(CacheSlot);
}

int64_t AttrColumn::Find(uint32_t row) const {
  auto it = std::lower_bound(rows.begin(), rows.end(), row);
  if (it == rows.end() || *it != row) return -1;
  return it - rows.begin();
}

Head::Head(size_t expected_rows) {
  trace_id_.reserve(expected_rows);
  span_id_.reserve(expected_rows);
  parent_id_.reserve(expected_rows);
  start_.reserve(expected_rows);
  end_.reserve(expected_rows);
  row_kind_.reserve(expected_rows);
  kind_.reserve(expected_rows);
  status_.reserve(expected_rows);
  flags_.reserve(expected_rows);
  for (auto& v : str_) v.reserve(expected_rows);
  prev_row_in_trace_.reserve(expected_rows);
}

namespace {

// spare_columns_'s key of (key, type).
std::string SpareKey(std::string_view key, ValueType type) {
  std::string k(key);
  k.push_back(static_cast<char>(type));
  return k;
}

}  // namespace

void Head::Clear() {
  spare_columns_.clear();  // what the last fill did not take back
  for (AttrColumn& c : attrs_) {
    ColumnBuffers& b = spare_columns_[SpareKey(c.key, c.type)];
    b.rows = std::move(c.rows);
    b.wide = std::move(c.wide);
    b.narrow = std::move(c.narrow);
    b.rows.clear();
    b.wide.clear();
    b.narrow.clear();
  }
  attrs_.clear();
  attr_index_.clear();
  key_ids_.clear();
  key_last_row_.clear();
  pool_.Clear();
  trace_id_.clear();
  span_id_.clear();
  parent_id_.clear();
  start_.clear();
  end_.clear();
  row_kind_.clear();
  kind_.clear();
  status_.clear();
  flags_.clear();
  for (auto& v : str_) v.clear();
  link_rows_.clear();
  link_ids_.clear();
  // A large table is freed by clear(): reserve what the last fill needed, so the next one does
  // not rehash its way up again.
  const size_t traces = last_row_of_trace_.size();
  last_row_of_trace_.clear();
  last_row_of_trace_.reserve(traces);
  prev_row_in_trace_.clear();
  trace_run_last_ = nullptr;
  min_start_ = INT64_MAX;
  max_start_ = INT64_MIN;
  last_written_ns_ = 0;
  std::fill(std::begin(last_fixed_code_), std::end(last_fixed_code_), 0);
  nonempty_strings_ = 0;
  flags_any_ = 0;
}

uint32_t Head::StoreString(std::string_view s, uint32_t* last_code) {
  if (s.empty()) return 0;
  if (SameBytes(pool_.Get(*last_code), s)) return *last_code;
  *last_code = pool_.Store(s);
  return *last_code;
}

uint32_t Head::AddFixed(const RowFixed& f, uint8_t same_strings, int64_t now_ns) {
  uint32_t row = static_cast<uint32_t>(start_.size());
  trace_id_.push_back(*f.trace_id);
  span_id_.push_back(*f.span_id);
  parent_id_.push_back(*f.parent_id);
  start_.push_back(f.start_ns);
  end_.push_back(f.end_ns);
  row_kind_.push_back(static_cast<uint8_t>(f.row_kind));
  kind_.push_back(static_cast<uint8_t>(f.kind));
  status_.push_back(static_cast<uint8_t>(f.status));
  flags_.push_back(f.flags);
  for (int i = 0; i < kFixedStringCount; ++i) {
    std::vector<uint32_t>& column = str_[i];
    column.push_back((same_strings >> i) & 1 ? column.back()
                                             : StoreString(f.strs[i], &last_fixed_code_[i]));
    nonempty_strings_ |= static_cast<uint8_t>((column.back() != 0) << i);
  }
  flags_any_ |= f.flags;
  if (f.row_kind == RowKind::kLink && (!IsZero(*f.link_trace) || !IsZero(*f.link_span))) {
    link_rows_.push_back(row);
    link_ids_.emplace_back(*f.link_trace, *f.link_span);
  }
  LinkTraceRow(*f.trace_id, row);
  min_start_ = std::min(min_start_, f.start_ns);
  max_start_ = std::max(max_start_, f.start_ns);
  last_written_ns_ = std::max(last_written_ns_, now_ns);
  return row;
}

void Head::LinkTraceRow(const TraceId& id, uint32_t row) {
  // Rows of one trace often arrive back to back: extend the run without hashing.
  if (trace_run_last_ != nullptr && row > 0 &&
      SameBytes(AsBytes(trace_id_[row - 1]), AsBytes(id))) {
    prev_row_in_trace_.push_back(*trace_run_last_);
    *trace_run_last_ = row;
    return;
  }
  auto [it, inserted] = last_row_of_trace_.try_emplace(id, row);
  prev_row_in_trace_.push_back(inserted ? kNoRow : it->second);
  it->second = row;
  trace_run_last_ = &it->second;
}

AttrColumn* Head::ColumnFor(std::string_view key, ValueType type, AttrColumn* prev) {
  if (prev && prev->next_hint && prev->next_hint->type == type &&
      SameBytes(prev->next_hint->key, key)) {
    return prev->next_hint;
  }
  AttrColumn* col;
  auto it = attr_index_.find(std::make_pair(key, type));
  if (it != attr_index_.end()) {
    col = it->second;
  } else {
    col = &attrs_.emplace_back();
    col->key = pool_.Get(pool_.Intern(key));
    col->type = type;
    if (!spare_columns_.empty()) {
      auto spare = spare_columns_.find(SpareKey(key, type));
      if (spare != spare_columns_.end()) {
        col->rows = std::move(spare->second.rows);
        col->wide = std::move(spare->second.wide);
        col->narrow = std::move(spare->second.narrow);
        spare_columns_.erase(spare);
      }
    }
    auto [kit, inserted] = key_ids_.try_emplace(col->key, key_last_row_.size());
    if (inserted) key_last_row_.push_back(kNoRow);
    col->key_id = kit->second;
    attr_index_.emplace(std::make_pair(col->key, type), col);
  }
  if (prev) prev->next_hint = col;
  return col;
}

void Head::AddAttr(uint32_t row, AttrColumn* col, const AttrView& a, uint32_t* code,
                   int64_t now_ns) {
  uint32_t& taken = key_last_row_[col->key_id];
  if (taken == row) return;  // a higher-priority attribute has the key
  taken = row;
  col->rows.push_back(row);
  col->last_written_ns = std::max(col->last_written_ns, now_ns);
  switch (a.type) {
    case ValueType::kString:
      if (*code == kNoCode) {
        *code = StoreString(a.str, &col->last_code);
      } else {
        col->last_code = *code;
      }
      col->narrow.push_back(*code);
      break;
    case ValueType::kBool: col->narrow.push_back(a.b ? 1 : 0); break;
    case ValueType::kInt: col->wide.push_back(static_cast<uint64_t>(a.i)); break;
    case ValueType::kDouble: col->wide.push_back(DoubleBits(a.d)); break;
  }
}

AttrColumn* Head::BatchColumn(const SpanBatch& batch, const BatchHints* hints, uint32_t i,
                              AttrColumn* prev) {
  const AttrView& a = batch.attrs[i];
  if (hints == nullptr) return ColumnFor(a.key, a.type, prev);
  AttrColumn*& by_key = key_columns_[hints->key_of_attr[i]];
  if (by_key != nullptr && by_key->type == a.type) return by_key;
  AttrColumn* col = ColumnFor(a.key, a.type, nullptr);
  if (by_key == nullptr) by_key = col;
  return col;
}

void Head::AddBatch(const SpanBatch& batch, int64_t now_ns) {
  AddBatch(batch, nullptr, now_ns);
}

void Head::AddBatch(const SpanBatch& batch, const BatchHints* hints, int64_t now_ns) {
  const uint32_t n_attrs = static_cast<uint32_t>(batch.attrs.size());
  if (hints != nullptr && (hints->key_of_attr.size() != n_attrs ||
                          hints->value_of_attr.size() != n_attrs ||
                          hints->row_same_strings.size() != batch.rows.size())) {
    hints = nullptr;  // not this batch's
  }
  batch_attrs_.assign(n_attrs, BatchAttr{});
  if (hints != nullptr) key_columns_.assign(hints->key_count, nullptr);
  for (size_t j = 0; j < batch.rows.size(); ++j) {
    const SpanRow& r = batch.rows[j];
    // The bits say "same as the batch's previous row", which is the head's previous row.
    const uint8_t same_strings = hints != nullptr && j > 0 ? hints->row_same_strings[j] : 0;
    RowFixed f{r.row_kind, &r.trace_id, &r.span_id, &r.parent_span_id, r.start_ns, r.end_ns,
               r.kind, r.status_code, r.flags,
               {r.name, r.service_name, r.status_message, r.trace_state, r.scope_name,
                r.scope_version, r.parent_name},
               &r.link_trace_id, &r.link_span_id};
    uint32_t row = AddFixed(f, same_strings, now_ns);
    // Highest priority first: own attributes, scope, resource; later wins within a range.
    AttrColumn* prev = nullptr;
    for (AttrRange range : {r.attrs, r.scope_attrs, r.resource_attrs}) {
      for (uint32_t i = std::min(range.end, n_attrs); i-- > range.begin;) {
        BatchAttr& cached = batch_attrs_[i];
        if (!cached.column) cached.column = BatchColumn(batch, hints, i, prev);
        prev = cached.column;
        // Equal values of a key share one memo: stored once per batch, never compared again.
        uint32_t* code = hints ? &batch_attrs_[hints->value_of_attr[i]].code : &cached.code;
        AddAttr(row, cached.column, batch.attrs[i], code, now_ns);
      }
    }
  }
}

void Head::AddSpan(const Span& s, int64_t now_ns) {
  RowFixed f{s.row_kind, &s.trace_id, &s.span_id, &s.parent_span_id, s.start_ns, s.end_ns,
             s.kind, s.status_code, s.flags,
             {s.name, s.service_name, s.status_message, s.trace_state, s.scope_name,
              s.scope_version, s.parent_name},
             &s.link_trace_id, &s.link_span_id};
  uint32_t row = AddFixed(f, 0, now_ns);
  AttrColumn* prev = nullptr;
  for (size_t i = s.attributes.size(); i-- > 0;) {  // later wins
    const Attribute& a = s.attributes[i];
    const AttrView view = ViewOf(a);
    AttrColumn* col = ColumnFor(a.key, a.type, prev);
    prev = col;
    uint32_t code = kNoCode;
    AddAttr(row, col, view, &code, now_ns);
  }
}

size_t Head::memory_bytes() const {
  // Fixed columns are reserved up front: only the pages up to size() are touched.
  size_t n = pool_.memory_bytes();
  n += trace_id_.size() * 16 + (span_id_.size() + parent_id_.size()) * 8;
  n += (start_.size() + end_.size()) * 8;
  n += row_kind_.size() + kind_.size() + status_.size() + flags_.size() * 4;
  for (const auto& v : str_) n += v.size() * 4;
  n += link_rows_.capacity() * 4 + link_ids_.capacity() * 24;
  for (const AttrColumn& c : attrs_) {
    n += sizeof(AttrColumn) + c.rows.capacity() * 4 + c.wide.capacity() * 8 +
         c.narrow.capacity() * 4;
  }
  for (const auto& [key, b] : spare_columns_) {
    n += b.rows.capacity() * 4 + b.wide.capacity() * 8 + b.narrow.capacity() * 4;
  }
  n += last_row_of_trace_.capacity() * 21 + prev_row_in_trace_.size() * 4;
  return n;
}

std::vector<uint32_t> Head::TraceRows(const TraceId& id) const {
  std::vector<uint32_t> rows;
  auto it = last_row_of_trace_.find(id);
  if (it == last_row_of_trace_.end()) return rows;
  for (uint32_t r = it->second; r != kNoRow; r = prev_row_in_trace_[r]) rows.push_back(r);
  std::reverse(rows.begin(), rows.end());
  return rows;
}

bool Head::LinkIds(uint32_t row, TraceId* trace, SpanId* span) const {
  auto it = std::lower_bound(link_rows_.begin(), link_rows_.end(), row);
  if (it == link_rows_.end() || *it != row) return false;
  const auto& ids = link_ids_[it - link_rows_.begin()];
  *trace = ids.first;
  *span = ids.second;
  return true;
}

Span Head::RowToSpan(uint32_t row) const {
  Span s;
  s.row_kind = static_cast<RowKind>(row_kind_[row]);
  s.trace_id = trace_id_[row];
  s.span_id = span_id_[row];
  s.parent_span_id = parent_id_[row];
  s.start_ns = start_[row];
  s.end_ns = end_[row];
  s.kind = static_cast<SpanKind>(kind_[row]);
  s.status_code = static_cast<StatusCode>(status_[row]);
  s.flags = flags_[row];
  s.name = pool_.Get(str_[FixedStringSlot(FixedColumn::kName)][row]);
  s.service_name = pool_.Get(str_[FixedStringSlot(FixedColumn::kService)][row]);
  s.status_message = pool_.Get(str_[FixedStringSlot(FixedColumn::kStatusMessage)][row]);
  s.trace_state = pool_.Get(str_[FixedStringSlot(FixedColumn::kTraceState)][row]);
  s.scope_name = pool_.Get(str_[FixedStringSlot(FixedColumn::kScopeName)][row]);
  s.scope_version = pool_.Get(str_[FixedStringSlot(FixedColumn::kScopeVersion)][row]);
  s.parent_name = pool_.Get(str_[FixedStringSlot(FixedColumn::kParentName)][row]);
  LinkIds(row, &s.link_trace_id, &s.link_span_id);
  for (const AttrColumn& c : attrs_) {
    int64_t i = c.Find(row);
    if (i < 0) continue;
    Attribute a;
    a.key = std::string(c.key);
    a.type = c.type;
    switch (c.type) {
      case ValueType::kString: a.str = pool_.Get(c.narrow[i]); break;
      case ValueType::kBool: a.b = c.narrow[i] != 0; break;
      case ValueType::kInt: a.i = static_cast<int64_t>(c.wide[i]); break;
      case ValueType::kDouble: a.d = BitsDouble(c.wide[i]); break;
    }
    s.attributes.push_back(std::move(a));
  }
  return s;
}

void Head::CollectColumns(std::vector<ColumnInfo>* out) const {
  if (empty()) return;
  for (const AttrColumn& c : attrs_) {
    out->push_back(ColumnInfo{std::string(c.key), c.type, c.last_written_ns});
  }
}

}  // namespace waggle::store_internal
