#include "ingest/otlp_grpc_server.h"

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/internal/bounded_executor.h"
#include "wire/otlp.h"

namespace waggle {
namespace {

constexpr std::string_view kTraceExportMethod =
    "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

grpc::StatusCode GrpcCodeFor(const Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument: return grpc::StatusCode::INVALID_ARGUMENT;
    case absl::StatusCode::kUnauthenticated: return grpc::StatusCode::UNAUTHENTICATED;
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kUnavailable: return grpc::StatusCode::UNAVAILABLE;
    default: return grpc::StatusCode::INTERNAL;
  }
}

std::string ToString(const grpc::string_ref& ref) { return std::string(ref.data(), ref.size()); }

// The gRPC peer string ("ipv4:127.0.0.1:5555", "ipv6:[::1]:5555") as "host:port".
std::string PeerAddress(const std::string& peer) {
  size_t colon = peer.find(':');
  return colon == std::string::npos ? peer : peer.substr(colon + 1);
}

// Everything one Export call needs, shared by all calls; outlives every reactor.
struct ExportContext {
  Store* store;
  const ApiKeys* keys;
  Counter* spans_received;
  Counter* rows_stored;
  Counter* rejected_auth;
  Counter* rejected_decode;
  Counter* rejected_overload;
  Counter* rejected_store;
  ingest_internal::BoundedExecutor* executor;
};

// One Export call. gRPC's callback API owns the reactor through OnDone (hence `delete this`,
// the documented lifetime protocol of ServerBidiReactor).
class ExportReactor final : public grpc::ServerGenericBidiReactor {
 public:
  ExportReactor(grpc::GenericCallbackServerContext* ctx, const ExportContext* shared)
      : ctx_(ctx), shared_(shared) {
    if (ctx->method() != kTraceExportMethod) {
      Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                          "waggle serves only " + std::string(kTraceExportMethod) + ", not " +
                              ctx->method()));
      return;
    }
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request message received"));
      return;
    }
    if (!shared_->executor->TrySubmit([this] { Export(); })) {
      shared_->rejected_overload->Inc();
      Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "waggle is overloaded; retry later"));
    }
  }

  void OnDone() override { delete this; }

 private:
  void Export() {
    Status s = Authenticate();
    if (!s.ok()) {
      shared_->rejected_auth->Inc();
      Finish(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, std::string(s.message())));
      return;
    }
    std::string body = RequestBytes();
    StatusOr<SpanBatch> batch = DecodeOtlpTracesProtobuf(body);
    if (!batch.ok()) {
      shared_->rejected_decode->Inc();
      Finish(grpc::Status(GrpcCodeFor(batch.status()), std::string(batch.status().message())));
      return;
    }
    shared_->spans_received->Inc(batch->span_count());
    s = batch->rows.empty() ? OkStatus() : shared_->store->Append(*batch);
    if (!s.ok()) {
      bool overload = s.code() == absl::StatusCode::kResourceExhausted ||
                      s.code() == absl::StatusCode::kUnavailable;
      (overload ? shared_->rejected_overload : shared_->rejected_store)->Inc();
      Finish(grpc::Status(GrpcCodeFor(s), std::string(s.message())));
      return;
    }
    shared_->rows_stored->Inc(batch->rows.size());
    grpc::Slice empty;  // an empty ExportTraceServiceResponse (a ByteBuffer needs one slice)
    response_ = grpc::ByteBuffer(&empty, 1);
    StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
  }

  Status Authenticate() const {
    HttpRequest as_http;
    as_http.remote_address = PeerAddress(ctx_->peer());
    for (const auto& [key, value] : ctx_->client_metadata()) {
      std::string name = ToString(key);
      if (name == "x-honeycomb-team" || name == "authorization") {
        as_http.headers.emplace_back(std::move(name), ToString(value));
      }
    }
    return shared_->keys->Check(as_http);
  }

  std::string RequestBytes() {
    std::vector<grpc::Slice> slices;
    std::string out;
    if (!request_.Dump(&slices).ok()) return out;
    size_t total = 0;
    for (const grpc::Slice& s : slices) total += s.size();
    out.reserve(total);
    for (const grpc::Slice& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
    return out;
  }

  grpc::GenericCallbackServerContext* ctx_;
  const ExportContext* shared_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
};

class TraceService final : public grpc::CallbackGenericService {
 public:
  explicit TraceService(const ExportContext* shared) : shared_(shared) {}
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
    return new ExportReactor(ctx, shared_);
  }

 private:
  const ExportContext* shared_;
};

class GrpcServerImpl final : public OtlpGrpcServer {
 public:
  GrpcServerImpl(const OtlpGrpcOptions& options, Store* store, const ApiKeys* keys,
                 Metrics* metrics)
      : options_(options),
        executor_(options.worker_threads, options.max_queued_requests),
        shared_{store,
                keys,
                metrics->GetCounter("waggle_spans_received_total", "Spans received"),
                metrics->GetCounter("waggle_rows_stored_total", "Rows stored"),
                Rejected(metrics, "auth"),
                Rejected(metrics, "decode"),
                Rejected(metrics, "overload"),
                Rejected(metrics, "store"),
                &executor_},
        service_(&shared_) {}

  ~GrpcServerImpl() override { Stop(0); }

  StatusOr<std::string> Start() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort(options_.listen, grpc::InsecureServerCredentials(), &port);
    builder.SetMaxReceiveMessageSize(options_.max_message_bytes);
    builder.RegisterCallbackGenericService(&service_);
    server_ = builder.BuildAndStart();
    if (!server_ || port == 0) {
      return absl::UnavailableError("cannot listen for OTLP/gRPC on " + options_.listen);
    }
    size_t colon = options_.listen.rfind(':');
    return options_.listen.substr(0, colon) + ":" + std::to_string(port);
  }

  void Stop(int grace_ms) override {
    if (stopped_.exchange(true) || !server_) return;
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(grace_ms));
    executor_.Shutdown();
    server_->Wait();
  }

 private:
  static Counter* Rejected(Metrics* metrics, const char* reason) {
    return metrics->GetCounter("waggle_otlp_requests_rejected_total",
                               "OTLP requests rejected, by reason", {{"reason", reason}});
  }

  const OtlpGrpcOptions options_;
  ingest_internal::BoundedExecutor executor_;
  ExportContext shared_;
  TraceService service_;
  std::unique_ptr<grpc::Server> server_;
  std::atomic<bool> stopped_{false};
};

}  // namespace

std::unique_ptr<OtlpGrpcServer> NewOtlpGrpcServer(const OtlpGrpcOptions& options, Store* store,
                                                  const ApiKeys* keys, Metrics* metrics) {
  return std::make_unique<GrpcServerImpl>(options, store, keys, metrics);
}

}  // namespace waggle
