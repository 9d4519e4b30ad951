// GetSamplingTargets arithmetic: how a rule's reservoir of ReservoirSize traces per second is
// shared across all SDK clients, and the statistics those clients report.
//
// Each call carries a client's SamplingStatisticsDocuments (RequestCount, SampledCount,
// BorrowCount for one rule over its last reporting interval). For every rule reported the
// client gets a SamplingTargetDocument:
//   FixedRate          the rule's current FixedRate
//   ReservoirQuota     this client's share of ReservoirSize, per second:
//                        quota_i = ReservoirSize × RequestCount_i / Σ RequestCount
//                      over the clients that reported the rule in the last kActiveClientSeconds
//                      (largest-remainder rounding, ties by ClientID, so the shares add up to
//                      ReservoirSize exactly; equal shares if every client reported 0 requests)
//   ReservoirQuotaTTL  now + kQuotaTtlSeconds (epoch seconds)
//   Interval           kReportIntervalSeconds: when the client should report again
// A client whose share rounds to 0 samples only by FixedRate until its share grows (the SDK
// does not borrow while it holds an unexpired quota). Because clients pick up new shares at
// their next report, the sum of quotas in use can exceed ReservoirSize for up to one interval
// after a new client arrives.
//
// Statistics are also summed per rule in 10-second buckets (by arrival time) for
// GetSamplingStatisticSummaries, which reports the last kSummaryWindowSeconds.
//
// Thread-safety: all methods may be called concurrently (one internal mutex).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace waggle::xray {

constexpr int64_t kReportIntervalSeconds = 10;
constexpr double kActiveClientSeconds = 25;  // 2.5 report intervals
constexpr double kQuotaTtlSeconds = 300;
constexpr double kSummaryWindowSeconds = 60;
constexpr size_t kMaxClientsPerRule = 10000;

// Returns the current time in epoch seconds; injectable for tests.
using EpochClock = std::function<double()>;
EpochClock SystemEpochClock();

struct SamplingStatisticsDocument {
  std::string rule_name;
  std::string client_id;
  double timestamp = 0;  // epoch seconds, as the client sent it
  int64_t request_count = 0;
  int64_t sampled_count = 0;
  int64_t borrow_count = 0;
};

struct SamplingTargetDocument {
  std::string rule_name;
  double fixed_rate = 0;
  int64_t reservoir_quota = 0;
  double reservoir_quota_ttl = 0;
  int64_t interval = kReportIntervalSeconds;
};

struct UnprocessedStatistics {
  std::string rule_name;
  std::string error_code;
  std::string message;
};

struct SamplingStatisticSummary {
  std::string rule_name;
  double timestamp = 0;  // start of the summarised window
  int64_t request_count = 0;
  int64_t borrow_count = 0;
  int64_t sampled_count = 0;
};

// A rule's current settings, as the targets need them.
struct RuleReservoir {
  double fixed_rate = 0;
  int64_t reservoir_size = 0;
};
using RuleLookup = std::function<std::optional<RuleReservoir>(std::string_view rule_name)>;

struct SamplingTargetsResult {
  std::vector<SamplingTargetDocument> targets;
  std::vector<UnprocessedStatistics> unprocessed;
};

class SamplingTargets {
 public:
  explicit SamplingTargets(EpochClock clock = SystemEpochClock());

  // Records `documents` and answers each distinct rule they name; documents for rules that
  // `lookup` does not know come back as unprocessed (ErrorCode "ResourceNotFoundException").
  SamplingTargetsResult Report(const std::vector<SamplingStatisticsDocument>& documents,
                               const RuleLookup& lookup);

  // One summary per rule with statistics in the last kSummaryWindowSeconds, by rule name.
  std::vector<SamplingStatisticSummary> Summaries() const;

  // Drops a deleted rule's clients and statistics.
  void ForgetRule(std::string_view rule_name);

 private:
  struct ClientShare {
    double last_report = 0;
    int64_t request_count = 0;
  };
  struct Bucket {
    double start = 0;
    int64_t request_count = 0, sampled_count = 0, borrow_count = 0;
  };
  struct RuleState {
    std::map<std::string, ClientShare> clients;  // by ClientID
    std::deque<Bucket> buckets;                  // ascending start, within the window
  };

  int64_t QuotaFor(RuleState& state, const std::string& client_id, int64_t reservoir_size,
                   double now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void AddToBuckets(RuleState& state, const SamplingStatisticsDocument& doc, double now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const EpochClock clock_;
  mutable absl::Mutex mu_;
  std::map<std::string, RuleState, std::less<>> rules_ ABSL_GUARDED_BY(mu_);
};

}  // namespace waggle::xray
