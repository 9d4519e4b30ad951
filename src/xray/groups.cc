#include "xray/groups.h"

#include <random>

#include "xray/sampling_rules.h"

namespace waggle::xray {
namespace {

Status ValidateName(std::string_view name) {
  if (name.empty() || name.size() > 32) {
    return absl::InvalidArgumentError(
        absl::StrCat("GroupName must be 1 to 32 characters long (got ", name.size(), ")"));
  }
  if (name == "Default") return absl::InvalidArgumentError("Default is a reserved group name");
  return OkStatus();
}

StatusOr<std::shared_ptr<const FilterExpression>> ParseExpression(std::string_view text) {
  StatusOr<FilterExpression> parsed = FilterExpression::Parse(text);
  if (!parsed.ok()) return Annotate(parsed.status(), "invalid FilterExpression");
  return std::make_shared<const FilterExpression>(std::move(*parsed));
}

std::string NewGroupId() {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string id(26, 'A');
  for (char& c : id) c = kAlphabet[rng() % 32];
  return id;
}

}  // namespace

std::map<std::string, Group>::const_iterator GroupSet::FindGroup(std::string_view name,
                                                                 std::string_view arn) const {
  if (!name.empty()) return groups_.find(std::string(name));
  for (auto it = groups_.begin(); it != groups_.end(); ++it) {
    if (!arn.empty() && it->second.arn == arn) return it;
  }
  return groups_.end();
}

StatusOr<Group> GroupSet::Create(std::string name, std::string filter_expression,
                                 std::optional<InsightsConfiguration> insights,
                                 std::string_view region) {
  RETURN_IF_ERROR(ValidateName(name));
  if (groups_.contains(name)) {
    return absl::AlreadyExistsError("a group named " + name + " already exists");
  }
  if (groups_.size() >= kMaxGroups) {
    return absl::ResourceExhaustedError(absl::StrCat("at most ", kMaxGroups, " groups may exist"));
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const FilterExpression> expression,
                   ParseExpression(filter_expression));
  Group g;
  g.arn = absl::StrCat("arn:aws:xray:", absl::string_view(region.data(), region.size()), ":",
                       absl::string_view(kDefaultAccountId.data(), kDefaultAccountId.size()),
                       ":group/", name, "/", NewGroupId());
  g.name = std::move(name);
  g.filter_expression = std::move(filter_expression);
  g.insights = insights;
  g.expression = std::move(expression);
  groups_[g.name] = g;
  return g;
}

StatusOr<Group> GroupSet::Get(std::string_view name, std::string_view arn) const {
  if (name.empty() && arn.empty()) {
    return absl::InvalidArgumentError("GroupName or GroupARN is required");
  }
  auto it = FindGroup(name, arn);
  if (it == groups_.end()) {
    return absl::NotFoundError("group " + std::string(name.empty() ? arn : name) + " not found");
  }
  return it->second;
}

StatusOr<Group> GroupSet::Update(std::string_view name, std::string_view arn,
                                 std::optional<std::string> filter_expression,
                                 std::optional<InsightsConfiguration> insights) {
  ASSIGN_OR_RETURN(Group g, Get(name, arn));
  if (filter_expression) {
    ASSIGN_OR_RETURN(g.expression, ParseExpression(*filter_expression));
    g.filter_expression = std::move(*filter_expression);
  }
  if (insights) g.insights = insights;
  groups_[g.name] = g;
  return g;
}

Status GroupSet::Delete(std::string_view name, std::string_view arn) {
  ASSIGN_OR_RETURN(Group g, Get(name, arn));
  groups_.erase(g.name);
  return OkStatus();
}

std::vector<Group> GroupSet::List() const {
  std::vector<Group> out;
  for (const auto& [name, g] : groups_) out.push_back(g);
  return out;
}

Status GroupSet::Restore(std::vector<Group> groups) {
  groups_.clear();
  Status first_error = OkStatus();
  for (Group& g : groups) {
    Status s = ValidateName(g.name);
    if (s.ok() && groups_.size() >= kMaxGroups) s = absl::ResourceExhaustedError("too many groups");
    if (s.ok()) {
      StatusOr<std::shared_ptr<const FilterExpression>> e = ParseExpression(g.filter_expression);
      s = e.status();
      if (e.ok()) g.expression = *e;
    }
    if (!s.ok()) {
      if (first_error.ok()) first_error = Annotate(s, "group " + g.name);
      continue;
    }
    groups_[g.name] = std::move(g);
  }
  return first_error;
}

GroupResolver GroupSet::Resolver() const {
  auto snapshot = std::make_shared<std::map<std::string, Group>>(groups_);
  return [snapshot](std::string_view key, bool by_arn) -> std::shared_ptr<const FilterExpression> {
    for (const auto& [name, g] : *snapshot) {
      if (by_arn ? g.arn == key : name == key) return g.expression;
    }
    return nullptr;
  };
}

}  // namespace waggle::xray
