#include "query/internal/filter_eval.h"

#include <charconv>
#include <cmath>
#include <functional>
#include <string_view>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace waggle::query::internal {
namespace {

FilterOp PositiveOf(FilterOp op, bool* negated) {
  *negated = true;
  switch (op) {
    case FilterOp::kNe: return FilterOp::kEq;
    case FilterOp::kNotIn: return FilterOp::kIn;
    case FilterOp::kDoesNotStartWith: return FilterOp::kStartsWith;
    case FilterOp::kDoesNotEndWith: return FilterOp::kEndsWith;
    case FilterOp::kDoesNotContain: return FilterOp::kContains;
    case FilterOp::kDoesNotExist: return FilterOp::kExists;
    default: *negated = false; return op;
  }
}

std::string DoubleText(double d) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return ec == std::errc() ? std::string(buf, end) : std::string();
}

void SetNumberFromText(std::string_view text, Operand* op) {
  int64_t i;
  double d;
  if (absl::SimpleAtoi(absl::string_view(text.data(), text.size()), &i)) {
    op->has_number = op->is_int = true;
    op->int_value = i;
    op->number = static_cast<double>(i);
  } else if (absl::SimpleAtod(absl::string_view(text.data(), text.size()), &d) &&
             std::isfinite(d)) {
    op->has_number = true;
    op->number = d;
  }
}

}  // namespace

Operand MakeOperand(const Value& v) {
  Operand op;
  switch (v.kind) {
    case Value::Kind::kString:
      op.text = v.str;
      op.is_string = true;
      SetNumberFromText(v.str, &op);
      if (v.str == "true" || v.str == "false") {
        op.has_bool = true;
        op.boolean = v.str == "true";
      }
      break;
    case Value::Kind::kInt:
      op.text = std::to_string(v.i);
      op.has_number = op.is_int = true;
      op.int_value = v.i;
      op.number = static_cast<double>(v.i);
      break;
    case Value::Kind::kDouble:
      op.text = DoubleText(v.d);
      op.has_number = true;
      op.number = v.d;
      if (std::floor(v.d) == v.d && std::fabs(v.d) < 9.2e18) {
        op.is_int = true;
        op.int_value = static_cast<int64_t>(v.d);
      }
      break;
    case Value::Kind::kBool:
      op.text = v.b ? "true" : "false";
      op.has_bool = true;
      op.boolean = v.b;
      break;
    case Value::Kind::kNull:
      break;
  }
  return op;
}

CompiledFilter::CompiledFilter(const Filter& filter)
    : column_(filter.column), op_(filter.op), positive_op_(PositiveOf(filter.op, &negated_)) {
  for (const Value& v : filter.values) operands_.push_back(MakeOperand(v));
}

bool CompiledFilter::EqualsOperand(const ColumnView& col, size_t row, const Operand& op) const {
  switch (static_cast<ValueType>(col.TypeAt(row))) {
    case ValueType::kString: return col.strs[row] == op.text;
    case ValueType::kInt:
      if (!op.has_number) return false;
      return op.is_int ? col.ints[row] == op.int_value
                       : static_cast<double>(col.ints[row]) == op.number;
    case ValueType::kDouble: return op.has_number && col.doubles[row] == op.number;
    case ValueType::kBool: return op.has_bool && (col.ints[row] != 0) == op.boolean;
  }
  return false;  // null
}

// Whether the row satisfies the ordering op; false when the two are incomparable.
bool CompiledFilter::CompareOperand(const ColumnView& col, size_t row) const {
  const Operand& op = operands_[0];
  int cmp;
  switch (static_cast<ValueType>(col.TypeAt(row))) {
    case ValueType::kString: {
      if (!op.is_string) return false;
      int c = col.strs[row].compare(op.text);
      cmp = c < 0 ? -1 : c > 0 ? 1 : 0;
      break;
    }
    case ValueType::kInt: {
      if (!op.has_number) return false;
      if (op.is_int) {
        int64_t v = col.ints[row];
        cmp = v < op.int_value ? -1 : v > op.int_value ? 1 : 0;
      } else {
        double v = static_cast<double>(col.ints[row]);
        cmp = v < op.number ? -1 : v > op.number ? 1 : 0;
      }
      break;
    }
    case ValueType::kDouble: {
      if (!op.has_number) return false;
      double v = col.doubles[row];
      if (std::isnan(v)) return false;
      cmp = v < op.number ? -1 : v > op.number ? 1 : 0;
      break;
    }
    default: return false;
  }
  switch (positive_op_) {
    case FilterOp::kGt: return cmp > 0;
    case FilterOp::kGe: return cmp >= 0;
    case FilterOp::kLt: return cmp < 0;
    case FilterOp::kLe: return cmp <= 0;
    default: return false;
  }
}

bool CompiledFilter::StringOp(std::string_view s) const {
  const std::string& t = operands_[0].text;
  switch (positive_op_) {
    case FilterOp::kStartsWith: return s.starts_with(t);
    case FilterOp::kEndsWith: return s.ends_with(t);
    case FilterOp::kContains: return s.find(t) != std::string_view::npos;
    default: return false;
  }
}

bool CompiledFilter::PositiveMatch(const ColumnView& col, size_t row) const {
  switch (positive_op_) {
    case FilterOp::kExists: return col.TypeAt(row) != 0;
    case FilterOp::kEq: return !operands_.empty() && EqualsOperand(col, row, operands_[0]);
    case FilterOp::kIn:
      for (const Operand& op : operands_) {
        if (EqualsOperand(col, row, op)) return true;
      }
      return false;
    case FilterOp::kGt:
    case FilterOp::kGe:
    case FilterOp::kLt:
    case FilterOp::kLe: return !operands_.empty() && CompareOperand(col, row);
    case FilterOp::kStartsWith:
    case FilterOp::kEndsWith:
    case FilterOp::kContains:
      return !operands_.empty() && col.TypeAt(row) == TypeCode(ValueType::kString) &&
             StringOp(col.strs[row]);
    default: return false;
  }
}

bool CompiledFilter::Matches(const ColumnView& col, size_t row) const {
  return PositiveMatch(col, row) != negated_;
}

void CompiledFilter::Narrow(const ColumnView& col, std::vector<uint32_t>* rows) const {
  if (col.all_null()) {
    // Only the negative ops match a missing column.
    if (!negated_) rows->clear();
    return;
  }
  if (col.types == nullptr && col.uniform == TypeCode(ValueType::kString) && col.codes != nullptr &&
      col.dict_size == 1) {
    // Every row holds the one dictionary entry (e.g. service.name on a one-service block).
    if (!MatchDictionary(col)[0]) rows->clear();
    return;
  }
  if (NarrowFast(col, rows)) return;
  size_t kept = 0;
  if (col.codes != nullptr && col.dict_size < rows->size()) {
    const std::vector<uint8_t> code_matches = MatchDictionary(col);
    for (uint32_t r : *rows) {
      bool match = col.TypeAt(r) == TypeCode(ValueType::kString) ? code_matches[col.codes[r]] != 0
                                                                  : Matches(col, r);
      if (match) (*rows)[kept++] = r;
    }
  } else {
    for (uint32_t r : *rows) {
      if (Matches(col, r)) (*rows)[kept++] = r;
    }
  }
  rows->resize(kept);
}

namespace {

// Keeps the rows r of *rows with keep(r); order kept.
template <typename Keep>
void KeepRows(std::vector<uint32_t>* rows, Keep keep) {
  size_t kept = 0;
  for (uint32_t r : *rows) {
    (*rows)[kept] = r;
    kept += keep(r) ? 1 : 0;
  }
  rows->resize(kept);
}

}  // namespace

bool CompiledFilter::NarrowFast(const ColumnView& col, std::vector<uint32_t>* rows) const {
  if (positive_op_ == FilterOp::kExists) {
    if (col.types == nullptr) {  // every row has a value (all_null was handled)
      if (negated_) rows->clear();
      return true;
    }
    KeepRows(rows, [&](uint32_t r) { return (col.types[r] != 0) != negated_; });
    return true;
  }
  const bool ordered = positive_op_ == FilterOp::kGt || positive_op_ == FilterOp::kGe ||
                       positive_op_ == FilterOp::kLt || positive_op_ == FilterOp::kLe;
  if (!ordered || operands_.empty() || !operands_[0].has_number) return false;
  const Operand& op = operands_[0];
  const FilterOp cmp = positive_op_;
  const uint8_t kInt = TypeCode(ValueType::kInt), kDouble = TypeCode(ValueType::kDouble);
  // Numbers inline (NaN compares false, as in CompareOperand); other rows the general way.
  // The comparison is chosen once, outside the row loop.
  auto keep_ordered = [&](auto less_or_greater) {
    // Ints and nulls only (a null row's placeholder value is compared, then discarded).
    if (col.types != nullptr && col.only_type == kInt && col.ints != nullptr && op.is_int) {
      KeepRows(rows, [&](uint32_t r) {
        return (col.types[r] == kInt) & less_or_greater(col.ints[r], op.int_value);
      });
      return;
    }
    KeepRows(rows, [&](uint32_t r) {
      const uint8_t t = col.TypeAt(r);
      if (t == kInt && op.is_int) return less_or_greater(col.ints[r], op.int_value);
      if (t == kDouble) return less_or_greater(col.doubles[r], op.number);
      return t != 0 && CompareOperand(col, r);
    });
  };
  switch (cmp) {
    case FilterOp::kGt: keep_ordered(std::greater<>()); break;
    case FilterOp::kGe: keep_ordered(std::greater_equal<>()); break;
    case FilterOp::kLt: keep_ordered(std::less<>()); break;
    default: keep_ordered(std::less_equal<>()); break;
  }
  return true;
}

std::vector<uint8_t> CompiledFilter::MatchDictionary(const ColumnView& col) const {
  std::vector<uint8_t> matches(col.dict_size);
  ColumnView entry;
  entry.rows = 1;
  entry.uniform = TypeCode(ValueType::kString);
  for (uint32_t code = 0; code < col.dict_size; ++code) {
    entry.strs = &col.dict[code];
    matches[code] = Matches(entry, 0) ? 1 : 0;
  }
  return matches;
}

void CompiledFilter::MarkMatches(const ColumnView& col, const std::vector<uint32_t>& rows,
                                 std::vector<uint8_t>* match) const {
  if (col.all_null()) {
    if (negated_) std::fill(match->begin(), match->end(), 1);
    return;
  }
  for (size_t k = 0; k < rows.size(); ++k) {
    if (!(*match)[k] && Matches(col, rows[k])) (*match)[k] = 1;
  }
}

}  // namespace waggle::query::internal
