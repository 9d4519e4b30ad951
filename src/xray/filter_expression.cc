// The filter-expression lexer and recursive-descent parser (grammar in filter_expression.h),
// and DebugString. Evaluation is in filter_eval.cc.
#include "xray/filter_expression.h"

#include <cctype>
#include <charconv>
#include <cstdio>

#include "absl/strings/ascii.h"
#include "xray/internal/filter_ast.h"

namespace waggle::xray {
namespace {

using internal::FilterNode;
using internal::FilterOp;
using internal::NodeKind;
using internal::NodeRef;
using NodePtr = std::unique_ptr<const FilterNode>;

enum class Tok { kWord, kString, kNumber, kPunct, kEnd };

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;  // word/punctuation as written; string contents unescaped
  size_t offset = 0;
};

bool IsWordStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

Status SyntaxError(std::string_view what, size_t offset) {
  return absl::InvalidArgumentError(
      absl::StrCat(absl::string_view(what.data(), what.size()), " at ", offset));
}

StatusOr<std::vector<Token>> Tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    Token t;
    t.offset = i;
    if (IsWordStart(c)) {
      size_t j = i;
      while (j < s.size() && IsWordChar(s[j])) ++j;
      t.kind = Tok::kWord;
      t.text = std::string(s.substr(i, j - i));
      i = j;
    } else if (IsDigit(c) || ((c == '-' || c == '.') && i + 1 < s.size() && IsDigit(s[i + 1]))) {
      size_t j = i + 1;
      while (j < s.size() && (IsDigit(s[j]) || s[j] == '.')) ++j;
      t.kind = Tok::kNumber;
      t.text = std::string(s.substr(i, j - i));
      i = j;
    } else if (c == '"') {
      size_t j = i + 1;
      std::string value;
      while (j < s.size() && s[j] != '"') {
        if (s[j] == '\\' && j + 1 < s.size()) ++j;
        value.push_back(s[j++]);
      }
      if (j >= s.size()) return SyntaxError("unterminated string starting", i);
      t.kind = Tok::kString;
      t.text = std::move(value);
      i = j + 1;
    } else {
      static constexpr std::string_view kTwo[] = {"!=", "<=", ">="};
      t.kind = Tok::kPunct;
      std::string_view two = s.substr(i, 2);
      bool matched = false;
      for (std::string_view op : kTwo) matched |= two == op;
      if (matched) {
        t.text = std::string(two);
        i += 2;
      } else if (std::string_view("=<>!(){}[],:#").find(c) != std::string_view::npos) {
        t.text = std::string(1, c);
        ++i;
      } else {
        std::string shown = std::isprint(static_cast<unsigned char>(c))
                                ? std::string(1, c)
                                : "\\x" + absl::StrCat(absl::Hex(static_cast<unsigned char>(c)));
        return SyntaxError("unexpected character '" + shown + "'", i);
      }
    }
    out.push_back(std::move(t));
  }
  Token end;
  end.offset = s.size();
  out.push_back(end);
  return out;
}

enum class KeywordType { kBool, kNumber, kString };

std::optional<KeywordType> KeywordTypeOf(std::string_view lower) {
  static constexpr std::string_view kBools[] = {"ok",       "error", "fault", "throttle", "partial",
                                                "inferred", "first", "last",  "remote",   "root"};
  static constexpr std::string_view kNumbers[] = {"responsetime", "duration", "http.status",
                                                  "index", "coverage"};
  static constexpr std::string_view kStrings[] = {
      "http.url", "http.method",      "http.useragent", "http.clientip", "user",        "name",
      "type",     "message",          "availabilityzone", "instance.id", "resource.arn"};
  for (std::string_view k : kBools) {
    if (k == lower) return KeywordType::kBool;
  }
  for (std::string_view k : kNumbers) {
    if (k == lower) return KeywordType::kNumber;
  }
  for (std::string_view k : kStrings) {
    if (k == lower) return KeywordType::kString;
  }
  return std::nullopt;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  StatusOr<NodePtr> ParseAll() {
    ASSIGN_OR_RETURN(NodePtr root, ParseOr(0));
    if (Peek().kind != Tok::kEnd) return Expected("AND, OR or the end of the expression");
    return root;
  }

 private:
  const Token& Peek() const { return tokens_[pos_]; }
  const Token& Next() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }
  bool PeekWord(std::string_view lower) const {
    return Peek().kind == Tok::kWord && absl::AsciiStrToLower(Peek().text) == lower;
  }
  bool PeekPunct(std::string_view p) const {
    return Peek().kind == Tok::kPunct && Peek().text == p;
  }

  Status Expected(std::string_view what) const {
    const Token& t = Peek();
    std::string found = t.kind == Tok::kEnd      ? "end of expression"
                        : t.kind == Tok::kString ? "string \"" + t.text + "\""
                                                 : "'" + t.text + "'";
    return absl::InvalidArgumentError(absl::StrCat(
        "expected ", absl::string_view(what.data(), what.size()), " at ", t.offset, ", found ",
        found));
  }

  Status ExpectPunct(std::string_view p) {
    if (!PeekPunct(p)) return Expected("'" + std::string(p) + "'");
    Next();
    return OkStatus();
  }

  static NodePtr Combine(NodeKind kind, NodePtr left, NodePtr right) {
    auto n = std::make_unique<FilterNode>();
    n->kind = kind;
    n->children.push_back(std::move(left));
    n->children.push_back(std::move(right));
    return n;
  }

  StatusOr<NodePtr> ParseOr(int depth) {
    if (depth > kMaxFilterDepth) return SyntaxError("expression nested too deeply", Peek().offset);
    ASSIGN_OR_RETURN(NodePtr left, ParseAnd(depth));
    while (PeekWord("or")) {
      Next();
      ASSIGN_OR_RETURN(NodePtr right, ParseAnd(depth));
      left = Combine(NodeKind::kOr, std::move(left), std::move(right));
    }
    return left;
  }

  bool StartsTerm() const {
    if (Peek().kind == Tok::kWord) return !PeekWord("or") && !PeekWord("and");
    return PeekPunct("!") || PeekPunct("(");
  }

  StatusOr<NodePtr> ParseAnd(int depth) {
    ASSIGN_OR_RETURN(NodePtr left, ParseUnary(depth));
    while (true) {
      if (PeekWord("and")) {
        Next();
      } else if (!StartsTerm()) {
        break;
      }
      ASSIGN_OR_RETURN(NodePtr right, ParseUnary(depth));
      left = Combine(NodeKind::kAnd, std::move(left), std::move(right));
    }
    return left;
  }

  StatusOr<NodePtr> ParseUnary(int depth) {
    if (depth > kMaxFilterDepth) return SyntaxError("expression nested too deeply", Peek().offset);
    if (PeekPunct("!") || PeekWord("not")) {
      Next();
      ASSIGN_OR_RETURN(NodePtr child, ParseUnary(depth + 1));
      auto n = std::make_unique<FilterNode>();
      n->kind = NodeKind::kNot;
      n->children.push_back(std::move(child));
      return NodePtr(std::move(n));
    }
    if (PeekPunct("(")) {
      Next();
      ASSIGN_OR_RETURN(NodePtr inner, ParseOr(depth + 1));
      RETURN_IF_ERROR(ExpectPunct(")"));
      return inner;
    }
    return ParseTerm(depth);
  }

  StatusOr<NodePtr> ParseTerm(int depth) {
    if (Peek().kind != Tok::kWord) return Expected("a keyword, '!' or '('");
    const Token& word = Peek();
    const std::string lower = absl::AsciiStrToLower(word.text);
    if (lower == "service" || lower == "edge") return ParseServiceOrEdge(lower == "edge", depth);
    if (lower == "group.name" || lower == "group.arn") return ParseGroup(lower);
    if (lower == "annotation" || lower.rfind("annotation.", 0) == 0) return ParseAnnotation();
    if (lower.rfind("rootcause.", 0) == 0) return ParseRootCause(lower, depth);
    std::optional<KeywordType> type = KeywordTypeOf(lower);
    if (!type) {
      return SyntaxError("unknown keyword '" + word.text.substr(0, 64) + "'", word.offset);
    }
    Next();
    auto n = std::make_unique<FilterNode>();
    n->kind = NodeKind::kKeyword;
    n->keyword = lower;
    switch (*type) {
      case KeywordType::kBool:
        RETURN_IF_ERROR(ParseBoolComparison(n.get()));
        break;
      case KeywordType::kNumber:
        RETURN_IF_ERROR(ParseOperator(n.get(), /*strings=*/false, /*ordered=*/true, /*optional=*/false));
        RETURN_IF_ERROR(ParseNumber(n.get()));
        break;
      case KeywordType::kString:
        RETURN_IF_ERROR(ParseOperator(n.get(), /*strings=*/true, /*ordered=*/false, /*optional=*/false));
        RETURN_IF_ERROR(ParseString(n.get()));
        break;
    }
    return NodePtr(std::move(n));
  }

  Status ParseBoolComparison(FilterNode* n) {
    if (!PeekPunct("=") && !PeekPunct("!=")) return OkStatus();  // bare: true
    n->op = Next().text == "=" ? FilterOp::kEq : FilterOp::kNe;
    if (PeekWord("true") || PeekWord("false")) {
      n->value = PeekWord("true");
      Next();
      return OkStatus();
    }
    return Expected("true or false");
  }

  // Reads a comparison operator into n->op: = and != always; CONTAINS, BEGINSWITH and ENDSWITH
  // when `strings`; < <= > >= when `ordered`. With `optional`, no operator leaves kPresent.
  Status ParseOperator(FilterNode* n, bool strings, bool ordered, bool optional) {
    const Token& t = Peek();
    std::optional<FilterOp> op;
    if (t.kind == Tok::kPunct) {
      if (t.text == "=") op = FilterOp::kEq;
      if (t.text == "!=") op = FilterOp::kNe;
      if (ordered && t.text == "<") op = FilterOp::kLt;
      if (ordered && t.text == "<=") op = FilterOp::kLe;
      if (ordered && t.text == ">") op = FilterOp::kGt;
      if (ordered && t.text == ">=") op = FilterOp::kGe;
    } else if (t.kind == Tok::kWord && strings) {
      std::string w = absl::AsciiStrToLower(t.text);
      if (w == "contains") op = FilterOp::kContains;
      if (w == "beginswith") op = FilterOp::kBeginsWith;
      if (w == "endswith") op = FilterOp::kEndsWith;
    }
    if (!op) {
      if (optional) return OkStatus();
      return Expected(strings ? "=, !=, CONTAINS, BEGINSWITH or ENDSWITH"
                              : "a comparison operator (=, !=, <, <=, >, >=)");
    }
    Next();
    n->op = *op;
    return OkStatus();
  }

  Status ParseNumber(FilterNode* n) {
    if (Peek().kind != Tok::kNumber) return Expected("a number");
    const Token& t = Peek();
    double v = 0;
    auto res = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
    if (res.ec != std::errc() || res.ptr != t.text.data() + t.text.size()) {
      return SyntaxError("invalid number '" + t.text.substr(0, 32) + "'", t.offset);
    }
    Next();
    n->value = v;
    return OkStatus();
  }

  Status ParseString(FilterNode* n) {
    if (Peek().kind != Tok::kString) return Expected("a double-quoted string");
    n->value = Next().text;
    return OkStatus();
  }

  StatusOr<NodePtr> ParseGroup(const std::string& lower) {
    Next();
    auto n = std::make_unique<FilterNode>();
    n->kind = NodeKind::kGroup;
    n->keyword = lower;
    RETURN_IF_ERROR(ExpectPunct("="));
    n->op = FilterOp::kEq;
    RETURN_IF_ERROR(ParseString(n.get()));
    return NodePtr(std::move(n));
  }

  StatusOr<NodePtr> ParseAnnotation() {
    const Token word = Next();
    auto n = std::make_unique<FilterNode>();
    n->kind = NodeKind::kAnnotation;
    if (word.text.size() > 11 && word.text[10] == '.') {
      n->keyword = word.text.substr(11);
    } else if (word.text.size() == 10 && PeekPunct("[")) {
      Next();
      if (Peek().kind != Tok::kWord && Peek().kind != Tok::kString && Peek().kind != Tok::kNumber) {
        return Expected("an annotation key");
      }
      n->keyword = Next().text;
      RETURN_IF_ERROR(ExpectPunct("]"));
    } else {
      return SyntaxError("expected annotation.KEY or annotation[KEY]", word.offset);
    }
    if (n->keyword.empty()) return SyntaxError("empty annotation key", word.offset);
    RETURN_IF_ERROR(ParseOperator(n.get(), /*strings=*/true, /*ordered=*/true, /*optional=*/true));
    if (n->op == FilterOp::kPresent) return NodePtr(std::move(n));
    if (Peek().kind == Tok::kString) {
      n->value = Next().text;
    } else if (Peek().kind == Tok::kNumber) {
      RETURN_IF_ERROR(ParseNumber(n.get()));
    } else if (PeekWord("true") || PeekWord("false")) {
      n->value = PeekWord("true");
      Next();
    } else {
      return Expected("a string, number, true or false");
    }
    const bool is_string = std::holds_alternative<std::string>(*n->value);
    const bool string_op = n->op == FilterOp::kContains || n->op == FilterOp::kBeginsWith ||
                           n->op == FilterOp::kEndsWith;
    if (string_op && !is_string) {
      return SyntaxError("CONTAINS, BEGINSWITH and ENDSWITH need a string value",
                         tokens_[pos_ - 1].offset);
    }
    return NodePtr(std::move(n));
  }

  StatusOr<NodeRef> ParseNodeRef() {
    NodeRef ref;
    if (Peek().kind == Tok::kString) {
      ref.name = Next().text;
      return ref;
    }
    if (!PeekWord("id")) return Expected("a quoted service name or id(...)");
    Next();
    RETURN_IF_ERROR(ExpectPunct("("));
    while (true) {
      if (Peek().kind != Tok::kWord) return Expected("name, type or account.id");
      const Token field = Next();
      std::string f = absl::AsciiStrToLower(field.text);
      std::optional<std::string>* slot = f == "name"         ? &ref.name
                                         : f == "type"       ? &ref.type
                                         : f == "account.id" ? &ref.account_id
                                                             : nullptr;
      if (slot == nullptr) {
        return SyntaxError("unknown id() field '" + field.text.substr(0, 32) +
                               "' (expected name, type or account.id)",
                           field.offset);
      }
      RETURN_IF_ERROR(ExpectPunct(":"));
      if (Peek().kind != Tok::kString) return Expected("a double-quoted string");
      *slot = Next().text;
      if (PeekPunct(")")) break;
      RETURN_IF_ERROR(ExpectPunct(","));
    }
    Next();
    return ref;
  }

  Status ParseInnerFilter(FilterNode* n, int depth, bool required) {
    if (!PeekPunct("{")) return required ? Expected("'{'") : OkStatus();
    Next();
    ASSIGN_OR_RETURN(NodePtr inner, ParseOr(depth + 1));
    RETURN_IF_ERROR(ExpectPunct("}"));
    n->children.push_back(std::move(inner));
    return OkStatus();
  }

  StatusOr<NodePtr> ParseServiceOrEdge(bool edge, int depth) {
    Next();
    auto n = std::make_unique<FilterNode>();
    n->kind = edge ? NodeKind::kEdge : NodeKind::kService;
    RETURN_IF_ERROR(ExpectPunct("("));
    if (!edge && PeekPunct(")")) {
      n->nodes.push_back(NodeRef{});
    } else {
      ASSIGN_OR_RETURN(NodeRef first, ParseNodeRef());
      n->nodes.push_back(std::move(first));
      if (edge) {
        RETURN_IF_ERROR(ExpectPunct(","));
        ASSIGN_OR_RETURN(NodeRef second, ParseNodeRef());
        n->nodes.push_back(std::move(second));
      }
    }
    RETURN_IF_ERROR(ExpectPunct(")"));
    RETURN_IF_ERROR(ParseInnerFilter(n.get(), depth, /*required=*/false));
    return NodePtr(std::move(n));
  }

  StatusOr<NodePtr> ParseRootCause(const std::string& lower, int depth) {
    const Token word = Next();
    if (lower == "rootcause.json") {
      return SyntaxError("rootcause.json is not supported; use rootcause.KIND.TARGET { ... }",
                         word.offset);
    }
    auto n = std::make_unique<FilterNode>();
    n->kind = NodeKind::kRootCause;
    std::string_view rest = std::string_view(lower).substr(10);
    size_t dot = rest.find('.');
    std::string_view kind = rest.substr(0, dot);
    std::string_view target = dot == std::string_view::npos ? "" : rest.substr(dot + 1);
    if (kind == "fault") {
      n->cause_kind = RootCauseKind::kFault;
    } else if (kind == "error") {
      n->cause_kind = RootCauseKind::kError;
    } else if (kind == "responsetime") {
      n->cause_kind = RootCauseKind::kResponseTime;
    } else {
      return SyntaxError("expected rootcause.fault, rootcause.error or rootcause.responsetime",
                         word.offset);
    }
    if (target != "service" && target != "entity" && target != "exception") {
      return SyntaxError("expected .service, .entity or .exception after rootcause." +
                             std::string(kind),
                         word.offset);
    }
    n->keyword = std::string(target);
    RETURN_IF_ERROR(ParseInnerFilter(n.get(), depth, /*required=*/true));
    return NodePtr(std::move(n));
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

std::string ValueString(const FilterValue& v) {
  if (const double* d = std::get_if<double>(&v)) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%g", *d);
    return buf;
  }
  if (const bool* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  return "\"" + std::get<std::string>(v) + "\"";
}

std::string NodeRefString(const NodeRef& r) {
  if (r.name && !r.type && !r.account_id) return "\"" + *r.name + "\"";
  if (!r.name && !r.type && !r.account_id) return "*";
  std::string s = "id(";
  if (r.name) s += "name=\"" + *r.name + "\" ";
  if (r.type) s += "type=\"" + *r.type + "\" ";
  if (r.account_id) s += "account.id=\"" + *r.account_id + "\" ";
  s.back() = ')';
  return s;
}

const char* CauseKindName(RootCauseKind k) {
  switch (k) {
    case RootCauseKind::kFault: return "fault";
    case RootCauseKind::kError: return "error";
    case RootCauseKind::kResponseTime: return "responsetime";
  }
  return "?";
}

std::string Render(const FilterNode& n) {
  std::string s = "(";
  auto comparison = [&] {
    if (n.op == FilterOp::kPresent) return std::string();
    return std::string(" ") + internal::FilterOpName(n.op) + " " + ValueString(*n.value);
  };
  auto inner = [&] { return n.children.empty() ? "" : " {" + Render(*n.children[0]) + "}"; };
  switch (n.kind) {
    case NodeKind::kAnd:
    case NodeKind::kOr:
      s += n.kind == NodeKind::kAnd ? "and" : "or";
      for (const auto& c : n.children) s += " " + Render(*c);
      break;
    case NodeKind::kNot: s += "not " + Render(*n.children[0]); break;
    case NodeKind::kKeyword: s += n.keyword + comparison(); break;
    case NodeKind::kAnnotation: s += "annotation " + n.keyword + comparison(); break;
    case NodeKind::kGroup: s += n.keyword + comparison(); break;
    case NodeKind::kService: s += "service " + NodeRefString(n.nodes[0]) + inner(); break;
    case NodeKind::kEdge:
      s += "edge " + NodeRefString(n.nodes[0]) + " " + NodeRefString(n.nodes[1]) + inner();
      break;
    case NodeKind::kRootCause:
      s += std::string("rootcause ") + CauseKindName(n.cause_kind) + " " + n.keyword + inner();
      break;
  }
  return s + ")";
}

}  // namespace

namespace internal {
const char* FilterOpName(FilterOp op) {
  switch (op) {
    case FilterOp::kPresent: return "present";
    case FilterOp::kEq: return "=";
    case FilterOp::kNe: return "!=";
    case FilterOp::kLt: return "<";
    case FilterOp::kLe: return "<=";
    case FilterOp::kGt: return ">";
    case FilterOp::kGe: return ">=";
    case FilterOp::kContains: return "CONTAINS";
    case FilterOp::kBeginsWith: return "BEGINSWITH";
    case FilterOp::kEndsWith: return "ENDSWITH";
  }
  return "?";
}
}  // namespace internal

FilterExpression::FilterExpression(std::string text,
                                   std::shared_ptr<const internal::FilterNode> root)
    : text_(std::move(text)), root_(std::move(root)) {}

StatusOr<FilterExpression> FilterExpression::Parse(std::string_view text) {
  if (text.size() > kMaxFilterLength) {
    return absl::InvalidArgumentError(absl::StrCat("filter expression is ", text.size(),
                                                   " bytes; the limit is ", kMaxFilterLength));
  }
  ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(text));
  if (tokens.size() == 1) return FilterExpression(std::string(text), nullptr);
  Parser parser(std::move(tokens));
  ASSIGN_OR_RETURN(NodePtr root, parser.ParseAll());
  return FilterExpression(std::string(text), std::shared_ptr<const FilterNode>(std::move(root)));
}

std::string FilterExpression::DebugString() const {
  return root_ ? Render(*root_) : "(all)";
}

}  // namespace waggle::xray
