// Server: `waggle serve` wiring and lifecycle — the only place that sees every subsystem.
//
// Start() opens the embedded store (replaying the WAL), binds the API port (UI, REST APIs,
// health, metrics, and OTLP/HTTP `/v1/traces` too) and the OTLP/HTTP port, marks /readyz ready
// the OTLP/gRPC port and the X-Ray daemon's port (--xray-listen: UDP for segment datagrams and,
// on the same port number, TCP for the SDKs' sampling-rule and sampling-target calls), marks
// /readyz ready and then writes the ready file. Shutdown() marks not-ready, stops the listeners
// (they finish in-flight requests within a grace period) and the X-Ray daemon (which processes
// what it has queued), stores held in-progress X-Ray segments, closes the store (which
// flushes) and removes the ready file.
//
// Thread-safety: Start/Shutdown from one controlling thread; accessors are safe afterwards.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "api/api_handlers.h"
#include "auth/api_keys.h"
#include "auth/sigv4.h"
#include "common/metrics.h"
#include "ingest/otlp_grpc_server.h"
#include "ingest/otlp_http_receiver.h"
#include "net/http_server.h"
#include "server/config.h"
#include "store/store.h"
#include "xray/segment_ingester.h"
#include "xray/xray_daemon.h"

namespace waggle {

// The addresses actually bound ("127.0.0.1:PORT"); empty for listeners not served.
struct BoundAddresses {
  std::string http;
  std::string otlp_http;
  std::string otlp_grpc;
  std::string xray;  // the X-Ray daemon's UDP address
};

// The ready-file JSON: {"http": "...", "otlp_http": "...", "otlp_grpc": "...", "xray": "..."}.
std::string ReadyFileJson(const BoundAddresses& a);
// Writes `contents` to `path` atomically (temporary file in the same directory, then rename).
Status WriteFileAtomically(const std::string& path, std::string_view contents);

class Server {
 public:
  static StatusOr<std::unique_ptr<Server>> Start(const ServerConfig& config,
                                                 std::string version);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  const BoundAddresses& addresses() const { return addresses_; }
  // Human start-up banner: version, data dir, addresses, local-mode warning, whether X-Ray
  // signatures are verified.
  std::string Banner() const;
  // Stops listeners (finishing in-flight requests), closes the store. Idempotent.
  Status Shutdown();
  Store* store() { return store_.get(); }
  Metrics* metrics() { return &metrics_; }

 private:
  Server(const ServerConfig& config, std::string version);
  Status Init();
  // The X-Ray daemon protocol on --xray-listen (UDP), then the sampling proxy on the same
  // host:port over TCP.
  Status StartXray();
  HttpResponse RouteApi(const HttpRequest& request);
  HttpResponse RouteOtlp(const HttpRequest& request);
  Status StartXraySamplingProxy();

  const ServerConfig config_;
  const std::string version_;
  Metrics metrics_;
  ApiKeys keys_;
  SigV4Verifier aws_verifier_;  // X-Ray REST paths on the API port; empty = not checked
  std::unique_ptr<Store> store_;
  std::unique_ptr<OtlpHttpReceiver> receiver_;
  std::unique_ptr<xray::SegmentIngester> xray_ingester_;
  std::unique_ptr<xray::XrayDaemon> xray_daemon_;
  std::unique_ptr<ApiHandlers> api_;
  std::unique_ptr<HttpServer> http_server_;
  std::unique_ptr<HttpServer> otlp_server_;
  std::unique_ptr<HttpServer> xray_tcp_server_;  // X-Ray daemon TCP: sampling proxy
  std::unique_ptr<OtlpGrpcServer> grpc_server_;
  BoundAddresses addresses_;
  bool shut_down_ = false;
};

}  // namespace waggle
