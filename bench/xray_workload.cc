#include "xray_workload.h"

#include <cstring>

namespace waggle::bench {
namespace {

constexpr size_t kWidth[XrayTemplate::kFieldCount] = {35, 16, 16, 16, 17, 17,
                                                      17, 17, 17, 17, 6,  5};

// A placeholder: "~", a letter unique to the field, then "~" up to the field's
// width. "~" occurs nowhere else in a template.
std::string Placeholder(XrayTemplate::Field f) {
  std::string p(kWidth[f], '~');
  p[1] = static_cast<char>('A' + f);
  return p;
}

std::string P(XrayTemplate::Field f) { return Placeholder(f); }

// The segment document, as the Python SDK lays it out (key order, spacing) for
// a Flask request.
std::string Document(int variant, bool fault, bool sql) {
  using F = XrayTemplate;
  const char *routes[] = {"/api/activities/home",
                          "/api/activities/notifications",
                          "/api/messages/groups", "/api/activities/search"};
  const char *route = routes[variant % 4];
  std::string d =
      R"({"id": ")" + P(F::kSegmentId) +
      R"(", "name": "backend-flask", "start_time": )" + P(F::kStart) +
      R"(, "in_progress": false, "http": {"request": {"url": )"
      R"("http://backend-flask:4567)" +
      std::string(route) +
      R"(", "method": "GET", "user_agent": "Mozilla/5.0 (X11; Linux x86_64) )"
      R"(Gecko/20100101 Firefox/120.0", "client_ip": "10.0.12.)" +
      std::to_string(10 + variant % 200) + R"("}, "response": {"status": )" +
      (fault ? "500" : "200") + R"(, "content_length": )" +
      std::to_string(fault ? 265 : 95 + 17 * (variant % 40)) +
      R"(}}, "annotations": {"user_id": "user-)" + P(F::kUser) +
      R"(", "bench_phase": ")" + P(F::kPhase) +
      R"("}, "aws": {"xray": {"sdk": "X-Ray for Python", "sdk_version": "2.15.0"}}, )";
  if (fault) {
    d +=
        R"("cause": {"working_directory": "/backend-flask", "exceptions": [{"id": )"
        R"("86f982544622f252", "message": "boom", "type": "ValueError", "remote": false, )"
        R"("stack": [{"path": "app.py", "line": 1527, "label": "wsgi_app"}, {"path": )"
        R"("services/home_activities.py", "line": 42, "label": "run"}, {"path": "app.py", )"
        R"("line": 88, "label": "data_home"}]}]}, "fault": true, )";
  }
  d +=
      R"("subsegments": [{"id": ")" + P(F::kSub1Id) +
      R"(", "name": "mock-data", "start_time": )" + P(F::kSub1Start) +
      R"(, "parent_id": ")" + P(F::kSegmentId) +
      R"(", "in_progress": false, "annotations": {"result_length": )" +
      std::to_string(3 + variant % 7) +
      R"(}, "metadata": {"cruddur": {"results": [{"uuid": "0", "handle": "andrewbrown"}]}}, )"
      R"("trace_id": ")" +
      P(F::kTrace) +
      R"(", "type": "subsegment", "namespace": "local", )"
      R"("end_time": )" +
      P(F::kSub1End) + "}";
  if (sql) {
    d +=
        R"(, {"id": ")" + P(F::kSub2Id) +
        R"(", "name": "cruddur@db", "start_time": )" + P(F::kSub2Start) +
        R"(, "parent_id": ")" + P(F::kSegmentId) +
        R"(", "in_progress": false, "sql": {"url": "postgresql://db:5432/cruddur", )"
        R"("database_type": "PostgreSQL", "sanitized_query": "SELECT * FROM activities )"
        R"(WHERE user_uuid = %s"}, "trace_id": ")" +
        P(F::kTrace) +
        R"(", "type": "subsegment", "namespace": "remote", "end_time": )" +
        P(F::kSub2End) + "}";
  }
  d +=
      R"(], "trace_id": ")" + P(F::kTrace) +
      R"(", "service": {"runtime": "CPython", "runtime_version": "3.11.7"}, "end_time": )" +
      P(F::kEnd) + "}";
  return d;
}

XrayTemplate Locate(std::string datagram) {
  XrayTemplate t;
  t.datagram = std::move(datagram);
  for (int f = 0; f < XrayTemplate::kFieldCount; ++f) {
    const std::string p = Placeholder(static_cast<XrayTemplate::Field>(f));
    for (size_t at = t.datagram.find(p); at != std::string::npos;
         at = t.datagram.find(p, at + 1)) {
      t.offsets[f].push_back(at);
    }
  }
  return t;
}

uint64_t Mix(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void Hex(uint64_t v, int digits, char *out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i, v >>= 4)
    out[i] = kHex[v & 15];
}

// Epoch microseconds as "SSSSSSSSSS.uuuuuu" (17 characters for 2001..2286).
void Seconds(int64_t us, char *out) {
  uint64_t s = static_cast<uint64_t>(us) / 1'000'000,
           frac = static_cast<uint64_t>(us) % 1'000'000;
  for (int i = 9; i >= 0; --i, s /= 10)
    out[i] = static_cast<char>('0' + s % 10);
  out[10] = '.';
  for (int i = 16; i >= 11; --i, frac /= 10)
    out[i] = static_cast<char>('0' + frac % 10);
}

void Decimal(uint64_t v, int digits, char *out) {
  for (int i = digits - 1; i >= 0; --i, v /= 10)
    out[i] = static_cast<char>('0' + v % 10);
}

} // namespace

std::vector<XrayTemplate> BuildXrayTemplates() {
  std::vector<XrayTemplate> out;
  for (int i = 0; i < 100; ++i) {
    const bool fault = i == 37;
    const bool sql = !fault && i % 2 == 1;
    out.push_back(Locate("{\"format\":\"json\",\"version\":1}\n" +
                         Document(i, fault, sql)));
  }
  return out;
}

void XrayPatcher::Patch(const XrayTemplate &t, uint64_t sequence,
                        int64_t now_us, std::string_view phase,
                        std::string *out) const {
  out->assign(t.datagram);
  char *d = out->data();
  const uint64_t h = Mix(seed_ ^ Mix(sequence));
  // Durations: 1-20 ms for the segment; subsegments inside it.
  const int64_t duration = 1000 + static_cast<int64_t>(h % 19'000);
  const int64_t start = now_us - duration;
  char field[35];
  auto put = [&](XrayTemplate::Field f, const char *value) {
    for (size_t at : t.offsets[f])
      std::memcpy(d + at, value, kWidth[f]);
  };
  std::memcpy(field, "1-", 2);
  Hex(static_cast<uint64_t>(now_us / 1'000'000), 8, field + 2);
  field[10] = '-';
  Hex(h, 16, field + 11);
  Hex(sequence & 0xffffffffu, 8, field + 27);
  put(XrayTemplate::kTrace, field);
  Hex(Mix(h + 1), 16, field);
  put(XrayTemplate::kSegmentId, field);
  Hex(Mix(h + 2), 16, field);
  put(XrayTemplate::kSub1Id, field);
  Hex(Mix(h + 3), 16, field);
  put(XrayTemplate::kSub2Id, field);
  const int64_t times[] = {start,
                           now_us,
                           start + duration / 10,
                           start + duration / 3,
                           start + duration / 3,
                           start + duration * 9 / 10};
  const XrayTemplate::Field time_fields[] = {
      XrayTemplate::kStart,     XrayTemplate::kEnd,
      XrayTemplate::kSub1Start, XrayTemplate::kSub1End,
      XrayTemplate::kSub2Start, XrayTemplate::kSub2End};
  for (int i = 0; i < 6; ++i) {
    Seconds(times[i], field);
    put(time_fields[i], field);
  }
  Decimal(h >> 40 & 0xfffff, 6, field); // ~1M distinct users
  put(XrayTemplate::kUser, field);
  put(XrayTemplate::kPhase, phase.data());
}

} // namespace waggle::bench
