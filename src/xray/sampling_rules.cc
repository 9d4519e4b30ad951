#include "xray/sampling_rules.h"

#include <algorithm>
#include <cctype>

namespace waggle::xray {
namespace {

SamplingRuleRecord DefaultRule() {
  SamplingRuleRecord r;
  r.rule.rule_name = std::string(kDefaultRuleName);
  // AWS's Default rule ARN has an empty account field.
  r.rule.rule_arn = SamplingRuleArn(kDefaultRegion, "", kDefaultRuleName);
  r.rule.priority = 10000;
  r.rule.fixed_rate = 0.05;
  r.rule.reservoir_size = 1;
  return r;
}

Status Invalid(std::string_view field, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(absl::string_view(field.data(), field.size()), " ",
                                                 absl::string_view(why.data(), why.size())));
}

Status CheckLength(std::string_view field, const std::string& value, size_t min, size_t max) {
  if (value.size() < min || value.size() > max) {
    return Invalid(field, absl::StrCat("must be ", min, " to ", max, " characters long (got ",
                                       value.size(), ")"));
  }
  return OkStatus();
}

char Lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool Before(const SamplingRuleRecord* a, const SamplingRuleRecord* b) {
  if (a->rule.priority != b->rule.priority) return a->rule.priority < b->rule.priority;
  return a->rule.rule_name < b->rule.rule_name;
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view text) {
  // Iterative matcher with single-star backtracking: O(|pattern| * |text|) worst case.
  size_t p = 0, t = 0, star = std::string_view::npos, star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || Lower(pattern[p]) == Lower(text[t]))) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_text = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_text;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

Status ValidateSamplingRule(const SamplingRule& r) {
  RETURN_IF_ERROR(CheckLength("RuleName", r.rule_name, 1, 32));
  RETURN_IF_ERROR(CheckLength("ResourceARN", r.resource_arn, 1, 500));
  if (r.priority < 1 || r.priority > 9999) {
    if (!(r.rule_name == kDefaultRuleName && r.priority == 10000)) {
      return Invalid("Priority", absl::StrCat("must be from 1 to 9999 (got ", r.priority, ")"));
    }
  }
  if (!(r.fixed_rate >= 0 && r.fixed_rate <= 1)) {
    return Invalid("FixedRate", absl::StrCat("must be from 0 to 1 (got ", r.fixed_rate, ")"));
  }
  if (r.reservoir_size < 0 || r.reservoir_size > INT32_MAX) {
    return Invalid("ReservoirSize", absl::StrCat("must be at least 0 (got ", r.reservoir_size, ")"));
  }
  RETURN_IF_ERROR(CheckLength("ServiceName", r.service_name, 0, 64));
  RETURN_IF_ERROR(CheckLength("ServiceType", r.service_type, 0, 64));
  RETURN_IF_ERROR(CheckLength("Host", r.host, 0, 64));
  RETURN_IF_ERROR(CheckLength("HTTPMethod", r.http_method, 0, 10));
  RETURN_IF_ERROR(CheckLength("URLPath", r.url_path, 0, 128));
  if (r.version != 1) return Invalid("Version", absl::StrCat("must be 1 (got ", r.version, ")"));
  if (r.attributes.size() > 5) return Invalid("Attributes", "may hold at most 5 entries");
  for (const auto& [key, value] : r.attributes) {
    RETURN_IF_ERROR(CheckLength("Attributes key", key, 1, 32));
    RETURN_IF_ERROR(CheckLength("Attributes value", value, 1, 32));
  }
  return OkStatus();
}

bool RuleMatches(const SamplingRule& rule, const SamplingRequest& req) {
  auto field = [](const std::string& pattern, const std::string& value) {
    return value.empty() || GlobMatch(pattern, value);
  };
  if (!field(rule.service_name, req.service_name) || !field(rule.service_type, req.service_type) ||
      !field(rule.host, req.host) || !field(rule.http_method, req.http_method) ||
      !field(rule.url_path, req.url_path) || !field(rule.resource_arn, req.resource_arn)) {
    return false;
  }
  for (const auto& [key, pattern] : rule.attributes) {
    auto it = req.attributes.find(key);
    if (it == req.attributes.end() || !GlobMatch(pattern, it->second)) return false;
  }
  return true;
}

std::string SamplingRuleArn(std::string_view region, std::string_view account,
                            std::string_view rule_name) {
  return absl::StrCat("arn:aws:xray:", absl::string_view(region.data(), region.size()), ":",
                      absl::string_view(account.data(), account.size()), ":sampling-rule/",
                      absl::string_view(rule_name.data(), rule_name.size()));
}

SamplingRuleSet::SamplingRuleSet() {
  rules_.emplace(std::string(kDefaultRuleName), DefaultRule());
}

StatusOr<SamplingRuleRecord> SamplingRuleSet::Create(SamplingRule rule, double now,
                                                     std::string_view region) {
  RETURN_IF_ERROR(ValidateSamplingRule(rule));
  if (rules_.contains(rule.rule_name)) {
    return absl::AlreadyExistsError("a sampling rule named " + rule.rule_name + " already exists");
  }
  if (rules_.size() >= kMaxSamplingRules) {
    return absl::ResourceExhaustedError(
        absl::StrCat("at most ", kMaxSamplingRules, " sampling rules may exist"));
  }
  rule.rule_arn = SamplingRuleArn(region, kDefaultAccountId, rule.rule_name);
  SamplingRuleRecord record{std::move(rule), now, now};
  rules_.emplace(record.rule.rule_name, record);
  last_modification_ = now;
  return record;
}

StatusOr<std::string> SamplingRuleSet::ResolveName(std::string_view name,
                                                   std::string_view arn) const {
  if (!name.empty()) {
    if (!rules_.contains(std::string(name))) {
      return absl::NotFoundError("sampling rule " + std::string(name) + " does not exist");
    }
    return std::string(name);
  }
  if (arn.empty()) return absl::InvalidArgumentError("RuleName or RuleARN is required");
  for (const auto& [rule_name, record] : rules_) {
    if (record.rule.rule_arn == arn) return rule_name;
  }
  return absl::NotFoundError("sampling rule " + std::string(arn) + " does not exist");
}

StatusOr<SamplingRuleRecord> SamplingRuleSet::Update(const SamplingRuleUpdate& u, double now) {
  ASSIGN_OR_RETURN(std::string name, ResolveName(u.rule_name, u.rule_arn));
  SamplingRuleRecord& record = rules_.at(name);
  if (name == kDefaultRuleName &&
      (u.resource_arn || u.service_name || u.service_type || u.host || u.http_method ||
       u.url_path || u.priority || u.attributes)) {
    return absl::FailedPreconditionError(
        "only FixedRate and ReservoirSize of the Default rule can be changed");
  }
  SamplingRule r = record.rule;
  if (u.resource_arn) r.resource_arn = *u.resource_arn;
  if (u.service_name) r.service_name = *u.service_name;
  if (u.service_type) r.service_type = *u.service_type;
  if (u.host) r.host = *u.host;
  if (u.http_method) r.http_method = *u.http_method;
  if (u.url_path) r.url_path = *u.url_path;
  if (u.priority) r.priority = *u.priority;
  if (u.reservoir_size) r.reservoir_size = *u.reservoir_size;
  if (u.fixed_rate) r.fixed_rate = *u.fixed_rate;
  if (u.attributes) r.attributes = *u.attributes;
  RETURN_IF_ERROR(ValidateSamplingRule(r));
  record.rule = std::move(r);
  record.modified_at = now;
  last_modification_ = now;
  return record;
}

StatusOr<SamplingRuleRecord> SamplingRuleSet::Delete(std::string_view name, std::string_view arn,
                                                     double now) {
  ASSIGN_OR_RETURN(std::string resolved, ResolveName(name, arn));
  if (resolved == kDefaultRuleName) {
    return absl::FailedPreconditionError("the Default sampling rule cannot be deleted");
  }
  auto it = rules_.find(resolved);
  SamplingRuleRecord record = std::move(it->second);
  rules_.erase(it);
  last_modification_ = now;
  return record;
}

std::vector<SamplingRuleRecord> SamplingRuleSet::List() const {
  std::vector<const SamplingRuleRecord*> order;
  for (const auto& [name, record] : rules_) order.push_back(&record);
  std::sort(order.begin(), order.end(), Before);
  std::vector<SamplingRuleRecord> out;
  for (const SamplingRuleRecord* r : order) out.push_back(*r);
  return out;
}

const SamplingRuleRecord* SamplingRuleSet::Find(std::string_view name) const {
  auto it = rules_.find(std::string(name));
  return it == rules_.end() ? nullptr : &it->second;
}

const SamplingRuleRecord& SamplingRuleSet::Match(const SamplingRequest& request) const {
  const SamplingRuleRecord* best = nullptr;
  for (const auto& [name, record] : rules_) {
    if (name == kDefaultRuleName || !RuleMatches(record.rule, request)) continue;
    if (best == nullptr || Before(&record, best)) best = &record;
  }
  return best ? *best : rules_.at(std::string(kDefaultRuleName));
}

Status SamplingRuleSet::Restore(std::vector<SamplingRuleRecord> records,
                                double last_modification) {
  rules_.clear();
  Status first_error = OkStatus();
  for (SamplingRuleRecord& r : records) {
    Status s = ValidateSamplingRule(r.rule);
    if (s.ok() && rules_.size() >= kMaxSamplingRules) s = absl::ResourceExhaustedError("too many");
    if (!s.ok()) {
      if (first_error.ok()) first_error = Annotate(s, "rule " + r.rule.rule_name);
      continue;
    }
    rules_[r.rule.rule_name] = std::move(r);
  }
  if (!rules_.contains(std::string(kDefaultRuleName))) {
    rules_.emplace(std::string(kDefaultRuleName), DefaultRule());
  }
  last_modification_ = last_modification;
  return first_error;
}

}  // namespace waggle::xray
