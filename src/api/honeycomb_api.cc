#include "api/honeycomb_api.h"

#include <chrono>
#include <random>
#include <vector>

#include "api/json_writer.h"
#include "api/query_json.h"
#include "simdjson.h"

namespace waggle {
namespace {

constexpr size_t kMaxBodyBytes = 1 << 20;

HttpResponse Err(int status, std::string_view message) {
  return HttpResponse::Json(status, JsonError(message));
}

HttpResponse MethodNotAllowed(const HttpRequest& request, std::string_view allow) {
  HttpResponse r = Err(405, "method " + request.method + " not allowed on " + request.path);
  r.headers.emplace_back("Allow", std::string(allow));
  return r;
}

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Rfc3339Seconds(int64_t unix_seconds) {
  return FormatRfc3339Utc(unix_seconds * 1'000'000'000);
}

// "/1/<resource>/<dataset>[/<id>]" split into decoded segments after "/1/".
std::vector<std::string> PathSegments(std::string_view path) {
  std::vector<std::string> out;
  path.remove_prefix(3);  // "/1/"
  while (!path.empty()) {
    size_t slash = path.find('/');
    out.push_back(PercentDecode(path.substr(0, slash)));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

StatusOr<std::string> StringField(simdjson::dom::object obj, const char* key) {
  simdjson::dom::element e;
  if (obj[key].get(e) != simdjson::SUCCESS || e.is_null()) return std::string();
  std::string_view s;
  if (e.get_string().get(s) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(std::string(key) + ": expected a string");
  }
  return std::string(s);
}

StatusOr<int64_t> IntField(simdjson::dom::object obj, const char* key, int64_t missing) {
  simdjson::dom::element e;
  if (obj[key].get(e) != simdjson::SUCCESS || e.is_null()) return missing;
  int64_t v;
  if (e.get_int64().get(v) == simdjson::SUCCESS) return v;
  double d;
  if (e.get_double().get(d) == simdjson::SUCCESS) return static_cast<int64_t>(d);
  return absl::InvalidArgumentError(std::string(key) + ": expected a number");
}

}  // namespace

HoneycombApi::HoneycombApi(Store* store, std::string state_path, Env* env)
    : store_(store), state_path_(std::move(state_path)), env_(env ? env : DefaultEnv()) {
  absl::MutexLock lock(&mu_);
  LoadState();
}

std::optional<HttpResponse> HoneycombApi::Handle(const HttpRequest& request) {
  std::vector<std::string> seg = PathSegments(request.path);
  if (seg.empty()) return std::nullopt;
  const std::string& resource = seg[0];
  const std::string dataset = seg.size() > 1 ? seg[1] : "";
  const std::string id = seg.size() > 2 ? seg[2] : "";
  const bool get = request.method == "GET" || request.method == "HEAD";
  const bool post = request.method == "POST";
  if (resource == "datasets") {
    if (!get) return MethodNotAllowed(request, "GET");
    return ListDatasets(dataset);
  }
  if (seg.size() < 2 || dataset.empty()) {
    if (resource == "queries" || resource == "query_results" || resource == "columns" ||
        resource == "markers" || resource == "query_annotations" || resource == "recent_queries") {
      return Err(404, "missing dataset in " + request.path + " (a service name or __all__)");
    }
    return std::nullopt;
  }
  if (resource == "queries") {
    if (id.empty()) return post ? CreateQuery(dataset, request) : MethodNotAllowed(request, "POST");
    return get ? GetQuery(dataset, id) : MethodNotAllowed(request, "GET");
  }
  if (resource == "query_results") {
    if (id.empty()) {
      return post ? CreateQueryResult(dataset, request) : MethodNotAllowed(request, "POST");
    }
    return get ? GetQueryResult(dataset, id) : MethodNotAllowed(request, "GET");
  }
  if (resource == "columns") {
    if (!get) return MethodNotAllowed(request, "GET");
    return ListColumns(dataset, request);
  }
  if (resource == "markers") return Markers(dataset, id, request);
  if (resource == "query_annotations") return Annotations(dataset, id, request);
  if (resource == "recent_queries") {
    return get ? RecentQueries(dataset) : MethodNotAllowed(request, "GET");
  }
  return std::nullopt;
}

std::string HoneycombApi::NewId() {
  static constexpr char kAlphabet[] =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string id;
  uint64_t r = rng();
  for (int i = 0; i < 11; ++i) {
    id.push_back(kAlphabet[r % 62]);
    r /= 62;
  }
  return id;
}

HttpResponse HoneycombApi::CreateQuery(const std::string& dataset, const HttpRequest& request) {
  if (request.body.size() > kMaxBodyBytes) return Err(413, "query spec larger than 1 MiB");
  StatusOr<query::QuerySpec> spec = ParseQuerySpecJson(request.body);
  if (!spec.ok()) return Err(400, std::string(spec.status().message()));
  std::string canonical = QuerySpecToJson(*spec, "");
  std::string dedup_key = dataset + '\n' + canonical;
  absl::MutexLock lock(&mu_);
  auto known = query_id_by_json_.find(dedup_key);
  if (known != query_id_by_json_.end()) {
    return HttpResponse::Json(200, queries_[known->second].json);
  }
  if (queries_.size() >= kMaxQueries) {
    return Err(429, "too many stored queries (limit " + std::to_string(kMaxQueries) + ")");
  }
  std::string id = NewId();
  StoredQuery q{dataset, *spec, QuerySpecToJson(*spec, id)};
  std::string json = q.json;
  queries_.emplace(id, std::move(q));
  query_id_by_json_.emplace(std::move(dedup_key), id);
  return HttpResponse::Json(200, json);
}

HttpResponse HoneycombApi::GetQuery(const std::string& dataset, const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto it = queries_.find(id);
  if (it == queries_.end() || it->second.dataset != dataset) {
    return Err(404, "no query " + id + " in dataset " + dataset);
  }
  return HttpResponse::Json(200, it->second.json);
}

HttpResponse HoneycombApi::CreateQueryResult(const std::string& dataset,
                                             const HttpRequest& request) {
  simdjson::dom::parser parser;
  simdjson::dom::object body;
  if (request.body.size() > kMaxBodyBytes || parser.parse(request.body).get(body) != simdjson::SUCCESS) {
    return Err(400, "body must be a JSON object like {\"query_id\": \"...\"}");
  }
  StatusOr<std::string> query_id = StringField(body, "query_id");
  if (!query_id.ok()) return Err(400, std::string(query_id.status().message()));
  if (query_id->empty()) return Err(400, "query_id: required");
  StatusOr<int64_t> limit = IntField(body, "limit", 0);
  if (!limit.ok()) return Err(400, std::string(limit.status().message()));
  bool disable_series = false;
  if (simdjson::dom::element e; body["disable_series"].get(e) == simdjson::SUCCESS) {
    if (e.get_bool().get(disable_series) != simdjson::SUCCESS) {
      return Err(400, "disable_series: expected a boolean");
    }
  }
  query::QueryRequest req;
  req.dataset = dataset;
  req.disable_series = disable_series;
  {
    absl::MutexLock lock(&mu_);
    auto it = queries_.find(*query_id);
    if (it == queries_.end() || it->second.dataset != dataset) {
      return Err(404, "no query " + *query_id + " in dataset " + dataset +
                          " (create it with POST /1/queries/" + dataset + ")");
    }
    req.spec = it->second.spec;
  }
  if (*limit > 0) req.spec.limit = std::min<int64_t>(*limit, query::kMaxLimit);
  StatusOr<query::QueryResult> result = store_->Query(req);
  if (!result.ok()) {
    int status = result.status().code() == absl::StatusCode::kInvalidArgument     ? 400
                 : result.status().code() == absl::StatusCode::kResourceExhausted ? 422
                                                                                  : 500;
    return Err(status, std::string(result.status().message()));
  }
  std::string id = NewId();
  std::string url = "/query/" + dataset + "/" + *query_id;
  std::string json = QueryResultToJson(*result, id, url, true);
  absl::MutexLock lock(&mu_);
  recent_.push_front(RecentQuery{*query_id, dataset, NowSeconds(),
                                 static_cast<double>(result->stats.elapsed_ns) / 1e6});
  if (recent_.size() > kMaxRecent) recent_.pop_back();
  results_[id] = StoredResult{dataset, json};
  result_order_.push_back(id);
  while (result_order_.size() > kMaxResults) {
    results_.erase(result_order_.front());
    result_order_.pop_front();
  }
  return HttpResponse::Json(201, std::move(json));
}

HttpResponse HoneycombApi::GetQueryResult(const std::string& dataset, const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto it = results_.find(id);
  if (it == results_.end() || it->second.dataset != dataset) {
    return Err(404, "no query result " + id + " in dataset " + dataset);
  }
  return HttpResponse::Json(200, it->second.json);
}

HttpResponse HoneycombApi::ListDatasets(const std::string& slug) {
  query::QueryRequest req;
  req.dataset = std::string(query::kAllDatasets);
  req.disable_series = true;
  req.spec.breakdowns = {"service.name"};
  req.spec.start_time = 1;
  req.spec.end_time = NowSeconds() + 1;
  req.spec.limit = query::kMaxLimit;
  StatusOr<query::QueryResult> result = store_->Query(req);
  if (!result.ok()) return Err(500, "listing datasets failed: " + std::string(result.status().message()));
  StatusOr<std::vector<ColumnInfo>> columns = store_->Columns();
  int64_t last_written = 0;
  if (columns.ok()) {
    for (const ColumnInfo& c : *columns) last_written = std::max(last_written, c.last_written_ns);
  }
  JsonWriter w;
  bool found = false;
  if (slug.empty()) w.BeginArray();
  for (const query::ResultRow& row : result->results) {
    if (row.group.empty() || row.group[0].kind != query::Value::Kind::kString) continue;
    const std::string& name = row.group[0].str;
    if (!slug.empty() && name != slug) continue;
    found = true;
    w.BeginObject();
    w.Key("name").String(name).Key("slug").String(name).Key("description").String("");
    w.Key("expand_json_depth").Int(0);
    w.Key("regular_columns_count").Int(columns.ok() ? static_cast<int64_t>(columns->size()) : 0);
    w.Key("last_written_at").String(Rfc3339Seconds(last_written / 1'000'000'000));
    w.Key("created_at").String(Rfc3339Seconds(last_written / 1'000'000'000));
    w.EndObject();
  }
  if (!slug.empty()) {
    if (!found) return Err(404, "no dataset " + slug);
    return HttpResponse::Json(200, w.Take());
  }
  w.EndArray();
  return HttpResponse::Json(200, w.Take());
}

HttpResponse HoneycombApi::ListColumns(const std::string& dataset, const HttpRequest& request) {
  (void)dataset;  // columns are tracked store-wide, not per service
  StatusOr<std::vector<ColumnInfo>> columns = store_->Columns();
  if (!columns.ok()) return Err(500, "listing columns failed: " + std::string(columns.status().message()));
  const std::string key_name = request.QueryParam("key_name");
  JsonWriter w;
  auto write = [&](const ColumnInfo& c) {
    std::string written = Rfc3339Seconds(c.last_written_ns / 1'000'000'000);
    w.BeginObject();
    w.Key("id").String(c.name + ":" + std::string(ValueTypeName(c.type)));
    w.Key("key_name").String(c.name).Key("type").String(ValueTypeName(c.type));
    w.Key("description").String("").Key("hidden").Bool(false);
    w.Key("last_written").String(written).Key("created_at").String(written);
    w.Key("updated_at").String(written);
    w.EndObject();
  };
  if (!key_name.empty()) {
    for (const ColumnInfo& c : *columns) {
      if (c.name == key_name) {
        write(c);
        return HttpResponse::Json(200, w.Take());
      }
    }
    return Err(404, "no column " + key_name);
  }
  w.BeginArray();
  for (const ColumnInfo& c : *columns) write(c);
  w.EndArray();
  return HttpResponse::Json(200, w.Take());
}

void HoneycombApi::WriteMarker(JsonWriter& w, const Marker& k) {
  w.BeginObject();
  w.Key("id").String(k.id).Key("start_time").Int(k.start_time);
  if (k.end_time) w.Key("end_time").Int(k.end_time);
  w.Key("message").String(k.message).Key("type").String(k.type).Key("url").String(k.url);
  w.Key("color").String(k.color);
  w.Key("created_at").String(Rfc3339Seconds(k.created_at));
  w.Key("updated_at").String(Rfc3339Seconds(k.updated_at));
  w.EndObject();
}

HttpResponse HoneycombApi::Markers(const std::string& dataset, const std::string& id,
                                   const HttpRequest& request) {
  const std::string& m = request.method;
  if (id.empty()) {
    if (m == "POST") return UpsertMarker(dataset, "", request);
    if (m != "GET" && m != "HEAD") return MethodNotAllowed(request, "GET, POST");
    JsonWriter w;
    w.BeginArray();
    absl::MutexLock lock(&mu_);
    for (const Marker& k : markers_) {
      if (k.dataset != dataset && dataset != query::kAllDatasets) continue;
      WriteMarker(w, k);
    }
    w.EndArray();
    return HttpResponse::Json(200, w.Take());
  }
  if (m == "PUT") return UpsertMarker(dataset, id, request);
  if (m != "DELETE") return MethodNotAllowed(request, "PUT, DELETE");
  absl::MutexLock lock(&mu_);
  for (auto it = markers_.begin(); it != markers_.end(); ++it) {
    if (it->id == id && it->dataset == dataset) {
      JsonWriter w;
      WriteMarker(w, *it);
      markers_.erase(it);
      SaveState();
      return HttpResponse::Json(200, w.Take());
    }
  }
  return Err(404, "no marker " + id + " in dataset " + dataset);
}

HttpResponse HoneycombApi::UpsertMarker(const std::string& dataset, const std::string& id,
                                        const HttpRequest& request) {
  simdjson::dom::parser parser;
  simdjson::dom::object body;
  if (request.body.size() > kMaxBodyBytes || parser.parse(request.body).get(body) != simdjson::SUCCESS) {
    return Err(400, "body must be a JSON object like {\"message\": \"deploy\", \"type\": \"deploy\"}");
  }
  const int64_t now = NowSeconds();
  Marker k;
  StatusOr<std::string> message = StringField(body, "message");
  StatusOr<std::string> type = StringField(body, "type");
  StatusOr<std::string> url = StringField(body, "url");
  StatusOr<int64_t> start = IntField(body, "start_time", now);
  StatusOr<int64_t> end = IntField(body, "end_time", 0);
  for (const Status& s : {message.status(), type.status(), url.status(), start.status(), end.status()}) {
    if (!s.ok()) return Err(400, std::string(s.message()));
  }
  absl::MutexLock lock(&mu_);
  Marker* target = nullptr;
  if (!id.empty()) {
    for (Marker& existing : markers_) {
      if (existing.id == id && existing.dataset == dataset) target = &existing;
    }
    if (!target) return Err(404, "no marker " + id + " in dataset " + dataset);
  } else {
    if (markers_.size() >= kMaxMarkers) markers_.pop_front();
    markers_.push_back(Marker{});
    target = &markers_.back();
    target->id = NewId();
    target->dataset = dataset;
    target->created_at = now;
    target->color = "#F2B34C";
  }
  target->message = *message;
  target->type = *type;
  target->url = *url;
  target->start_time = *start;
  target->end_time = *end;
  target->updated_at = now;
  SaveState();
  JsonWriter w;
  WriteMarker(w, *target);
  return HttpResponse::Json(id.empty() ? 201 : 200, w.Take());
}

}  // namespace waggle

namespace waggle {

void HoneycombApi::WriteAnnotation(JsonWriter& w, const Annotation& a) {
  w.BeginObject();
  w.Key("id").String(a.id).Key("name").String(a.name).Key("description").String(a.description);
  w.Key("query_id").String(a.query_id);
  w.Key("created_at").String(Rfc3339Seconds(a.created_at));
  w.Key("updated_at").String(Rfc3339Seconds(a.updated_at));
  w.EndObject();
}

HttpResponse HoneycombApi::Annotations(const std::string& dataset, const std::string& id,
                                       const HttpRequest& request) {
  const std::string& m = request.method;
  const bool get = m == "GET" || m == "HEAD";
  if (id.empty()) {
    if (m == "POST") return UpsertAnnotation(dataset, "", request);
    if (!get) return MethodNotAllowed(request, "GET, POST");
    JsonWriter w;
    w.BeginArray();
    absl::MutexLock lock(&mu_);
    for (const Annotation& a : annotations_) {
      if (a.dataset == dataset) WriteAnnotation(w, a);
    }
    w.EndArray();
    return HttpResponse::Json(200, w.Take());
  }
  if (m == "PUT") return UpsertAnnotation(dataset, id, request);
  if (!get && m != "DELETE") return MethodNotAllowed(request, "GET, PUT, DELETE");
  absl::MutexLock lock(&mu_);
  for (auto it = annotations_.begin(); it != annotations_.end(); ++it) {
    if (it->id != id || it->dataset != dataset) continue;
    JsonWriter w;
    WriteAnnotation(w, *it);
    if (m == "DELETE") {
      annotations_.erase(it);
      SaveState();
    }
    return HttpResponse::Json(200, w.Take());
  }
  return Err(404, "no query annotation " + id + " in dataset " + dataset);
}

HttpResponse HoneycombApi::UpsertAnnotation(const std::string& dataset, const std::string& id,
                                            const HttpRequest& request) {
  simdjson::dom::parser parser;
  simdjson::dom::object body;
  if (request.body.size() > kMaxBodyBytes ||
      parser.parse(request.body).get(body) != simdjson::SUCCESS) {
    return Err(400, "body must be a JSON object like {\"name\": \"...\", \"query_id\": \"...\"}");
  }
  StatusOr<std::string> name = StringField(body, "name");
  StatusOr<std::string> description = StringField(body, "description");
  StatusOr<std::string> query_id = StringField(body, "query_id");
  for (const Status& s : {name.status(), description.status(), query_id.status()}) {
    if (!s.ok()) return Err(400, std::string(s.message()));
  }
  if (name->empty()) return Err(400, "name: required");
  const int64_t now = NowSeconds();
  absl::MutexLock lock(&mu_);
  Annotation* target = nullptr;
  if (!id.empty()) {
    for (Annotation& a : annotations_) {
      if (a.id == id && a.dataset == dataset) target = &a;
    }
    if (!target) return Err(404, "no query annotation " + id + " in dataset " + dataset);
    if (query_id->empty()) *query_id = target->query_id;
  }
  auto q = queries_.find(*query_id);
  if (q == queries_.end() || q->second.dataset != dataset) {
    return Err(400, "query_id: no query " + *query_id + " in dataset " + dataset);
  }
  if (!target) {
    if (annotations_.size() >= kMaxAnnotations) {
      return Err(429, "too many saved queries (limit " + std::to_string(kMaxAnnotations) + ")");
    }
    annotations_.push_back(Annotation{NewId(), dataset, "", "", "", now, now});
    target = &annotations_.back();
  }
  target->name = *name;
  target->description = *description;
  target->query_id = *query_id;
  target->updated_at = now;
  SaveState();
  JsonWriter w;
  WriteAnnotation(w, *target);
  return HttpResponse::Json(id.empty() ? 201 : 200, w.Take());
}

HttpResponse HoneycombApi::RecentQueries(const std::string& dataset) {
  JsonWriter w;
  w.BeginArray();
  absl::MutexLock lock(&mu_);
  for (const RecentQuery& r : recent_) {
    if (r.dataset != dataset && dataset != query::kAllDatasets) continue;
    auto q = queries_.find(r.query_id);
    if (q == queries_.end()) continue;
    w.BeginObject();
    w.Key("query_id").String(r.query_id).Key("dataset").String(r.dataset);
    w.Key("ran_at").String(Rfc3339Seconds(r.ran_at)).Key("elapsed_ms").Double(r.elapsed_ms);
    w.Key("query").Raw(q->second.json);
    w.EndObject();
  }
  w.EndArray();
  return HttpResponse::Json(200, w.Take());
}

}  // namespace waggle
