// Evaluation of a parsed filter expression against TraceFacts (semantics in
// filter_expression.h). A keyword is looked up in the current scope: the trace, one service
// node, one edge, or one root-cause service/entity/exception.
#include <cmath>

#include "xray/filter_expression.h"
#include "xray/internal/filter_ast.h"

namespace waggle::xray {

using internal::FilterNode;
using internal::FilterOp;
using internal::NodeKind;
using internal::NodeRef;

namespace {

constexpr int kMaxGroupNesting = 8;

struct Scope {
  const TraceFacts* trace = nullptr;
  const ServiceFacts* service = nullptr;
  const EdgeFacts* edge = nullptr;
  const RootCauseService* cause_service = nullptr;
  const RootCauseEntity* cause_entity = nullptr;
  const RootCauseException* cause_exception = nullptr;
};

std::optional<FilterValue> Opt(const std::optional<double>& v) {
  if (!v) return std::nullopt;
  return FilterValue(*v);
}
std::optional<FilterValue> Opt(const std::optional<std::string>& v) {
  if (!v) return std::nullopt;
  return FilterValue(*v);
}

const ServiceFacts* EntryService(const TraceFacts& t) {
  for (const ServiceFacts& s : t.services) {
    if (s.root) return &s;
  }
  return nullptr;
}

// The keyword's value in `scope`, or nullopt if the subject does not have it.
std::optional<FilterValue> LookupInRootCause(std::string_view k, const Scope& scope) {
  if (const RootCauseException* e = scope.cause_exception) {
    if (k == "name") return e->name;
    if (k == "message") return e->message;
    return std::nullopt;
  }
  if (const RootCauseEntity* e = scope.cause_entity) {
    if (k == "name") return e->name;
    if (k == "remote") return e->remote;
    if (k == "coverage") return Opt(e->coverage);
    return std::nullopt;
  }
  const RootCauseService* s = scope.cause_service;
  if (k == "name") return s->name;
  if (k == "type") return s->type;
  if (k == "inferred") return s->inferred;
  return std::nullopt;
}

std::optional<FilterValue> LookupStatus(std::string_view k, bool ok, bool error, bool fault,
                                        bool throttle) {
  if (k == "ok") return ok;
  if (k == "error") return error;
  if (k == "fault") return fault;
  if (k == "throttle") return throttle;
  return std::nullopt;
}

std::optional<FilterValue> LookupInService(std::string_view k, const ServiceFacts& s) {
  if (auto v = LookupStatus(k, s.ok, s.error, s.fault, s.throttle)) return v;
  if (k == "name") return s.name;
  if (k == "type") return s.type;
  if (k == "root") return s.root;
  if (k == "inferred") return s.inferred;
  if (k == "responsetime") return Opt(s.response_time);
  return std::nullopt;
}

std::optional<FilterValue> LookupInTrace(std::string_view k, const TraceFacts& t) {
  if (auto v = LookupStatus(k, t.ok, t.error, t.fault, t.throttle)) return v;
  if (k == "partial") return t.partial;
  if (k == "responsetime") return Opt(t.response_time);
  if (k == "duration") return t.duration;
  if (k == "http.status") {
    if (!t.http_status) return std::nullopt;
    return FilterValue(static_cast<double>(*t.http_status));
  }
  if (k == "http.url") return Opt(t.http_url);
  if (k == "http.method") return Opt(t.http_method);
  if (k == "http.useragent") return Opt(t.http_useragent);
  if (k == "http.clientip") return Opt(t.http_clientip);
  if (const ServiceFacts* entry = EntryService(t)) {
    if (k == "name" || k == "type" || k == "root" || k == "inferred") {
      return LookupInService(k, *entry);
    }
  }
  return std::nullopt;
}

std::optional<FilterValue> Lookup(std::string_view k, const Scope& scope) {
  if (scope.cause_service || scope.cause_entity || scope.cause_exception) {
    return LookupInRootCause(k, scope);
  }
  if (const EdgeFacts* e = scope.edge) {
    if (auto v = LookupStatus(k, e->ok, e->error, e->fault, e->throttle)) return v;
    if (k == "responsetime") return Opt(e->response_time);
    return std::nullopt;
  }
  if (scope.service) return LookupInService(k, *scope.service);
  return LookupInTrace(k, *scope.trace);
}

bool Compare(const FilterValue& actual, FilterOp op, const FilterValue& wanted) {
  if (actual.index() != wanted.index()) return false;
  if (const double* a = std::get_if<double>(&actual)) {
    double w = std::get<double>(wanted);
    switch (op) {
      case FilterOp::kEq: return *a == w;
      case FilterOp::kNe: return *a != w;
      case FilterOp::kLt: return *a < w;
      case FilterOp::kLe: return *a <= w;
      case FilterOp::kGt: return *a > w;
      case FilterOp::kGe: return *a >= w;
      default: return false;
    }
  }
  if (const bool* a = std::get_if<bool>(&actual)) {
    bool w = std::get<bool>(wanted);
    return op == FilterOp::kEq ? *a == w : op == FilterOp::kNe ? *a != w : false;
  }
  const std::string& a = std::get<std::string>(actual);
  const std::string& w = std::get<std::string>(wanted);
  switch (op) {
    case FilterOp::kEq: return a == w;
    case FilterOp::kNe: return a != w;
    case FilterOp::kLt: return a < w;
    case FilterOp::kLe: return a <= w;
    case FilterOp::kGt: return a > w;
    case FilterOp::kGe: return a >= w;
    case FilterOp::kContains: return a.find(w) != std::string::npos;
    case FilterOp::kBeginsWith: return a.compare(0, w.size(), w) == 0;
    case FilterOp::kEndsWith:
      return a.size() >= w.size() && a.compare(a.size() - w.size(), w.size(), w) == 0;
    case FilterOp::kPresent: return true;
  }
  return false;
}

// Trace-level keywords with one value per segment: true if any value satisfies the comparison.
const std::vector<std::string>* MultiValued(std::string_view k, const Scope& scope) {
  if (scope.service || scope.edge || scope.cause_service || scope.cause_entity ||
      scope.cause_exception) {
    return nullptr;
  }
  if (k == "user") return &scope.trace->users;
  if (k == "instance.id") return &scope.trace->instance_ids;
  if (k == "resource.arn") return &scope.trace->resource_arns;
  if (k == "availabilityzone") return &scope.trace->availability_zones;
  return nullptr;
}

bool RefMatches(const NodeRef& ref, const ServiceFacts& s) {
  return (!ref.name || *ref.name == s.name) && (!ref.type || *ref.type == s.type) &&
         (!ref.account_id || *ref.account_id == s.account_id);
}

}  // namespace

struct FilterEvaluator {
  const TraceFacts& trace;
  const GroupResolver& groups;
  int group_depth = 0;

  bool Eval(const FilterNode& n, const Scope& scope) {
    switch (n.kind) {
      case NodeKind::kAnd:
        for (const auto& c : n.children) {
          if (!Eval(*c, scope)) return false;
        }
        return true;
      case NodeKind::kOr:
        for (const auto& c : n.children) {
          if (Eval(*c, scope)) return true;
        }
        return false;
      case NodeKind::kNot: return !Eval(*n.children[0], scope);
      case NodeKind::kKeyword: return EvalKeyword(n, scope);
      case NodeKind::kAnnotation: return EvalAnnotation(n);
      case NodeKind::kService: return EvalService(n, scope);
      case NodeKind::kEdge: return EvalEdge(n, scope);
      case NodeKind::kGroup: return EvalGroup(n);
      case NodeKind::kRootCause: return EvalRootCause(n, scope);
    }
    return false;
  }

  bool EvalKeyword(const FilterNode& n, const Scope& scope) {
    if (const std::vector<std::string>* many = MultiValued(n.keyword, scope)) {
      for (const std::string& v : *many) {
        if (Compare(FilterValue(v), n.op, *n.value)) return true;
      }
      return false;
    }
    std::optional<FilterValue> v = Lookup(n.keyword, scope);
    if (!v) return false;
    if (n.op == FilterOp::kPresent) {
      const bool* b = std::get_if<bool>(&*v);
      return b != nullptr && *b;
    }
    return Compare(*v, n.op, *n.value);
  }

  bool EvalAnnotation(const FilterNode& n) {
    for (const AnnotationFact& a : trace.annotations) {
      if (a.key != n.keyword) continue;
      if (n.op == FilterOp::kPresent || Compare(a.value, n.op, *n.value)) return true;
    }
    return false;
  }

  bool Inner(const FilterNode& n, const Scope& scope) {
    return n.children.empty() || Eval(*n.children[0], scope);
  }

  bool EvalService(const FilterNode& n, const Scope& outer) {
    for (const ServiceFacts& s : trace.services) {
      if (!RefMatches(n.nodes[0], s)) continue;
      Scope scope{outer.trace};
      scope.service = &s;
      if (Inner(n, scope)) return true;
    }
    return false;
  }

  bool EvalEdge(const FilterNode& n, const Scope& outer) {
    for (const EdgeFacts& e : trace.edges) {
      if (!RefMatches(n.nodes[0], e.source) || !RefMatches(n.nodes[1], e.destination)) continue;
      Scope scope{outer.trace};
      scope.edge = &e;
      if (Inner(n, scope)) return true;
    }
    return false;
  }

  bool EvalGroup(const FilterNode& n) {
    if (!groups || group_depth >= kMaxGroupNesting) return false;
    std::shared_ptr<const FilterExpression> expr =
        groups(std::get<std::string>(*n.value), n.keyword == "group.arn");
    if (!expr) return false;
    if (!expr->root_) return true;
    ++group_depth;
    bool matched = Eval(*expr->root_, Scope{&trace});
    --group_depth;
    return matched;
  }

  bool EvalRootCause(const FilterNode& n, const Scope& outer) {
    for (const RootCauseFacts& cause : trace.root_causes) {
      if (cause.kind != n.cause_kind) continue;
      for (const RootCauseService& s : cause.services) {
        Scope scope{outer.trace};
        if (n.keyword == "service") {
          scope.cause_service = &s;
          if (Inner(n, scope)) return true;
          continue;
        }
        for (const RootCauseEntity& e : s.entity_path) {
          if (n.keyword == "entity") {
            scope.cause_entity = &e;
            if (Inner(n, scope)) return true;
            continue;
          }
          for (const RootCauseException& x : e.exceptions) {
            scope.cause_exception = &x;
            if (Inner(n, scope)) return true;
          }
        }
      }
    }
    return false;
  }
};

bool FilterExpression::Matches(const TraceFacts& trace, const GroupResolver& groups) const {
  if (!root_) return true;
  FilterEvaluator evaluator{trace, groups};
  return evaluator.Eval(*root_, Scope{&trace});
}

}  // namespace waggle::xray
