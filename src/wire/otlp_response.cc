// OTLP response bodies: ExportTraceServiceResponse and google.rpc.Status, protobuf and JSON.
#include <string>

#include "wire/internal/decode_util.h"
#include "wire/internal/protobuf_writer.h"
#include "wire/otlp.h"

namespace waggle {

using wire_internal::ProtoWriter;

std::string EncodeExportTraceResponseProtobuf(int64_t rejected_spans, std::string_view message) {
  std::string out;
  if (rejected_spans == 0 && message.empty()) return out;
  ProtoWriter w(&out);
  size_t partial = w.BeginLen(1);  // partial_success
  if (rejected_spans != 0) w.VarintField(1, static_cast<uint64_t>(rejected_spans));
  if (!message.empty()) w.BytesField(2, message);
  w.EndLen(partial);
  return out;
}

std::string EncodeExportTraceResponseJson(int64_t rejected_spans, std::string_view message) {
  if (rejected_spans == 0 && message.empty()) return "{}";
  std::string out = "{\"partialSuccess\":{";
  if (rejected_spans != 0) out += wire_internal::Cat("\"rejectedSpans\":\"", rejected_spans, "\"");
  if (!message.empty()) {
    if (rejected_spans != 0) out.push_back(',');
    out.append("\"errorMessage\":");
    wire_internal::AppendJsonString(message, &out);
  }
  out.append("}}");
  return out;
}

std::string EncodeRpcStatusProtobuf(int32_t code, std::string_view message) {
  std::string out;
  ProtoWriter w(&out);
  // int32 fields are varints; negative values sign-extend to 10 bytes as protobuf requires.
  if (code != 0) w.VarintField(1, static_cast<uint64_t>(static_cast<int64_t>(code)));
  if (!message.empty()) w.BytesField(2, message);
  return out;
}

std::string EncodeRpcStatusJson(int32_t code, std::string_view message) {
  std::string out = wire_internal::Cat("{\"code\":", code, ",\"message\":");
  wire_internal::AppendJsonString(message, &out);
  out.push_back('}');
  return out;
}

}  // namespace waggle
