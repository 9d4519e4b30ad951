#include "xray/trace_analysis.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <unordered_map>

#include "xray/internal/span_rows.h"

namespace waggle::xray {
namespace {

using namespace waggle::xray_internal;

// Parent chains longer than this are cut (stored data may hold cycles or absurd depths).
constexpr int kMaxAncestors = 64;

using NodeKey = std::tuple<std::string, std::string, std::string>;  // name, type, account

bool IsXrayBorn(const Span& s) { return !StringAttr(s, kType).empty(); }

std::optional<int64_t> IntAttr(const Span& s, std::string_view key) {
  const Attribute* a = FindAttr(s, key);
  if (a == nullptr) return std::nullopt;
  if (a->type == ValueType::kInt) return a->i;
  if (a->type == ValueType::kDouble) return static_cast<int64_t>(a->d);
  return std::nullopt;
}

// The first of `keys` that `s` has as a string attribute.
std::optional<std::string> FirstString(const Span& s, std::initializer_list<std::string_view> keys) {
  for (std::string_view k : keys) {
    if (std::string_view v = StringAttr(s, k); !v.empty()) return std::string(v);
  }
  return std::nullopt;
}

std::optional<int64_t> HttpStatus(const Span& s) {
  if (auto v = IntAttr(s, "http.response.status_code")) return v;
  return IntAttr(s, "http.status_code");
}

// A row's response time in seconds (0 for a row without a positive duration).
double ResponseSeconds(const Span& s) {
  return s.end_ns > s.start_ns ? static_cast<double>(s.end_ns - s.start_ns) / 1e9 : 0.0;
}

CallOutcome OutcomeOf(const Span& s) {
  CallOutcome o;
  o.start_ns = s.start_ns;
  o.response_time = ResponseSeconds(s);
  if (IsXrayBorn(s)) {
    o.error = BoolAttr(s, kError);
    o.fault = BoolAttr(s, kFault);
    o.throttle = BoolAttr(s, kThrottle);
    return o;
  }
  if (std::optional<int64_t> status = HttpStatus(s); status && *status >= 400) {
    o.throttle = *status == 429;
    o.error = *status < 500;
    o.fault = *status >= 500;
  } else {
    o.fault = s.is_error();
  }
  return o;
}

bool IsDownstreamCall(const Span& s) {
  if (IsXrayBorn(s)) {
    std::string_view ns = StringAttr(s, kNamespace);
    return ns == "remote" || ns == "aws";
  }
  return s.kind == SpanKind::kClient || s.kind == SpanKind::kProducer;
}

std::optional<FilterValue> AnnotationValue(const Attribute& a) {
  switch (a.type) {
    case ValueType::kString: return FilterValue(a.str);
    case ValueType::kInt: return FilterValue(static_cast<double>(a.i));
    case ValueType::kDouble: return FilterValue(a.d);
    case ValueType::kBool: return FilterValue(a.b);
    default: return std::nullopt;
  }
}

void AddUnique(std::vector<size_t>* v, size_t x) {
  if (std::find(v->begin(), v->end(), x) == v->end()) v->push_back(x);
}

void MergeOutcome(const CallOutcome& o, bool* ok, bool* error, bool* fault, bool* throttle,
                  std::optional<double>* response_time) {
  *ok = *ok || o.ok();
  *error = *error || o.error;
  *fault = *fault || o.fault;
  *throttle = *throttle || o.throttle;
  if (!*response_time || **response_time < o.response_time) *response_time = o.response_time;
}

class Analyzer {
 public:
  explicit Analyzer(const std::vector<Span>& rows) { Index(rows); }

  TraceAnalysis Run() {
    out_.trace_id = trace_id_;
    for (const Span* s : spans_in_order_) {
      AddTimes(*s);
      if (IsSegment(*s)) AddSegment(*s);
      if (IsDownstreamCall(*s) && !HasChildSegment(*s)) AddInferredCall(*s);
      AddRowFacts(*s);
    }
    FillEntry();
    FillRootCauses(RootCauseKind::kFault);
    FillRootCauses(RootCauseKind::kError);
    FillResponseTimeRootCause();
    for (size_t i = 0; i < out_.facts.edges.size(); ++i) {
      out_.facts.edges[i].source = out_.facts.services[out_.edge_nodes[i].first];
      out_.facts.edges[i].destination = out_.facts.services[out_.edge_nodes[i].second];
    }
    out_.facts.duration = out_.end_ns > out_.start_ns ? (out_.end_ns - out_.start_ns) / 1e9 : 0;
    return std::move(out_);
  }

 private:
  void Index(const std::vector<Span>& rows) {
    for (const Span& s : rows) {
      if (s.row_kind == RowKind::kSpanEvent) {
        if (s.name == kExceptionEvent) exceptions_[s.span_id].push_back(&s);
        continue;
      }
      if (s.row_kind != RowKind::kSpan) continue;
      trace_id_ = s.trace_id;
      auto [it, inserted] = spans_.try_emplace(s.span_id, &s);
      if (!inserted && Supersedes(s, *it->second)) it->second = &s;
    }
    for (const auto& [id, s] : spans_) spans_in_order_.push_back(s);
    std::sort(spans_in_order_.begin(), spans_in_order_.end(), [](const Span* a, const Span* b) {
      return std::tie(a->start_ns, a->span_id) < std::tie(b->start_ns, b->span_id);
    });
    for (const Span* s : spans_in_order_) {
      if (const Span* p = Parent(*s)) children_[p->span_id].push_back(s);
    }
  }

  const Span* Parent(const Span& s) const {
    if (IsZero(s.parent_span_id) || s.parent_span_id == s.span_id) return nullptr;
    auto it = spans_.find(s.parent_span_id);
    return it == spans_.end() ? nullptr : it->second;
  }

  bool IsSegment(const Span& s) const {
    if (std::string_view type = StringAttr(s, kType); !type.empty()) return type == "segment";
    const Span* p = Parent(s);
    return p == nullptr || s.kind == SpanKind::kServer || s.kind == SpanKind::kConsumer ||
           p->service_name != s.service_name;
  }

  // The row's nearest segment ancestor (itself if it is one); the topmost row reached when the
  // chain ends without one (a subsegment whose segment was never stored).
  const Span& SegmentOf(const Span& s) const {
    const Span* cur = &s;
    for (int depth = 0; depth < kMaxAncestors && !IsSegment(*cur); ++depth) {
      const Span* p = Parent(*cur);
      if (p == nullptr) break;
      cur = p;
    }
    return *cur;
  }

  bool HasChildSegment(const Span& s) const {
    auto it = children_.find(s.span_id);
    if (it == children_.end()) return false;
    return std::any_of(it->second.begin(), it->second.end(),
                       [&](const Span* c) { return IsSegment(*c); });
  }

  size_t Node(std::string name, std::string type, std::string account, bool inferred) {
    NodeKey key{name, type, account};
    auto [it, inserted] = node_index_.try_emplace(key, out_.facts.services.size());
    if (inserted) {
      ServiceFacts f;
      f.name = std::move(name);
      f.type = std::move(type);
      f.account_id = std::move(account);
      f.inferred = inferred;
      out_.facts.services.push_back(std::move(f));
    }
    return it->second;
  }

  size_t NodeOfSegment(const Span& segment) {
    return Node(segment.service_name, std::string(StringAttr(segment, kOrigin)),
                std::string(StringAttr(segment, "cloud.account.id")), false);
  }

  size_t InferredNode(const Span& call) {
    if (StringAttr(call, kNamespace) == "aws") {
      return Node(call.name, "AWS::" + call.name, "", true);
    }
    std::string name = FirstString(call, {"peer.service", "server.address", "net.peer.name",
                                          "db.system"})
                           .value_or(call.name);
    return Node(std::move(name), "remote", "", true);
  }

  size_t Edge(size_t from, size_t to) {
    auto [it, inserted] = edge_index_.try_emplace({from, to}, out_.facts.edges.size());
    if (inserted) {
      out_.facts.edges.emplace_back();
      out_.edge_nodes.emplace_back(from, to);
    }
    return it->second;
  }

  void AddNodeCall(size_t node, const CallOutcome& o) {
    ServiceFacts& f = out_.facts.services[node];
    MergeOutcome(o, &f.ok, &f.error, &f.fault, &f.throttle, &f.response_time);
    out_.node_calls.push_back({node, o});
  }

  void AddEdgeCall(size_t from, size_t to, const CallOutcome& o) {
    size_t e = Edge(from, to);
    EdgeFacts& f = out_.facts.edges[e];
    MergeOutcome(o, &f.ok, &f.error, &f.fault, &f.throttle, &f.response_time);
    out_.edge_calls.push_back({e, o});
  }

  void AddTimes(const Span& s) {
    if (out_.end_ns == 0 || s.start_ns < out_.start_ns) out_.start_ns = s.start_ns;
    out_.end_ns = std::max(out_.end_ns, std::max(s.end_ns, s.start_ns));
  }

  void AddSegment(const Span& s) {
    const CallOutcome o = OutcomeOf(s);
    const size_t node = NodeOfSegment(s);
    AddNodeCall(node, o);
    if (const Span* p = Parent(s)) {
      const size_t caller = NodeOfSegment(SegmentOf(*p));
      if (caller != node) AddEdgeCall(caller, node, o);
    }
  }

  void AddInferredCall(const Span& s) {
    const CallOutcome o = OutcomeOf(s);
    const size_t caller = NodeOfSegment(SegmentOf(s));
    const size_t callee = InferredNode(s);
    AddNodeCall(callee, o);
    AddEdgeCall(caller, callee, o);
  }

  void AddRowFacts(const Span& s) {
    TraceFacts& f = out_.facts;
    f.partial = f.partial || BoolAttr(s, kInProgress);
    size_t node = NodeOfSegment(SegmentOf(s));
    if (std::string_view user = StringAttr(s, kUser); !user.empty()) {
      auto it = std::find(f.users.begin(), f.users.end(), user);
      if (it == f.users.end()) {
        f.users.emplace_back(user);
        out_.user_nodes.emplace_back();
        it = f.users.end() - 1;
      }
      AddUnique(&out_.user_nodes[it - f.users.begin()], node);
    }
    for (const Attribute& a : s.attributes) {
      if (!StartsWith(a.key, kAnnotationPrefix)) continue;
      std::optional<FilterValue> value = AnnotationValue(a);
      if (!value) continue;
      AddAnnotation(a.key.substr(kAnnotationPrefix.size()), std::move(*value), node);
    }
    AddDistinct(StringAttr(s, "aws.ec2.instance_id"), &f.instance_ids);
    AddDistinct(StringAttr(s, "aws.ec2.availability_zone"), &f.availability_zones);
    AddDistinct(StringAttr(s, "aws.resource_arn"), &f.resource_arns);
  }

  void AddAnnotation(std::string key, FilterValue value, size_t node) {
    std::vector<AnnotationFact>& all = out_.facts.annotations;
    size_t i = 0;
    while (i < all.size() && !(all[i].key == key && all[i].value == value)) ++i;
    if (i == all.size()) {
      all.push_back({std::move(key), std::move(value)});
      out_.annotation_nodes.emplace_back();
    }
    AddUnique(&out_.annotation_nodes[i], node);
  }

  static void AddDistinct(std::string_view v, std::vector<std::string>* out) {
    if (!v.empty() && std::find(out->begin(), out->end(), v) == out->end()) out->emplace_back(v);
  }

  // The entry segment: the earliest segment without a parent in the trace, else the earliest
  // segment.
  void FillEntry() {
    const Span* entry = nullptr;
    for (const Span* s : spans_in_order_) {
      if (!IsSegment(*s)) continue;
      if (Parent(*s) == nullptr) {
        entry = s;
        break;
      }
      if (entry == nullptr) entry = s;
    }
    if (entry == nullptr) return;
    entry_span_ = entry;
    TraceFacts& f = out_.facts;
    out_.entry = NodeOfSegment(*entry);
    f.services[*out_.entry].root = true;
    const CallOutcome o = OutcomeOf(*entry);
    f.ok = o.ok();
    f.error = o.error;
    f.fault = o.fault;
    f.throttle = o.throttle;
    f.response_time = o.response_time;
    f.http_status = HttpStatus(*entry);
    f.http_url = FirstString(*entry, {"url.full", "http.url"});
    f.http_method = FirstString(*entry, {"http.request.method", "http.method"});
    f.http_useragent = FirstString(*entry, {"user_agent.original", "http.user_agent"});
    f.http_clientip = FirstString(*entry, {"client.address", "http.client_ip"});
  }

  bool HasFlag(const Span& s, RootCauseKind kind) const {
    CallOutcome o = OutcomeOf(s);
    return kind == RootCauseKind::kFault ? o.fault : o.error;
  }

  void FillRootCauses(RootCauseKind kind) {
    for (const Span* s : spans_in_order_) {
      if (!HasFlag(*s, kind)) continue;
      auto kids = children_.find(s->span_id);
      if (kids != children_.end() &&
          std::any_of(kids->second.begin(), kids->second.end(),
                      [&](const Span* c) { return HasFlag(*c, kind); })) {
        continue;
      }
      out_.facts.root_causes.push_back({kind, {CauseService(*s, kind)}});
    }
  }

  // The response-time root cause: from the entry segment, follow the slowest child (a
  // subsegment or a downstream segment) while it takes at least half of its parent's time; the
  // row reached is where the time went. Its service and entity path are reported like a fault's,
  // each entity with its share of the entry's response time as coverage.
  void FillResponseTimeRootCause() {
    if (entry_span_ == nullptr || ResponseSeconds(*entry_span_) <= 0) return;
    const Span* cause = entry_span_;
    for (int depth = 0; depth < kMaxAncestors; ++depth) {
      auto kids = children_.find(cause->span_id);
      if (kids == children_.end()) break;
      const Span* slowest = *std::max_element(
          kids->second.begin(), kids->second.end(),
          [](const Span* a, const Span* b) { return ResponseSeconds(*a) < ResponseSeconds(*b); });
      if (2 * ResponseSeconds(*slowest) < ResponseSeconds(*cause)) break;
      cause = slowest;
    }
    out_.facts.root_causes.push_back(
        {RootCauseKind::kResponseTime, {CauseService(*cause, RootCauseKind::kResponseTime)}});
  }

  // The root cause `cause` as its service and the entity path from that service's segment down
  // to it: with its exceptions for a fault or error, with each entity's coverage of the entry's
  // response time for a response-time cause.
  RootCauseService CauseService(const Span& cause, RootCauseKind kind) const {
    const Span& segment = SegmentOf(cause);
    RootCauseService service;
    service.name = segment.service_name;
    service.type = std::string(StringAttr(segment, kOrigin));
    service.account_id = std::string(StringAttr(segment, "cloud.account.id"));
    std::vector<const Span*> path{&cause};
    while (path.back() != &segment && path.size() < kMaxAncestors) {
      const Span* p = Parent(*path.back());
      if (p == nullptr) break;
      path.push_back(p);
    }
    std::reverse(path.begin(), path.end());
    for (const Span* s : path) {
      RootCauseEntity entity;
      entity.name = s == &segment ? s->service_name : s->name;
      entity.remote = IsDownstreamCall(*s);
      if (kind == RootCauseKind::kResponseTime) {
        entity.coverage = std::min(1.0, ResponseSeconds(*s) / ResponseSeconds(*entry_span_));
      }
      service.entity_path.push_back(std::move(entity));
    }
    if (kind == RootCauseKind::kResponseTime) return service;
    auto ex = exceptions_.find(cause.span_id);
    if (ex != exceptions_.end()) {
      for (const Span* e : ex->second) {
        service.entity_path.back().exceptions.push_back(
            {std::string(StringAttr(*e, kExceptionType)),
             std::string(StringAttr(*e, kExceptionMessage))});
      }
    }
    return service;
  }

  TraceId trace_id_{};
  std::unordered_map<SpanId, const Span*, SpanIdHash> spans_;
  std::unordered_map<SpanId, std::vector<const Span*>, SpanIdHash> children_;
  std::unordered_map<SpanId, std::vector<const Span*>, SpanIdHash> exceptions_;
  std::vector<const Span*> spans_in_order_;
  const Span* entry_span_ = nullptr;  // the entry segment, once FillEntry found it
  std::map<NodeKey, size_t> node_index_;
  std::map<std::pair<size_t, size_t>, size_t> edge_index_;
  TraceAnalysis out_;
};

}  // namespace

TraceAnalysis AnalyzeTrace(const std::vector<Span>& rows) { return Analyzer(rows).Run(); }

}  // namespace waggle::xray
