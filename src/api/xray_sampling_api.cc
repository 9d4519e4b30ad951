#include "api/xray_sampling_api.h"

#include <spdlog/spdlog.h>

#include "api/json_writer.h"
#include "api/xray_sampling_json.h"

namespace waggle {
namespace {

constexpr std::string_view kOperations[] = {
    "/CreateSamplingRule", "/GetSamplingRules", "/UpdateSamplingRule", "/DeleteSamplingRule",
    "/SamplingTargets",    "/SamplingStatisticSummaries", "/CreateGroup", "/GetGroup",
    "/Groups",             "/UpdateGroup",        "/DeleteGroup"};

// The AWS error for a failed Status: RuleLimitExceeded for limits, InvalidRequest otherwise.
HttpResponse ErrorFor(const Status& s) {
  const std::string message(s.message());
  if (s.code() == absl::StatusCode::kResourceExhausted) {
    return AwsJsonError(400, "RuleLimitExceededException", message);
  }
  if (s.code() == absl::StatusCode::kUnavailable || s.code() == absl::StatusCode::kInternal) {
    return AwsJsonError(500, "InternalFailure", message);
  }
  return AwsJsonError(400, "InvalidRequestException", message);
}

bool IsRegionChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }

// The region of a SigV4 credential scope: Credential=AKID/20240101/REGION/xray/aws4_request.
std::string RegionOf(const HttpRequest& request) {
  std::string_view auth = request.Header("authorization");
  size_t at = auth.find("Credential=");
  if (at == std::string_view::npos) return std::string(xray::kDefaultRegion);
  std::string_view scope = auth.substr(at + 11);
  scope = scope.substr(0, scope.find_first_of(", "));
  for (int i = 0; i < 2; ++i) {
    size_t slash = scope.find('/');
    if (slash == std::string_view::npos) return std::string(xray::kDefaultRegion);
    scope.remove_prefix(slash + 1);
  }
  std::string_view region = scope.substr(0, scope.find('/'));
  bool valid = !region.empty() && region.size() <= 32;
  for (char c : region) valid &= IsRegionChar(c);
  return valid ? std::string(region) : std::string(xray::kDefaultRegion);
}

HttpResponse RecordResponse(const xray::SamplingRuleRecord& record) {
  JsonWriter w;
  w.BeginObject().Key("SamplingRuleRecord");
  xray_json::WriteRuleRecord(w, record);
  w.EndObject();
  return HttpResponse::Json(200, w.Take());
}

HttpResponse GroupResponse(const xray::Group& group) {
  JsonWriter w;
  w.BeginObject().Key("Group");
  xray_json::WriteGroup(w, group);
  w.EndObject();
  return HttpResponse::Json(200, w.Take());
}

}  // namespace

XraySamplingApi::XraySamplingApi(std::string state_path, Env* env, xray::EpochClock clock)
    : state_path_(std::move(state_path)),
      env_(env ? env : DefaultEnv()),
      clock_(std::move(clock)),
      targets_(clock_) {
  absl::MutexLock lock(&mu_);
  LoadState();
}

bool XraySamplingApi::Owns(std::string_view path) {
  for (std::string_view op : kOperations) {
    if (path == op) return true;
  }
  return false;
}

std::optional<HttpResponse> XraySamplingApi::Handle(const HttpRequest& request) {
  const std::string& path = request.path;
  if (!Owns(path)) return std::nullopt;
  if (request.method != "POST") return AwsMethodNotAllowed(request);
  if (request.body.size() > kMaxBodyBytes) {
    return AwsJsonError(413, "InvalidRequestException", "request body over 1 MiB");
  }
  if (path == "/CreateSamplingRule") return CreateSamplingRule(request);
  if (path == "/GetSamplingRules") return GetSamplingRules();
  if (path == "/UpdateSamplingRule") return UpdateSamplingRule(request);
  if (path == "/DeleteSamplingRule") return DeleteSamplingRule(request);
  if (path == "/SamplingTargets") return GetSamplingTargets(request);
  if (path == "/SamplingStatisticSummaries") return GetSamplingStatisticSummaries();
  if (path == "/CreateGroup") return CreateGroup(request);
  if (path == "/GetGroup") return GetGroup(request);
  if (path == "/Groups") return GetGroups();
  if (path == "/UpdateGroup") return UpdateGroup(request);
  return DeleteGroup(request);
}

HttpResponse XraySamplingApi::CreateSamplingRule(const HttpRequest& request) {
  StatusOr<xray::SamplingRule> rule = xray_json::ParseCreateSamplingRule(request.body);
  if (!rule.ok()) return ErrorFor(rule.status());
  absl::MutexLock lock(&mu_);
  StatusOr<xray::SamplingRuleRecord> record =
      rules_.Create(std::move(*rule), clock_(), RegionOf(request));
  if (!record.ok()) return ErrorFor(record.status());
  SaveState();
  return RecordResponse(*record);
}

HttpResponse XraySamplingApi::GetSamplingRules() {
  absl::MutexLock lock(&mu_);
  JsonWriter w;
  w.BeginObject().Key("SamplingRuleRecords").BeginArray();
  for (const xray::SamplingRuleRecord& r : rules_.List()) xray_json::WriteRuleRecord(w, r);
  w.EndArray().EndObject();
  return HttpResponse::Json(200, w.Take());
}

HttpResponse XraySamplingApi::UpdateSamplingRule(const HttpRequest& request) {
  StatusOr<xray::SamplingRuleUpdate> update = xray_json::ParseUpdateSamplingRule(request.body);
  if (!update.ok()) return ErrorFor(update.status());
  absl::MutexLock lock(&mu_);
  StatusOr<xray::SamplingRuleRecord> record = rules_.Update(*update, clock_());
  if (!record.ok()) return ErrorFor(record.status());
  SaveState();
  return RecordResponse(*record);
}

HttpResponse XraySamplingApi::DeleteSamplingRule(const HttpRequest& request) {
  StatusOr<xray_json::NamedRequest> req =
      xray_json::ParseNamedRequest(request.body, "RuleName", "RuleARN");
  if (!req.ok()) return ErrorFor(req.status());
  absl::MutexLock lock(&mu_);
  StatusOr<xray::SamplingRuleRecord> record = rules_.Delete(req->name, req->arn, clock_());
  if (!record.ok()) return ErrorFor(record.status());
  targets_.ForgetRule(record->rule.rule_name);
  SaveState();
  return RecordResponse(*record);
}

HttpResponse XraySamplingApi::GetSamplingTargets(const HttpRequest& request) {
  StatusOr<std::vector<xray::SamplingStatisticsDocument>> docs =
      xray_json::ParseSamplingTargets(request.body);
  if (!docs.ok()) return ErrorFor(docs.status());
  xray::SamplingTargetsResult result;
  double last_modification = 0;
  {
    absl::MutexLock lock(&mu_);
    last_modification = rules_.last_modification();
    result = targets_.Report(*docs, [this](std::string_view name)
                                        ABSL_NO_THREAD_SAFETY_ANALYSIS
                                        -> std::optional<xray::RuleReservoir> {
      const xray::SamplingRuleRecord* r = rules_.Find(name);
      if (r == nullptr) return std::nullopt;
      return xray::RuleReservoir{r->rule.fixed_rate, r->rule.reservoir_size};
    });
  }
  JsonWriter w;
  w.BeginObject().Key("SamplingTargetDocuments").BeginArray();
  for (const xray::SamplingTargetDocument& t : result.targets) {
    w.BeginObject();
    w.Key("RuleName").String(t.rule_name).Key("FixedRate").Double(t.fixed_rate);
    w.Key("ReservoirQuota").Int(t.reservoir_quota);
    w.Key("ReservoirQuotaTTL").Double(t.reservoir_quota_ttl);
    w.Key("Interval").Int(t.interval);
    w.EndObject();
  }
  w.EndArray();
  w.Key("LastRuleModification").Double(last_modification);
  w.Key("UnprocessedStatistics").BeginArray();
  for (const xray::UnprocessedStatistics& u : result.unprocessed) {
    w.BeginObject();
    w.Key("RuleName").String(u.rule_name).Key("ErrorCode").String(u.error_code);
    w.Key("Message").String(u.message);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return HttpResponse::Json(200, w.Take());
}

HttpResponse XraySamplingApi::GetSamplingStatisticSummaries() {
  JsonWriter w;
  w.BeginObject().Key("SamplingStatisticSummaries").BeginArray();
  for (const xray::SamplingStatisticSummary& s : targets_.Summaries()) {
    w.BeginObject();
    w.Key("RuleName").String(s.rule_name).Key("Timestamp").Double(s.timestamp);
    w.Key("RequestCount").Int(s.request_count).Key("BorrowCount").Int(s.borrow_count);
    w.Key("SampledCount").Int(s.sampled_count);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return HttpResponse::Json(200, w.Take());
}

HttpResponse XraySamplingApi::CreateGroup(const HttpRequest& request) {
  StatusOr<xray_json::NamedRequest> req =
      xray_json::ParseNamedRequest(request.body, "GroupName", "GroupARN");
  if (!req.ok()) return ErrorFor(req.status());
  if (req->name.empty()) return AwsJsonError(400, "InvalidRequestException", "GroupName is required");
  absl::MutexLock lock(&mu_);
  StatusOr<xray::Group> group = groups_.Create(req->name, req->filter_expression.value_or(""),
                                               req->insights, RegionOf(request));
  if (!group.ok()) return ErrorFor(group.status());
  SaveState();
  return GroupResponse(*group);
}

HttpResponse XraySamplingApi::GetGroup(const HttpRequest& request) {
  StatusOr<xray_json::NamedRequest> req =
      xray_json::ParseNamedRequest(request.body, "GroupName", "GroupARN");
  if (!req.ok()) return ErrorFor(req.status());
  absl::MutexLock lock(&mu_);
  StatusOr<xray::Group> group = groups_.Get(req->name, req->arn);
  if (!group.ok()) return ErrorFor(group.status());
  return GroupResponse(*group);
}

HttpResponse XraySamplingApi::GetGroups() {
  absl::MutexLock lock(&mu_);
  JsonWriter w;
  w.BeginObject().Key("Groups").BeginArray();
  for (const xray::Group& g : groups_.List()) xray_json::WriteGroup(w, g);
  w.EndArray().EndObject();
  return HttpResponse::Json(200, w.Take());
}

HttpResponse XraySamplingApi::UpdateGroup(const HttpRequest& request) {
  StatusOr<xray_json::NamedRequest> req =
      xray_json::ParseNamedRequest(request.body, "GroupName", "GroupARN");
  if (!req.ok()) return ErrorFor(req.status());
  absl::MutexLock lock(&mu_);
  StatusOr<xray::Group> group =
      groups_.Update(req->name, req->arn, req->filter_expression, req->insights);
  if (!group.ok()) return ErrorFor(group.status());
  SaveState();
  return GroupResponse(*group);
}

HttpResponse XraySamplingApi::DeleteGroup(const HttpRequest& request) {
  StatusOr<xray_json::NamedRequest> req =
      xray_json::ParseNamedRequest(request.body, "GroupName", "GroupARN");
  if (!req.ok()) return ErrorFor(req.status());
  absl::MutexLock lock(&mu_);
  if (Status s = groups_.Delete(req->name, req->arn); !s.ok()) return ErrorFor(s);
  SaveState();
  return HttpResponse::Json(200, "{}");
}

xray::GroupResolver XraySamplingApi::GroupResolver() const {
  absl::MutexLock lock(&mu_);
  return groups_.Resolver();
}

void XraySamplingApi::LoadState() {
  if (state_path_.empty() || !env_->FileExists(state_path_)) return;
  StatusOr<std::string> text = env_->ReadFile(state_path_);
  StatusOr<xray_json::DecodedState> state =
      text.ok() ? xray_json::DecodeState(*text) : StatusOr<xray_json::DecodedState>(text.status());
  if (!state.ok()) {
    spdlog::warn("xray: cannot read sampling rules and groups from {} ({}); setting it aside",
                 state_path_, std::string(state.status().message()));
    (void)env_->RenameFile(state_path_, state_path_ + ".unreadable");
    return;
  }
  Status rules = rules_.Restore(std::move(state->rules), state->last_rule_modification);
  Status groups = groups_.Restore(std::move(state->groups));
  for (const Status& s : {rules, groups}) {
    if (!s.ok()) {
      spdlog::warn("xray: skipped an invalid entry of {}: {}", state_path_,
                   std::string(s.message()));
    }
  }
}

void XraySamplingApi::SaveState() {
  if (state_path_.empty()) return;
  Status s = env_->WriteFileAtomic(
      state_path_,
      xray_json::EncodeState(rules_.List(), rules_.last_modification(), groups_.List()));
  if (!s.ok()) {
    spdlog::error("xray: saving sampling rules and groups to {} failed: {}", state_path_,
                  std::string(s.message()));
  }
}

}  // namespace waggle
