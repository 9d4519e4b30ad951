#include "wire/internal/protobuf_reader.h"

#include "wire/internal/decode_util.h"

namespace waggle::wire_internal {

std::string ProtoReader::ErrorString() const {
  if (error_ == nullptr) return "";
  return Cat(error_, " at byte ", error_offset_);
}

}  // namespace waggle::wire_internal
