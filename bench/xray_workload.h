// The X-Ray daemon benchmark's workload: UDP datagrams shaped like the ones the
// Python aws-xray-sdk's Flask middleware (XRayMiddleware, the seed's
// backend-flask) sends to the daemon.
//
// Each datagram is the header line `{"format":"json","version":1}`, a newline
// and one complete segment document of ~600-1000 bytes:
// `http.request`/`http.response`, `annotations`
// (`user_id`, and `bench_phase`, a 5-character label the benchmark counts by),
// `aws.xray`, `service`, and one or two subsegments — a local "mock-data"
// subsegment with an annotation and metadata, and in some documents a remote
// "postgres" subsegment with `sql`. About 1 in 100 documents is a fault with a
// `cause` (exception with a stack), as the SDK sends for an unhandled
// exception.
//
// Datagrams are built once as templates with fixed-width placeholders;
// XrayPatcher rewrites every placeholder in place (trace id, segment and
// subsegment ids, times, user id, phase), so every datagram sent carries a
// distinct trace id and the sender spends its CPU on sending. Thread-safety: a
// XrayPatcher is used by one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace waggle::bench {

// One datagram template and where its placeholders are.
struct XrayTemplate {
  enum Field {
    kTrace,
    kSegmentId,
    kSub1Id,
    kSub2Id,
    kStart,
    kEnd,
    kSub1Start,
    kSub1End,
    kSub2Start,
    kSub2End,
    kUser,
    kPhase,
    kFieldCount
  };
  std::string datagram;
  std::vector<size_t>
      offsets[kFieldCount]; // every occurrence of each placeholder
};

// The mix the benchmark cycles through: 100 templates, 1 of them a fault with a
// cause, half of the others with a second (remote SQL) subsegment.
std::vector<XrayTemplate> BuildXrayTemplates();

// Fills a copy of a template with fresh values.
class XrayPatcher {
public:
  explicit XrayPatcher(uint64_t seed) : seed_(seed) {}
  // Writes template `t` into `*out` with the `sequence`-th distinct trace id,
  // times around `now_us` (epoch microseconds) and `phase` (exactly 5
  // characters) as annotation bench_phase.
  void Patch(const XrayTemplate &t, uint64_t sequence, int64_t now_us,
             std::string_view phase, std::string *out) const;

private:
  uint64_t seed_;
};

} // namespace waggle::bench
