// Group keys: a row's breakdown values (and time bucket) encoded as bytes, so groups can be
// hashed and compared without building Values per row.
//
// Encoding per breakdown value: a type byte (0 null, then ValueType), then kString: fixed32
// length + bytes; kInt/kDouble: 8 bytes; kBool: 1 byte. A slot key is the group key followed by
// the fixed32 bucket index. Keys are only ever decoded from bytes this module wrote.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "query/chunk.h"
#include "query/query_spec.h"

namespace waggle::query::internal {

void AppendGroupValue(const ColumnView& col, size_t row, std::string* key);
void AppendBucket(uint32_t bucket, std::string* key);

// Splits a slot key into its group part and bucket.
std::string_view GroupPart(std::string_view slot_key);
uint32_t BucketPart(std::string_view slot_key);

// The Values of a group key with `count` breakdowns.
std::vector<Value> DecodeGroup(std::string_view group_key, size_t count);

// Total order for sorting groups: null < bool < numbers (numerically) < strings.
int CompareValues(const Value& a, const Value& b);

}  // namespace waggle::query::internal
