// X-Ray groups: a name, an ARN and a filter expression (validated by the filter parser), plus
// InsightsConfiguration, which waggle accepts and echoes but does not act on.
//
// GroupName is 1–32 characters, unique and case-sensitive; "Default" is reserved. An ARN is
// arn:aws:xray:<region>:000000000000:group/<name>/<id> with a random 26-character id chosen
// at creation. At most kMaxGroups groups.
//
// Errors: InvalidArgument (bad name or expression), AlreadyExists, NotFound,
// ResourceExhausted.
//
// Thread-safety: GroupSet is not synchronised; callers serialise access. Expressions handed
// out are immutable and shared, so they may be evaluated after the set changed.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "xray/filter_expression.h"

namespace waggle::xray {

constexpr size_t kMaxGroups = 25;

struct InsightsConfiguration {
  std::optional<bool> insights_enabled;
  std::optional<bool> notifications_enabled;
};

struct Group {
  std::string name;
  std::string arn;
  std::string filter_expression;  // as given; may be empty
  std::optional<InsightsConfiguration> insights;
  std::shared_ptr<const FilterExpression> expression;  // parsed filter_expression
};

class GroupSet {
 public:
  StatusOr<Group> Create(std::string name, std::string filter_expression,
                         std::optional<InsightsConfiguration> insights, std::string_view region);
  // A group by name, or by ARN when `name` is empty.
  StatusOr<Group> Get(std::string_view name, std::string_view arn) const;
  StatusOr<Group> Update(std::string_view name, std::string_view arn,
                         std::optional<std::string> filter_expression,
                         std::optional<InsightsConfiguration> insights);
  Status Delete(std::string_view name, std::string_view arn);
  std::vector<Group> List() const;  // by name

  // Replaces every group (state loading); groups that do not validate are skipped and
  // reported in the returned status.
  Status Restore(std::vector<Group> groups);

  // A resolver for group.name / group.arn over a snapshot of the current groups.
  GroupResolver Resolver() const;

 private:
  std::map<std::string, Group>::const_iterator FindGroup(std::string_view name,
                                                         std::string_view arn) const;

  std::map<std::string, Group> groups_;
};

}  // namespace waggle::xray
