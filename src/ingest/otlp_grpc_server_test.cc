#include "ingest/otlp_grpc_server.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <gtest/gtest.h>

#include "store/testing/fake_store.h"
#include "wire/otlp_encode.h"

namespace waggle {
namespace {

constexpr char kExport[] = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

Span MakeSpan(uint8_t trace_byte, uint8_t span_byte, const char* name) {
  Span s;
  s.trace_id.fill(trace_byte);
  s.span_id.fill(span_byte);
  s.name = name;
  s.service_name = "backend-flask";
  s.start_ns = 1'700'000'000'000'000'000;
  s.end_ns = s.start_ns + 5'000'000;
  s.kind = SpanKind::kServer;
  return s;
}

class OtlpGrpcServerTest : public ::testing::Test {
 protected:
  void StartServer(std::vector<std::string> keys = {}) {
    keys_ = std::make_unique<ApiKeys>(std::move(keys));
    OtlpGrpcOptions options;
    options.listen = "127.0.0.1:0";
    options.worker_threads = 2;
    server_ = NewOtlpGrpcServer(options, &store_, keys_.get(), &metrics_);
    auto address = server_->Start();
    ASSERT_TRUE(address.ok()) << address.status();
    channel_ = grpc::CreateChannel(*address, grpc::InsecureChannelCredentials());
    stub_ = std::make_unique<grpc::GenericStub>(channel_);
  }

  // Sends `body` to `method` and returns the call's status.
  grpc::Status Call(const std::string& method, const std::string& body,
                    const std::string& key = "") {
    grpc::ClientContext ctx;
    if (!key.empty()) ctx.AddMetadata("x-honeycomb-team", key);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::Slice slice(body);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    grpc::Status result;
    stub_->UnaryCall(&ctx, method, grpc::StubOptions(), &request, &response,
                     [&](grpc::Status s) {
                       std::lock_guard<std::mutex> lock(mu);
                       result = std::move(s);
                       done = true;
                       cv.notify_one();
                     });
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done; });
    return result;
  }

  void TearDown() override {
    if (server_) server_->Stop(1000);
  }

  testing::FakeStore store_;
  Metrics metrics_;
  std::unique_ptr<ApiKeys> keys_;
  std::unique_ptr<OtlpGrpcServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<grpc::GenericStub> stub_;
};

TEST_F(OtlpGrpcServerTest, ExportStoresSpans) {
  StartServer();
  std::string body = EncodeOtlpTracesProtobuf({MakeSpan(1, 2, "GET /api/activities/home"),
                                               MakeSpan(1, 3, "home-activities-mock-data")});
  grpc::Status s = Call(kExport, body);
  ASSERT_TRUE(s.ok()) << s.error_message();
  auto rows = store_.rows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].name, "GET /api/activities/home");
  EXPECT_EQ(rows[1].service_name, "backend-flask");
}

TEST_F(OtlpGrpcServerTest, EmptyRequestSucceeds) {
  StartServer();
  EXPECT_TRUE(Call(kExport, "").ok());
  EXPECT_TRUE(store_.rows().empty());
}

TEST_F(OtlpGrpcServerTest, GarbageIsInvalidArgument) {
  StartServer();
  grpc::Status s = Call(kExport, std::string("\x0a\xff\xff\xff\x0f", 5));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_FALSE(s.error_message().empty());
  EXPECT_TRUE(store_.rows().empty());
}

TEST_F(OtlpGrpcServerTest, UnknownMethodIsUnimplemented) {
  StartServer();
  grpc::Status s = Call("/opentelemetry.proto.collector.logs.v1.LogsService/Export", "");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(OtlpGrpcServerTest, ChecksApiKey) {
  StartServer({"secret-key"});
  std::string body = EncodeOtlpTracesProtobuf({MakeSpan(7, 8, "x")});
  EXPECT_EQ(Call(kExport, body, "wrong").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Call(kExport, body).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(store_.rows().empty());
  EXPECT_TRUE(Call(kExport, body, "secret-key").ok());
  EXPECT_EQ(store_.rows().size(), 1u);
}

TEST_F(OtlpGrpcServerTest, StoreOverloadIsUnavailable) {
  StartServer();
  store_.FailAppendsWith(absl::ResourceExhaustedError("head full"));
  grpc::Status s = Call(kExport, EncodeOtlpTracesProtobuf({MakeSpan(1, 1, "x")}));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace waggle
