// HoneycombApi: Honeycomb's v1 query and metadata endpoints over the store's query engine.
//
//   POST /1/queries/{dataset}               store a query spec -> {id, ...spec}; identical specs
//                                           get the same id
//   GET  /1/queries/{dataset}/{id}          the stored spec
//   POST /1/query_results/{dataset}         {"query_id", "disable_series"?, "limit"?}: runs the
//                                           query now -> 201 {id, complete: true, data, links}
//   GET  /1/query_results/{dataset}/{id}    the stored result
//   GET  /1/datasets, /1/datasets/{slug}    datasets = the services that sent spans
//   GET  /1/columns/{dataset}[?key_name=]   columns with type and last write
//   POST/GET /1/markers/{dataset}, PUT/DELETE /1/markers/{dataset}/{id}
//   POST/GET /1/query_annotations/{dataset}, GET/PUT/DELETE .../{id}
//                                           saved queries: a name and description on a query
//                                           id (Honeycomb's model); re-run by query_id
//   GET  /1/recent_queries/{dataset}        (waggle) the last kMaxRecent queries run, newest first
//
// `{dataset}` is a service name or `__all__`; a query result must be requested under the
// dataset its query was created for. Errors are Honeycomb's {"error": "..."} with 400 (bad
// JSON or spec, naming the field), 404 (unknown id), 405, 422 (query over its memory budget).
//
// Stored queries and results (the most recent kMaxResults) live in memory; saved queries (with
// their specs) and markers are also written to `state_path` (atomically, on every change) and
// read back at construction, so they survive restarts.
//
// Thread-safety: Handle() may be called from many threads at once; the store must outlive
// this object.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "env/env.h"
#include "net/http_server.h"
#include "query/query_spec.h"
#include "store/store.h"

namespace waggle {

class JsonWriter;

class HoneycombApi {
 public:
  static constexpr size_t kMaxQueries = 10000;
  static constexpr size_t kMaxResults = 1000;
  static constexpr size_t kMaxMarkers = 10000;

  static constexpr size_t kMaxAnnotations = 10000;
  static constexpr size_t kMaxRecent = 100;

  // `state_path` empty: nothing persists. A state file that cannot be read is logged and
  // set aside (renamed *.unreadable), never fatal.
  HoneycombApi(Store* store, std::string state_path, Env* env = nullptr);

  // Handles the paths above (after the caller authenticated); nullopt for any other path.
  std::optional<HttpResponse> Handle(const HttpRequest& request);

 private:
  struct StoredQuery {
    std::string dataset;
    query::QuerySpec spec;
    std::string json;  // canonical form, with id
  };
  struct StoredResult {
    std::string dataset;
    std::string json;
  };
  struct Annotation {
    std::string id, dataset, name, description, query_id;
    int64_t created_at = 0, updated_at = 0;
  };
  struct RecentQuery {
    std::string query_id, dataset;
    int64_t ran_at = 0;
    double elapsed_ms = 0;
  };
  struct Marker {
    std::string id, dataset, message, type, url, color;
    int64_t start_time = 0, end_time = 0, created_at = 0, updated_at = 0;
  };

  HttpResponse CreateQuery(const std::string& dataset, const HttpRequest& request);
  HttpResponse GetQuery(const std::string& dataset, const std::string& id);
  HttpResponse CreateQueryResult(const std::string& dataset, const HttpRequest& request);
  HttpResponse GetQueryResult(const std::string& dataset, const std::string& id);
  HttpResponse ListDatasets(const std::string& slug);
  HttpResponse ListColumns(const std::string& dataset, const HttpRequest& request);
  HttpResponse Markers(const std::string& dataset, const std::string& id,
                       const HttpRequest& request);
  HttpResponse UpsertMarker(const std::string& dataset, const std::string& id,
                            const HttpRequest& request);
  HttpResponse Annotations(const std::string& dataset, const std::string& id,
                           const HttpRequest& request);
  HttpResponse UpsertAnnotation(const std::string& dataset, const std::string& id,
                                const HttpRequest& request);
  HttpResponse RecentQueries(const std::string& dataset);
  static void WriteMarker(JsonWriter& w, const Marker& marker);
  static void WriteAnnotation(JsonWriter& w, const Annotation& annotation);
  // Saved queries, their specs and markers as JSON (the state file).
  std::string EncodeState() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Status DecodeState(std::string_view json) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void LoadState() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes the state file; failures are logged (the change stays in memory).
  void SaveState() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string NewId();

  Store* const store_;
  const std::string state_path_;
  Env* const env_;
  absl::Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, StoredQuery> queries_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::string> query_id_by_json_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, StoredResult> results_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> result_order_ ABSL_GUARDED_BY(mu_);
  std::deque<Marker> markers_ ABSL_GUARDED_BY(mu_);
  std::deque<Annotation> annotations_ ABSL_GUARDED_BY(mu_);
  std::deque<RecentQuery> recent_ ABSL_GUARDED_BY(mu_);
};

}  // namespace waggle
