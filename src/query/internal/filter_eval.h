// Filter evaluation over ColumnViews, with operands coerced once per filter.
//
// Matching rules (docs/QUERY.md): `=`/`!=`/`in`/`not-in` compare numbers numerically (an int
// row equals the operand 5, 5.0 or "5"), strings byte for byte (a string row equals "5" and
// the number 5), bools with true/false/"true"/"false". `> >= < <=` compare numbers
// numerically and strings lexicographically; a row of another type does not match. The
// string ops apply to string rows only. Negative ops (`!=`, `not-in`, `does-not-*`) match
// exactly the rows their positive op does not, null rows included; `exists` matches non-null.
//
// Thread-safety: a CompiledFilter is immutable after construction.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "query/chunk.h"
#include "query/query_spec.h"

namespace waggle::query::internal {

struct Operand {
  std::string text;        // the operand as a string row would hold it
  bool is_string = false;  // given as a JSON string
  bool has_number = false;
  bool is_int = false;     // integral number (compare int rows exactly)
  int64_t int_value = 0;
  double number = 0;
  bool has_bool = false;
  bool boolean = false;
};

class CompiledFilter {
 public:
  explicit CompiledFilter(const Filter& filter);

  const std::string& column() const { return column_; }
  // True for `exists` / `does-not-exist`, which read only whether a row is null.
  bool presence_only() const { return positive_op_ == FilterOp::kExists; }
  bool Matches(const ColumnView& col, size_t row) const;
  // Keeps in *rows only the rows that match (order kept).
  void Narrow(const ColumnView& col, std::vector<uint32_t>* rows) const;
  // match[k] = 1 where rows[k] matches (OR combination); leaves other entries as they are.
  void MarkMatches(const ColumnView& col, const std::vector<uint32_t>& rows,
                   std::vector<uint8_t>* match) const;

 private:
  bool PositiveMatch(const ColumnView& col, size_t row) const;
  // Narrow for the common cases a tight loop can do (presence; ordered comparisons with a
  // numeric operand); false when it did nothing.
  bool NarrowFast(const ColumnView& col, std::vector<uint32_t>* rows) const;
  bool EqualsOperand(const ColumnView& col, size_t row, const Operand& op) const;
  bool CompareOperand(const ColumnView& col, size_t row) const;
  bool StringOp(std::string_view s) const;
  // Matches(entry) for every entry of the column's dictionary, indexed by code.
  std::vector<uint8_t> MatchDictionary(const ColumnView& col) const;

  std::string column_;
  FilterOp op_;
  bool negated_ = false;  // the op is the negation of positive_op_
  FilterOp positive_op_;
  std::vector<Operand> operands_;
};

Operand MakeOperand(const Value& v);

}  // namespace waggle::query::internal
