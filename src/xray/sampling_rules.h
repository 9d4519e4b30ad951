// X-Ray centralized sampling rules: the rule model of CreateSamplingRule, validation as the
// service does it, glob matching, and the rule set (create/update/delete/list/match).
//
// Validation (botocore's model and the service): RuleName 1–32 chars; ResourceARN 1–500;
// Priority 1–9999; FixedRate 0–1; ReservoirSize ≥ 0; ServiceName, ServiceType, Host ≤ 64;
// HTTPMethod ≤ 10; URLPath ≤ 128; Version 1; Attributes ≤ 5 with keys and values of 1–32 chars.
// At most kMaxSamplingRules rules including Default (AWS's per-region quota is 25).
//
// The rule named "Default" always exists (Priority 10000, every matcher "*", 1 trace/s + 5 %);
// it cannot be created or deleted and only its FixedRate and ReservoirSize can be changed.
//
// Matching (the SDKs' rule): rules in ascending Priority, ties by RuleName; a rule matches when
// every non-empty request field matches its pattern (`*` any run of characters, `?` exactly
// one, case-insensitive) and each rule attribute is present in the request and matches; the
// first match decides; without one the Default rule applies.
//
// Thread-safety: SamplingRuleSet is not synchronised; callers serialise access.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace waggle::xray {

constexpr size_t kMaxSamplingRules = 25;
constexpr std::string_view kDefaultRuleName = "Default";
constexpr std::string_view kDefaultAccountId = "000000000000";
constexpr std::string_view kDefaultRegion = "us-east-1";

struct SamplingRule {
  std::string rule_name;
  std::string rule_arn;
  std::string resource_arn = "*";
  int64_t priority = 0;
  double fixed_rate = 0;
  int64_t reservoir_size = 0;
  std::string service_name = "*";
  std::string service_type = "*";
  std::string host = "*";
  std::string http_method = "*";
  std::string url_path = "*";
  int64_t version = 1;
  std::map<std::string, std::string> attributes;
};

struct SamplingRuleRecord {
  SamplingRule rule;
  double created_at = 0;  // epoch seconds
  double modified_at = 0;
};

// UpdateSamplingRule's SamplingRuleUpdate: the rule by name or ARN, and the fields to change.
struct SamplingRuleUpdate {
  std::string rule_name;
  std::string rule_arn;
  std::optional<std::string> resource_arn, service_name, service_type, host, http_method, url_path;
  std::optional<int64_t> priority, reservoir_size;
  std::optional<double> fixed_rate;
  std::optional<std::map<std::string, std::string>> attributes;
};

// What an SDK knows about a request when it picks a rule.
struct SamplingRequest {
  std::string service_name, service_type, host, http_method, url_path, resource_arn;
  std::map<std::string, std::string> attributes;
};

// `*` matches any run (also empty), `?` exactly one character; ASCII case-insensitive.
bool GlobMatch(std::string_view pattern, std::string_view text);

// InvalidArgument naming the first offending field.
Status ValidateSamplingRule(const SamplingRule& rule);

bool RuleMatches(const SamplingRule& rule, const SamplingRequest& request);

std::string SamplingRuleArn(std::string_view region, std::string_view account,
                            std::string_view rule_name);

// The rules, keyed by name. Errors: InvalidArgument (bad fields), AlreadyExists (create of an
// existing name), NotFound (update/delete of an unknown rule), FailedPrecondition (deleting or
// reshaping Default), ResourceExhausted (more than kMaxSamplingRules rules).
class SamplingRuleSet {
 public:
  SamplingRuleSet();

  StatusOr<SamplingRuleRecord> Create(SamplingRule rule, double now, std::string_view region);
  StatusOr<SamplingRuleRecord> Update(const SamplingRuleUpdate& update, double now);
  StatusOr<SamplingRuleRecord> Delete(std::string_view name, std::string_view arn, double now);

  // Rules in matching order: Priority, then RuleName (Default last, at 10000).
  std::vector<SamplingRuleRecord> List() const;
  const SamplingRuleRecord* Find(std::string_view name) const;
  // The rule deciding `request` (Default when no other matches).
  const SamplingRuleRecord& Match(const SamplingRequest& request) const;
  // The time of the last create/update/delete (epoch seconds; 0 before any).
  double last_modification() const { return last_modification_; }

  // Replaces every rule (state loading); Default is added if absent. Invalid rules are skipped
  // and reported in the returned status, the rest are kept.
  Status Restore(std::vector<SamplingRuleRecord> records, double last_modification);

 private:
  StatusOr<std::string> ResolveName(std::string_view name, std::string_view arn) const;

  std::map<std::string, SamplingRuleRecord> rules_;
  double last_modification_ = 0;
};

}  // namespace waggle::xray
