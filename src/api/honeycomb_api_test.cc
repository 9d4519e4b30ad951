#include "api/honeycomb_api.h"

#include <gtest/gtest.h>

#include "simdjson.h"
#include "store/testing/fake_store.h"

namespace waggle {
namespace {

// A store whose queries return a canned one-group result (or a given error).
class QueryStore : public testing::FakeStore {
 public:
  StatusOr<query::QueryResult> Query(const query::QueryRequest& request) override {
    last_ = request;
    ++calls_;
    if (!fail_.ok()) return fail_;
    query::QueryResult r;
    r.breakdowns = request.spec.breakdowns;
    r.calculations = {query::Calculation{query::CalcOp::kCount, ""}};
    query::ResultRow row;
    for (size_t i = 0; i < r.breakdowns.size(); ++i) row.group.push_back(query::Value::String("backend-flask"));
    query::CalcValue v;
    v.kind = query::CalcValue::Kind::kNumber;
    v.number = 42;
    row.values.push_back(v);
    r.results.push_back(row);
    return r;
  }
  query::QueryRequest last_;
  int calls_ = 0;
  Status fail_;
};

HttpRequest Req(std::string method, std::string path, std::string body = "") {
  HttpRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.body = std::move(body);
  return r;
}

std::string Field(const std::string& json, const char* key) {
  simdjson::dom::parser p;
  std::string_view v;
  if (p.parse(json).at_key(key).get_string().get(v) != simdjson::SUCCESS) return "";
  return std::string(v);
}

TEST(HoneycombApi, QueriesAreStoredOnceAndRunOnTheirDataset) {
  QueryStore store;
  HoneycombApi api(&store, "");
  const std::string spec = R"({"calculations":[{"op":"COUNT"}],"breakdowns":["service.name"]})";
  auto a = api.Handle(Req("POST", "/1/queries/backend-flask", spec));
  auto b = api.Handle(Req("POST", "/1/queries/backend-flask", spec));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->status, 200) << a->body;
  std::string id = Field(a->body, "id");
  EXPECT_FALSE(id.empty());
  EXPECT_EQ(Field(b->body, "id"), id);
  EXPECT_EQ(api.Handle(Req("GET", "/1/queries/backend-flask/" + id))->status, 200);
  EXPECT_EQ(api.Handle(Req("GET", "/1/queries/other/" + id))->status, 404);

  auto run = api.Handle(Req("POST", "/1/query_results/backend-flask", "{\"query_id\":\"" + id + "\"}"));
  ASSERT_EQ(run->status, 201) << run->body;
  EXPECT_EQ(store.last_.dataset, "backend-flask");
  EXPECT_NE(run->body.find("\"COUNT\":42"), std::string::npos) << run->body;
  auto again = api.Handle(Req("GET", "/1/query_results/backend-flask/" + Field(run->body, "id")));
  EXPECT_EQ(again->body, run->body);
  // A query must run under the dataset it was created for.
  EXPECT_EQ(api.Handle(Req("POST", "/1/query_results/__all__", "{\"query_id\":\"" + id + "\"}"))->status, 404);
  auto recent = api.Handle(Req("GET", "/1/recent_queries/backend-flask"));
  EXPECT_NE(recent->body.find(id), std::string::npos);
}

TEST(HoneycombApi, ErrorsNameTheFieldAndUseHoneycombsShape) {
  QueryStore store;
  HoneycombApi api(&store, "");
  auto bad = api.Handle(Req("POST", "/1/queries/d", R"({"calculations":[{"op":"AVG"}]})"));
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(Field(bad->body, "error").find("calculations[0]"), std::string::npos) << bad->body;
  EXPECT_EQ(api.Handle(Req("POST", "/1/query_results/d", "{}"))->status, 400);
  EXPECT_EQ(api.Handle(Req("POST", "/1/query_results/d", "not json"))->status, 400);
  EXPECT_EQ(api.Handle(Req("DELETE", "/1/queries/d"))->status, 405);
  EXPECT_EQ(api.Handle(Req("GET", "/1/queries"))->status, 404);
  EXPECT_FALSE(api.Handle(Req("GET", "/1/unknown/d")).has_value());
  auto q = api.Handle(Req("POST", "/1/queries/d", R"({"calculations":[{"op":"COUNT"}]})"));
  store.fail_ = absl::ResourceExhaustedError("query needs more than its memory budget");
  auto over = api.Handle(Req("POST", "/1/query_results/d", "{\"query_id\":\"" + Field(q->body, "id") + "\"}"));
  EXPECT_EQ(over->status, 422);
  EXPECT_NE(over->body.find("memory budget"), std::string::npos);
}

TEST(HoneycombApi, SavedQueriesAndMarkersSurviveARestart) {
  std::unique_ptr<MemEnv> env = NewMemEnv();
  QueryStore store;
  std::string annotation_id;
  {
    HoneycombApi api(&store, "/state.json", env.get());
    auto q = api.Handle(Req("POST", "/1/queries/d", R"({"calculations":[{"op":"P99","column":"duration_ms"}]})"));
    std::string qid = Field(q->body, "id");
    auto saved = api.Handle(Req("POST", "/1/query_annotations/d",
                                R"({"name":"Latency by UserID","query_id":")" + qid + "\"}"));
    ASSERT_EQ(saved->status, 201) << saved->body;
    annotation_id = Field(saved->body, "id");
    EXPECT_EQ(api.Handle(Req("POST", "/1/query_annotations/d", R"({"name":"x","query_id":"nope"})"))->status, 400);
    auto marker = api.Handle(Req("POST", "/1/markers/d", R"({"message":"deploy","type":"deploy","start_time":5})"));
    ASSERT_EQ(marker->status, 201) << marker->body;
  }
  HoneycombApi reopened(&store, "/state.json", env.get());
  auto list = reopened.Handle(Req("GET", "/1/query_annotations/d"));
  EXPECT_NE(list->body.find("Latency by UserID"), std::string::npos) << list->body;
  auto one = reopened.Handle(Req("GET", "/1/query_annotations/d/" + annotation_id));
  ASSERT_EQ(one->status, 200);
  std::string qid = Field(one->body, "query_id");
  auto spec = reopened.Handle(Req("GET", "/1/queries/d/" + qid));
  ASSERT_EQ(spec->status, 200);
  EXPECT_NE(spec->body.find("P99"), std::string::npos);
  EXPECT_EQ(reopened.Handle(Req("POST", "/1/query_results/d", "{\"query_id\":\"" + qid + "\"}"))->status, 201);
  auto markers = reopened.Handle(Req("GET", "/1/markers/d"));
  EXPECT_NE(markers->body.find("\"message\":\"deploy\""), std::string::npos) << markers->body;
  EXPECT_EQ(reopened.Handle(Req("DELETE", "/1/query_annotations/d/" + annotation_id))->status, 200);
  EXPECT_EQ(reopened.Handle(Req("GET", "/1/query_annotations/d/" + annotation_id))->status, 404);
}

TEST(HoneycombApi, AnUnreadableStateFileIsSetAside) {
  std::unique_ptr<MemEnv> env = NewMemEnv();
  ASSERT_TRUE(env->WriteFileAtomic("/state.json", "{\"version\": 1, \"queries\": [{]").ok());
  QueryStore store;
  HoneycombApi api(&store, "/state.json", env.get());
  EXPECT_EQ(api.Handle(Req("GET", "/1/query_annotations/d"))->body, "[]");
  EXPECT_TRUE(env->FileExists("/state.json.unreadable"));
}

}  // namespace
}  // namespace waggle
