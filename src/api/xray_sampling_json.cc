#include "api/xray_sampling_json.h"

#include "simdjson.h"

namespace waggle::xray_json {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;

constexpr int64_t kStateVersion = 1;
constexpr size_t kMaxStatisticsDocuments = 25;

Status Bad(std::string_view prefix, std::string_view key, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(
      absl::string_view(prefix.data(), prefix.size()), absl::string_view(key.data(), key.size()),
      " ", absl::string_view(what.data(), what.size())));
}

// Present, non-null member `key` of `obj`, or nullopt.
std::optional<element> Member(object obj, std::string_view key) {
  element e;
  if (obj[key].get(e) != simdjson::SUCCESS || e.is_null()) return std::nullopt;
  return e;
}

StatusOr<std::optional<std::string>> OptString(object obj, std::string_view key,
                                               std::string_view prefix) {
  std::optional<element> e = Member(obj, key);
  if (!e) return std::optional<std::string>();
  std::string_view s;
  if (e->get_string().get(s) != simdjson::SUCCESS) return Bad(prefix, key, "must be a string");
  return std::optional<std::string>(std::string(s));
}

StatusOr<std::optional<int64_t>> OptInt(object obj, std::string_view key,
                                        std::string_view prefix) {
  std::optional<element> e = Member(obj, key);
  if (!e) return std::optional<int64_t>();
  int64_t v = 0;
  if (e->get_int64().get(v) != simdjson::SUCCESS) return Bad(prefix, key, "must be an integer");
  return std::optional<int64_t>(v);
}

StatusOr<std::optional<double>> OptDouble(object obj, std::string_view key,
                                          std::string_view prefix) {
  std::optional<element> e = Member(obj, key);
  if (!e) return std::optional<double>();
  double v = 0;
  if (e->get_double().get(v) != simdjson::SUCCESS) return Bad(prefix, key, "must be a number");
  return std::optional<double>(v);
}

StatusOr<std::optional<bool>> OptBool(object obj, std::string_view key, std::string_view prefix) {
  std::optional<element> e = Member(obj, key);
  if (!e) return std::optional<bool>();
  bool v = false;
  if (e->get_bool().get(v) != simdjson::SUCCESS) return Bad(prefix, key, "must be true or false");
  return std::optional<bool>(v);
}

StatusOr<std::optional<std::map<std::string, std::string>>> OptStringMap(
    object obj, std::string_view key, std::string_view prefix) {
  std::optional<element> e = Member(obj, key);
  if (!e) return std::optional<std::map<std::string, std::string>>();
  object m;
  if (e->get_object().get(m) != simdjson::SUCCESS) return Bad(prefix, key, "must be an object");
  std::map<std::string, std::string> out;
  for (auto field : m) {
    std::string_view v;
    if (field.value.get_string().get(v) != simdjson::SUCCESS) {
      return Bad(prefix, key, "values must be strings");
    }
    out[std::string(field.key)] = std::string(v);
  }
  return std::optional<std::map<std::string, std::string>>(std::move(out));
}

template <typename T>
StatusOr<T> Required(StatusOr<std::optional<T>> v, std::string_view prefix, std::string_view key) {
  RETURN_IF_ERROR(v.status());
  if (!v->has_value()) return Bad(prefix, key, "is required");
  return **v;
}

StatusOr<object> ParseObject(simdjson::dom::parser& parser, std::string_view body) {
  element doc;
  if (body.empty()) body = "{}";
  if (parser.parse(body.data(), body.size()).get(doc) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("request body is not valid JSON");
  }
  object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("request body must be a JSON object");
  }
  return obj;
}

StatusOr<std::optional<xray::InsightsConfiguration>> OptInsights(object obj) {
  std::optional<element> e = Member(obj, "InsightsConfiguration");
  if (!e) return std::optional<xray::InsightsConfiguration>();
  object o;
  if (e->get_object().get(o) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("InsightsConfiguration must be an object");
  }
  xray::InsightsConfiguration c;
  ASSIGN_OR_RETURN(c.insights_enabled, OptBool(o, "InsightsEnabled", "InsightsConfiguration."));
  ASSIGN_OR_RETURN(c.notifications_enabled,
                   OptBool(o, "NotificationsEnabled", "InsightsConfiguration."));
  return std::optional<xray::InsightsConfiguration>(c);
}

StatusOr<xray::SamplingRule> RuleFromObject(object r, std::string_view p, bool need_name) {
  xray::SamplingRule rule;
  ASSIGN_OR_RETURN(std::optional<std::string> name, OptString(r, "RuleName", p));
  ASSIGN_OR_RETURN(std::optional<std::string> arn, OptString(r, "RuleARN", p));
  if (need_name && !name) return Bad(p, "RuleName", "is required");
  rule.rule_name = name.value_or("");
  rule.rule_arn = arn.value_or("");
  ASSIGN_OR_RETURN(rule.resource_arn, Required(OptString(r, "ResourceARN", p), p, "ResourceARN"));
  ASSIGN_OR_RETURN(rule.priority, Required(OptInt(r, "Priority", p), p, "Priority"));
  ASSIGN_OR_RETURN(rule.fixed_rate, Required(OptDouble(r, "FixedRate", p), p, "FixedRate"));
  ASSIGN_OR_RETURN(rule.reservoir_size,
                   Required(OptInt(r, "ReservoirSize", p), p, "ReservoirSize"));
  ASSIGN_OR_RETURN(rule.service_name, Required(OptString(r, "ServiceName", p), p, "ServiceName"));
  ASSIGN_OR_RETURN(rule.service_type, Required(OptString(r, "ServiceType", p), p, "ServiceType"));
  ASSIGN_OR_RETURN(rule.host, Required(OptString(r, "Host", p), p, "Host"));
  ASSIGN_OR_RETURN(rule.http_method, Required(OptString(r, "HTTPMethod", p), p, "HTTPMethod"));
  ASSIGN_OR_RETURN(rule.url_path, Required(OptString(r, "URLPath", p), p, "URLPath"));
  ASSIGN_OR_RETURN(rule.version, Required(OptInt(r, "Version", p), p, "Version"));
  ASSIGN_OR_RETURN(auto attributes, OptStringMap(r, "Attributes", p));
  if (attributes) rule.attributes = std::move(*attributes);
  return rule;
}

void WriteRule(JsonWriter& w, const xray::SamplingRule& r) {
  w.BeginObject();
  w.Key("RuleName").String(r.rule_name).Key("RuleARN").String(r.rule_arn);
  w.Key("ResourceARN").String(r.resource_arn).Key("Priority").Int(r.priority);
  w.Key("FixedRate").Double(r.fixed_rate).Key("ReservoirSize").Int(r.reservoir_size);
  w.Key("ServiceName").String(r.service_name).Key("ServiceType").String(r.service_type);
  w.Key("Host").String(r.host).Key("HTTPMethod").String(r.http_method);
  w.Key("URLPath").String(r.url_path).Key("Version").Int(r.version);
  w.Key("Attributes").BeginObject();
  for (const auto& [k, v] : r.attributes) w.Key(k).String(v);
  w.EndObject();
  w.EndObject();
}

}  // namespace

void WriteRuleRecord(JsonWriter& w, const xray::SamplingRuleRecord& record) {
  w.BeginObject();
  w.Key("SamplingRule");
  WriteRule(w, record.rule);
  w.Key("CreatedAt").Double(record.created_at).Key("ModifiedAt").Double(record.modified_at);
  w.EndObject();
}

void WriteGroup(JsonWriter& w, const xray::Group& g) {
  w.BeginObject();
  w.Key("GroupName").String(g.name).Key("GroupARN").String(g.arn);
  if (!g.filter_expression.empty()) w.Key("FilterExpression").String(g.filter_expression);
  if (g.insights) {
    w.Key("InsightsConfiguration").BeginObject();
    if (g.insights->insights_enabled) w.Key("InsightsEnabled").Bool(*g.insights->insights_enabled);
    if (g.insights->notifications_enabled) {
      w.Key("NotificationsEnabled").Bool(*g.insights->notifications_enabled);
    }
    w.EndObject();
  }
  w.EndObject();
}

StatusOr<xray::SamplingRule> ParseCreateSamplingRule(std::string_view body) {
  simdjson::dom::parser parser;
  ASSIGN_OR_RETURN(object obj, ParseObject(parser, body));
  std::optional<element> rule = Member(obj, "SamplingRule");
  object r;
  if (!rule) return absl::InvalidArgumentError("SamplingRule is required");
  if (rule->get_object().get(r) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("SamplingRule must be an object");
  }
  return RuleFromObject(r, "SamplingRule.", /*need_name=*/true);
}

StatusOr<xray::SamplingRuleUpdate> ParseUpdateSamplingRule(std::string_view body) {
  simdjson::dom::parser parser;
  ASSIGN_OR_RETURN(object obj, ParseObject(parser, body));
  std::optional<element> e = Member(obj, "SamplingRuleUpdate");
  object r;
  if (!e) return absl::InvalidArgumentError("SamplingRuleUpdate is required");
  if (e->get_object().get(r) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("SamplingRuleUpdate must be an object");
  }
  constexpr std::string_view p = "SamplingRuleUpdate.";
  xray::SamplingRuleUpdate u;
  ASSIGN_OR_RETURN(auto name, OptString(r, "RuleName", p));
  ASSIGN_OR_RETURN(auto arn, OptString(r, "RuleARN", p));
  u.rule_name = name.value_or("");
  u.rule_arn = arn.value_or("");
  if (u.rule_name.empty() && u.rule_arn.empty()) {
    return absl::InvalidArgumentError("SamplingRuleUpdate needs RuleName or RuleARN");
  }
  ASSIGN_OR_RETURN(u.resource_arn, OptString(r, "ResourceARN", p));
  ASSIGN_OR_RETURN(u.priority, OptInt(r, "Priority", p));
  ASSIGN_OR_RETURN(u.fixed_rate, OptDouble(r, "FixedRate", p));
  ASSIGN_OR_RETURN(u.reservoir_size, OptInt(r, "ReservoirSize", p));
  ASSIGN_OR_RETURN(u.service_name, OptString(r, "ServiceName", p));
  ASSIGN_OR_RETURN(u.service_type, OptString(r, "ServiceType", p));
  ASSIGN_OR_RETURN(u.host, OptString(r, "Host", p));
  ASSIGN_OR_RETURN(u.http_method, OptString(r, "HTTPMethod", p));
  ASSIGN_OR_RETURN(u.url_path, OptString(r, "URLPath", p));
  ASSIGN_OR_RETURN(u.attributes, OptStringMap(r, "Attributes", p));
  return u;
}

StatusOr<NamedRequest> ParseNamedRequest(std::string_view body, const char* name_key,
                                         const char* arn_key) {
  simdjson::dom::parser parser;
  ASSIGN_OR_RETURN(object obj, ParseObject(parser, body));
  NamedRequest req;
  ASSIGN_OR_RETURN(auto name, OptString(obj, name_key, ""));
  ASSIGN_OR_RETURN(auto arn, OptString(obj, arn_key, ""));
  req.name = name.value_or("");
  req.arn = arn.value_or("");
  ASSIGN_OR_RETURN(req.filter_expression, OptString(obj, "FilterExpression", ""));
  ASSIGN_OR_RETURN(req.insights, OptInsights(obj));
  return req;
}

StatusOr<std::vector<xray::SamplingStatisticsDocument>> ParseSamplingTargets(
    std::string_view body) {
  simdjson::dom::parser parser;
  ASSIGN_OR_RETURN(object obj, ParseObject(parser, body));
  std::optional<element> docs = Member(obj, "SamplingStatisticsDocuments");
  if (!docs) return absl::InvalidArgumentError("SamplingStatisticsDocuments is required");
  simdjson::dom::array array;
  if (docs->get_array().get(array) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("SamplingStatisticsDocuments must be an array");
  }
  if (array.size() > kMaxStatisticsDocuments) {
    return absl::InvalidArgumentError(absl::StrCat("SamplingStatisticsDocuments holds ",
                                                   array.size(), " documents; at most ",
                                                   kMaxStatisticsDocuments, " are allowed"));
  }
  std::vector<xray::SamplingStatisticsDocument> out;
  for (element e : array) {
    object d;
    if (e.get_object().get(d) != simdjson::SUCCESS) {
      return absl::InvalidArgumentError("SamplingStatisticsDocuments entries must be objects");
    }
    constexpr std::string_view p = "SamplingStatisticsDocuments[].";
    xray::SamplingStatisticsDocument doc;
    ASSIGN_OR_RETURN(doc.rule_name, Required(OptString(d, "RuleName", p), p, "RuleName"));
    ASSIGN_OR_RETURN(doc.client_id, Required(OptString(d, "ClientID", p), p, "ClientID"));
    ASSIGN_OR_RETURN(doc.timestamp, Required(OptDouble(d, "Timestamp", p), p, "Timestamp"));
    ASSIGN_OR_RETURN(doc.request_count,
                     Required(OptInt(d, "RequestCount", p), p, "RequestCount"));
    ASSIGN_OR_RETURN(doc.sampled_count,
                     Required(OptInt(d, "SampledCount", p), p, "SampledCount"));
    ASSIGN_OR_RETURN(auto borrow, OptInt(d, "BorrowCount", p));
    doc.borrow_count = borrow.value_or(0);
    if (doc.rule_name.empty() || doc.rule_name.size() > 64) {
      return Bad(p, "RuleName", "must be 1 to 64 characters long");
    }
    if (doc.client_id.size() != 24) return Bad(p, "ClientID", "must be 24 characters long");
    for (int64_t count : {doc.request_count, doc.sampled_count, doc.borrow_count}) {
      if (count < 0 || count > INT32_MAX) {
        return absl::InvalidArgumentError(
            "SamplingStatisticsDocuments[] counts must be from 0 to 2147483647");
      }
    }
    out.push_back(std::move(doc));
  }
  return out;
}

std::string EncodeState(const std::vector<xray::SamplingRuleRecord>& rules,
                        double last_rule_modification, const std::vector<xray::Group>& groups) {
  JsonWriter w;
  w.BeginObject();
  w.Key("version").Int(kStateVersion);
  w.Key("last_rule_modification").Double(last_rule_modification);
  w.Key("rules").BeginArray();
  for (const xray::SamplingRuleRecord& r : rules) WriteRuleRecord(w, r);
  w.EndArray();
  w.Key("groups").BeginArray();
  for (const xray::Group& g : groups) WriteGroup(w, g);
  w.EndArray();
  w.EndObject();
  return w.Take();
}

StatusOr<DecodedState> DecodeState(std::string_view json) {
  simdjson::dom::parser parser;
  ASSIGN_OR_RETURN(object obj, ParseObject(parser, json));
  ASSIGN_OR_RETURN(auto version, OptInt(obj, "version", ""));
  if (version.value_or(0) != kStateVersion) {
    return absl::DataLossError("unsupported X-Ray state version");
  }
  DecodedState state;
  ASSIGN_OR_RETURN(auto last, OptDouble(obj, "last_rule_modification", ""));
  state.last_rule_modification = last.value_or(0);
  simdjson::dom::array rules, groups;
  if (obj["rules"].get(rules) != simdjson::SUCCESS ||
      obj["groups"].get(groups) != simdjson::SUCCESS) {
    return absl::DataLossError("missing rules or groups");
  }
  for (element e : rules) {
    object record, rule;
    if (e.get_object().get(record) != simdjson::SUCCESS ||
        record["SamplingRule"].get_object().get(rule) != simdjson::SUCCESS) {
      return absl::DataLossError("a rule record is not an object");
    }
    xray::SamplingRuleRecord r;
    ASSIGN_OR_RETURN(r.rule, RuleFromObject(rule, "rule.", /*need_name=*/true));
    ASSIGN_OR_RETURN(auto created, OptDouble(record, "CreatedAt", ""));
    ASSIGN_OR_RETURN(auto modified, OptDouble(record, "ModifiedAt", ""));
    r.created_at = created.value_or(0);
    r.modified_at = modified.value_or(0);
    state.rules.push_back(std::move(r));
  }
  for (element e : groups) {
    object g;
    if (e.get_object().get(g) != simdjson::SUCCESS) {
      return absl::DataLossError("a group is not an object");
    }
    xray::Group group;
    ASSIGN_OR_RETURN(auto name, OptString(g, "GroupName", ""));
    ASSIGN_OR_RETURN(auto arn, OptString(g, "GroupARN", ""));
    ASSIGN_OR_RETURN(auto filter, OptString(g, "FilterExpression", ""));
    ASSIGN_OR_RETURN(group.insights, OptInsights(g));
    group.name = name.value_or("");
    group.arn = arn.value_or("");
    group.filter_expression = filter.value_or("");
    state.groups.push_back(std::move(group));
  }
  return state;
}

}  // namespace waggle::xray_json
