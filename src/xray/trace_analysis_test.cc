#include "xray/trace_analysis.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "xray/segment_document.h"
#include "xray/service_graph.h"

namespace waggle::xray {
namespace {

// A frontend segment calling backend-flask (whose segment's parent is the frontend's remote
// subsegment); backend-flask calls DynamoDB (throttled) and an uninstrumented HTTP API that
// fails; the backend answers 500 with an exception.
constexpr std::string_view kFrontend = R"({
  "name": "frontend", "id": "1000000000000001", "trace_id": "1-5759e988-bd862e3fe1be46a994272793",
  "start_time": 1700000000.0, "end_time": 1700000000.5, "origin": "AWS::ECS::Container",
  "user": "alice", "fault": true,
  "http": {"request": {"method": "GET", "url": "http://front/home", "user_agent": "ua/1",
                       "client_ip": "10.0.0.9"}, "response": {"status": 502}},
  "annotations": {"tier": "web"},
  "subsegments": [{"name": "backend-flask", "id": "1000000000000002", "namespace": "remote",
                   "start_time": 1700000000.05, "end_time": 1700000000.45, "fault": true}]})";

constexpr std::string_view kBackend = R"({
  "name": "backend-flask", "id": "2000000000000001", "trace_id": "1-5759e988-bd862e3fe1be46a994272793",
  "parent_id": "1000000000000002",
  "start_time": 1700000000.1, "end_time": 1700000000.4, "user": "alice", "fault": true,
  "http": {"request": {"method": "GET", "url": "http://back/api"}, "response": {"status": 500}},
  "aws": {"ec2": {"instance_id": "i-123", "availability_zone": "us-east-1a"}},
  "annotations": {"tier": "api", "retries": 2},
  "cause": {"exceptions": [{"id": "abcdefabcdefabcd", "type": "KeyError", "message": "no such key"}]},
  "subsegments": [
    {"name": "DynamoDB", "id": "2000000000000002", "namespace": "aws",
     "start_time": 1700000000.15, "end_time": 1700000000.2, "throttle": true, "error": true},
    {"name": "api.example.com", "id": "2000000000000003", "namespace": "remote",
     "start_time": 1700000000.2, "end_time": 1700000000.35, "fault": true,
     "cause": {"exceptions": [{"id": "abcdefabcdefabce", "type": "Timeout", "message": "slow"}]}}]})";

std::vector<Span> Rows(std::initializer_list<std::string_view> docs) {
  SpanBatch batch;
  for (std::string_view d : docs) {
    StatusOr<DocumentInfo> info = DecodeSegmentDocument(d, &batch);
    EXPECT_TRUE(info.ok()) << info.status();
  }
  std::vector<Span> rows;
  for (size_t i = 0; i < batch.rows.size(); ++i) rows.push_back(ToSpan(batch, i));
  return rows;
}

size_t NodeNamed(const TraceAnalysis& t, std::string_view name) {
  for (size_t i = 0; i < t.facts.services.size(); ++i) {
    if (t.facts.services[i].name == name) return i;
  }
  ADD_FAILURE() << "no node " << name;
  return 0;
}

bool HasEdge(const TraceAnalysis& t, std::string_view from, std::string_view to) {
  return std::any_of(t.edge_nodes.begin(), t.edge_nodes.end(), [&](const auto& e) {
    return t.facts.services[e.first].name == from && t.facts.services[e.second].name == to;
  });
}

TEST(AnalyzeTrace, NodesEdgesAndEntryOfAnXrayTrace) {
  TraceAnalysis t = AnalyzeTrace(Rows({kBackend, kFrontend}));
  ASSERT_EQ(t.facts.services.size(), 4u);
  ASSERT_TRUE(t.entry.has_value());
  EXPECT_EQ(t.facts.services[*t.entry].name, "frontend");
  EXPECT_EQ(t.facts.services[*t.entry].type, "AWS::ECS::Container");
  EXPECT_TRUE(t.facts.services[*t.entry].root);
  const ServiceFacts& dynamo = t.facts.services[NodeNamed(t, "DynamoDB")];
  EXPECT_TRUE(dynamo.inferred);
  EXPECT_EQ(dynamo.type, "AWS::DynamoDB");
  EXPECT_TRUE(dynamo.throttle);
  EXPECT_EQ(t.facts.services[NodeNamed(t, "api.example.com")].type, "remote");
  EXPECT_TRUE(HasEdge(t, "frontend", "backend-flask"));
  EXPECT_TRUE(HasEdge(t, "backend-flask", "DynamoDB"));
  EXPECT_TRUE(HasEdge(t, "backend-flask", "api.example.com"));
  EXPECT_EQ(t.facts.edges.size(), 3u);
  // The remote subsegment that leads to backend-flask's segment is not an inferred node.
  EXPECT_FALSE(std::any_of(t.facts.services.begin(), t.facts.services.end(),
                           [](const ServiceFacts& s) { return s.inferred && s.name == "backend-flask"; }));
}

TEST(AnalyzeTrace, TraceLevelFactsComeFromTheEntrySegment) {
  TraceAnalysis t = AnalyzeTrace(Rows({kFrontend, kBackend}));
  const TraceFacts& f = t.facts;
  EXPECT_TRUE(f.fault);
  EXPECT_FALSE(f.ok);
  EXPECT_EQ(f.http_status, 502);
  EXPECT_EQ(f.http_url, "http://front/home");
  EXPECT_EQ(f.http_method, "GET");
  EXPECT_EQ(f.http_useragent, "ua/1");
  EXPECT_EQ(f.http_clientip, "10.0.0.9");
  EXPECT_NEAR(*f.response_time, 0.5, 1e-6);
  EXPECT_NEAR(f.duration, 0.5, 1e-6);
  EXPECT_FALSE(f.partial);
  EXPECT_EQ(f.users, std::vector<std::string>{"alice"});
  ASSERT_EQ(t.user_nodes.size(), 1u);
  EXPECT_EQ(t.user_nodes[0].size(), 2u);  // both services saw alice
  EXPECT_EQ(f.instance_ids, std::vector<std::string>{"i-123"});
  EXPECT_EQ(f.availability_zones, std::vector<std::string>{"us-east-1a"});
  ASSERT_EQ(f.annotations.size(), 3u);  // tier=web, tier=api, retries=2
  EXPECT_EQ(t.annotation_nodes.size(), 3u);
}

TEST(AnalyzeTrace, FaultRootCauseIsTheDeepestFaultedCall) {
  TraceAnalysis t = AnalyzeTrace(Rows({kFrontend, kBackend}));
  std::vector<const RootCauseFacts*> faults;
  for (const RootCauseFacts& c : t.facts.root_causes) {
    if (c.kind == RootCauseKind::kFault) faults.push_back(&c);
  }
  ASSERT_EQ(faults.size(), 1u);
  const RootCauseService& s = faults[0]->services.at(0);
  EXPECT_EQ(s.name, "backend-flask");
  ASSERT_EQ(s.entity_path.size(), 2u);
  EXPECT_EQ(s.entity_path[0].name, "backend-flask");
  EXPECT_EQ(s.entity_path[1].name, "api.example.com");
  EXPECT_TRUE(s.entity_path[1].remote);
  ASSERT_EQ(s.entity_path[1].exceptions.size(), 1u);
  EXPECT_EQ(s.entity_path[1].exceptions[0].name, "Timeout");
  EXPECT_EQ(s.entity_path[1].exceptions[0].message, "slow");
}

// A checkout segment of 1 s (trace `n`) with a remote SELECT from 0 to `select_end` s and a
// local render from `render_start` to `render_end` s.
std::string Checkout(int n, std::string_view select_end, std::string_view render_start,
                     std::string_view render_end) {
  const std::string id = std::to_string(n) + "00000000000000";
  return std::string(R"({"name": "checkout", "id": ")") + id + R"(1", "trace_id": "1-5759e988-bd862e3fe1be46a99427279)" +
         std::to_string(n) + R"(", "start_time": 1700000000.0, "end_time": 1700000001.0,
  "subsegments": [
    {"name": "SELECT orders", "id": ")" + id + R"(2", "namespace": "remote",
     "start_time": 1700000000.0, "end_time": 17000000)" + std::string(select_end) + R"(},
    {"name": "render", "id": ")" + id + R"(3", "start_time": 17000000)" + std::string(render_start) +
         R"(, "end_time": 17000000)" + std::string(render_end) + "}]}";
}
// The SELECT takes 0.7 s of the checkout's 1 s and has no children: the time went there.
const std::string kSlowQuery = Checkout(3, "00.7", "00.75", "00.95");
// Two calls of 0.3 s each: the checkout's own time dominates.
const std::string kSpreadOut = Checkout(4, "00.3", "00.5", "00.8");

const RootCauseService& ResponseTimeCause(const TraceAnalysis& t) {
  static const RootCauseService kNone;
  for (const RootCauseFacts& c : t.facts.root_causes) {
    if (c.kind == RootCauseKind::kResponseTime) return c.services.at(0);
  }
  ADD_FAILURE() << "no response-time root cause";
  return kNone;
}

TEST(AnalyzeTrace, ResponseTimeRootCauseFollowsTheCallThatTookMostOfTheTime) {
  const TraceAnalysis slow = AnalyzeTrace(Rows({kSlowQuery}));
  const RootCauseService& s = ResponseTimeCause(slow);
  EXPECT_EQ(s.name, "checkout");
  ASSERT_EQ(s.entity_path.size(), 2u);
  EXPECT_EQ(s.entity_path[0].name, "checkout");
  EXPECT_NEAR(s.entity_path[0].coverage.value_or(-1), 1.0, 1e-6);
  EXPECT_EQ(s.entity_path[1].name, "SELECT orders");
  EXPECT_TRUE(s.entity_path[1].remote);
  EXPECT_NEAR(s.entity_path[1].coverage.value_or(-1), 0.7, 1e-6);
  EXPECT_TRUE(s.entity_path[1].exceptions.empty());

  const TraceAnalysis spread = AnalyzeTrace(Rows({kSpreadOut}));
  const RootCauseService& own = ResponseTimeCause(spread);
  ASSERT_EQ(own.entity_path.size(), 1u);
  EXPECT_EQ(own.entity_path[0].name, "checkout");

  // The cause across services: the frontend's time went to backend-flask, whose own calls
  // (0.05 s and 0.15 s of its 0.3 s) do not dominate it.
  const TraceAnalysis across = AnalyzeTrace(Rows({kFrontend, kBackend}));
  const RootCauseService& back = ResponseTimeCause(across);
  EXPECT_EQ(back.name, "backend-flask");
  ASSERT_FALSE(back.entity_path.empty());
  EXPECT_EQ(back.entity_path[0].name, "backend-flask");
  EXPECT_NEAR(back.entity_path[0].coverage.value_or(-1), 0.6, 1e-3);

  auto matches = [](const TraceAnalysis& t, std::string_view text) {
    StatusOr<FilterExpression> e = FilterExpression::Parse(text);
    EXPECT_TRUE(e.ok()) << e.status();
    return e.ok() && e->Matches(t.facts);
  };
  EXPECT_TRUE(matches(slow, R"(rootcause.responsetime.entity { name = "SELECT orders" })"));
  EXPECT_TRUE(matches(slow, "rootcause.responsetime.entity { remote AND coverage > 0.5 }"));
  EXPECT_FALSE(matches(spread, R"(rootcause.responsetime.entity { name = "SELECT orders" })"));
  EXPECT_TRUE(matches(spread, R"(rootcause.responsetime.service { name = "checkout" })"));
}

TEST(AnalyzeTrace, FilterExpressionsEvaluateOverTheFacts) {
  TraceAnalysis t = AnalyzeTrace(Rows({kFrontend, kBackend}));
  auto matches = [&](std::string_view text) {
    StatusOr<FilterExpression> e = FilterExpression::Parse(text);
    EXPECT_TRUE(e.ok()) << e.status();
    return e.ok() && e->Matches(t.facts);
  };
  EXPECT_TRUE(matches(R"(service("backend-flask"))"));
  EXPECT_TRUE(matches(R"(edge("backend-flask", "DynamoDB") { throttle })"));
  EXPECT_FALSE(matches(R"(edge("DynamoDB", "backend-flask"))"));
  EXPECT_TRUE(matches("http.status = 502 AND fault"));
  EXPECT_TRUE(matches(R"(annotation.tier = "api")"));
  EXPECT_TRUE(matches("annotation.retries >= 2"));
  EXPECT_TRUE(matches(R"(user = "alice")"));
  EXPECT_TRUE(matches(R"(rootcause.fault.entity { name = "api.example.com" })"));
  EXPECT_FALSE(matches("ok"));
  EXPECT_FALSE(matches(R"(service("nobody"))"));
}

TEST(AnalyzeTrace, OtlpRowsFormSegmentsAtServiceBoundaries) {
  auto span = [](uint8_t id, uint8_t parent, std::string service, SpanKind kind, int64_t start,
                 int64_t end) {
    Span s;
    s.trace_id[15] = 7;
    s.span_id[7] = id;
    s.parent_span_id[7] = parent;
    s.service_name = std::move(service);
    s.name = "op" + std::to_string(id);
    s.kind = kind;
    s.start_ns = start;
    s.end_ns = end;
    return s;
  };
  std::vector<Span> rows{
      span(1, 0, "web", SpanKind::kServer, 0, 1'000'000'000),
      span(2, 1, "web", SpanKind::kClient, 100, 900'000'000),
      span(3, 2, "api", SpanKind::kServer, 200, 800'000'000),
      span(4, 3, "api", SpanKind::kClient, 300, 400'000'000),  // no child: an inferred node
  };
  rows[3].attributes.push_back(Attribute{"db.system", ValueType::kString, "postgresql", 0, 0, false});
  rows[2].attributes.push_back(Attribute{"http.response.status_code", ValueType::kInt, "", 503, 0, false});
  TraceAnalysis t = AnalyzeTrace(rows);
  ASSERT_EQ(t.facts.services.size(), 3u);
  EXPECT_EQ(t.facts.services[*t.entry].name, "web");
  EXPECT_TRUE(HasEdge(t, "web", "api"));
  EXPECT_TRUE(HasEdge(t, "api", "postgresql"));
  EXPECT_TRUE(t.facts.services[NodeNamed(t, "api")].fault);  // 503
  EXPECT_TRUE(t.facts.services[NodeNamed(t, "web")].ok);
  EXPECT_EQ(t.node_calls.size(), 3u);  // web, api, postgresql
}

TEST(AnalyzeTrace, EmptyInputHasNoNodes) {
  TraceAnalysis t = AnalyzeTrace({});
  EXPECT_TRUE(t.facts.services.empty());
  EXPECT_FALSE(t.entry.has_value());
}

TEST(AnalyzeTrace, ParentCyclesDoNotHang) {
  Span a, b;
  a.span_id[7] = 1;
  a.parent_span_id[7] = 2;
  b.span_id[7] = 2;
  b.parent_span_id[7] = 1;
  a.service_name = b.service_name = "loop";
  a.attributes.push_back(Attribute{"xray.type", ValueType::kString, "subsegment", 0, 0, false});
  b.attributes = a.attributes;
  TraceAnalysis t = AnalyzeTrace({a, b});
  EXPECT_EQ(t.facts.services.size(), 1u);
}

TEST(ServiceGraph, AggregatesCallsPerNodeAndEdge) {
  ServiceGraphBuilder graph;
  graph.Add(AnalyzeTrace(Rows({kFrontend, kBackend})));
  graph.Add(AnalyzeTrace(Rows({kFrontend, kBackend})));
  std::vector<GraphNode> nodes = std::move(graph).Build();
  ASSERT_EQ(nodes.size(), 4u);
  const GraphNode& front = nodes[0];
  EXPECT_EQ(front.name, "frontend");
  EXPECT_TRUE(front.root);
  EXPECT_EQ(front.stats.total, 2);
  EXPECT_EQ(front.stats.fault, 2);
  ASSERT_EQ(front.edges.size(), 1u);
  EXPECT_EQ(nodes[front.edges[0].destination].name, "backend-flask");
  EXPECT_EQ(front.edges[0].stats.total, 2);
  EXPECT_NEAR(front.edges[0].stats.total_response_time, 0.6, 1e-6);
  const GraphNode* dynamo = nullptr;
  for (const GraphNode& n : nodes) {
    if (n.name == "DynamoDB") dynamo = &n;
  }
  ASSERT_NE(dynamo, nullptr);
  EXPECT_EQ(dynamo->stats.throttle, 2);
  EXPECT_EQ(dynamo->stats.errors(), 2);
  EXPECT_EQ(dynamo->stats.ok, 0);
}

TEST(ServiceGraph, ResponseTimeBucketsKeepTwoSignificantDigits) {
  EXPECT_DOUBLE_EQ(ResponseTimeBucket(0.0123), 0.012);
  EXPECT_DOUBLE_EQ(ResponseTimeBucket(1.56), 1.5);
  EXPECT_DOUBLE_EQ(ResponseTimeBucket(250), 250);
  EXPECT_DOUBLE_EQ(ResponseTimeBucket(0), 0);
}

TEST(ServiceStatistics, SelectorPicksNodesOrEdgesPerPeriod) {
  StatusOr<FilterExpression> service = FilterExpression::Parse(R"(service("backend-flask"))");
  ASSERT_TRUE(service.ok());
  ServiceStatisticsBuilder by_service(1700000000 - 60, 1700000000 + 120, 60,
                                      std::make_shared<const FilterExpression>(*service));
  by_service.Add(AnalyzeTrace(Rows({kFrontend, kBackend})));
  std::vector<ServiceStatisticsPoint> points = std::move(by_service).Build();
  ASSERT_EQ(points.size(), 3u);
  EXPECT_FALSE(points[0].service.has_value());
  ASSERT_TRUE(points[1].service.has_value());
  EXPECT_EQ(points[1].service->total, 1);
  EXPECT_EQ(points[1].service->fault, 1);
  EXPECT_FALSE(points[1].edge.has_value());

  ServiceStatisticsBuilder entry(1700000000, 1700000060, 60, nullptr);
  entry.Add(AnalyzeTrace(Rows({kFrontend, kBackend})));
  points = std::move(entry).Build();
  ASSERT_TRUE(points[0].edge.has_value());
  EXPECT_EQ(points[0].edge->total, 1);
  EXPECT_NEAR(points[0].edge->total_response_time, 0.5, 1e-6);
}

}  // namespace
}  // namespace waggle::xray
