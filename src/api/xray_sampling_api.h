// XraySamplingApi: AWS X-Ray's sampling-rule, sampling-target and group operations, with the
// paths and rest-json bodies the aws CLI, boto3 and the X-Ray SDKs send (all POST):
//
//   /CreateSamplingRule  /GetSamplingRules  /UpdateSamplingRule  /DeleteSamplingRule
//   /SamplingTargets (GetSamplingTargets)   /SamplingStatisticSummaries
//   /CreateGroup  /GetGroup  /Groups (GetGroups)  /UpdateGroup  /DeleteGroup
//
// Timestamps are epoch seconds. Lists fit one page (at most 25 rules and 25 groups), so no
// NextToken is ever returned. Errors use AWS's rest-json error shape: the HTTP status, header
// `x-amzn-ErrorType: <Code>` and body {"__type": Code, "message": ..., "Message": ...}:
// InvalidRequestException 400 (bad or missing fields, unknown rule or group, an existing
// name, Default rule changes), RuleLimitExceededException 400 (more than 25 rules or groups).
//
// This class does not authenticate: on the API port ApiHandlers verifies SigV4 first when AWS
// credentials are configured (api/xray_auth.h); the X-Ray daemon's TCP port serves it
// unsigned, like the real daemon. The credential scope's region
// (Credential=AKID/date/REGION/xray/aws4_request) is used in the ARNs of new rules and groups,
// us-east-1 otherwise. The account id is always
// 000000000000.
//
// Rules (with CreatedAt/ModifiedAt) and groups persist in `state_path` as JSON, rewritten
// atomically on every change and read back at construction; an unreadable file is set aside
// (renamed *.unreadable) and logged. Statistics and quotas are kept in memory only.
//
// Thread-safety: Handle() may be called from many threads at once.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "absl/synchronization/mutex.h"
#include "env/env.h"
#include "net/http_server.h"
#include "xray/groups.h"
#include "xray/sampling_rules.h"
#include "xray/sampling_targets.h"

namespace waggle {

class XraySamplingApi {
 public:
  static constexpr size_t kMaxBodyBytes = 1 << 20;

  // `state_path` empty: nothing persists. `env` null: DefaultEnv().
  explicit XraySamplingApi(std::string state_path, Env* env = nullptr,
                           xray::EpochClock clock = xray::SystemEpochClock());

  // Handles the paths above; nullopt for any other path.
  std::optional<HttpResponse> Handle(const HttpRequest& request);

  // True for the paths Handle() serves.
  static bool Owns(std::string_view path);

  // For group.name / group.arn in filter expressions evaluated elsewhere.
  xray::GroupResolver GroupResolver() const;

 private:
  HttpResponse CreateSamplingRule(const HttpRequest& request);
  HttpResponse GetSamplingRules();
  HttpResponse UpdateSamplingRule(const HttpRequest& request);
  HttpResponse DeleteSamplingRule(const HttpRequest& request);
  HttpResponse GetSamplingTargets(const HttpRequest& request);
  HttpResponse GetSamplingStatisticSummaries();
  HttpResponse CreateGroup(const HttpRequest& request);
  HttpResponse GetGroup(const HttpRequest& request);
  HttpResponse GetGroups();
  HttpResponse UpdateGroup(const HttpRequest& request);
  HttpResponse DeleteGroup(const HttpRequest& request);

  void LoadState() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SaveState() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string state_path_;
  Env* const env_;
  const xray::EpochClock clock_;
  mutable absl::Mutex mu_;
  xray::SamplingRuleSet rules_ ABSL_GUARDED_BY(mu_);
  xray::GroupSet groups_ ABSL_GUARDED_BY(mu_);
  xray::SamplingTargets targets_;
};

}  // namespace waggle
