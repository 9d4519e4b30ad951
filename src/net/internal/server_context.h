// ServerContext: the state an HttpServer shares with its connections (options, handler,
// worker pool, counters, the registry of live sessions). Internal to waggle_net.
//
// Lifetime: owned by the server; every HttpSession holds a raw pointer to it, so the server
// destroys all sessions (Stop, then the io_context) before the context.
// Thread-safety: counters are atomics; the registry has its own mutex.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "net/http_server.h"
#include "net/internal/worker_pool.h"

namespace waggle::net_internal {

class HttpSession;

struct ServerContext {
  ServerContext(const HttpServerOptions& opts, HttpHandler h)
      : options(opts), handler(std::move(h)) {}

  const HttpServerOptions options;
  const HttpHandler handler;
  WorkerPool* pool = nullptr;  // set by the server before the first connection

  // Set once by Stop(): sessions stop keeping connections alive.
  std::atomic<bool> stopping{false};

  std::atomic<uint64_t> requests{0};  // well-formed requests read completely
  std::atomic<uint64_t> rejected_overload{0};
  std::atomic<uint64_t> rejected_too_large{0};
  std::atomic<uint64_t> bad_requests{0};
  std::atomic<uint64_t> open_connections{0};  // admitted connections (not rejected ones)
  // Requests between "header read" and "response written"; Stop() waits for zero.
  std::atomic<int64_t> in_flight{0};

  void Register(const std::shared_ptr<HttpSession>& session) {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_[session.get()] = session;
  }
  void Unregister(HttpSession* session) {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.erase(session);
  }
  // Strong references to every live session (ones already being destroyed are skipped).
  std::vector<std::shared_ptr<HttpSession>> Snapshot() const {
    std::vector<std::shared_ptr<HttpSession>> out;
    std::lock_guard<std::mutex> lock(mu_);
    out.reserve(sessions_.size());
    for (const auto& [raw, weak] : sessions_) {
      if (auto strong = weak.lock()) out.push_back(std::move(strong));
    }
    return out;
  }
  size_t LiveSessions() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sessions_.size();
  }

 private:
  mutable std::mutex mu_;
  std::unordered_map<HttpSession*, std::weak_ptr<HttpSession>> sessions_;  // guarded by mu_
};

}  // namespace waggle::net_internal
