// X-Ray filter expressions: a recursive-descent parser into an immutable AST, and an evaluator
// over an abstract view of one trace (TraceFacts), which the store-backed GetTraceSummaries and
// groups fill in.
//
// Grammar (AWS "Using filter expressions"; keywords, operators and AND/OR/NOT are
// case-insensitive, annotation keys and string values are case-sensitive):
//
//   expr     := and ( OR and )*
//   and      := unary ( [AND] unary )*          juxtaposition means AND: `ok !partial duration < 3`
//   unary    := ( NOT | '!' ) unary | '(' expr ')' | term
//   term     := BOOL_KW [ ('=' | '!=') (true|false) ]                 ok error fault throttle partial
//                                                                    inferred first last remote root
//             | NUM_KW  op number                                    responsetime duration http.status
//                                                                    index coverage
//             | STR_KW  (= | != | CONTAINS | BEGINSWITH | ENDSWITH) "string"
//                                                                    http.url http.method
//                                                                    http.useragent http.clientip user
//                                                                    name type message
//                                                                    availabilityzone instance.id
//                                                                    resource.arn
//             | annotation.KEY [ op value ]  |  annotation[KEY] [ op value ]
//             | service( [ node ] ) [ '{' expr '}' ]
//             | edge( node ',' node ) [ '{' expr '}' ]
//             | group.name = "name"  |  group.arn = "arn"
//             | rootcause.(fault|error|responsetime).(service|entity|exception) '{' expr '}'
//   node     := "name" | id( field: "value" [, field: "value"]* )   fields name, type, account.id
//   op       := = | != | < | <= | > | >=          (strings also CONTAINS BEGINSWITH ENDSWITH)
//
// `rootcause.json = #[...]` is rejected as unsupported. Inputs longer than kMaxFilterLength
// bytes or nested deeper than kMaxFilterDepth are rejected.
//
// Syntax errors are InvalidArgument with the 0-based byte offset of the offending token:
// "expected ')' at 17, found end of expression".
//
// Semantics (waggle's reading of AWS's documentation):
// - Plain keywords apply at trace level: http.*, responsetime, ok/error/fault/throttle and the
//   other root-level fields come from the trace's entry (root) segment; duration is the whole
//   trace; partial is true if any segment is in progress; user matches if any segment has that
//   user; annotation.KEY is true if any segment of the trace has an annotation KEY satisfying
//   the comparison (bare: the key is set; `!annotation.k`: set by no segment).
// - A comparison on a field the trace does not have is false, whatever the operator (so
//   `user CONTAINS ""` means "has a user").
// - Numbers compare as doubles; a typed annotation comparison with a value of another type is
//   false. String comparisons are exact (case-sensitive).
// - service("a") is true if some service node of the trace is named "a"; service() matches
//   any node; `{ filter }` must then hold for that same node, evaluated with the node's own
//   fields (ok/error/fault/throttle, responsetime, name, type, ...). edge("a","b") likewise for a
//   call from a to b. id(...) matches only the fields it names.
// - group.name/group.arn evaluate the named group's expression (through a GroupResolver);
//   an unknown group, or groups nested deeper than 8, evaluate to false.
// - rootcause.K.T { f } is true if some root cause of kind K has a service/entity/exception
//   (T) for which f holds (keywords name, type, message, remote, coverage, inferred).
//
// Thread-safety: a parsed FilterExpression is immutable; copies share the AST; Matches() may be
// called from many threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace waggle::xray {

constexpr size_t kMaxFilterLength = 4096;
constexpr int kMaxFilterDepth = 64;

using FilterValue = std::variant<double, std::string, bool>;

struct AnnotationFact {
  std::string key;
  FilterValue value;
};

// One service node of the trace (its segments and subsegments that name the service).
struct ServiceFacts {
  std::string name;
  std::string type;        // e.g. "AWS::EC2::Instance"; empty when unknown
  std::string account_id;  // empty when unknown
  bool root = false;       // the entry service
  bool inferred = false;   // a downstream node known only from a subsegment
  bool ok = false, error = false, fault = false, throttle = false;  // any of its segments
  std::optional<double> response_time;  // seconds, its longest segment
};

// A call from one service node to another.
struct EdgeFacts {
  ServiceFacts source;  // only the identity fields (name, type, account_id) are used
  ServiceFacts destination;
  bool ok = false, error = false, fault = false, throttle = false;
  std::optional<double> response_time;  // seconds
};

struct RootCauseException {
  std::string name;
  std::string message;
};
struct RootCauseEntity {
  std::string name;
  bool remote = false;
  std::optional<double> coverage;  // response-time root causes only
  std::vector<RootCauseException> exceptions;
};
struct RootCauseService {
  std::string name;
  std::string type;
  std::string account_id;
  bool inferred = false;
  std::vector<RootCauseEntity> entity_path;
};
enum class RootCauseKind { kFault, kError, kResponseTime };
struct RootCauseFacts {
  RootCauseKind kind = RootCauseKind::kFault;
  std::vector<RootCauseService> services;
};

// The abstract view of one trace that expressions are evaluated against.
struct TraceFacts {
  // From the entry (root) segment.
  bool ok = false, error = false, fault = false, throttle = false;
  std::optional<double> response_time;  // seconds
  std::optional<int64_t> http_status;
  std::optional<std::string> http_url, http_method, http_useragent, http_clientip;
  // Whole trace.
  double duration = 0;  // seconds, earliest start to latest end
  bool partial = false;
  std::vector<std::string> users;
  std::vector<AnnotationFact> annotations;  // from every segment
  std::vector<ServiceFacts> services;
  std::vector<EdgeFacts> edges;
  std::vector<RootCauseFacts> root_causes;
  std::vector<std::string> instance_ids, resource_arns, availability_zones;
};

class FilterExpression;

// Finds a group's expression for group.name / group.arn; returns null if there is none.
// `by_arn` tells which field the expression named.
using GroupResolver =
    std::function<std::shared_ptr<const FilterExpression>(std::string_view name_or_arn, bool by_arn)>;

namespace internal {
struct FilterNode;
}

class FilterExpression {
 public:
  // Parses `text`; an empty or all-blank text is the expression that matches every trace.
  static StatusOr<FilterExpression> Parse(std::string_view text);

  bool Matches(const TraceFacts& trace, const GroupResolver& groups = nullptr) const;

  const std::string& text() const { return text_; }
  // A canonical, fully parenthesised rendering of the AST, e.g.
  // (and (service "a") (cmp http.status >= 500)); stable, for tests and logs.
  std::string DebugString() const;

 private:
  friend struct FilterEvaluator;
  FilterExpression(std::string text, std::shared_ptr<const internal::FilterNode> root);

  std::string text_;
  std::shared_ptr<const internal::FilterNode> root_;  // null = match everything
};

}  // namespace waggle::xray
