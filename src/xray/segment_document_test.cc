#include "xray/segment_document.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "simdjson.h"

namespace waggle::xray {
namespace {

constexpr std::string_view kTrace = "1-5759e988-bd862e3fe1be46a994272793";

// A Flask request as the Python SDK reports it: segment, a custom subsegment with a nested
// remote call that failed, annotations, metadata, a cause with an exception.
constexpr std::string_view kSegment = R"({
  "name": "backend-flask", "id": "70de5b6f19ff9a0a", "trace_id": "1-5759e988-bd862e3fe1be46a994272793",
  "start_time": 1.478293361271E9, "end_time": 1478293361.449,
  "origin": "AWS::EC2::Instance", "user": "user-1001", "service": {"version": "1.2.3", "runtime": "CPython"},
  "http": {"request": {"method": "GET", "url": "http://localhost/api/activities/home",
                       "user_agent": "curl/8", "client_ip": "10.0.0.1", "x_forwarded_for": true},
           "response": {"status": 500, "content_length": 42}},
  "aws": {"ec2": {"instance_id": "i-0b5a4678fc325bg98", "availability_zone": "us-west-2c"},
          "xray": {"sdk": "X-Ray for Python", "sdk_version": "2.15.0"},
          "cloudwatch_logs": [{"log_group": "g1", "arn": "arn:1"}]},
  "fault": true,
  "annotations": {"user_id": "user-1001", "count": 3, "ratio": 0.5, "cached": false},
  "metadata": {"default": {"results": [1, 2, {"a": "b"}]}, "debug": {"x": null}},
  "cause": {"working_directory": "/app", "paths": ["/app/app.py"],
            "exceptions": [{"id": "1f2e3d4c5b6a7988", "message": "boom", "type": "ValueError",
                            "remote": false,
                            "stack": [{"path": "/app/app.py", "line": 10, "label": "home"}]}]},
  "subsegments": [
    {"name": "home-activities-mock-data", "id": "0f910026178b71eb",
     "start_time": 1478293361.3, "end_time": 1478293361.4,
     "annotations": {"result_length": 3},
     "subsegments": [
       {"name": "api.example.com", "id": "1a2b3c4d5e6f7081", "namespace": "remote",
        "start_time": 1478293361.31, "end_time": 1478293361.39, "error": true,
        "http": {"request": {"method": "POST", "url": "https://api.example.com/x", "traced": true},
                 "response": {"status": 404}},
        "precursor_ids": ["0f910026178b71eb"]}]},
    {"name": "DynamoDB", "id": "2b3c4d5e6f708192", "namespace": "aws",
     "start_time": 1478293361.40, "end_time": 1478293361.41, "throttle": true,
     "aws": {"operation": "GetItem", "region": "us-east-1", "table_name": "t", "request_id": "R1"}},
    {"name": "db@localhost", "id": "3c4d5e6f70819203", "namespace": "remote",
     "start_time": 1478293361.42, "end_time": 1478293361.43,
     "sql": {"url": "postgresql://localhost/db", "sanitized_query": "SELECT 1",
             "database_type": "PostgreSQL", "preparation": "statement"}}
  ]})";

struct Decoded {
  SpanBatch batch;
  std::vector<Span> rows;
  DocumentInfo info;

  const Span& ByName(std::string_view name, RowKind kind = RowKind::kSpan) const {
    for (const Span& s : rows) {
      if (s.name == name && s.row_kind == kind) return s;
    }
    ADD_FAILURE() << "no row named " << name;
    static Span none;
    return none;
  }
};

Decoded MustDecode(std::string_view doc) {
  Decoded d;
  StatusOr<DocumentInfo> info = DecodeSegmentDocument(doc, &d.batch);
  EXPECT_TRUE(info.ok()) << info.status();
  if (info.ok()) d.info = *info;
  for (size_t i = 0; i < d.batch.rows.size(); ++i) d.rows.push_back(ToSpan(d.batch, i));
  return d;
}

Status DecodeError(std::string_view doc) {
  SpanBatch batch;
  StatusOr<DocumentInfo> info = DecodeSegmentDocument(doc, &batch);
  EXPECT_TRUE(batch.rows.empty());
  return info.status();
}

const Attribute* Attr(const Span& s, std::string_view key) {
  for (const Attribute& a : s.attributes) {
    if (a.key == key) return &a;
  }
  return nullptr;
}

std::string Str(const Span& s, std::string_view key) {
  const Attribute* a = Attr(s, key);
  EXPECT_NE(a, nullptr) << key;
  EXPECT_TRUE(a == nullptr || a->type == ValueType::kString) << key;
  return a ? a->str : "";
}
int64_t Int(const Span& s, std::string_view key) {
  const Attribute* a = Attr(s, key);
  EXPECT_TRUE(a != nullptr && a->type == ValueType::kInt) << key;
  return a ? a->i : -1;
}
bool Bool(const Span& s, std::string_view key) {
  const Attribute* a = Attr(s, key);
  EXPECT_TRUE(a != nullptr && a->type == ValueType::kBool) << key;
  return a && a->b;
}

TEST(DecodeSegmentDocument, SegmentBecomesServerSpanWithOtelAndXrayColumns) {
  Decoded d = MustDecode(kSegment);
  EXPECT_EQ(ToHex(d.info.trace_id), "5759e988bd862e3fe1be46a994272793");
  EXPECT_EQ(ToHex(d.info.id), "70de5b6f19ff9a0a");
  EXPECT_FALSE(d.info.in_progress);
  EXPECT_FALSE(d.info.is_subsegment);
  EXPECT_EQ(d.info.rows, 6u);  // segment, 4 subsegments, 1 exception event
  const Span& seg = d.ByName("backend-flask");
  EXPECT_EQ(seg.service_name, "backend-flask");
  EXPECT_EQ(seg.kind, SpanKind::kServer);
  EXPECT_TRUE(IsZero(seg.parent_span_id));
  EXPECT_EQ(seg.start_ns, 1478293361271000000);  // scientific notation
  EXPECT_EQ(seg.end_ns, 1478293361449000000);
  EXPECT_EQ(seg.status_code, StatusCode::kError);
  EXPECT_EQ(seg.status_message, "boom");
  EXPECT_EQ(Str(seg, "xray.type"), "segment");
  EXPECT_EQ(Str(seg, "xray.origin"), "AWS::EC2::Instance");
  EXPECT_EQ(Str(seg, "enduser.id"), "user-1001");
  EXPECT_EQ(Str(seg, "service.version"), "1.2.3");
  EXPECT_EQ(Str(seg, "service.runtime"), "CPython");
  EXPECT_EQ(Str(seg, "http.request.method"), "GET");
  EXPECT_EQ(Str(seg, "url.full"), "http://localhost/api/activities/home");
  EXPECT_EQ(Str(seg, "user_agent.original"), "curl/8");
  EXPECT_EQ(Str(seg, "client.address"), "10.0.0.1");
  EXPECT_TRUE(Bool(seg, "http.request.x_forwarded_for"));
  EXPECT_EQ(Int(seg, "http.response.status_code"), 500);
  EXPECT_EQ(Int(seg, "http.response.body.size"), 42);
  EXPECT_EQ(Str(seg, "aws.ec2.instance_id"), "i-0b5a4678fc325bg98");
  EXPECT_EQ(Str(seg, "aws.xray.sdk_version"), "2.15.0");
  EXPECT_EQ(Str(seg, "aws.cloudwatch_logs"), R"([{"log_group":"g1","arn":"arn:1"}])");
  EXPECT_TRUE(Bool(seg, "xray.fault"));
  EXPECT_EQ(Str(seg, "annotation.user_id"), "user-1001");
  EXPECT_EQ(Int(seg, "annotation.count"), 3);
  const Attribute* ratio = Attr(seg, "annotation.ratio");
  ASSERT_NE(ratio, nullptr);
  EXPECT_EQ(ratio->type, ValueType::kDouble);
  EXPECT_EQ(ratio->d, 0.5);
  EXPECT_FALSE(Bool(seg, "annotation.cached"));
  EXPECT_EQ(Str(seg, "metadata.default"), R"({"results":[1,2,{"a":"b"}]})");
  EXPECT_EQ(Str(seg, "metadata.debug"), R"({"x":null})");
  EXPECT_EQ(Str(seg, "xray.cause.working_directory"), "/app");
  EXPECT_EQ(Str(seg, "xray.cause.paths"), R"(["/app/app.py"])");
}

// A padded document is parsed where it lies: whatever follows it in its buffer (here JSON that
// would change the answer if it were read as part of the document) is not part of it.
// Unknown members, however many, change nothing: the same attributes in the same order, a
// repeated member's every occurrence among them.
TEST(DecodeSegmentDocument, ObjectsWithManyMembersGiveTheSameAttributes) {
  auto doc = [](int unknown) {
    std::string d = R"({"name": "svc", "id": "70de5b6f19ff9a0a", "start_time": 1.5,)"
                    R"( "trace_id": "1-581cf771-a006649127e371903a2de979", "end_time": 2.5,)"
                    R"( "user": "u1", "http": {"response": {"status": 404}}, "fault": true,)";
    for (int i = 0; i < unknown; ++i) d += R"( "unknown)" + std::to_string(i) + R"(": [1],)";
    d += R"( "annotations": {"k": "v", "n": 3}, "user": "u2", "error": false})";
    return d;
  };
  Decoded few = MustDecode(doc(0)), many = MustDecode(doc(30));
  ASSERT_EQ(few.rows.size(), 1u);
  ASSERT_EQ(many.rows.size(), 1u);
  auto attributes = [](const Span& s) {
    std::vector<std::string> out;
    for (const Attribute& a : s.attributes) {
      out.push_back(a.key + "=" + (a.type == ValueType::kString ? a.str : std::to_string(a.i)));
    }
    return out;
  };
  EXPECT_EQ(attributes(many.rows[0]), attributes(few.rows[0]));
  EXPECT_EQ(Int(many.rows[0], "http.response.status_code"), 404);
  EXPECT_EQ(Str(many.rows[0], "annotation.k"), "v");
}

TEST(DecodeSegmentDocument, PaddedDocumentIsParsedInPlaceAndEndsWhereItsViewEnds) {
  const std::string trailer = std::string(R"(, "extra": {"name": "not-me"}})") +
                              std::string(kDocumentPadding, '"');
  const std::string buffer = std::string(kSegment) + trailer;
  Decoded in_place;
  StatusOr<DocumentInfo> info = DecodeSegmentDocument(
      std::string_view(buffer).substr(0, kSegment.size()), &in_place.batch, {}, Padding::kPadded);
  ASSERT_TRUE(info.ok()) << info.status();
  for (size_t i = 0; i < in_place.batch.rows.size(); ++i) {
    in_place.rows.push_back(ToSpan(in_place.batch, i));
  }
  const Decoded copied = MustDecode(kSegment);
  ASSERT_EQ(in_place.rows.size(), copied.rows.size());
  for (size_t i = 0; i < copied.rows.size(); ++i) {
    EXPECT_EQ(in_place.rows[i].name, copied.rows[i].name);
    EXPECT_EQ(in_place.rows[i].attributes.size(), copied.rows[i].attributes.size());
  }
  // A document cut short inside its buffer is still an error, though valid JSON follows it.
  SpanBatch batch;
  EXPECT_FALSE(DecodeSegmentDocument(std::string_view(buffer).substr(0, kSegment.size() - 1),
                                     &batch, {}, Padding::kPadded)
                   .ok());
}

TEST(DecodeSegmentDocument, NestedSubsegmentsAreFlattenedWithParentLinks) {
  Decoded d = MustDecode(kSegment);
  const Span& seg = d.ByName("backend-flask");
  const Span& custom = d.ByName("home-activities-mock-data");
  const Span& remote = d.ByName("api.example.com");
  const Span& dynamo = d.ByName("DynamoDB");
  const Span& sql = d.ByName("db@localhost");
  EXPECT_EQ(custom.parent_span_id, seg.span_id);
  EXPECT_EQ(remote.parent_span_id, custom.span_id);
  EXPECT_EQ(dynamo.parent_span_id, seg.span_id);
  for (const Span* s : {&custom, &remote, &dynamo, &sql}) {
    EXPECT_EQ(s->trace_id, seg.trace_id);
    EXPECT_EQ(s->service_name, "backend-flask");  // inherited from the segment
    EXPECT_EQ(Str(*s, "xray.type"), "subsegment");
  }
  EXPECT_EQ(custom.kind, SpanKind::kInternal);
  EXPECT_EQ(remote.kind, SpanKind::kClient);
  EXPECT_EQ(dynamo.kind, SpanKind::kClient);
  EXPECT_EQ(Int(custom, "annotation.result_length"), 3);
  EXPECT_EQ(Str(remote, "xray.namespace"), "remote");
  EXPECT_TRUE(Bool(remote, "xray.error"));
  EXPECT_EQ(remote.status_code, StatusCode::kError);
  EXPECT_TRUE(Bool(remote, "http.request.traced"));
  EXPECT_EQ(Int(remote, "http.response.status_code"), 404);
  EXPECT_EQ(Str(remote, "xray.precursor_ids"), R"(["0f910026178b71eb"])");
  EXPECT_EQ(Str(dynamo, "aws.operation"), "GetItem");
  EXPECT_EQ(Str(dynamo, "cloud.region"), "us-east-1");
  EXPECT_EQ(Str(dynamo, "aws.table_name"), "t");
  EXPECT_TRUE(Bool(dynamo, "xray.throttle"));
  EXPECT_EQ(dynamo.status_code, StatusCode::kUnset);  // throttle alone is not an error
  EXPECT_EQ(Str(sql, "db.query.text"), "SELECT 1");
  EXPECT_EQ(Str(sql, "sql.url"), "postgresql://localhost/db");
  EXPECT_EQ(Str(sql, "sql.database_type"), "PostgreSQL");
}

TEST(DecodeSegmentDocument, CauseExceptionsBecomeExceptionEvents) {
  Decoded d = MustDecode(kSegment);
  const Span& seg = d.ByName("backend-flask");
  const Span& ev = d.ByName("exception", RowKind::kSpanEvent);
  EXPECT_EQ(ev.span_id, seg.span_id);
  EXPECT_EQ(ev.parent_name, "backend-flask");
  EXPECT_EQ(ev.start_ns, seg.end_ns);
  EXPECT_EQ(Str(ev, "exception.type"), "ValueError");
  EXPECT_EQ(Str(ev, "exception.message"), "boom");
  EXPECT_EQ(Str(ev, "exception.id"), "1f2e3d4c5b6a7988");
  EXPECT_FALSE(Bool(ev, "exception.remote"));
  EXPECT_EQ(Str(ev, "exception.stacktrace"), "  at home (/app/app.py:10)\n");
  EXPECT_EQ(Str(ev, "xray.exception.stack"), R"([{"path":"/app/app.py","line":10,"label":"home"}])");
}

TEST(DecodeSegmentDocument, IndependentSubsegmentAndInProgress) {
  Decoded d = MustDecode(R"({"type": "subsegment", "trace_id": "1-5759e988-bd862e3fe1be46a994272793",
      "parent_id": "70de5b6f19ff9a0a", "id": "4d5e6f7081920314", "name": "streamed",
      "start_time": 1478293361.5, "in_progress": true, "cause": "1f2e3d4c5b6a7988"})");
  EXPECT_TRUE(d.info.is_subsegment);
  EXPECT_TRUE(d.info.in_progress);
  ASSERT_EQ(d.rows.size(), 1u);
  const Span& s = d.rows[0];
  EXPECT_EQ(ToHex(s.parent_span_id), "70de5b6f19ff9a0a");
  EXPECT_EQ(s.service_name, "unknown_service");
  EXPECT_EQ(s.kind, SpanKind::kInternal);
  EXPECT_EQ(s.end_ns, s.start_ns);
  EXPECT_TRUE(Bool(s, "xray.in_progress"));
  EXPECT_EQ(Str(s, "xray.cause.id"), "1f2e3d4c5b6a7988");
  EXPECT_EQ(Str(s, "xray.type"), "subsegment");
}

TEST(DecodeSegmentDocument, DownstreamSegmentKeepsItsParent) {
  Decoded d = MustDecode(R"({"name": "svc-b", "id": "4d5e6f7081920314",
      "trace_id": "1-5759e988-bd862e3fe1be46a994272793", "parent_id": "1a2b3c4d5e6f7081",
      "start_time": 100, "end_time": 100.25})");
  ASSERT_EQ(d.rows.size(), 1u);
  EXPECT_EQ(ToHex(d.rows[0].parent_span_id), "1a2b3c4d5e6f7081");
  EXPECT_EQ(d.rows[0].end_ns - d.rows[0].start_ns, 250'000'000);
}

TEST(DecodeSegmentDocument, RejectsBadIdsMissingFieldsAndGarbage) {
  const std::string base_start = R"({"name":"a","trace_id":")" + std::string(kTrace) + R"(",)";
  struct Case {
    std::string doc;
    std::string expect;  // substring of the error
  } cases[] = {
      {"", "not valid JSON"},
      {"{", "not valid JSON"},
      {"[1,2]", "must be a JSON object"},
      {base_start + R"("id":"xyz","start_time":1,"end_time":2})", "id: invalid segment id"},
      {base_start + R"("start_time":1,"end_time":2})", "id: required"},
      {base_start + R"("id":"70de5b6f19ff9a0a","end_time":2})", "start_time: required"},
      {base_start + R"("id":"70de5b6f19ff9a0a","start_time":1})", "end_time: required"},
      {base_start + R"("id":"70de5b6f19ff9a0a","start_time":"1","end_time":2})",
       "start_time: expected epoch seconds"},
      {base_start + R"("id":"70de5b6f19ff9a0a","start_time":2,"end_time":1})", "before start_time"},
      {base_start + R"("id":"70de5b6f19ff9a0a","start_time":-1,"end_time":1})", "out of range"},
      {R"({"name":"a","id":"70de5b6f19ff9a0a","start_time":1,"end_time":2})", "trace_id: required"},
      {R"({"name":"a","id":"70de5b6f19ff9a0a","trace_id":"1-abc","start_time":1,"end_time":2})",
       "trace_id: invalid X-Ray trace id"},
      {R"({"trace_id":")" + std::string(kTrace) + R"(","id":"70de5b6f19ff9a0a","start_time":1,"end_time":2})",
       "name: required"},
      {base_start + R"("id":"70de5b6f19ff9a0a","start_time":1,"end_time":2,"type":"segment"})",
       "type: expected"},
      {base_start + R"("id":"70de5b6f19ff9a0a","start_time":1,"end_time":2,"type":"subsegment"})",
       "parent_id: required"},
      {base_start + R"("id":"70de5b6f19ff9a0a","start_time":1,"end_time":2,"annotations":{"k":[1]}})",
       "annotations.k: annotation values"},
      {base_start + R"("id":"70de5b6f19ff9a0a","start_time":1,"end_time":2,"subsegments":{}})",
       "subsegments: expected an array"},
      {base_start + R"("id":"70de5b6f19ff9a0a","start_time":1,"end_time":2,"subsegments":[{"name":"b","id":"1","start_time":1,"end_time":2}]})",
       "subsegments[0].id: invalid segment id"},
      {base_start + R"("id":"70de5b6f19ff9a0a","start_time":1,"end_time":2,"fault":"yes"})",
       "fault: expected a boolean"},
      {base_start + R"("id":"70de5b6f19ff9a0a","start_time":1,"end_time":2,"http":[]})",
       "http: expected an object"},
  };
  for (const Case& c : cases) {
    Status st = DecodeError(c.doc);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << c.doc;
    EXPECT_NE(std::string(st.message()).find(c.expect), std::string::npos)
        << c.doc << " -> " << st.message();
  }
}

TEST(DecodeSegmentDocument, EnforcesSizeAndDepthLimits) {
  std::string big = std::string(R"({"name":"a","pad":")") + std::string(70'000, 'x') + "\"}";
  EXPECT_NE(std::string(DecodeError(big).message()).find("exceeds the limit"), std::string::npos);
  std::string deep = R"({"name":"a","trace_id":")" + std::string(kTrace) +
                     R"(","id":"70de5b6f19ff9a0a","start_time":1,"end_time":2)";
  for (int i = 0; i < 40; ++i) {
    deep += R"(,"subsegments":[{"name":"b","id":"70de5b6f19ff9a0b","start_time":1,"end_time":2)";
  }
  for (int i = 0; i < 40; ++i) deep += "}]";
  deep += "}";
  EXPECT_NE(std::string(DecodeError(deep).message()).find("nested deeper"), std::string::npos);
}

TEST(DecodeSegmentDocument, ErrorLeavesBatchUntouched) {
  SpanBatch batch;
  ASSERT_TRUE(DecodeSegmentDocument(kSegment, &batch).ok());
  size_t rows = batch.rows.size(), attrs = batch.attrs.size();
  std::string bad = std::string(kSegment);
  bad.replace(bad.find("3c4d5e6f70819203"), 16, "nothex__nothex__");
  EXPECT_FALSE(DecodeSegmentDocument(bad, &batch).ok());
  EXPECT_EQ(batch.rows.size(), rows);
  EXPECT_EQ(batch.attrs.size(), attrs);
}

// The facts of a row, for comparing decodes: everything but attribute order.
std::string Facts(const Span& s) {
  std::vector<std::string> attrs;
  for (const Attribute& a : s.attributes) {
    std::string v = a.type == ValueType::kString ? a.str
                    : a.type == ValueType::kInt  ? std::to_string(a.i)
                    : a.type == ValueType::kBool ? (a.b ? "true" : "false")
                                                 : std::to_string(a.d);
    attrs.push_back(a.key + "=" + std::string(ValueTypeName(a.type)) + ":" + v);
  }
  std::sort(attrs.begin(), attrs.end());
  std::string out = std::string(RowKindName(s.row_kind)) + " " + ToHex(s.span_id) + " parent " +
                    ToHex(s.parent_span_id) + " " + s.name + " svc " + s.service_name + " " +
                    std::to_string(s.start_ns) + ".." + std::to_string(s.end_ns) + " kind " +
                    std::string(SpanKindName(s.kind)) + " status " +
                    std::string(StatusCodeName(s.status_code)) + " " + s.status_message;
  for (const std::string& a : attrs) out += "\n  " + a;
  return out;
}

std::vector<std::string> AllFacts(const std::vector<Span>& rows) {
  std::vector<std::string> out;
  for (const Span& s : rows) out.push_back(Facts(s));
  std::sort(out.begin(), out.end());
  return out;
}

TEST(EncodeTraceSegments, IntegralDoublesStayFloats) {
  // 2^64 - 1 does not fit int64, so it is kept as a double; written back as bare digits it
  // would overflow the reader's integers (found by the fuzzer), and 3.0 would become an integer.
  Decoded first = MustDecode(R"({"name": "s", "id": "70de5b6f19ff9a0a",
    "trace_id": "1-5759e988-bd862e3fe1be46a994272793", "start_time": 1, "end_time": 2,
    "annotations": {"big": 18446744073709551615, "three": 3.0}})");
  std::vector<EncodedSegment> docs = EncodeTraceSegments(first.rows);
  ASSERT_EQ(docs.size(), 1u);
  Decoded second = MustDecode(docs[0].document);
  EXPECT_EQ(AllFacts(second.rows), AllFacts(first.rows)) << docs[0].document;
  EXPECT_NE(docs[0].document.find("\"three\":3.0"), std::string::npos) << docs[0].document;
}

TEST(EncodeTraceSegments, RoundTripKeepsEveryFact) {
  Decoded first = MustDecode(kSegment);
  std::vector<EncodedSegment> docs = EncodeTraceSegments(first.rows);
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0].id, "70de5b6f19ff9a0a");
  Decoded second = MustDecode(docs[0].document);
  EXPECT_EQ(AllFacts(second.rows), AllFacts(first.rows)) << docs[0].document;
}

TEST(EncodeTraceSegments, NestsSubsegmentsAndKeepsOrphansIndependent) {
  Decoded seg = MustDecode(kSegment);
  Decoded orphan = MustDecode(R"({"type": "subsegment", "trace_id": "1-5759e988-bd862e3fe1be46a994272793",
      "parent_id": "0000000000000abc", "id": "4d5e6f7081920314", "name": "streamed",
      "start_time": 1478293361.5, "end_time": 1478293361.6})");
  std::vector<Span> rows = seg.rows;
  rows.insert(rows.end(), orphan.rows.begin(), orphan.rows.end());
  std::vector<EncodedSegment> docs = EncodeTraceSegments(rows);
  ASSERT_EQ(docs.size(), 2u);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(docs[0].document).get(doc), simdjson::SUCCESS);
  EXPECT_EQ(std::string_view(doc["trace_id"].get_string().value()), kTrace);
  simdjson::dom::array subs = doc["subsegments"].get_array().value();
  EXPECT_EQ(subs.size(), 3u);
  EXPECT_EQ(std::string_view(subs.at(0)["subsegments"].at(0)["name"].get_string().value()),
            "api.example.com");
  EXPECT_EQ(std::string_view(doc["http"]["request"]["url"].get_string().value()),
            "http://localhost/api/activities/home");
  EXPECT_EQ(doc["http"]["response"]["status"].get_int64().value(), 500);
  EXPECT_EQ(std::string_view(doc["annotations"]["user_id"].get_string().value()), "user-1001");
  simdjson::dom::element streamed;
  ASSERT_EQ(parser.parse(docs[1].document).get(streamed), simdjson::SUCCESS);
  EXPECT_EQ(std::string_view(streamed["type"].get_string().value()), "subsegment");
  EXPECT_EQ(std::string_view(streamed["parent_id"].get_string().value()), "0000000000000abc");
}

TEST(EncodeTraceSegments, CompletedRowSupersedesInProgressOne) {
  Decoded open = MustDecode(R"({"name": "svc", "id": "4d5e6f7081920314",
      "trace_id": "1-5759e988-bd862e3fe1be46a994272793", "start_time": 100, "in_progress": true})");
  Decoded done = MustDecode(R"({"name": "svc", "id": "4d5e6f7081920314",
      "trace_id": "1-5759e988-bd862e3fe1be46a994272793", "start_time": 100, "end_time": 101})");
  std::vector<Span> rows = done.rows;
  rows.insert(rows.end(), open.rows.begin(), open.rows.end());
  std::vector<EncodedSegment> docs = EncodeTraceSegments(rows);
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_NE(docs[0].document.find("\"end_time\":101.000000"), std::string::npos) << docs[0].document;
  EXPECT_EQ(docs[0].document.find("in_progress"), std::string::npos);
}

TEST(EncodeTraceSegments, OtlpSpansBecomeSegmentsWithSubsegments) {
  Span server;
  ASSERT_TRUE(ParseHex("4bf92f3577b34da6a3ce929d0e0e4736", &server.trace_id));
  server.span_id[7] = 1;
  server.name = "GET /api/activities/home";
  server.service_name = "backend-flask";
  server.kind = SpanKind::kServer;
  server.start_ns = 1'700'000'000'000'000'000;
  server.end_ns = server.start_ns + 5'000'000;
  server.status_code = StatusCode::kError;
  server.attributes.push_back({"http.request.method", ValueType::kString, "GET"});
  server.attributes.push_back({"http.route", ValueType::kString, "/api/activities/home"});
  Span child = server;
  child.span_id[7] = 2;
  child.parent_span_id = server.span_id;
  child.kind = SpanKind::kInternal;
  child.name = "home-activities-mock-data";
  child.status_code = StatusCode::kUnset;
  child.attributes.clear();
  std::vector<EncodedSegment> docs = EncodeTraceSegments({child, server});
  ASSERT_EQ(docs.size(), 1u);
  Decoded d = MustDecode(docs[0].document);
  const Span& seg = d.ByName("backend-flask");
  EXPECT_EQ(Str(seg, "http.request.method"), "GET");
  EXPECT_TRUE(Bool(seg, "xray.fault"));
  EXPECT_EQ(Str(seg, "metadata.otel"), R"({"http.route":"/api/activities/home"})");
  EXPECT_EQ(d.ByName("home-activities-mock-data").parent_span_id, server.span_id);
}

TEST(EncodeTraceSegments, SurvivesParentCyclesAndInvalidUtf8) {
  Span a;
  a.trace_id[15] = 1;
  a.span_id[7] = 1;
  a.parent_span_id[7] = 2;
  a.kind = SpanKind::kInternal;
  a.name = "a\xff";
  a.service_name = "svc\xc3";
  a.start_ns = 1'000'000'000;
  a.end_ns = 2'000'000'000;
  Span b = a;
  b.span_id[7] = 2;
  b.parent_span_id[7] = 1;
  b.name = "b";
  std::vector<EncodedSegment> docs = EncodeTraceSegments({a, b});
  ASSERT_EQ(docs.size(), 1u);  // one of the two becomes the document, the other nests in it
  Decoded d = MustDecode(docs[0].document);
  EXPECT_EQ(d.rows.size(), 2u);
  EXPECT_EQ(d.rows[0].name, "svc\xEF\xBF\xBD");  // U+FFFD replaces the invalid byte
}

}  // namespace
}  // namespace waggle::xray
