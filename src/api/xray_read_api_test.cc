#include "api/xray_read_api.h"

#include <gtest/gtest.h>

#include "simdjson.h"
#include "store/testing/fake_store.h"
#include "xray/groups.h"
#include "xray/segment_document.h"

namespace waggle {
namespace {

// Trace i: frontend (root) calls backend-flask, which calls DynamoDB; every third trace's
// backend answers 500. Roots start at 1700000000 + i seconds.
std::string Frontend(int i) {
  char buf[1024];
  snprintf(buf, sizeof buf, R"({"name": "frontend", "id": "10000000000000%02x",
    "trace_id": "1-6553f100-0000000000000000000000%02x", "start_time": %d.0, "end_time": %d.5,
    "http": {"request": {"method": "GET", "url": "http://front/%d"}, "response": {"status": %d}},
    "annotations": {"n": %d},
    "subsegments": [{"name": "backend-flask", "id": "11000000000000%02x", "namespace": "remote",
                     "start_time": %d.1, "end_time": %d.4}]})",
           i, i, 1700000000 + i, 1700000000 + i, i, i % 3 == 0 ? 502 : 200, i, i,
           1700000000 + i, 1700000000 + i);
  return buf;
}

std::string Backend(int i) {
  char buf[1024];
  snprintf(buf, sizeof buf, R"({"name": "backend-flask", "id": "20000000000000%02x",
    "trace_id": "1-6553f100-0000000000000000000000%02x", "parent_id": "11000000000000%02x",
    "start_time": %d.15, "end_time": %d.35, "fault": %s,
    "subsegments": [{"name": "DynamoDB", "id": "21000000000000%02x", "namespace": "aws",
                     "start_time": %d.2, "end_time": %d.3}]})",
           i, i, i, 1700000000 + i, 1700000000 + i, i % 3 == 0 ? "true" : "false", i,
           1700000000 + i, 1700000000 + i);
  return buf;
}

class XrayReadApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SpanBatch batch;
    for (int i = 0; i < 12; ++i) {
      ASSERT_TRUE(xray::DecodeSegmentDocument(Frontend(i), &batch).ok()) << Frontend(i);
      ASSERT_TRUE(xray::DecodeSegmentDocument(Backend(i), &batch).ok()) << Backend(i);
    }
    ASSERT_TRUE(store_.Append(batch).ok());
    ASSERT_TRUE(groups_.Create("Cruddur", R"(service("backend-flask") { fault })", {}, "us-east-1")
                    .ok());
  }

  HttpResponse Post(std::string path, std::string body) {
    HttpRequest r;
    r.method = "POST";
    r.path = std::move(path);
    r.body = std::move(body);
    std::optional<HttpResponse> resp = api_.Handle(r);
    EXPECT_TRUE(resp.has_value());
    return resp ? *resp : HttpResponse{};
  }

  simdjson::dom::element Json(const HttpResponse& r) {
    simdjson::dom::element e;
    EXPECT_EQ(parser_.parse(r.body).get(e), simdjson::SUCCESS) << r.body;
    return e;
  }

  testing::FakeStore store_;
  xray::GroupSet groups_;
  Metrics metrics_;
  XrayReadApi api_{&store_, [this] { return groups_.Resolver(); }, &metrics_};
  simdjson::dom::parser parser_;
};

constexpr std::string_view kWholeRange = R"("StartTime": 1699999990, "EndTime": 1700000100)";

TEST_F(XrayReadApiTest, SummariesNewestFirstWithFacts) {
  HttpResponse r = Post("/TraceSummaries", "{" + std::string(kWholeRange) + "}");
  ASSERT_EQ(r.status, 200) << r.body;
  simdjson::dom::element doc = Json(r);
  simdjson::dom::array summaries = doc["TraceSummaries"].get_array();
  ASSERT_EQ(summaries.size(), 12u);
  simdjson::dom::element first = summaries.at(0);
  EXPECT_EQ(std::string_view(first["Id"]), "1-6553f100-00000000000000000000000b");
  EXPECT_NEAR(double(first["Duration"]), 0.5, 1e-6);
  EXPECT_EQ(std::string_view(first["EntryPoint"]["Name"]), "frontend");
  EXPECT_EQ(std::string_view(first["Http"]["HttpURL"]), "http://front/11");
  EXPECT_EQ(int64_t(first["Http"]["HttpStatus"]), 200);
  EXPECT_EQ(first["ServiceIds"].get_array().size(), 3u);
  EXPECT_EQ(double(first["Annotations"]["n"].at(0)["AnnotationValue"]["NumberValue"]), 11.0);
  EXPECT_EQ(int64_t(doc["TracesProcessedCount"]), 12);
  EXPECT_TRUE(doc["NextToken"].error() == simdjson::NO_SUCH_FIELD);
}

TEST_F(XrayReadApiTest, FilterExpressionsAndGroupsSelectTraces) {
  HttpResponse r = Post("/TraceSummaries", "{" + std::string(kWholeRange) +
                                               R"(, "FilterExpression": "http.status = 502"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r)["TraceSummaries"].get_array().size(), 4u);  // 0, 3, 6, 9
  r = Post("/TraceSummaries", "{" + std::string(kWholeRange) +
                                  R"(, "FilterExpression": "group.name = \"Cruddur\""})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r)["TraceSummaries"].get_array().size(), 4u);
  r = Post("/TraceSummaries", "{" + std::string(kWholeRange) +
                                  R"(, "FilterExpression": "service(\"backend-flask\""})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("FilterExpression: expected ')' at 23"), std::string::npos) << r.body;
}

// Trace i's root runs [i, i + 0.5) s past 1700000000, its backend segment ends at i + 0.35
// and its DynamoDB call at i + 0.3; the frontend's call to the backend at i + 0.4.
TEST_F(XrayReadApiTest, TimeRangeTypesSelectByStartUpdateOrSegmentEnd) {
  auto ids = [this](std::string_view range, std::string_view type) {
    HttpResponse r = Post("/TraceSummaries", "{" + std::string(range) +
                                                 R"(, "TimeRangeType": ")" + std::string(type) +
                                                 "\"}");
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> out;
    for (simdjson::dom::element s : Json(r)["TraceSummaries"].get_array()) {
      out.emplace_back(std::string_view(s["Id"]).substr(33));
    }
    return out;
  };
  using V = std::vector<std::string>;
  const std::string_view halves = R"("StartTime": 1700000005.5, "EndTime": 1700000006.5)";
  EXPECT_EQ(ids(halves, "TraceId"), V{"06"});  // starts 6.0
  EXPECT_EQ(ids(halves, "Event"), V{"05"});    // ends 5.5; trace 6 ends at 6.5, past the range
  EXPECT_EQ(ids(halves, "Service"), V({"06", "05"}));  // 6.35 (backend); 5.5 (frontend)
  const std::string_view backend_end = R"("StartTime": 1700000005.3, "EndTime": 1700000005.4)";
  EXPECT_EQ(ids(backend_end, "TraceId"), V{});
  EXPECT_EQ(ids(backend_end, "Event"), V{});
  EXPECT_EQ(ids(backend_end, "Service"), V{"05"});  // the backend segment's 5.35
  HttpResponse bad = Post("/TraceSummaries", "{" + std::string(halves) +
                                                 R"(, "TimeRangeType": "Segment"})");
  EXPECT_EQ(bad.status, 400);
}

TEST_F(XrayReadApiTest, SummariesPageWithNextToken) {
  SpanBatch batch;
  for (int i = 12; i < 160; ++i) {
    ASSERT_TRUE(xray::DecodeSegmentDocument(Frontend(i % 256), &batch).ok());
  }
  ASSERT_TRUE(store_.Append(batch).ok());
  std::set<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    std::string body = R"({"StartTime": 1699999990, "EndTime": 1700001000)";
    if (!token.empty()) body += R"(, "NextToken": ")" + token + "\"";
    HttpResponse r = Post("/TraceSummaries", body + "}");
    ASSERT_EQ(r.status, 200) << r.body;
    simdjson::dom::element doc = Json(r);
    for (simdjson::dom::element s : doc["TraceSummaries"].get_array()) {
      EXPECT_TRUE(seen.insert(std::string(std::string_view(s["Id"]))).second);
    }
    std::string_view next;
    token = doc["NextToken"].get(next) == simdjson::SUCCESS ? std::string(next) : "";
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(seen.size(), 160u);
  EXPECT_EQ(pages, 2);
  HttpResponse bad = Post("/TraceSummaries", "{" + std::string(kWholeRange) +
                                                 R"(, "NextToken": "garbage"})");
  EXPECT_EQ(bad.status, 400);
}

TEST_F(XrayReadApiTest, ServiceGraphWithNodesEdgesAndGroup) {
  HttpResponse r = Post("/ServiceGraph", "{" + std::string(kWholeRange) + "}");
  ASSERT_EQ(r.status, 200) << r.body;
  simdjson::dom::array services = Json(r)["Services"].get_array();
  ASSERT_EQ(services.size(), 3u);
  simdjson::dom::element front = services.at(0);
  EXPECT_EQ(std::string_view(front["Name"]), "frontend");
  EXPECT_TRUE(bool(front["Root"]));
  EXPECT_EQ(int64_t(front["SummaryStatistics"]["TotalCount"]), 12);
  EXPECT_EQ(int64_t(front["SummaryStatistics"]["OkCount"]), 12);  // the frontend sets no flag
  simdjson::dom::element edge = front["Edges"].at(0);
  EXPECT_EQ(int64_t(edge["ReferenceId"]), 1);
  EXPECT_EQ(int64_t(edge["SummaryStatistics"]["FaultStatistics"]["TotalCount"]), 4);
  EXPECT_EQ(std::string_view(services.at(2)["Type"]), "AWS::DynamoDB");

  r = Post("/ServiceGraph", "{" + std::string(kWholeRange) + R"(, "GroupName": "Cruddur"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(int64_t(Json(r)["Services"].at(0)["SummaryStatistics"]["TotalCount"]), 4);
  r = Post("/ServiceGraph", "{" + std::string(kWholeRange) + R"(, "GroupName": "nope"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("Group not found"), std::string::npos);
}

// A page of thousands of traces (read on several threads): every trace counts once, and the
// group's expression is applied to each.
TEST_F(XrayReadApiTest, LargePagesAreAnalysedWholeAndFilteredByTheGroup) {
  SpanBatch batch;
  constexpr int kTraces = 3000;
  for (int i = 0; i < kTraces; ++i) {
    char doc[512];
    snprintf(doc, sizeof doc,
             R"({"name": "backend-flask", "id": "%016x", "trace_id": "1-6553f200-%024x",)"
             R"( "start_time": 1700000050.%03d, "end_time": 1700000051.0, "fault": %s})",
             0x30000000 + i, i, i % 1000, i % 5 == 0 ? "true" : "false");
    ASSERT_TRUE(xray::DecodeSegmentDocument(doc, &batch).ok()) << doc;
  }
  ASSERT_TRUE(store_.Append(batch).ok());
  auto backend_total = [this](const std::string& group) {
    HttpResponse r = Post("/ServiceGraph", "{" + std::string(kWholeRange) + group + "}");
    EXPECT_EQ(r.status, 200) << r.body;
    for (simdjson::dom::element svc : Json(r)["Services"].get_array()) {
      if (std::string_view(svc["Name"]) == "backend-flask") {
        return int64_t(svc["SummaryStatistics"]["TotalCount"]);
      }
    }
    return int64_t{-1};
  };
  EXPECT_EQ(backend_total(""), kTraces + 12);  // and the fixture's 12 backend segments
  // Cruddur: service("backend-flask") { fault }: 600 here and 4 in the fixture.
  EXPECT_EQ(backend_total(R"(, "GroupName": "Cruddur")"), kTraces / 5 + 4);
}

// Graphs walk the range page by page: tiny pages must give the same answer as one page, and
// the cap keeps the newest traces.
TEST_F(XrayReadApiTest, GraphsCoverTheRangeAcrossPagesUpToTheCap) {
  XrayReadLimits paged;
  paged.graph_page_traces = 5;  // 12 traces: pages of 5, 5 and 2
  XrayReadApi paged_api(&store_, [this] { return groups_.Resolver(); }, &metrics_, paged);
  auto total = [&](XrayReadApi& api, const std::string& body) {
    HttpRequest r;
    r.method = "POST";
    r.path = "/ServiceGraph";
    r.body = body;
    std::optional<HttpResponse> resp = api.Handle(r);
    EXPECT_TRUE(resp && resp->status == 200) << (resp ? resp->body : "");
    return int64_t(Json(*resp)["Services"].at(0)["SummaryStatistics"]["TotalCount"]);
  };
  const std::string whole = "{" + std::string(kWholeRange) + "}";
  EXPECT_EQ(total(paged_api, whole), 12);
  EXPECT_EQ(total(paged_api, "{" + std::string(kWholeRange) + R"(, "GroupName": "Cruddur"})"), 4);
  XrayReadLimits capped = paged;
  capped.max_graph_traces = 7;  // the newest 7: traces 5..11, of which 6 and 9 fault
  XrayReadApi capped_api(&store_, [this] { return groups_.Resolver(); }, &metrics_, capped);
  EXPECT_EQ(total(capped_api, whole), 7);
  EXPECT_EQ(total(capped_api, "{" + std::string(kWholeRange) + R"(, "GroupName": "Cruddur"})"), 2);
}

TEST_F(XrayReadApiTest, TraceGraphOfGivenTraces) {
  HttpResponse r = Post("/TraceGraph", R"({"TraceIds": ["1-6553f100-000000000000000000000003",
                                                        "1-6553f100-000000000000000000000004"]})");
  ASSERT_EQ(r.status, 200) << r.body;
  simdjson::dom::array services = Json(r)["Services"].get_array();
  ASSERT_EQ(services.size(), 3u);
  EXPECT_EQ(int64_t(services.at(1)["SummaryStatistics"]["FaultStatistics"]["TotalCount"]), 1);
  EXPECT_EQ(Post("/TraceGraph", R"({"TraceIds": ["zzz"]})").status, 400);
}

TEST_F(XrayReadApiTest, TimeSeriesStatisticsPerPeriod) {
  HttpResponse r = Post("/TimeSeriesServiceStatistics",
                        R"J({"StartTime": 1700000000, "EndTime": 1700000012, "Period": 60,
                            "EntitySelectorExpression": "service(\"backend-flask\")"})J");
  ASSERT_EQ(r.status, 200) << r.body;
  simdjson::dom::array points = Json(r)["TimeSeriesServiceStatistics"].get_array();
  ASSERT_EQ(points.size(), 1u);
  EXPECT_EQ(int64_t(points.at(0)["Timestamp"]), 1700000000);
  EXPECT_EQ(int64_t(points.at(0)["ServiceSummaryStatistics"]["TotalCount"]), 12);
  EXPECT_EQ(int64_t(points.at(0)["ServiceSummaryStatistics"]["FaultStatistics"]["TotalCount"]), 4);
  EXPECT_EQ(Post("/TimeSeriesServiceStatistics",
                 R"({"StartTime": 1700000000, "EndTime": 1700000012, "Period": 61})")
                .status,
            400);
}

TEST_F(XrayReadApiTest, BadRequestsGetAwsErrors) {
  HttpResponse r = Post("/ServiceGraph", R"({"EndTime": 1})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("StartTime is required"), std::string::npos);
  r = Post("/TraceSummaries", R"({"StartTime": 5, "EndTime": 1})");
  EXPECT_EQ(r.status, 400);
  r = Post("/TraceSummaries", "not json");
  EXPECT_EQ(r.status, 400);
  HttpRequest get;
  get.method = "GET";
  get.path = "/ServiceGraph";
  EXPECT_EQ(api_.Handle(get)->status, 405);
  get.path = "/Other";
  EXPECT_FALSE(api_.Handle(get).has_value());
}

}  // namespace
}  // namespace waggle
