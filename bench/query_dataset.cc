// query_dataset: the deterministic span workload of the side-by-side query benchmark (issue 3).
//
// Generates N spans (default 10,000,000) of a realistic multi-service shop: 8 services behind an
// api-gateway, ~48 span names, traces of 5–30 spans with proper parent ids and exactly one root
// each, http.route / http.method / http.status_code (int, ~2% 5xx among HTTP spans), user.id
// (~100k distinct, Zipf-like, on every span of a trace), db.statement with literals (the word
// "deadlock" in ~1% of all rows), heavy-tailed durations (log-normal with a Pareto tail), and
// timestamps spread over the 2 hours ending at --end-epoch. The same seed gives the same rows.
//
// Writes, all from one pass:
//   --data-dir D    the spans, through OpenEmbeddedStore + Append in batches of ~--batch rows
//                   (wal_sync none), then Maintain + Flush + Close so every row is in segments;
//   --tsv F         the same rows as ClickHouse TabSeparated (columns in kTsvColumns below);
//   --trace-ids F   100 trace ids (hex, one per line) sampled evenly over the run.
// Prints a summary (traces, 5xx share, word share, distinct users) and one machine-readable line.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <numbers>
#include <string>
#include <string_view>
#include <vector>

#include "model/span.h"
#include "store/store.h"

namespace waggle::bench {
namespace {

// The TSV's columns, in order (bench/query_bench.py declares the same schema).
[[maybe_unused]] constexpr const char* kTsvColumns =
    "trace_id, span_id, parent_span_id, start_ns, duration_ns, service, name, kind, status_code, "
    "status_message, str_keys, str_values, num_keys, num_values, res_keys, res_values";

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kWindowNs = 7200 * kSec;
constexpr int64_t kTailRoomNs = 90 * kSec;  // traces start early enough to end inside the window
constexpr int kUsers = 100'000;
constexpr double kZipfS = 0.7;
constexpr std::string_view kWord = "deadlock";
constexpr double kWordShareOfDbRows = 0.035;

// splitmix64.
struct Rng {
  uint64_t s;
  uint64_t Next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  double Normal() {
    const double u1 = std::max(Uniform(), 1e-300), u2 = Uniform();
    return std::sqrt(-2 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
  }
  uint64_t Below(uint64_t n) { return Next() % n; }
  bool Chance(double p) { return Uniform() < p; }
};

// Log-normal around `median_ms` with a 2% Pareto tail (alpha 1.5, at most 100x), capped at 2 s.
int64_t Latency(Rng& rng, double median_ms, double sigma) {
  double ms = median_ms * std::exp(sigma * rng.Normal());
  if (rng.Chance(0.02)) ms *= std::min(100.0, std::pow(1.0 - rng.Uniform(), -1.0 / 1.5));
  ms = std::min(ms, 2000.0);
  return std::max<int64_t>(static_cast<int64_t>(ms * kMs), 15'000);
}

enum Svc : int {
  kGateway, kAuth, kUser, kCart, kOrder, kPayment, kInventory, kRecommendation, kSvcCount
};
constexpr const char* kServiceNames[kSvcCount] = {
    "api-gateway",     "auth-service",      "user-service",          "cart-service",
    "order-service",   "payment-service",   "inventory-service",     "recommendation-service"};
constexpr const char* kServiceHost[kSvcCount] = {"gw", "auth", "user", "cart",
                                                 "order", "pay", "inv", "rec"};
constexpr const char* kServicePort[kSvcCount] = {"8080", "8081", "8082", "8083",
                                                 "8084", "8085", "8086", "8087"};
constexpr const char* kServiceLang[kSvcCount] = {"go", "go", "java", "nodejs",
                                                 "java", "go", "python", "python"};
constexpr double kServer5xx[kSvcCount] = {0.005, 0.01, 0.01, 0.0125, 0.02, 0.085, 0.015, 0.015};

// A downstream HTTP endpoint of a service.
struct Endpoint {
  Svc svc;
  const char* method;
  const char* route;
};
enum Ep : int {
  kAuthVerify, kAuthSessions, kUserGet, kUserByEmail, kUserPrefs, kCartGet, kCartAddItem,
  kOrderCreate, kOrderList, kOrderGet, kPaymentCharge, kInvProducts, kInvProduct, kInvStock,
  kInvReserve, kRecList, kEpCount
};
constexpr Endpoint kEndpoints[kEpCount] = {
    {kAuth, "POST", "/v1/tokens/verify"},
    {kAuth, "POST", "/v1/sessions"},
    {kUser, "GET", "/v1/users/{id}"},
    {kUser, "GET", "/v1/users/by-email"},
    {kUser, "GET", "/v1/users/{id}/preferences"},
    {kCart, "GET", "/v1/carts/{id}"},
    {kCart, "POST", "/v1/carts/{id}/items"},
    {kOrder, "POST", "/v1/orders"},
    {kOrder, "GET", "/v1/orders"},
    {kOrder, "GET", "/v1/orders/{id}"},
    {kPayment, "POST", "/v1/charges"},
    {kInventory, "GET", "/v1/products"},
    {kInventory, "GET", "/v1/products/{id}"},
    {kInventory, "GET", "/v1/stock/{sku}"},
    {kInventory, "POST", "/v1/reservations"},
    {kRecommendation, "GET", "/v1/recommendations"},
};

// The gateway's public routes: each calls a primary endpoint and maybe secondary ones
// (called by the primary service).
struct GatewayRoute {
  const char* method;
  const char* route;
  double weight;
  Ep primary;
  std::vector<Ep> secondary;
  bool needs_auth;
};
const std::vector<GatewayRoute>& Routes() {
  static const auto* r = new std::vector<GatewayRoute>{
      {"GET", "/api/products", 0.20, kInvProducts, {}, false},
      {"GET", "/api/products/{id}", 0.18, kInvProduct, {kRecList}, false},
      {"GET", "/api/cart", 0.12, kCartGet, {kInvProduct}, true},
      {"POST", "/api/cart/items", 0.08, kCartAddItem, {kInvStock}, true},
      {"POST", "/api/checkout", 0.04, kOrderCreate, {kInvReserve, kPaymentCharge}, true},
      {"GET", "/api/orders", 0.08, kOrderList, {}, true},
      {"GET", "/api/orders/{id}", 0.06, kOrderGet, {kInvProduct}, true},
      {"GET", "/api/users/me", 0.12, kUserGet, {kUserPrefs}, true},
      {"POST", "/api/login", 0.04, kAuthSessions, {kUserByEmail}, false},
      {"GET", "/api/recommendations", 0.08, kRecList, {kUserPrefs}, true},
  };
  return *r;
}

// A leaf operation inside a service: a database/cache call or internal work.
enum class LeafKind : uint8_t { kSql, kRedis, kInternal };
struct Leaf {
  LeafKind kind;
  const char* name;
  double median_ms;
  double sigma;
};
const std::vector<Leaf>& LeavesOf(Svc s) {
  static const auto* leaves = new std::vector<std::vector<Leaf>>{
      /* gateway */ {{LeafKind::kInternal, "render_json", 0.8, 0.6},
                     {LeafKind::kRedis, "GET", 0.4, 0.5}},
      /* auth */ {{LeafKind::kInternal, "validate_token", 0.6, 0.4},
                  {LeafKind::kRedis, "GET", 0.4, 0.5},
                  {LeafKind::kSql, "SELECT sessions", 2.0, 0.7}},
      /* user */ {{LeafKind::kSql, "SELECT users", 2.5, 0.8},
                  {LeafKind::kRedis, "GET", 0.4, 0.5},
                  {LeafKind::kSql, "SELECT user_preferences", 3.0, 0.8}},
      /* cart */ {{LeafKind::kSql, "SELECT carts", 2.0, 0.7},
                  {LeafKind::kSql, "UPDATE carts", 4.0, 0.8},
                  {LeafKind::kRedis, "GET", 0.4, 0.5},
                  {LeafKind::kRedis, "SET", 0.5, 0.5}},
      /* order */ {{LeafKind::kSql, "SELECT orders", 5.0, 0.9},
                   {LeafKind::kSql, "SELECT order_items", 3.0, 0.8},
                   {LeafKind::kSql, "INSERT orders", 6.0, 0.8},
                   {LeafKind::kInternal, "compute_price", 1.5, 0.6}},
      /* payment */ {{LeafKind::kInternal, "charge_card", 180.0, 0.5},
                     {LeafKind::kSql, "INSERT payments", 5.0, 0.7}},
      /* inventory */ {{LeafKind::kSql, "SELECT products", 8.0, 0.9},
                       {LeafKind::kSql, "SELECT stock", 2.0, 0.7},
                       {LeafKind::kSql, "UPDATE stock", 4.0, 0.9},
                       {LeafKind::kSql, "INSERT reservations", 4.0, 0.8},
                       {LeafKind::kRedis, "GET", 0.4, 0.5}},
      /* recommendation */ {{LeafKind::kInternal, "score_candidates", 25.0, 0.7},
                            {LeafKind::kRedis, "GET", 0.4, 0.5},
                            {LeafKind::kRedis, "SET", 0.5, 0.5}},
  };
  return (*leaves)[s];
}

// Zipf-like user picker over kUsers ranks; rank r maps to a scrambled numeric id.
class Users {
 public:
  Users() {
    cdf_.resize(kUsers);
    double sum = 0;
    for (int r = 0; r < kUsers; ++r) cdf_[r] = (sum += std::pow(r + 1.0, -kZipfS));
    for (double& c : cdf_) c /= sum;
  }
  int Pick(Rng& rng) const {
    const double u = rng.Uniform();
    const size_t r = std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin();
    return static_cast<int>(std::min<size_t>(r, kUsers - 1));
  }
  static std::string Id(int rank) {
    const uint64_t id = (static_cast<uint64_t>(rank) * 7919 + 104729) % 1'000'003;
    return "user-" + std::to_string(id);
  }

 private:
  std::vector<double> cdf_;
};

// One span of a trace under construction.
struct Node {
  int parent = -1;
  Svc svc = kGateway;
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  std::vector<int> children;
  int64_t self_ns = 0;      // own time (split before/after the children)
  int64_t gap_ns = 0;       // time between consecutive children
  int64_t start_ns = 0, dur_ns = 0;
  // HTTP: method/route (server), target endpoint (client); -1 when not HTTP.
  int endpoint = -1;        // kEndpoints index, or -2 for the gateway's own server span
  int http_code = 0;
  StatusCode status = StatusCode::kUnset;
  std::string status_message;
  std::vector<std::pair<const char*, std::string>> strs;
  std::vector<std::pair<const char*, int64_t>> ints;
};

class TraceBuilder {
 public:
  TraceBuilder(Rng& rng, const Users& users) : rng_(rng), users_(users) {}

  // Builds a trace of exactly `size` spans (5..30).
  void Build(int size) {
    nodes_.clear();
    budget_ = size;
    user_ = Users::Id(users_.Pick(rng_));
    // Route by weight.
    const auto& routes = Routes();
    double u = rng_.Uniform(), acc = 0;
    size_t ri = 0;
    for (; ri + 1 < routes.size(); ++ri) {
      acc += routes[ri].weight;
      if (u < acc) break;
    }
    const GatewayRoute& route = routes[ri];
    route_ = &route;
    const int root = NewNode(-1, kGateway, std::string(route.method) + " " + route.route,
                             SpanKind::kServer);
    nodes_[root].endpoint = -2;
    nodes_[root].self_ns = Latency(rng_, 1.2, 0.5);

    std::vector<int> servers;  // server spans (where padding leaves go), root included
    servers.push_back(root);
    // Priority-ordered optional steps; each is taken only if it fits the budget.
    const int primary = Call(root, route.primary, &servers);
    if (primary >= 0 && budget_ >= 1) AddLeaf(primary);
    if (route.needs_auth && budget_ >= 2) {
      const int auth = Call(root, kAuthVerify, &servers);
      if (budget_ >= 1) AddLeaf(auth, 0);
      // Auth first: move the call to the front of the root's children.
      auto& ch = nodes_[root].children;
      std::rotate(ch.begin(), ch.end() - 1, ch.end());
    }
    for (Ep e : route.secondary) {
      if (budget_ < 3 || primary < 0) break;
      const int s = Call(primary, e, &servers);
      AddLeaf(s);
    }
    while (budget_ > 0) {
      // Padding: mostly under the primary service, sometimes anywhere.
      int at = primary >= 0 && rng_.Chance(0.55) ? primary : servers[rng_.Below(servers.size())];
      AddLeaf(at);
    }
    Finish(root);
  }

  const std::vector<Node>& nodes() const { return nodes_; }
  const std::string& user() const { return user_; }

 private:
  int NewNode(int parent, Svc svc, std::string name, SpanKind kind) {
    Node n;
    n.parent = parent;
    n.svc = svc;
    n.name = std::move(name);
    n.kind = kind;
    nodes_.push_back(std::move(n));
    const int i = static_cast<int>(nodes_.size()) - 1;
    if (parent >= 0) nodes_[parent].children.push_back(i);
    --budget_;
    return i;
  }

  // An HTTP client span in `from`'s service and the callee's server span (2 spans).
  int Call(int from, Ep e, std::vector<int>* servers) {
    if (budget_ < 2) return -1;
    const Endpoint& ep = kEndpoints[e];
    const int client = NewNode(from, nodes_[from].svc, std::string("HTTP ") + ep.method,
                               SpanKind::kClient);
    nodes_[client].endpoint = e;
    nodes_[client].self_ns = Latency(rng_, 0.6, 0.5);  // connection + transfer
    const int server = NewNode(client, ep.svc, std::string(ep.method) + " " + ep.route,
                               SpanKind::kServer);
    nodes_[server].endpoint = e;
    nodes_[server].self_ns = Latency(rng_, 0.8, 0.6);
    servers->push_back(server);
    return server;
  }

  void AddLeaf(int at, int which = -1) {
    if (budget_ < 1 || at < 0) return;
    const auto& leaves = LeavesOf(nodes_[at].svc);
    const Leaf& leaf = leaves[which >= 0 ? which : rng_.Below(leaves.size())];
    const SpanKind kind = leaf.kind == LeafKind::kInternal ? SpanKind::kInternal
                                                           : SpanKind::kClient;
    const int n = NewNode(at, nodes_[at].svc, leaf.name, kind);
    Node& node = nodes_[n];
    node.self_ns = Latency(rng_, leaf.median_ms, leaf.sigma);
    if (leaf.kind == LeafKind::kSql) {
      node.strs.emplace_back("db.system", "postgresql");
      node.strs.emplace_back("db.name", "shop");
      std::string_view op(leaf.name);
      node.strs.emplace_back("db.operation", std::string(op.substr(0, op.find(' '))));
      node.strs.emplace_back("db.statement", Statement(leaf.name));
      if (rng_.Chance(0.003)) {
        node.status = StatusCode::kError;
        node.status_message = rng_.Chance(0.5) ? "deadlock detected" : "canceling statement due to statement timeout";
      }
    } else if (leaf.kind == LeafKind::kRedis) {
      node.strs.emplace_back("db.system", "redis");
      node.strs.emplace_back("db.statement", RedisCommand(leaf.name));
    } else {
      node.ints.emplace_back("app.items", static_cast<int64_t>(rng_.Below(40)));
    }
  }

  std::string Sku() {
    char b[24];
    std::snprintf(b, sizeof b, "SKU-%06llu", static_cast<unsigned long long>(rng_.Below(50000)));
    return b;
  }
  std::string Num(uint64_t below) { return std::to_string(rng_.Below(below) + 1); }

  std::string Statement(std::string_view name) {
    std::string s;
    if (name == "SELECT sessions") {
      s = "SELECT user_id, expires_at FROM sessions WHERE token_hash = '" + Hex(8) + "'";
    } else if (name == "SELECT users") {
      s = "SELECT id, email, display_name, tier FROM users WHERE id = '" + user_ + "'";
    } else if (name == "SELECT user_preferences") {
      s = "SELECT key, value FROM user_preferences WHERE user_id = '" + user_ + "'";
    } else if (name == "SELECT carts") {
      s = "SELECT sku, qty, price_cents FROM cart_items WHERE cart_id = " + Num(900000);
    } else if (name == "UPDATE carts") {
      s = "UPDATE cart_items SET qty = qty + " + Num(3) + " WHERE cart_id = " + Num(900000) +
          " AND sku = '" + Sku() + "'";
    } else if (name == "SELECT orders") {
      s = "SELECT id, status, total_cents, created_at FROM orders WHERE user_id = '" + user_ +
          "' ORDER BY created_at DESC LIMIT " + std::to_string(10 * (1 + rng_.Below(3)));
    } else if (name == "SELECT order_items") {
      s = "SELECT sku, qty, price_cents FROM order_items WHERE order_id = " + Num(5000000);
    } else if (name == "INSERT orders") {
      s = "INSERT INTO orders (user_id, status, total_cents) VALUES ('" + user_ +
          "', 'pending', " + Num(50000) + ")";
    } else if (name == "INSERT payments") {
      s = "INSERT INTO payments (order_id, amount_cents, provider) VALUES (" + Num(5000000) +
          ", " + Num(50000) + ", 'stripe')";
    } else if (name == "SELECT products") {
      s = "SELECT id, title, price_cents FROM products WHERE category_id = " + Num(120) +
          " ORDER BY popularity DESC LIMIT 24 OFFSET " + std::to_string(24 * rng_.Below(5));
    } else if (name == "SELECT stock") {
      s = "SELECT qty FROM stock WHERE sku = '" + Sku() + "'";
    } else if (name == "UPDATE stock") {
      s = "UPDATE stock SET qty = qty - " + Num(3) + " WHERE sku = '" + Sku() + "' AND qty > 0";
    } else {  // INSERT reservations
      s = "INSERT INTO reservations (order_id, sku, qty) VALUES (" + Num(5000000) + ", '" + Sku() +
          "', " + Num(3) + ")";
    }
    if (rng_.Chance(kWordShareOfDbRows)) s += " /* retried after deadlock */";
    return s;
  }

  std::string RedisCommand(std::string_view name) {
    switch (rng_.Below(3)) {
      case 0: return std::string(name) + " session:" + Hex(6);
      case 1: return std::string(name) + " user:" + user_;
      default: return std::string(name) + " product:" + Num(40000);
    }
  }

  std::string Hex(int bytes) {
    static const char kD[] = "0123456789abcdef";
    std::string s;
    for (int i = 0; i < bytes; ++i) {
      const uint8_t b = static_cast<uint8_t>(rng_.Next());
      s += kD[b >> 4];
      s += kD[b & 15];
    }
    return s;
  }

  // Status codes (bottom-up, errors propagating), durations (bottom-up), starts (top-down),
  // HTTP attributes.
  void Finish(int root) {
    for (int i = static_cast<int>(nodes_.size()) - 1; i >= 0; --i) {
      Node& n = nodes_[i];
      int64_t children_ns = 0;
      for (int c : n.children) children_ns += nodes_[c].dur_ns;
      n.gap_ns = n.children.empty() ? 0 : static_cast<int64_t>(rng_.Below(200'000)) + 20'000;
      n.dur_ns = n.self_ns + children_ns + n.gap_ns * static_cast<int64_t>(n.children.size());
      if (n.kind == SpanKind::kServer) {
        // A failed downstream call fails this request most of the time.
        bool downstream_failed = false;
        for (int c : n.children) {
          if (nodes_[c].http_code >= 500 || nodes_[c].status == StatusCode::kError) {
            downstream_failed = true;
          }
        }
        const double p = kServer5xx[n.svc];
        if ((downstream_failed && rng_.Chance(0.7)) || rng_.Chance(p)) {
          static constexpr int kCodes[] = {500, 502, 503, 504};
          n.http_code = kCodes[rng_.Below(4)];
          n.status = StatusCode::kError;
          n.status_message = "HTTP " + std::to_string(n.http_code);
        } else if (i == root && rng_.Chance(0.03)) {
          n.http_code = rng_.Chance(0.5) ? 404 : 401;
        } else {
          n.http_code = n.endpoint == kOrderCreate || n.endpoint == kAuthSessions ? 201 : 200;
        }
      } else if (n.kind == SpanKind::kClient && n.endpoint >= 0) {
        n.http_code = nodes_[n.children[0]].http_code;
        if (n.http_code >= 400) {
          n.status = StatusCode::kError;
          n.status_message = "HTTP " + std::to_string(n.http_code);
        }
      }
    }
    // Starts: the parent's own time is split around its children.
    for (size_t i = 0; i < nodes_.size(); ++i) {
      Node& n = nodes_[i];
      int64_t at = n.start_ns + n.self_ns / 2;
      for (int c : n.children) {
        at += n.gap_ns;
        nodes_[c].start_ns = at;
        at += nodes_[c].dur_ns;
      }
    }
    // HTTP attributes.
    for (Node& n : nodes_) {
      if (n.endpoint == -2) {
        n.strs.emplace_back("http.method", route_->method);
        n.strs.emplace_back("http.route", route_->route);
        n.strs.emplace_back("http.target", Target(route_->route));
        n.strs.emplace_back("http.user_agent", kAgents[rng_.Below(4)]);
        n.ints.emplace_back("http.status_code", n.http_code);
      } else if (n.endpoint >= 0) {
        const Endpoint& ep = kEndpoints[n.endpoint];
        n.strs.emplace_back("http.method", ep.method);
        if (n.kind == SpanKind::kServer) {
          n.strs.emplace_back("http.route", ep.route);
        } else {
          n.strs.emplace_back("http.url", std::string("http://") + kServiceNames[ep.svc] + ":" +
                                              kServicePort[ep.svc] + Target(ep.route));
          n.strs.emplace_back("net.peer.name", kServiceNames[ep.svc]);
        }
        n.ints.emplace_back("http.status_code", n.http_code);
      }
    }
    (void)root;
  }

  // A concrete path for a route template ("/v1/orders/{id}" -> "/v1/orders/48213").
  std::string Target(std::string_view route) {
    std::string out;
    size_t i = 0;
    while (i < route.size()) {
      if (route[i] == '{') {
        const size_t close = route.find('}', i);
        const std::string_view var = route.substr(i + 1, close - i - 1);
        out += var == "sku" ? Sku() : var == "id" && route.find("users") != std::string::npos
                                          ? user_
                                          : Num(5000000);
        i = close + 1;
      } else {
        out += route[i++];
      }
    }
    return out;
  }

  static constexpr const char* kAgents[4] = {
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0",
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15",
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148",
      "shop-android/4.12.0 okhttp/4.12.0"};

  Rng& rng_;
  const Users& users_;
  std::vector<Node> nodes_;
  int budget_ = 0;
  std::string user_;
  const GatewayRoute* route_ = nullptr;
};

// ---------------------------------------------------------------------------------------------
// Output.

void AppendHex(const uint8_t* p, size_t n, std::string* out) {
  static const char kD[] = "0123456789abcdef";
  for (size_t i = 0; i < n; ++i) {
    out->push_back(kD[p[i] >> 4]);
    out->push_back(kD[p[i] & 15]);
  }
}

// A string inside a ClickHouse array literal in a TSV field: quoted, with \ ' tab newline escaped.
void AppendQuoted(std::string_view s, std::string* out) {
  out->push_back('\'');
  for (char c : s) {
    switch (c) {
      case '\\': *out += "\\\\"; break;
      case '\'': *out += "\\'"; break;
      case '\t': *out += "\\t"; break;
      case '\n': *out += "\\n"; break;
      default: out->push_back(c);
    }
  }
  out->push_back('\'');
}

// A plain TSV string field.
void AppendEscaped(std::string_view s, std::string* out) {
  for (char c : s) {
    switch (c) {
      case '\\': *out += "\\\\"; break;
      case '\t': *out += "\\t"; break;
      case '\n': *out += "\\n"; break;
      default: out->push_back(c);
    }
  }
}

struct Options {
  uint64_t spans = 10'000'000;
  uint64_t seed = 1;
  int64_t end_epoch = 0;
  std::string data_dir, tsv, trace_ids;
  size_t batch = 5000;
};

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) return false;
    std::string v = argv[++i];
    if (a == "--spans") o->spans = std::strtoull(v.c_str(), nullptr, 10);
    else if (a == "--seed") o->seed = std::strtoull(v.c_str(), nullptr, 10);
    else if (a == "--end-epoch") o->end_epoch = std::strtoll(v.c_str(), nullptr, 10);
    else if (a == "--data-dir") o->data_dir = v;
    else if (a == "--tsv") o->tsv = v;
    else if (a == "--trace-ids") o->trace_ids = v;
    else if (a == "--batch") o->batch = std::max<size_t>(1, std::strtoull(v.c_str(), nullptr, 10));
    else return false;
  }
  return o->spans >= 5 && o->end_epoch > 0 && !o->data_dir.empty() && !o->tsv.empty() &&
         !o->trace_ids.empty();
}

// Trace sizes 5..30 (mean ~12), adding up to exactly `total`.
std::vector<uint8_t> TraceSizes(uint64_t total, Rng& rng) {
  std::vector<uint8_t> sizes;
  uint64_t left = total;
  while (left > 0) {
    // 5 + a geometric-ish tail: most traces are small, some are wide.
    uint64_t s = 5 + std::min<uint64_t>(25, static_cast<uint64_t>(-std::log(1 - rng.Uniform()) * 7));
    if (left <= 30 && left - std::min(left, s) < 5) s = left;
    else if (left > 30 && left - s < 5) s = left - 5;
    sizes.push_back(static_cast<uint8_t>(s));
    left -= s;
  }
  return sizes;
}

int Main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) {
    std::fprintf(stderr,
                 "usage: query_dataset --end-epoch SECONDS --data-dir DIR --tsv FILE "
                 "--trace-ids FILE [--spans N] [--seed S] [--batch ROWS]\n");
    return 2;
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const auto t0 = std::chrono::steady_clock::now();
  Rng size_rng{o.seed * 0x1000193 + 7};
  const std::vector<uint8_t> sizes = TraceSizes(o.spans, size_rng);
  const uint64_t traces = sizes.size();

  StoreOptions so;
  so.data_dir = o.data_dir;
  so.wal_sync = WalSyncPolicy::kNone;
  auto store_or = OpenEmbeddedStore(so);
  if (!store_or.ok()) {
    std::fprintf(stderr, "query_dataset: open %s: %s\n", o.data_dir.c_str(),
                 std::string(store_or.status().message()).c_str());
    return 1;
  }
  std::unique_ptr<Store> store = std::move(*store_or);
  FILE* tsv = std::fopen(o.tsv.c_str(), "wb");
  FILE* ids = std::fopen(o.trace_ids.c_str(), "wb");
  if (!tsv || !ids) {
    std::fprintf(stderr, "query_dataset: cannot write %s or %s\n", o.tsv.c_str(),
                 o.trace_ids.c_str());
    return 1;
  }

  Rng rng{o.seed};
  Users users;
  TraceBuilder builder(rng, users);
  const int64_t end_ns = o.end_epoch * kSec;
  const int64_t first_ns = end_ns - kWindowNs;
  const double step_ns = static_cast<double>(kWindowNs - kTailRoomNs) / static_cast<double>(traces);
  const uint64_t id_every = std::max<uint64_t>(1, traces / 100);

  auto batch = std::make_unique<SpanBatch>();
  std::string out;
  out.reserve(1 << 22);
  uint64_t rows = 0, http_rows = 0, http_5xx = 0, word_rows = 0, db_rows = 0, ids_written = 0;
  int64_t max_end = 0;
  std::vector<uint8_t> user_seen(1'000'003, 0);
  uint64_t distinct_users = 0;
  std::vector<SpanId> span_ids;

  auto flush_batch = [&]() -> bool {
    if (batch->rows.empty()) return true;
    Status s = store->Append(*batch);
    if (!s.ok()) {
      std::fprintf(stderr, "query_dataset: append: %s\n", std::string(s.message()).c_str());
      return false;
    }
    batch = std::make_unique<SpanBatch>();
    return true;
  };

  for (uint64_t t = 0; t < traces; ++t) {
    builder.Build(sizes[t]);
    const auto& nodes = builder.nodes();
    TraceId trace_id;
    for (size_t k = 0; k < 16; k += 8) {
      const uint64_t r = rng.Next();
      std::memcpy(trace_id.data() + k, &r, 8);
    }
    span_ids.resize(nodes.size());
    for (auto& sid : span_ids) {
      const uint64_t r = rng.Next() | 1;  // never all zero
      std::memcpy(sid.data(), &r, 8);
    }
    const int64_t trace_start =
        first_ns + static_cast<int64_t>((static_cast<double>(t) + rng.Uniform()) * step_ns);
    if (t % id_every == id_every / 2 && ids_written < 100) {
      std::string hex;
      AppendHex(trace_id.data(), 16, &hex);
      std::fprintf(ids, "%s\n", hex.c_str());
      ++ids_written;
    }
    {
      const std::string& u = builder.user();
      const uint64_t num = std::strtoull(u.c_str() + 5, nullptr, 10);
      if (!user_seen[num]) {
        user_seen[num] = 1;
        ++distinct_users;
      }
    }
    std::string_view user = batch->arena.Store(builder.user());
    for (size_t i = 0; i < nodes.size(); ++i) {
      const Node& n = nodes[i];
      SpanRow r;
      r.trace_id = trace_id;
      r.span_id = span_ids[i];
      if (n.parent >= 0) r.parent_span_id = span_ids[n.parent];
      r.start_ns = trace_start + n.start_ns;
      r.end_ns = r.start_ns + n.dur_ns;
      max_end = std::max(max_end, r.end_ns);
      r.name = batch->arena.Store(n.name);
      r.service_name = kServiceNames[n.svc];
      r.kind = n.kind;
      r.status_code = n.status;
      if (!n.status_message.empty()) r.status_message = batch->arena.Store(n.status_message);
      // Resource attributes (as an OTLP decoder delivers them), then the span's own.
      r.resource_attrs.begin = static_cast<uint32_t>(batch->attrs.size());
      auto add_str = [&](std::string_view k, std::string_view v) {
        AttrView a;
        a.key = k;
        a.type = ValueType::kString;
        a.str = v;
        batch->attrs.push_back(a);
      };
      char host[48];
      std::snprintf(host, sizeof host, "%s-%s-%c%c%c", kServiceNames[n.svc], "7d9f8b",
                    'a' + static_cast<int>((t * 7 + n.svc) % 3), 'k', 'x');
      const std::string_view host_v = batch->arena.Store(host);
      add_str("service.name", kServiceNames[n.svc]);
      add_str("host.name", host_v);
      add_str("deployment.environment", "production");
      add_str("telemetry.sdk.language", kServiceLang[n.svc]);
      r.resource_attrs.end = static_cast<uint32_t>(batch->attrs.size());
      r.attrs.begin = r.resource_attrs.end;
      add_str("user.id", user);
      bool has_word = false, is_db = false;
      for (const auto& [k, v] : n.strs) {
        std::string_view vv = batch->arena.Store(v);
        add_str(k, vv);
        if (std::string_view(k) == "db.statement") {
          is_db = true;
          has_word = vv.find(kWord) != std::string_view::npos;
        }
      }
      for (const auto& [k, v] : n.ints) {
        AttrView a;
        a.key = k;
        a.type = ValueType::kInt;
        a.i = v;
        batch->attrs.push_back(a);
      }
      r.attrs.end = static_cast<uint32_t>(batch->attrs.size());
      batch->rows.push_back(r);

      ++rows;
      db_rows += is_db;
      word_rows += has_word;
      if (n.http_code) {
        ++http_rows;
        http_5xx += n.http_code >= 500;
      }

      // TSV row.
      AppendHex(r.trace_id.data(), 16, &out);
      out += '\t';
      AppendHex(r.span_id.data(), 8, &out);
      out += '\t';
      if (n.parent >= 0) AppendHex(r.parent_span_id.data(), 8, &out);
      out += '\t';
      out += std::to_string(r.start_ns);
      out += '\t';
      out += std::to_string(r.end_ns - r.start_ns);
      out += '\t';
      AppendEscaped(r.service_name, &out);
      out += '\t';
      AppendEscaped(r.name, &out);
      out += '\t';
      out += std::to_string(static_cast<int>(r.kind));
      out += '\t';
      out += std::to_string(static_cast<int>(r.status_code));
      out += '\t';
      AppendEscaped(n.status_message, &out);
      out += '\t';
      // str_keys, str_values
      out += "['user.id'";
      for (const auto& kv : n.strs) {
        out += ',';
        AppendQuoted(kv.first, &out);
      }
      out += "]\t[";
      AppendQuoted(user, &out);
      for (const auto& kv : n.strs) {
        out += ',';
        AppendQuoted(kv.second, &out);
      }
      out += "]\t[";
      for (size_t k = 0; k < n.ints.size(); ++k) {
        if (k) out += ',';
        AppendQuoted(n.ints[k].first, &out);
      }
      out += "]\t[";
      for (size_t k = 0; k < n.ints.size(); ++k) {
        if (k) out += ',';
        out += std::to_string(n.ints[k].second);
      }
      out += "]\t['host.name','deployment.environment','telemetry.sdk.language']\t[";
      AppendQuoted(host_v, &out);
      out += ",'production',";
      AppendQuoted(kServiceLang[n.svc], &out);
      out += "]\n";
    }
    if (out.size() > (1 << 22) - 65536) {
      std::fwrite(out.data(), 1, out.size(), tsv);
      out.clear();
    }
    if (batch->rows.size() >= o.batch && !flush_batch()) return 1;
    if ((t + 1) % 100000 == 0) {
      std::fprintf(stderr, "query_dataset: %llu/%llu traces\n",
                   static_cast<unsigned long long>(t + 1), static_cast<unsigned long long>(traces));
    }
  }
  if (!flush_batch()) return 1;
  std::fwrite(out.data(), 1, out.size(), tsv);
  if (std::fclose(tsv) != 0 || std::fclose(ids) != 0) {
    std::fprintf(stderr, "query_dataset: write error\n");
    return 1;
  }
  for (Status s : {store->Flush(), store->Maintain(), store->Flush()}) {
    if (!s.ok()) {
      std::fprintf(stderr, "query_dataset: flush: %s\n", std::string(s.message()).c_str());
      return 1;
    }
  }
  const StoreStats st = store->Stats();
  Status cs = store->Close();
  if (!cs.ok()) {
    std::fprintf(stderr, "query_dataset: close: %s\n", std::string(cs.message()).c_str());
    return 1;
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("query_dataset: %llu spans in %llu traces (seed %llu, %s .. %lld) in %.1f s\n",
              static_cast<unsigned long long>(rows), static_cast<unsigned long long>(traces),
              static_cast<unsigned long long>(o.seed), "2 h", static_cast<long long>(o.end_epoch),
              secs);
  std::printf("  http spans %llu, 5xx %.2f%%; db.statement rows %.1f%%, containing \"%s\" %.2f%% "
              "of all rows; distinct user.id %llu; last span end %.1f s before the end\n",
              static_cast<unsigned long long>(http_rows), 100.0 * http_5xx / std::max<uint64_t>(1, http_rows),
              100.0 * db_rows / rows, std::string(kWord).c_str(), 100.0 * word_rows / rows,
              static_cast<unsigned long long>(distinct_users),
              static_cast<double>(end_ns - max_end) / kSec);
  std::printf("  waggle: %llu segments, %llu rows, %llu bytes in segments\n",
              static_cast<unsigned long long>(st.segments),
              static_cast<unsigned long long>(st.segment_rows),
              static_cast<unsigned long long>(st.segment_bytes));
  std::printf("machine-readable: spans=%llu traces=%llu word_rows=%llu segment_bytes=%llu\n",
              static_cast<unsigned long long>(rows), static_cast<unsigned long long>(traces),
              static_cast<unsigned long long>(word_rows),
              static_cast<unsigned long long>(st.segment_bytes));
  return 0;
}

}  // namespace
}  // namespace waggle::bench

int main(int argc, char** argv) { return waggle::bench::Main(argc, argv); }
