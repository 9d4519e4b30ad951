// OtlpGrpcServer: the OTLP/gRPC trace endpoint (`TraceService/Export`, default port 4317).
//
// A gRPC server (Debian's grpc++) with a generic callback service: waggle receives the raw
// ExportTraceServiceRequest bytes and decodes them with its own wire reader (no generated
// code). Status codes per the OTLP specification: INVALID_ARGUMENT for undecodable requests
// (not retryable), UNAUTHENTICATED for a bad `x-honeycomb-team`, UNAVAILABLE under overload
// (retryable), RESOURCE_EXHAUSTED for a message over the size limit (gRPC's own check),
// UNIMPLEMENTED for other methods (logs and metrics are not served yet). The reply is an empty
// ExportTraceServiceResponse, sent only once the store made the spans durable.
//
// Threading: gRPC's own threads run the transport; decoding and the (blocking) Store::Append
// run on a bounded pool of `worker_threads` with `max_queued_requests` waiting; when full the
// call fails with UNAVAILABLE at once.
#pragma once

#include <memory>
#include <string>

#include "auth/api_keys.h"
#include "common/metrics.h"
#include "common/status.h"
#include "store/store.h"

namespace waggle {

struct OtlpGrpcOptions {
  std::string listen = "127.0.0.1:4317";  // host:port; port 0 picks a free port
  int max_message_bytes = 64 << 20;
  int worker_threads = 8;
  size_t max_queued_requests = 256;
};

class OtlpGrpcServer {
 public:
  virtual ~OtlpGrpcServer() = default;
  // Binds and starts serving; returns the bound "host:port".
  virtual StatusOr<std::string> Start() = 0;
  // Stops accepting, waits up to grace_ms for calls in flight, then cancels the rest.
  // Idempotent; the destructor calls it.
  virtual void Stop(int grace_ms = 5000) = 0;
};

// `store`, `keys` and `metrics` are not owned and must outlive the server.
std::unique_ptr<OtlpGrpcServer> NewOtlpGrpcServer(const OtlpGrpcOptions& options, Store* store,
                                                  const ApiKeys* keys, Metrics* metrics);

}  // namespace waggle
