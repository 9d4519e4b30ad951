// JSON for XraySamplingApi: AWS's rest-json shapes of sampling rules, targets, statistics and
// groups (botocore's xray service model), request decoding with field-naming errors, the
// AWS error body, and the state file.
//
// Decoders take untrusted bytes; every error is InvalidArgument naming the field
// ("SamplingRule.Priority must be an integer").
#pragma once

#include "api/aws_json.h"

#include <string>
#include <string_view>
#include <vector>

#include "api/json_writer.h"
#include "common/status.h"
#include "net/http_server.h"
#include "xray/groups.h"
#include "xray/sampling_rules.h"
#include "xray/sampling_targets.h"

namespace waggle::xray_json {

void WriteRuleRecord(JsonWriter& w, const xray::SamplingRuleRecord& record);
void WriteGroup(JsonWriter& w, const xray::Group& group);

// CreateSamplingRule: {"SamplingRule": {...every required field...}, "Tags": [...]}.
StatusOr<xray::SamplingRule> ParseCreateSamplingRule(std::string_view body);
// UpdateSamplingRule: {"SamplingRuleUpdate": {RuleName | RuleARN, fields to change}}.
StatusOr<xray::SamplingRuleUpdate> ParseUpdateSamplingRule(std::string_view body);

// {"GroupName"?, "GroupARN"?, "FilterExpression"?, "InsightsConfiguration"?} (all operations
// on one group; DeleteSamplingRule's {"RuleName","RuleARN"} too, via the key names).
struct NamedRequest {
  std::string name, arn;
  std::optional<std::string> filter_expression;
  std::optional<xray::InsightsConfiguration> insights;
};
StatusOr<NamedRequest> ParseNamedRequest(std::string_view body, const char* name_key,
                                         const char* arn_key);

// GetSamplingTargets: {"SamplingStatisticsDocuments": [≤25 documents]} (boost documents are
// accepted and ignored).
StatusOr<std::vector<xray::SamplingStatisticsDocument>> ParseSamplingTargets(std::string_view body);

// The state file: {"version":1,"last_rule_modification":t,"rules":[...],"groups":[...]}.
std::string EncodeState(const std::vector<xray::SamplingRuleRecord>& rules,
                        double last_rule_modification, const std::vector<xray::Group>& groups);
struct DecodedState {
  std::vector<xray::SamplingRuleRecord> rules;
  double last_rule_modification = 0;
  std::vector<xray::Group> groups;
};
StatusOr<DecodedState> DecodeState(std::string_view json);

}  // namespace waggle::xray_json
