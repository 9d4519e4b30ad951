// The AST of a parsed X-Ray filter expression (xray/filter_expression.h). Immutable once built.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "xray/filter_expression.h"

namespace waggle::xray::internal {

enum class FilterOp { kPresent, kEq, kNe, kLt, kLe, kGt, kGe, kContains, kBeginsWith, kEndsWith };

enum class NodeKind {
  kAnd,         // children: two or more
  kOr,          // children: two or more
  kNot,         // children[0]
  kKeyword,     // keyword op value (op kPresent for a bare boolean keyword)
  kAnnotation,  // key op value (op kPresent: the key is set)
  kService,     // nodes[0]; children[0] optional inner filter
  kEdge,        // nodes[0] -> nodes[1]; children[0] optional inner filter
  kGroup,       // keyword "group.name" or "group.arn", value string
  kRootCause,   // cause_kind, keyword = "service" | "entity" | "exception"; children[0]
};

// A service reference: a plain name, id(...) with some fields, or any node (service()).
struct NodeRef {
  std::optional<std::string> name, type, account_id;
};

struct FilterNode {
  NodeKind kind = NodeKind::kAnd;
  std::vector<std::unique_ptr<const FilterNode>> children;
  std::string keyword;  // canonical lowercase keyword; the annotation key; rootcause target
  FilterOp op = FilterOp::kPresent;
  std::optional<FilterValue> value;
  std::vector<NodeRef> nodes;
  RootCauseKind cause_kind = RootCauseKind::kFault;
};

const char* FilterOpName(FilterOp op);

}  // namespace waggle::xray::internal
