#include "query/internal/group_key.h"

#include <cstring>

namespace waggle::query::internal {
namespace {

void AppendFixed(const void* p, size_t n, std::string* key) {
  key->append(static_cast<const char*>(p), n);
}

template <typename T>
T ReadFixed(std::string_view* in) {
  T v{};
  std::memcpy(&v, in->data(), sizeof v);
  in->remove_prefix(sizeof v);
  return v;
}

int Rank(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kNull: return 0;
    case Value::Kind::kBool: return 1;
    case Value::Kind::kInt:
    case Value::Kind::kDouble: return 2;
    case Value::Kind::kString: return 3;
  }
  return 0;
}

}  // namespace

void AppendGroupValue(const ColumnView& col, size_t row, std::string* key) {
  uint8_t type = col.TypeAt(row);
  key->push_back(static_cast<char>(type));
  switch (static_cast<ValueType>(type)) {
    case ValueType::kString: {
      std::string_view s = col.strs[row];
      uint32_t n = static_cast<uint32_t>(s.size());
      AppendFixed(&n, 4, key);
      key->append(s);
      break;
    }
    case ValueType::kInt: AppendFixed(&col.ints[row], 8, key); break;
    case ValueType::kDouble: AppendFixed(&col.doubles[row], 8, key); break;
    case ValueType::kBool: key->push_back(col.ints[row] ? 1 : 0); break;
  }
}

void AppendBucket(uint32_t bucket, std::string* key) { AppendFixed(&bucket, 4, key); }

std::string_view GroupPart(std::string_view slot_key) {
  return slot_key.substr(0, slot_key.size() - 4);
}

uint32_t BucketPart(std::string_view slot_key) {
  std::string_view tail = slot_key.substr(slot_key.size() - 4);
  return ReadFixed<uint32_t>(&tail);
}

std::vector<Value> DecodeGroup(std::string_view key, size_t count) {
  std::vector<Value> out;
  out.reserve(count);
  for (size_t b = 0; b < count; ++b) {
    uint8_t type = static_cast<uint8_t>(key[0]);
    key.remove_prefix(1);
    switch (static_cast<ValueType>(type)) {
      case ValueType::kString: {
        uint32_t n = ReadFixed<uint32_t>(&key);
        out.push_back(Value::String(std::string(key.substr(0, n))));
        key.remove_prefix(n);
        break;
      }
      case ValueType::kInt: out.push_back(Value::Int(ReadFixed<int64_t>(&key))); break;
      case ValueType::kDouble: out.push_back(Value::Double(ReadFixed<double>(&key))); break;
      case ValueType::kBool:
        out.push_back(Value::Bool(key[0] != 0));
        key.remove_prefix(1);
        break;
      default: out.push_back(Value::Null()); break;
    }
  }
  return out;
}

int CompareValues(const Value& a, const Value& b) {
  int ra = Rank(a), rb = Rank(b);
  if (ra != rb) return ra < rb ? -1 : 1;
  switch (a.kind) {
    case Value::Kind::kNull: return 0;
    case Value::Kind::kBool: return a.b == b.b ? 0 : (a.b ? 1 : -1);
    case Value::Kind::kString: {
      int c = a.str.compare(b.str);
      return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
    default: {
      if (a.kind == Value::Kind::kInt && b.kind == Value::Kind::kInt) {
        return a.i < b.i ? -1 : a.i > b.i ? 1 : 0;
      }
      double x = a.AsDouble(), y = b.AsDouble();
      return x < y ? -1 : x > y ? 1 : 0;
    }
  }
}

}  // namespace waggle::query::internal
