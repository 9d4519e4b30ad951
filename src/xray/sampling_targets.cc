#include "xray/sampling_targets.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

namespace waggle::xray {
namespace {

constexpr double kBucketSeconds = 10;

}  // namespace

EpochClock SystemEpochClock() {
  return [] {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
}

SamplingTargets::SamplingTargets(EpochClock clock) : clock_(std::move(clock)) {}

int64_t SamplingTargets::QuotaFor(RuleState& state, const std::string& client_id,
                                  int64_t reservoir_size, double now) {
  struct Share {
    const std::string* client;
    int64_t whole;
    double fraction;
  };
  std::vector<Share> shares;
  double total = 0;
  for (const auto& [id, c] : state.clients) {
    if (now - c.last_report <= kActiveClientSeconds) total += static_cast<double>(c.request_count);
  }
  int64_t handed_out = 0;
  for (const auto& [id, c] : state.clients) {
    if (now - c.last_report > kActiveClientSeconds) continue;
    double weight = total > 0 ? static_cast<double>(c.request_count) / total : 0;
    shares.push_back(Share{&id, 0, 0});
    double exact = static_cast<double>(reservoir_size) * weight;
    shares.back().whole = static_cast<int64_t>(std::floor(exact));
    shares.back().fraction = exact - std::floor(exact);
    handed_out += shares.back().whole;
  }
  if (total <= 0) {  // nobody reported requests: equal shares
    for (Share& s : shares) {
      s.whole = reservoir_size / static_cast<int64_t>(shares.size());
      s.fraction = 0;
    }
    handed_out = reservoir_size / static_cast<int64_t>(shares.size()) *
                 static_cast<int64_t>(shares.size());
  }
  // Largest remainder first; ties by client id (the map order), so the split is deterministic.
  std::stable_sort(shares.begin(), shares.end(),
                   [](const Share& a, const Share& b) { return a.fraction > b.fraction; });
  int64_t remainder = reservoir_size - handed_out;
  for (Share& s : shares) {
    if (remainder <= 0) break;
    ++s.whole;
    --remainder;
  }
  for (const Share& s : shares) {
    if (*s.client == client_id) return s.whole;
  }
  return 0;
}

void SamplingTargets::AddToBuckets(RuleState& state, const SamplingStatisticsDocument& doc,
                                   double now) {
  double start = std::floor(now / kBucketSeconds) * kBucketSeconds;
  if (state.buckets.empty() || state.buckets.back().start < start) {
    state.buckets.push_back(Bucket{start});
  }
  Bucket& b = state.buckets.back();
  b.request_count += doc.request_count;
  b.sampled_count += doc.sampled_count;
  b.borrow_count += doc.borrow_count;
  while (!state.buckets.empty() && state.buckets.front().start <= now - kSummaryWindowSeconds) {
    state.buckets.pop_front();
  }
}

SamplingTargetsResult SamplingTargets::Report(
    const std::vector<SamplingStatisticsDocument>& documents, const RuleLookup& lookup) {
  const double now = clock_();
  SamplingTargetsResult result;
  std::set<std::string> answered;
  absl::MutexLock lock(&mu_);
  for (const SamplingStatisticsDocument& doc : documents) {
    std::optional<RuleReservoir> rule = lookup(doc.rule_name);
    if (!rule) {
      result.unprocessed.push_back(UnprocessedStatistics{
          doc.rule_name, "ResourceNotFoundException",
          "sampling rule " + doc.rule_name + " does not exist"});
      continue;
    }
    RuleState& state = rules_[doc.rule_name];
    if (!state.clients.contains(doc.client_id) && state.clients.size() >= kMaxClientsPerRule) {
      std::erase_if(state.clients, [&](const auto& entry) {
        return now - entry.second.last_report > kActiveClientSeconds;
      });
    }
    const bool tracked =
        state.clients.contains(doc.client_id) || state.clients.size() < kMaxClientsPerRule;
    if (tracked) state.clients[doc.client_id] = ClientShare{now, doc.request_count};
    AddToBuckets(state, doc, now);
    if (!answered.insert(doc.rule_name).second) continue;
    SamplingTargetDocument target;
    target.rule_name = doc.rule_name;
    target.fixed_rate = rule->fixed_rate;
    target.reservoir_quota =
        tracked ? QuotaFor(state, doc.client_id, rule->reservoir_size, now) : 0;
    target.reservoir_quota_ttl = std::floor(now + kQuotaTtlSeconds);
    result.targets.push_back(std::move(target));
  }
  return result;
}

std::vector<SamplingStatisticSummary> SamplingTargets::Summaries() const {
  const double now = clock_();
  std::vector<SamplingStatisticSummary> out;
  absl::MutexLock lock(&mu_);
  for (const auto& [name, state] : rules_) {
    SamplingStatisticSummary s;
    s.rule_name = name;
    bool any = false;
    for (const Bucket& b : state.buckets) {
      if (b.start <= now - kSummaryWindowSeconds) continue;
      if (!any) s.timestamp = b.start;
      any = true;
      s.request_count += b.request_count;
      s.sampled_count += b.sampled_count;
      s.borrow_count += b.borrow_count;
    }
    if (any) out.push_back(std::move(s));
  }
  return out;
}

void SamplingTargets::ForgetRule(std::string_view rule_name) {
  absl::MutexLock lock(&mu_);
  auto it = rules_.find(rule_name);
  if (it != rules_.end()) rules_.erase(it);
}

}  // namespace waggle::xray
