// HoneycombApi's state file: saved queries (annotations with their query specs) and markers.
//
//   {"version": 1,
//    "queries": [{"id", "dataset", "spec": <query spec JSON>}],   (only saved ones)
//    "annotations": [{"id", "dataset", "name", "description", "query_id", "created_at",
//                     "updated_at"}],
//    "markers": [{"id", "dataset", "message", "type", "url", "color", "start_time",
//                 "end_time", "created_at", "updated_at"}]}
//
// Times are unix seconds. The file is untrusted on load: any error sets it aside.
#include <spdlog/spdlog.h>

#include "absl/container/flat_hash_set.h"
#include "api/honeycomb_api.h"
#include "api/json_writer.h"
#include "api/query_json.h"
#include "simdjson.h"

namespace waggle {
namespace {

constexpr int64_t kStateVersion = 1;

std::string Str(simdjson::dom::element e, const char* key) {
  std::string_view v;
  return e[key].get_string().get(v) == simdjson::SUCCESS ? std::string(v) : std::string();
}

int64_t Int(simdjson::dom::element e, const char* key) {
  int64_t v = 0;
  return e[key].get_int64().get(v) == simdjson::SUCCESS ? v : 0;
}

}  // namespace

std::string HoneycombApi::EncodeState() const {
  JsonWriter w;
  w.BeginObject();
  w.Key("version").Int(kStateVersion);
  w.Key("queries").BeginArray();
  absl::flat_hash_set<std::string> written;
  for (const Annotation& a : annotations_) {
    auto q = queries_.find(a.query_id);
    if (q == queries_.end() || !written.insert(a.query_id).second) continue;
    w.BeginObject();
    w.Key("id").String(a.query_id).Key("dataset").String(q->second.dataset);
    w.Key("spec").Raw(QuerySpecToJson(q->second.spec, ""));
    w.EndObject();
  }
  w.EndArray();
  w.Key("annotations").BeginArray();
  for (const Annotation& a : annotations_) {
    w.BeginObject();
    w.Key("id").String(a.id).Key("dataset").String(a.dataset).Key("name").String(a.name);
    w.Key("description").String(a.description).Key("query_id").String(a.query_id);
    w.Key("created_at").Int(a.created_at).Key("updated_at").Int(a.updated_at);
    w.EndObject();
  }
  w.EndArray();
  w.Key("markers").BeginArray();
  for (const Marker& m : markers_) {
    w.BeginObject();
    w.Key("id").String(m.id).Key("dataset").String(m.dataset).Key("message").String(m.message);
    w.Key("type").String(m.type).Key("url").String(m.url).Key("color").String(m.color);
    w.Key("start_time").Int(m.start_time).Key("end_time").Int(m.end_time);
    w.Key("created_at").Int(m.created_at).Key("updated_at").Int(m.updated_at);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return w.Take();
}

Status HoneycombApi::DecodeState(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
    return absl::DataLossError("not a JSON object");
  }
  if (Int(doc, "version") != kStateVersion) {
    return absl::DataLossError("unsupported state version " + std::to_string(Int(doc, "version")));
  }
  simdjson::dom::array queries, annotations, markers;
  if (doc["queries"].get(queries) != simdjson::SUCCESS ||
      doc["annotations"].get(annotations) != simdjson::SUCCESS ||
      doc["markers"].get(markers) != simdjson::SUCCESS) {
    return absl::DataLossError("missing queries, annotations or markers");
  }
  for (simdjson::dom::element q : queries) {
    simdjson::dom::element spec_json;
    if (q["spec"].get(spec_json) != simdjson::SUCCESS) return absl::DataLossError("query without spec");
    StatusOr<query::QuerySpec> spec = ParseQuerySpecJson(simdjson::to_string(spec_json));
    RETURN_IF_ERROR(spec.status());
    std::string id = Str(q, "id");
    std::string dataset = Str(q, "dataset");
    if (id.empty() || dataset.empty()) return absl::DataLossError("query without id or dataset");
    std::string canonical = QuerySpecToJson(*spec, "");
    query_id_by_json_[dataset + '\n' + canonical] = id;
    queries_[id] = StoredQuery{dataset, *spec, QuerySpecToJson(*spec, id)};
  }
  for (simdjson::dom::element a : annotations) {
    annotations_.push_back(Annotation{Str(a, "id"), Str(a, "dataset"), Str(a, "name"),
                                      Str(a, "description"), Str(a, "query_id"),
                                      Int(a, "created_at"), Int(a, "updated_at")});
  }
  for (simdjson::dom::element m : markers) {
    markers_.push_back(Marker{Str(m, "id"), Str(m, "dataset"), Str(m, "message"), Str(m, "type"),
                              Str(m, "url"), Str(m, "color"), Int(m, "start_time"),
                              Int(m, "end_time"), Int(m, "created_at"), Int(m, "updated_at")});
  }
  return OkStatus();
}

void HoneycombApi::LoadState() {
  if (state_path_.empty() || !env_->FileExists(state_path_)) return;
  StatusOr<std::string> text = env_->ReadFile(state_path_);
  Status s = text.ok() ? DecodeState(*text) : text.status();
  if (s.ok()) return;
  spdlog::warn("api: cannot read saved queries and markers from {} ({}); setting it aside",
               state_path_, std::string(s.message()));
  queries_.clear();
  query_id_by_json_.clear();
  annotations_.clear();
  markers_.clear();
  (void)env_->RenameFile(state_path_, state_path_ + ".unreadable");
}

void HoneycombApi::SaveState() {
  if (state_path_.empty()) return;
  Status s = env_->WriteFileAtomic(state_path_, EncodeState());
  if (!s.ok()) {
    spdlog::error("api: saving saved queries and markers to {} failed: {}", state_path_,
                  std::string(s.message()));
  }
}

}  // namespace waggle
