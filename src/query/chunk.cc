#include "query/chunk.h"

#include <algorithm>

namespace waggle::query {

void ColumnBuffer::Mark(size_t r, ValueType t) {
  if (types_.size() != rows_) types_.resize(rows_, 0);
  types_[r] = TypeCode(t);
  any_set_ = true;
  only_type_ = 0;
}

int64_t* ColumnBuffer::Ints() {
  if (ints_.size() != rows_) ints_.resize(rows_);
  return ints_.data();
}
double* ColumnBuffer::Doubles() {
  if (doubles_.size() != rows_) doubles_.resize(rows_);
  return doubles_.data();
}
std::string_view* ColumnBuffer::Strs() {
  if (strs_.size() != rows_) strs_.resize(rows_);
  return strs_.data();
}

void ColumnBuffer::AdoptInts(std::vector<int64_t> v, ValueType type) {
  ints_ = std::move(v);
  ints_.resize(rows_);
  any_set_ = true;
  uniform_ = TypeCode(type);
  types_.clear();
  all_set_ = true;
}
void ColumnBuffer::AdoptDoubles(std::vector<double> v) {
  doubles_ = std::move(v);
  doubles_.resize(rows_);
  any_set_ = true;
  uniform_ = TypeCode(ValueType::kDouble);
  types_.clear();
  all_set_ = true;
}
void ColumnBuffer::AdoptStrings(std::vector<std::string_view> v) {
  strs_ = std::move(v);
  strs_.resize(rows_);
  any_set_ = true;
  uniform_ = TypeCode(ValueType::kString);
  types_.clear();
  all_set_ = true;
}

void ColumnBuffer::TypesFromPresence(const std::vector<uint8_t>& present, ValueType t) {
  if (present.empty()) return;  // the Adopt* call left every row of type t
  const uint8_t code = TypeCode(t);
  types_.resize(rows_);
  for (size_t r = 0; r < rows_; ++r) types_[r] = r < present.size() && present[r] ? code : 0;
  all_set_ = false;
  uniform_ = 0;
  only_type_ = code;
}
void ColumnBuffer::AdoptPresence(const std::vector<uint8_t>& present, ValueType t) {
  any_set_ = true;
  uniform_ = TypeCode(t);
  types_.clear();
  all_set_ = true;
  TypesFromPresence(present, t);
}
void ColumnBuffer::AdoptInts(std::vector<int64_t> v, ValueType type,
                             const std::vector<uint8_t>& present) {
  AdoptInts(std::move(v), type);
  TypesFromPresence(present, type);
}
void ColumnBuffer::AdoptDoubles(std::vector<double> v, const std::vector<uint8_t>& present) {
  AdoptDoubles(std::move(v));
  TypesFromPresence(present, ValueType::kDouble);
}
void ColumnBuffer::AdoptStrings(std::vector<std::string_view> v,
                                const std::vector<uint8_t>& present) {
  AdoptStrings(std::move(v));
  TypesFromPresence(present, ValueType::kString);
}

char* ColumnBuffer::AllocateText(size_t n) {
  static constexpr size_t kBlockBytes = 64 * 1024;
  if (n > text_left_) {
    const size_t size = std::max(n, kBlockBytes);
    text_blocks_.push_back(std::make_unique<char[]>(size));
    text_next_ = text_blocks_.back().get();
    text_left_ = size;
  }
  char* out = text_next_;
  text_next_ += n;
  text_left_ -= n;
  return out;
}

ColumnView ColumnBuffer::View() const {
  ColumnView v;
  v.rows = rows_;
  v.ints = ints_.empty() ? nullptr : ints_.data();
  v.doubles = doubles_.empty() ? nullptr : doubles_.data();
  v.strs = strs_.empty() ? nullptr : strs_.data();
  v.codes = codes_;
  v.dict = dict_;
  v.dict_size = dict_size_;
  if (all_set_) {
    v.uniform = uniform_;
  } else if (any_set_) {
    v.types = types_.data();
    v.only_type = only_type_;
  }
  return v;
}

Status Chunk::StartsOfRows(const std::vector<uint32_t>& rows, int64_t* dense) {
  ASSIGN_OR_RETURN(const int64_t* start, start_ns());
  for (uint32_t r : rows) dense[r] = start[r];
  return OkStatus();
}

StatusOr<const int64_t*> Chunk::duration_ns() {
  if (durations_.size() != rows()) {
    ASSIGN_OR_RETURN(const int64_t* start, start_ns());
    ASSIGN_OR_RETURN(const int64_t* end, end_ns());
    durations_.resize(rows());
    for (size_t r = 0; r < rows(); ++r) {
      durations_[r] = static_cast<int64_t>(static_cast<uint64_t>(end[r]) - static_cast<uint64_t>(start[r]));
    }
  }
  return durations_.data();
}

}  // namespace waggle::query
