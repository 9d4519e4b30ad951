#include "server/server.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "api/json_writer.h"
#include "server/home_page.h"

namespace waggle {
namespace {

constexpr int kShutdownGraceMs = 10000;

HttpResponse NotFound(const HttpRequest& request) {
  return HttpResponse::Json(404, JsonError("no such endpoint: " + request.method + " " +
                                           request.path));
}

// Errors the HTTP layer answers by itself: OTLP's format on /v1/traces, JSON elsewhere.
HttpResponse RenderTransportError(const HttpRequest& request, int status,
                                  std::string_view message) {
  if (request.path == "/v1/traces") {
    return OtlpHttpReceiver::TransportError(request.Header("content-type"), status, message);
  }
  return HttpResponse::Json(status, JsonError(std::string(message)));
}

const char* WalSyncName(WalSyncPolicy p) {
  switch (p) {
    case WalSyncPolicy::kFsync: return "fsync";
    case WalSyncPolicy::kBatch: return "batch";
    case WalSyncPolicy::kNone: return "none";
  }
  return "?";
}

}  // namespace

std::string ReadyFileJson(const BoundAddresses& a) {
  JsonWriter w;
  w.BeginObject();
  w.Key("http").String(a.http);
  w.Key("otlp_http").String(a.otlp_http);
  w.Key("otlp_grpc").String(a.otlp_grpc);
  w.Key("xray").String(a.xray);
  w.EndObject();
  return w.Take() + "\n";
}

Status WriteFileAtomically(const std::string& path, std::string_view contents) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::UnavailableError("cannot create " + tmp + ": " + std::strerror(errno));
  }
  size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return absl::UnavailableError("cannot write " + tmp + ": " + std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return absl::UnavailableError("cannot sync " + tmp + ": " + std::strerror(errno));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return absl::UnavailableError("cannot rename " + tmp + " to " + path + ": " +
                                  std::strerror(err));
  }
  return OkStatus();
}

Server::Server(const ServerConfig& config, std::string version)
    : config_(config),
      version_(std::move(version)),
      keys_(config.api_keys),
      aws_verifier_(config.aws_credentials, SigV4VerifierOptions{"xray", 15 * 60, nullptr}) {}

Server::~Server() { (void)Shutdown(); }

StatusOr<std::unique_ptr<Server>> Server::Start(const ServerConfig& config,
                                                std::string version) {
  std::unique_ptr<Server> server(new Server(config, std::move(version)));
  Status st = server->Init();
  if (!st.ok()) {
    (void)server->Shutdown();
    return st;
  }
  return server;
}

Status Server::Init() {
  StoreOptions store_options;
  store_options.data_dir = config_.data_dir;
  store_options.wal_sync = config_.wal_sync;
  store_options.retention_seconds = config_.retention_seconds;
  store_options.max_disk_bytes = config_.max_disk_bytes;
  StatusOr<std::unique_ptr<Store>> store = OpenEmbeddedStore(store_options);
  if (!store.ok()) {
    return Annotate(store.status(), "opening the store in " + config_.data_dir);
  }
  store_ = std::move(*store);

  receiver_ = std::make_unique<OtlpHttpReceiver>(store_.get(), &keys_, &metrics_);
  xray_ingester_ = std::make_unique<xray::SegmentIngester>(store_.get(), &metrics_);
  api_ = std::make_unique<ApiHandlers>(
      store_.get(), &keys_, &metrics_,
      ApiOptions{version_, "local", JoinPath(config_.data_dir, "api-state.json"),
                 JoinPath(config_.data_dir, "xray-state.json"), xray_ingester_.get(),
                 &aws_verifier_});

  HttpServerOptions http_options;
  http_options.listen = config_.http_listen;
  http_options.name = "api";
  http_options.error_renderer = RenderTransportError;
  http_server_ = NewHttpServer(http_options, [this](const HttpRequest& r) { return RouteApi(r); });
  StatusOr<std::string> http_bound = http_server_->Start();
  if (!http_bound.ok()) {
    return Annotate(http_bound.status(), "binding --http-listen " + config_.http_listen);
  }
  addresses_.http = *http_bound;

  HttpServerOptions otlp_options;
  otlp_options.listen = config_.otlp_http_listen;
  otlp_options.name = "otlp_http";
  otlp_options.error_renderer = RenderTransportError;
  otlp_server_ =
      NewHttpServer(otlp_options, [this](const HttpRequest& r) { return RouteOtlp(r); });
  StatusOr<std::string> otlp_bound = otlp_server_->Start();
  if (!otlp_bound.ok()) {
    return Annotate(otlp_bound.status(),
                    "binding --otlp-http-listen " + config_.otlp_http_listen);
  }
  addresses_.otlp_http = *otlp_bound;

  OtlpGrpcOptions grpc_options;
  grpc_options.listen = config_.otlp_grpc_listen;
  grpc_server_ = NewOtlpGrpcServer(grpc_options, store_.get(), &keys_, &metrics_);
  StatusOr<std::string> grpc_bound = grpc_server_->Start();
  if (!grpc_bound.ok()) {
    return Annotate(grpc_bound.status(),
                    "binding --otlp-grpc-listen " + config_.otlp_grpc_listen);
  }
  addresses_.otlp_grpc = *grpc_bound;
  RETURN_IF_ERROR(StartXray());

  // Mirror the HTTP layer's own rejections (413s and queue-full 503s happen before a handler).
  metrics_.AddCollector([this] {
    uint64_t too_large = 0;
    for (HttpServer* s : {http_server_.get(), otlp_server_.get()}) {
      if (s == nullptr) continue;
      HttpServerStats st = s->Stats();
      const char* name = s == http_server_.get() ? "api" : "otlp_http";
      too_large += st.rejected_too_large;
      metrics_.GetCounter("waggle_http_requests_total", "HTTP requests received.",
                          {{"listener", name}})->SetTo(st.requests);
      metrics_.GetCounter("waggle_http_rejected_total",
                          "HTTP requests rejected before reaching a handler.",
                          {{"listener", name}, {"reason", "overload"}})
          ->SetTo(st.rejected_overload);
      metrics_.GetCounter("waggle_http_rejected_total",
                          "HTTP requests rejected before reaching a handler.",
                          {{"listener", name}, {"reason", "too_large"}})
          ->SetTo(st.rejected_too_large);
      metrics_.GetGauge("waggle_http_open_connections", "Open HTTP connections.",
                        {{"listener", name}})->Set(static_cast<double>(st.open_connections));
    }
    receiver_->rejected("too_large")->SetTo(too_large);
  });

  api_->SetReady(true);
  if (!config_.ready_file.empty()) {
    RETURN_IF_ERROR_CTX(WriteFileAtomically(config_.ready_file, ReadyFileJson(addresses_)),
                        "writing --ready-file");
  }
  return OkStatus();
}

// UDP and TCP share the port number. With port 0 the UDP side picks a free port, which TCP may
// not have free: then both are released and another port is tried.
Status Server::StartXray() {
  const bool any_port = config_.xray_listen.ends_with(":0");
  constexpr int kAttempts = 20;
  Status last = OkStatus();
  for (int attempt = 0; attempt < (any_port ? kAttempts : 1); ++attempt) {
    xray::XrayDaemonOptions options;
    options.listen = config_.xray_listen;
    xray_daemon_ = std::make_unique<xray::XrayDaemon>(options, xray_ingester_.get(), &metrics_);
    StatusOr<std::string> bound = xray_daemon_->Start();
    if (!bound.ok()) {
      return Annotate(bound.status(), "binding --xray-listen " + config_.xray_listen);
    }
    addresses_.xray = *bound;
    last = StartXraySamplingProxy();
    if (last.ok()) return last;
    xray_tcp_server_.reset();
    xray_daemon_->Stop();
    xray_daemon_.reset();
  }
  return last;
}

// The X-Ray daemon's TCP side, on the port the UDP side bound: the SDKs' centralized-sampling
// calls (POST /GetSamplingRules, /SamplingTargets) and the rest of the sampling/group API.
Status Server::StartXraySamplingProxy() {
  HttpServerOptions options;
  options.listen = addresses_.xray;
  options.name = "xray_tcp";
  options.worker_threads = 4;
  options.max_body_bytes = XraySamplingApi::kMaxBodyBytes;
  XraySamplingApi* api = api_->xray_sampling();
  xray_tcp_server_ = NewHttpServer(options, [api](const HttpRequest& r) {
    if (std::optional<HttpResponse> response = api->Handle(r)) return std::move(*response);
    return NotFound(r);
  });
  StatusOr<std::string> bound = xray_tcp_server_->Start();
  if (!bound.ok()) return Annotate(bound.status(), "binding --xray-listen (TCP) " + addresses_.xray);
  addresses_.xray = *bound;
  return OkStatus();
}

HttpResponse Server::RouteApi(const HttpRequest& request) {
  if (request.path == "/v1/traces") return receiver_->HandleTraces(request);
  if (std::optional<HttpResponse> r = api_->Handle(request)) return std::move(*r);
  if (request.path == "/" && (request.method == "GET" || request.method == "HEAD")) {
    HttpResponse page;
    page.content_type = "text/html; charset=utf-8";
    page.body = std::string(HomePageHtml());
    return page;
  }
  return NotFound(request);
}

HttpResponse Server::RouteOtlp(const HttpRequest& request) {
  if (request.path == "/v1/traces") return receiver_->HandleTraces(request);
  if (request.path == "/healthz" || request.path == "/readyz") {
    if (std::optional<HttpResponse> r = api_->Handle(request)) return std::move(*r);
  }
  return NotFound(request);
}

std::string Server::Banner() const {
  std::string b = "waggle " + version_ + "\n";
  b += "  data dir    " + config_.data_dir + "  (retention " +
       FormatDuration(config_.retention_seconds) + ", max disk " +
       FormatSize(config_.max_disk_bytes) + ", WAL " + WalSyncName(config_.wal_sync) + ")\n";
  b += "  UI + API    http://" + addresses_.http + "   (OTLP/HTTP also accepted at /v1/traces)\n";
  b += "  OTLP/HTTP   http://" + addresses_.otlp_http + "/v1/traces\n";
  b += "  OTLP/gRPC   " + addresses_.otlp_grpc + "\n";
  b += "  X-Ray       udp://" + addresses_.xray + " (daemon protocol), tcp://" + addresses_.xray +
       " (sampling rules)\n"
       "              PutTraceSegments, BatchGetTraces, sampling rules and groups on the API port\n";
  if (aws_verifier_.enabled()) {
    b += "              SigV4 signatures verified on the API port (" +
         std::to_string(aws_verifier_.size()) +
         " AWS key(s)); the daemon's TCP port stays unsigned\n";
  } else {
    b += "              SigV4 signatures not checked (start with --aws-credentials "
         "AKID:SECRET to verify them)\n";
  }
  if (keys_.local_mode()) {
    b += "  LOCAL MODE: no API key configured — any key is accepted from loopback clients only;\n"
         "              start with --api-key KEY to accept remote clients.\n";
  } else {
    b += "  API keys    " + std::to_string(keys_.size()) +
         " configured (send one in the x-honeycomb-team header)\n";
  }
  return b;
}

Status Server::Shutdown() {
  if (shut_down_) return OkStatus();
  shut_down_ = true;
  if (api_) api_->SetReady(false);
  if (grpc_server_) grpc_server_->Stop(kShutdownGraceMs);
  if (otlp_server_) otlp_server_->Stop(kShutdownGraceMs);
  if (xray_tcp_server_) xray_tcp_server_->Stop(kShutdownGraceMs);
  if (http_server_) http_server_->Stop(kShutdownGraceMs);
  if (xray_daemon_) xray_daemon_->Stop();
  Status st = OkStatus();
  if (xray_ingester_ && store_) st = xray_ingester_->FlushPending();
  if (store_) {
    Status closed = store_->Close();
    if (st.ok()) st = closed;
  }
  // A clean stop removes the ready file so nobody connects to a stale address.
  if (!config_.ready_file.empty() && !addresses_.http.empty()) {
    ::unlink(config_.ready_file.c_str());
  }
  return st;
}

}  // namespace waggle
