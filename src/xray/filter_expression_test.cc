#include "xray/filter_expression.h"

#include <gtest/gtest.h>

namespace waggle::xray {
namespace {

std::string Ast(std::string_view text) {
  StatusOr<FilterExpression> e = FilterExpression::Parse(text);
  if (!e.ok()) return "ERROR " + std::string(e.status().message());
  return e->DebugString();
}

std::string Error(std::string_view text) {
  StatusOr<FilterExpression> e = FilterExpression::Parse(text);
  EXPECT_FALSE(e.ok()) << text << " parsed as " << e->DebugString();
  return e.ok() ? "" : std::string(e.status().message());
}

TEST(FilterParse, SeedGroupExpression) {
  EXPECT_EQ(Ast("service(\"backend-flask\")"), "(service \"backend-flask\")");
}

TEST(FilterParse, EmptyMatchesAll) {
  EXPECT_EQ(Ast(""), "(all)");
  EXPECT_EQ(Ast("   "), "(all)");
}

TEST(FilterParse, Keywords) {
  EXPECT_EQ(Ast("ok"), "(ok)");
  EXPECT_EQ(Ast("fault = true"), "(fault = true)");
  EXPECT_EQ(Ast("error != false"), "(error != false)");
  EXPECT_EQ(Ast("responseTime > 5"), "(responsetime > 5)");
  EXPECT_EQ(Ast("duration >= 0.25"), "(duration >= 0.25)");
  EXPECT_EQ(Ast("http.status = 500"), "(http.status = 500)");
  EXPECT_EQ(Ast("HTTP.URL contains \"/api/\""), "(http.url CONTAINS \"/api/\")");
  EXPECT_EQ(Ast("http.method BEGINSWITH \"PO\""), "(http.method BEGINSWITH \"PO\")");
  EXPECT_EQ(Ast("http.useragent ENDSWITH \"curl\""), "(http.useragent ENDSWITH \"curl\")");
  EXPECT_EQ(Ast("http.clientip = \"1.2.3.4\""), "(http.clientip = \"1.2.3.4\")");
  EXPECT_EQ(Ast("user = \"alice\""), "(user = \"alice\")");
  EXPECT_EQ(Ast("duration < -1"), "(duration < -1)");
}

TEST(FilterParse, BooleanOperatorsAndPrecedence) {
  EXPECT_EQ(Ast("ok AND fault OR error"), "(or (and (ok) (fault)) (error))");
  EXPECT_EQ(Ast("ok and (fault or error)"), "(and (ok) (or (fault) (error)))");
  EXPECT_EQ(Ast("NOT ok"), "(not (ok))");
  EXPECT_EQ(Ast("!partial"), "(not (partial))");
  EXPECT_EQ(Ast("ok !partial duration <3"),
            "(and (and (ok) (not (partial))) (duration < 3))");
  EXPECT_EQ(Ast("!service(\"x\") OR ok"), "(or (not (service \"x\")) (ok))");
}

TEST(FilterParse, ServicesEdgesAndIds) {
  EXPECT_EQ(Ast("service()"), "(service *)");
  EXPECT_EQ(Ast("service(\"api\") { fault = true }"), "(service \"api\" {(fault = true)})");
  EXPECT_EQ(Ast("service() { fault }"), "(service * {(fault)})");
  EXPECT_EQ(Ast("edge(\"a\", \"b\") {responsetime > 2}"),
            "(edge \"a\" \"b\" {(responsetime > 2)})");
  EXPECT_EQ(Ast("service(id(name: \"x\", type: \"AWS::EC2::Instance\"))"),
            "(service id(name=\"x\" type=\"AWS::EC2::Instance\"))");
  EXPECT_EQ(Ast("edge(id(account.id: \"123\"), \"b\")"),
            "(edge id(account.id=\"123\") \"b\")");
}

TEST(FilterParse, Annotations) {
  EXPECT_EQ(Ast("annotation.gameId"), "(annotation gameId)");
  EXPECT_EQ(Ast("annotation.level > 3"), "(annotation level > 3)");
  EXPECT_EQ(Ast("annotation[gameid] = \"817DL6VO\""), "(annotation gameid = \"817DL6VO\")");
  EXPECT_EQ(Ast("annotation.flag = true"), "(annotation flag = true)");
  EXPECT_EQ(Ast("!annotation.x"), "(not (annotation x))");
  EXPECT_EQ(Ast("annotation.n CONTAINS \"ab\""), "(annotation n CONTAINS \"ab\")");
}

TEST(FilterParse, GroupsAndRootCauses) {
  EXPECT_EQ(Ast("group.name = \"Cruddur\""), "(group.name = \"Cruddur\")");
  EXPECT_EQ(Ast("group.arn = \"arn:aws:xray:us-east-1:000000000000:group/a/b\""),
            "(group.arn = \"arn:aws:xray:us-east-1:000000000000:group/a/b\")");
  EXPECT_EQ(Ast("rootcause.fault.service { name = \"db\" }"),
            "(rootcause fault service {(name = \"db\")})");
  EXPECT_EQ(Ast("rootcause.responsetime.entity { coverage > 0.5 }"),
            "(rootcause responsetime entity {(coverage > 0.5)})");
  EXPECT_EQ(Ast("rootcause.error.exception { message CONTAINS \"boom\" }"),
            "(rootcause error exception {(message CONTAINS \"boom\")})");
}

TEST(FilterParse, StringsKeepEscapes) {
  EXPECT_EQ(Ast(R"(http.url = "a\"b\\c")"), "(http.url = \"a\"b\\c\")");
}

TEST(FilterParseErrors, ReportOffsetAndExpectation) {
  EXPECT_EQ(Error("service(\"backend-flask\""),
            "expected ')' at 23, found end of expression");
  EXPECT_EQ(Error("(ok AND fault"), "expected ')' at 13, found end of expression");
  EXPECT_EQ(Error("http.status = \"500\""), "expected a number at 14, found string \"500\"");
  EXPECT_EQ(Error("http.url = foo"), "expected a double-quoted string at 11, found 'foo'");
  EXPECT_EQ(Error("duration"),
            "expected a comparison operator (=, !=, <, <=, >, >=) at 8, found end of expression");
  EXPECT_EQ(Error("http.url > \"a\""),
            "expected =, !=, CONTAINS, BEGINSWITH or ENDSWITH at 9, found '>'");
  EXPECT_EQ(Error("ok AND"), "expected a keyword, '!' or '(' at 6, found end of expression");
  EXPECT_EQ(Error("frobnicate = 1"), "unknown keyword 'frobnicate' at 0");
  EXPECT_EQ(Error("ok = maybe"), "expected true or false at 5, found 'maybe'");
  EXPECT_EQ(Error("http.url = \"abc"), "unterminated string starting at 11");
  EXPECT_EQ(Error("ok & fault"), "unexpected character '&' at 3");
  EXPECT_EQ(Error("ok)"), "expected AND, OR or the end of the expression at 2, found ')'");
  EXPECT_EQ(Error("edge(\"a\")"), "expected ',' at 8, found ')'");
  EXPECT_EQ(Error("service(id(nom: \"x\"))"),
            "unknown id() field 'nom' (expected name, type or account.id) at 11");
  EXPECT_EQ(Error("rootcause.fault.service"), "expected '{' at 23, found end of expression");
  EXPECT_EQ(Error("rootcause.json = #[{}]"),
            "rootcause.json is not supported; use rootcause.KIND.TARGET { ... } at 0");
  EXPECT_EQ(Error("annotation.n CONTAINS 5"),
            "CONTAINS, BEGINSWITH and ENDSWITH need a string value at 22");
  EXPECT_EQ(Error("group.name != \"x\""), "expected '=' at 11, found '!='");
}

TEST(FilterParseErrors, LimitsAreEnforced) {
  std::string deep(200, '(');
  deep += "ok" + std::string(200, ')');
  EXPECT_NE(Error(deep).find("nested too deeply"), std::string::npos);
  std::string bangs(200, '!');
  EXPECT_NE(Error(bangs + "ok").find("nested too deeply"), std::string::npos);
  EXPECT_NE(Error(std::string(kMaxFilterLength + 1, ' ')).find("limit"), std::string::npos);
  EXPECT_TRUE(FilterExpression::Parse(std::string(kMaxFilterLength, ' ')).ok());
}

// --- evaluation ----------------------------------------------------------------------------

TraceFacts SampleTrace() {
  TraceFacts t;
  t.ok = false;
  t.fault = true;
  t.response_time = 1.5;
  t.duration = 2.0;
  t.http_status = 502;
  t.http_url = "https://example.com/api/activities/home";
  t.http_method = "GET";
  t.users = {"alice"};
  t.annotations = {{"level", 4.0}, {"gameid", std::string("817DL6VO")}, {"vip", true}};
  ServiceFacts flask;
  flask.name = "backend-flask";
  flask.type = "AWS::EC2::Instance";
  flask.account_id = "111";
  flask.root = true;
  flask.fault = true;
  flask.response_time = 1.5;
  ServiceFacts db;
  db.name = "db";
  db.type = "AWS::RDS";
  db.inferred = true;
  db.ok = true;
  db.response_time = 0.2;
  t.services = {flask, db};
  EdgeFacts edge;
  edge.source = flask;
  edge.destination = db;
  edge.ok = true;
  edge.response_time = 0.2;
  t.edges = {edge};
  RootCauseFacts cause;
  cause.kind = RootCauseKind::kFault;
  cause.services = {RootCauseService{
      "backend-flask", "AWS::EC2::Instance", "111", false,
      {RootCauseEntity{"backend-flask", false, std::nullopt,
                       {RootCauseException{"KeyError", "boom: no key"}}}}}};
  t.root_causes = {cause};
  return t;
}

bool Match(std::string_view text, const TraceFacts& t, const GroupResolver& groups = nullptr) {
  StatusOr<FilterExpression> e = FilterExpression::Parse(text);
  EXPECT_TRUE(e.ok()) << text << ": " << e.status();
  return e.ok() && e->Matches(t, groups);
}

TEST(FilterEval, ServicesAndEdges) {
  TraceFacts t = SampleTrace();
  EXPECT_TRUE(Match("service(\"backend-flask\")", t));
  EXPECT_FALSE(Match("service(\"frontend\")", t));
  EXPECT_TRUE(Match("!service(\"frontend\")", t));
  EXPECT_TRUE(Match("service(\"backend-flask\") { fault }", t));
  EXPECT_FALSE(Match("service(\"db\") { fault }", t));
  EXPECT_TRUE(Match("service() { inferred }", t));
  EXPECT_TRUE(Match("service(id(name: \"db\", type: \"AWS::RDS\"))", t));
  EXPECT_FALSE(Match("service(id(name: \"db\", type: \"AWS::EC2::Instance\"))", t));
  EXPECT_TRUE(Match("edge(\"backend-flask\", \"db\") { responsetime < 1 }", t));
  EXPECT_FALSE(Match("edge(\"db\", \"backend-flask\")", t));
  EXPECT_FALSE(Match("edge(\"backend-flask\", \"db\") { fault }", t));
}

TEST(FilterEval, TraceKeywords) {
  TraceFacts t = SampleTrace();
  EXPECT_TRUE(Match("fault", t));
  EXPECT_FALSE(Match("ok", t));
  EXPECT_TRUE(Match("!ok", t));
  EXPECT_TRUE(Match("ok = false", t));
  EXPECT_TRUE(Match("fault != false", t));
  EXPECT_TRUE(Match("http.status >= 500 AND http.status < 503", t));
  EXPECT_FALSE(Match("http.status = 500", t));
  EXPECT_TRUE(Match("responsetime > 1 duration <= 2", t));
  EXPECT_TRUE(Match("http.url CONTAINS \"/activities/\"", t));
  EXPECT_TRUE(Match("http.url BEGINSWITH \"https://\" AND http.url ENDSWITH \"home\"", t));
  EXPECT_FALSE(Match("http.url CONTAINS \"/ACTIVITIES/\"", t));  // case-sensitive
  EXPECT_TRUE(Match("user = \"alice\"", t));
  EXPECT_TRUE(Match("user CONTAINS \"\"", t));
  EXPECT_TRUE(Match("name = \"backend-flask\"", t));  // the entry service
  // Missing fields never match, whatever the operator.
  EXPECT_FALSE(Match("http.useragent != \"x\"", t));
  TraceFacts anonymous = t;
  anonymous.users.clear();
  EXPECT_FALSE(Match("user CONTAINS \"\"", anonymous));
}

TEST(FilterEval, UserMatchesAnySegmentUser) {
  TraceFacts t = SampleTrace();
  t.users = {"bob", "alice"};
  EXPECT_TRUE(Match("user = \"alice\"", t));
  EXPECT_TRUE(Match("user != \"bob\"", t));  // alice is not bob
  t.users = {"bob"};
  EXPECT_FALSE(Match("user != \"bob\"", t));
  t.instance_ids = {"i-1", "i-2"};
  EXPECT_TRUE(Match("instance.id = \"i-2\"", t));
}

TEST(FilterEval, Annotations) {
  TraceFacts t = SampleTrace();
  EXPECT_TRUE(Match("annotation.level", t));
  EXPECT_FALSE(Match("annotation.missing", t));
  EXPECT_TRUE(Match("!annotation.missing", t));
  EXPECT_TRUE(Match("annotation.level > 3", t));
  EXPECT_FALSE(Match("annotation.level > 4", t));
  EXPECT_FALSE(Match("annotation.level = \"4\"", t));  // typed: a string never equals a number
  EXPECT_TRUE(Match("annotation[gameid] = \"817DL6VO\"", t));
  EXPECT_TRUE(Match("annotation.gameid BEGINSWITH \"817\"", t));
  EXPECT_TRUE(Match("annotation.vip = true", t));
  EXPECT_FALSE(Match("annotation.GAMEID", t));  // keys are case-sensitive
}

TEST(FilterEval, RootCauses) {
  TraceFacts t = SampleTrace();
  EXPECT_TRUE(Match("rootcause.fault.service { name = \"backend-flask\" }", t));
  EXPECT_FALSE(Match("rootcause.error.service { name = \"backend-flask\" }", t));
  EXPECT_TRUE(Match("rootcause.fault.exception { message CONTAINS \"boom\" }", t));
  EXPECT_FALSE(Match("rootcause.fault.exception { name = \"ValueError\" }", t));
  EXPECT_TRUE(Match("rootcause.fault.entity { !remote }", t));
}

TEST(FilterEval, GroupsResolveAndStopRecursion) {
  TraceFacts t = SampleTrace();
  auto cruddur = std::make_shared<FilterExpression>(
      *FilterExpression::Parse("service(\"backend-flask\")"));
  auto loop = std::make_shared<FilterExpression>(*FilterExpression::Parse("group.name = \"loop\""));
  GroupResolver groups = [&](std::string_view name, bool by_arn)
      -> std::shared_ptr<const FilterExpression> {
    if (!by_arn && name == "Cruddur") return cruddur;
    if (by_arn && name == "arn:x") return cruddur;
    if (name == "loop") return loop;
    return nullptr;
  };
  EXPECT_TRUE(Match("group.name = \"Cruddur\"", t, groups));
  EXPECT_TRUE(Match("group.arn = \"arn:x\"", t, groups));
  EXPECT_FALSE(Match("group.name = \"arn:x\"", t, groups));
  EXPECT_FALSE(Match("group.name = \"nope\"", t, groups));
  EXPECT_FALSE(Match("group.name = \"loop\"", t, groups));
  EXPECT_FALSE(Match("group.name = \"Cruddur\"", t));  // no resolver
}

TEST(FilterEval, EmptyExpressionMatchesEverything) {
  EXPECT_TRUE(Match("", TraceFacts{}));
}

}  // namespace
}  // namespace waggle::xray
