// The ingest benchmark's workload: pre-encoded OTLP protobuf requests imitating `waggle demo`'s
// Cruddur traces, and the in-place rewrite that makes every send carry fresh spans.
//
// BuildTemplate encodes `batch` spans (5 services, ~8 spans per trace, ~10 attributes per span
// including high-cardinality user, session and request ids, ~1% errors with an exception event,
// log-normal durations) with EncodeOtlpTracesProtobuf, and records where in the encoding every
// id, timestamp and high-cardinality token lies (found by searching for the unique values the
// template was built with). Patch rewrites all of them in a copy of the body: new random ids
// (consistently, so parent links hold), timestamps shifted to now, new tokens.
// Thread-safety: plain values and pure functions; an Rng is per thread.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>
#include <vector>

#include "model/span.h"

namespace waggle::bench {

// splitmix64: fast, good enough for ids and tokens.
struct Rng {
  uint64_t s;
  uint64_t Next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double Uniform() { return (Next() >> 11) * 0x1.0p-53; }
  double Normal() {
    const double u1 = std::max(Uniform(), 1e-300), u2 = Uniform();
    return std::sqrt(-2 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
  }
  uint64_t Below(uint64_t n) { return Next() % n; }
};

// A value inside the encoded template that is rewritten before every send.
enum class PatchKind : uint8_t { kBytes, kHexChars, kDigits, kTimestamp };
struct PatchGroup {
  PatchKind kind;
  uint8_t len = 0;
  uint64_t ts = 0;                // kTimestamp: the template's value
  std::vector<uint32_t> offsets;  // every place the value occurs
};

struct Template {
  std::string body;
  std::vector<PatchGroup> groups;
  size_t spans = 0;
  size_t probe_group = 0;  // the group holding the last trace's id
  size_t probe_spans = 0;  // spans of that trace
  size_t attrs = 0;        // span attributes in the template (excluding service.name)
  int64_t base_ns = 0;
};

// Builds one template of `batch` spans whose timestamps start at `base_ns`; checks that it
// decodes back to `batch` spans. On failure returns false with `*err` set.
bool BuildTemplate(Rng& rng, int batch, int64_t base_ns, Template* t, std::string* err);

// Rewrites every patch group of `t` in `*buf`, a copy of t.body, shifting timestamps by
// `delta_ns`. Returns the new id of the template's last trace (t.probe_spans spans).
TraceId Patch(const Template& t, int64_t delta_ns, Rng& rng, std::string* buf);

}  // namespace waggle::bench
