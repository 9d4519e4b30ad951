#include "server/query_cli.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "api/query_json.h"
#include "net/http_client.h"
#include "query/query_spec.h"
#include "simdjson.h"
#include "store/store.h"

namespace waggle {
namespace {

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// A shorthand operand typed the way JSON would type it.
query::Value TypedValue(std::string_view text) {
  int64_t i;
  double d;
  if (absl::SimpleAtoi(Absl(text), &i)) return query::Value::Int(i);
  if (absl::SimpleAtod(Absl(text), &d)) return query::Value::Double(d);
  if (text == "true" || text == "false") return query::Value::Bool(text == "true");
  return query::Value::String(std::string(text));
}

// "P99(duration_ms)" or "COUNT".
bool ParseCalc(std::string_view text, query::Calculation* out) {
  text = TrimSpaces(text);
  size_t paren = text.find('(');
  std::string_view op = text.substr(0, paren);
  if (!query::ParseCalcOp(op, &out->op)) return false;
  out->column.clear();
  if (paren == std::string_view::npos) return true;
  if (text.back() != ')') return false;
  out->column = std::string(TrimSpaces(text.substr(paren + 1, text.size() - paren - 2)));
  return true;
}

Status AddFilter(std::string_view text, query::QuerySpec* spec) {
  text = TrimSpaces(text);
  size_t sp = text.find(' ');
  if (sp == std::string_view::npos) {
    return absl::InvalidArgumentError("--filter '" + std::string(text) +
                                      "': expected 'COLUMN OP [VALUE]'");
  }
  query::Filter f;
  f.column = std::string(text.substr(0, sp));
  std::string_view rest = TrimSpaces(text.substr(sp + 1));
  size_t sp2 = rest.find(' ');
  std::string_view op = rest.substr(0, sp2);
  if (!query::ParseFilterOp(op, &f.op)) {
    return absl::InvalidArgumentError("--filter '" + std::string(text) + "': unknown op '" +
                                      std::string(op) + "'");
  }
  std::string_view value =
      sp2 == std::string_view::npos ? std::string_view() : TrimSpaces(rest.substr(sp2 + 1));
  if (f.op == query::FilterOp::kIn || f.op == query::FilterOp::kNotIn) {
    while (!value.empty()) {
      size_t comma = value.find(',');
      f.values.push_back(TypedValue(TrimSpaces(value.substr(0, comma))));
      value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    }
  } else if (!value.empty()) {
    f.values.push_back(TypedValue(value));
  }
  spec->filters.push_back(std::move(f));
  return OkStatus();
}

void AddOrder(std::string_view text, query::QuerySpec* spec) {
  text = TrimSpaces(text);
  query::Order o;
  size_t sp = text.rfind(' ');
  if (sp != std::string_view::npos) {
    std::string_view dir = text.substr(sp + 1);
    if (dir == "desc" || dir == "descending" || dir == "asc" || dir == "ascending") {
      o.descending = dir[0] == 'd';
      text = TrimSpaces(text.substr(0, sp));
    }
  }
  query::Calculation calc;
  if (ParseCalc(text, &calc)) {
    o.op = calc.op;
    o.column = calc.column;
  } else {
    o.column = std::string(text);
  }
  spec->orders.push_back(std::move(o));
}

StatusOr<int64_t> ParseSeconds(std::string_view text) {
  int64_t scale = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 's': scale = 1; break;
      case 'm': scale = 60; break;
      case 'h': scale = 3600; break;
      case 'd': scale = 86400; break;
      default: scale = 0;
    }
    if (scale) text.remove_suffix(1);
    else scale = 1;
  }
  int64_t n;
  if (!absl::SimpleAtoi(Absl(text), &n) || n <= 0) {
    return absl::InvalidArgumentError("--time-range: expected seconds or 15m, 2h, 7d");
  }
  return n * scale;
}

StatusOr<std::string> ReadSpecText(const std::string& spec) {
  if (spec == "-") {
    return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  if (!spec.empty() && spec[0] == '@') {
    std::ifstream in(spec.substr(1));
    if (!in) return absl::NotFoundError("cannot read " + spec.substr(1));
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  return spec;
}

StatusOr<query::QuerySpec> BuildSpec(const QueryCommandOptions& o, std::string_view spec_text) {
  query::QuerySpec spec;
  if (!TrimSpaces(spec_text).empty()) {
    ASSIGN_OR_RETURN(spec, ParseQuerySpecJson(spec_text));
  }
  for (const std::string& c : o.calcs) {
    query::Calculation calc;
    if (!ParseCalc(c, &calc)) {
      return absl::InvalidArgumentError("--calc '" + c + "': expected e.g. COUNT or P99(duration_ms)");
    }
    spec.calculations.push_back(calc);
  }
  for (const std::string& b : o.breakdowns) spec.breakdowns.push_back(b);
  for (const std::string& f : o.filters) RETURN_IF_ERROR(AddFilter(f, &spec));
  for (const std::string& order : o.orders) AddOrder(order, &spec);
  if (!o.filter_combination.empty()) {
    if (o.filter_combination != "AND" && o.filter_combination != "OR") {
      return absl::InvalidArgumentError("--filter-combination: AND or OR");
    }
    spec.filter_combination = o.filter_combination == "OR" ? query::FilterCombination::kOr
                                                           : query::FilterCombination::kAnd;
  }
  if (o.limit > 0) spec.limit = o.limit;
  if (!o.time_range.empty()) {
    ASSIGN_OR_RETURN(int64_t seconds, ParseSeconds(o.time_range));
    spec.time_range = seconds;
    spec.start_time.reset();
    spec.end_time.reset();
  }
  if (o.granularity > 0) spec.granularity = o.granularity;
  RETURN_IF_ERROR(query::ValidateSpec(spec));
  return spec;
}

std::string FormatNumber(double v) {
  char buf[64];
  if (v == static_cast<double>(static_cast<int64_t>(v)) && std::abs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
  } else {
    std::snprintf(buf, sizeof buf, "%.4f", v);
  }
  return buf;
}

std::string Sparkline(simdjson::dom::element heatmap) {
  static const char* kBars[] = {" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  simdjson::dom::array counts;
  if (heatmap["counts"].get(counts) != simdjson::SUCCESS) return "?";
  uint64_t max = 0;
  for (auto c : counts) max = std::max<uint64_t>(max, c.get_uint64().value_unsafe());
  std::string out;
  for (auto c : counts) {
    uint64_t n = c.get_uint64().value_unsafe();
    out += kBars[max == 0 ? 0 : (n == 0 ? 0 : 1 + (n * 7) / max)];
  }
  double lo = 0, hi = 0;
  if (heatmap["lo"].get_double().get(lo) != simdjson::SUCCESS) lo = 0;
  if (heatmap["hi"].get_double().get(hi) != simdjson::SUCCESS) hi = 0;
  return FormatNumber(lo) + " " + out + " " + FormatNumber(hi);
}

std::string Cell(simdjson::dom::object data, const std::string& key) {
  simdjson::dom::element e;
  if (data[key].get(e) != simdjson::SUCCESS || e.is_null()) return "-";
  std::string_view s;
  if (e.get_string().get(s) == simdjson::SUCCESS) return std::string(s);
  bool b;
  if (e.get_bool().get(b) == simdjson::SUCCESS) return b ? "true" : "false";
  double d;
  if (e.get_double().get(d) == simdjson::SUCCESS) return FormatNumber(d);
  int64_t i;
  if (e.get_int64().get(i) == simdjson::SUCCESS) return std::to_string(i);
  uint64_t u;
  if (e.get_uint64().get(u) == simdjson::SUCCESS) return std::to_string(u);
  if (e.is_object()) return Sparkline(e);
  return simdjson::to_string(e);
}

// Display width in terminal columns (UTF-8 aware, one column per code point).
size_t Width(const std::string& s) {
  size_t w = 0;
  for (unsigned char c : s) w += (c & 0xC0) != 0x80;
  return w;
}

}  // namespace

StatusOr<std::string> BuildQuerySpecJson(const QueryCommandOptions& options,
                                         std::string_view spec_text) {
  ASSIGN_OR_RETURN(query::QuerySpec spec, BuildSpec(options, spec_text));
  return QuerySpecToJson(spec, "");
}

StatusOr<std::string> RenderQueryTable(std::string_view result_json,
                                       const std::vector<std::string>& breakdowns,
                                       const std::vector<std::string>& calc_labels) {
  simdjson::dom::parser parser;
  simdjson::dom::array results;
  simdjson::dom::element doc;
  if (parser.parse(result_json.data(), result_json.size()).get(doc) != simdjson::SUCCESS ||
      doc["data"]["results"].get(results) != simdjson::SUCCESS) {
    return absl::DataLossError("the server's query result has no data.results");
  }
  std::vector<std::string> header = breakdowns;
  header.insert(header.end(), calc_labels.begin(), calc_labels.end());
  std::vector<std::vector<std::string>> rows;
  for (auto r : results) {
    simdjson::dom::object data;
    if (r["data"].get(data) != simdjson::SUCCESS) return absl::DataLossError("result without data");
    std::vector<std::string> row;
    for (const std::string& h : header) row.push_back(Cell(data, h));
    rows.push_back(std::move(row));
  }
  std::vector<size_t> widths(header.size());
  for (size_t c = 0; c < header.size(); ++c) {
    widths[c] = Width(header[c]);
    for (const auto& row : rows) widths[c] = std::max(widths[c], Width(row[c]));
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t c = 0; c < cells.size(); ++c) {
      out += cells[c];
      if (c + 1 < cells.size()) out += std::string(widths[c] - Width(cells[c]) + 2, ' ');
    }
    out += '\n';
  };
  line(header);
  std::vector<std::string> rule;
  for (size_t w : widths) rule.push_back(std::string(w, '-'));
  line(rule);
  for (const auto& row : rows) line(row);
  out += std::to_string(rows.size()) + (rows.size() == 1 ? " group\n" : " groups\n");
  return out;
}

namespace {

bool WithoutSeries(const QueryCommandOptions& o) { return !o.json || o.no_series; }

StatusOr<std::string> RunOnDataDir(const QueryCommandOptions& o, const query::QuerySpec& spec) {
  StoreOptions so;
  so.data_dir = o.data_dir;
  so.background_threads = false;
  ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenEmbeddedStore(so));
  StatusOr<query::QueryResult> result = store->Query(query::QueryRequest{o.dataset, spec, WithoutSeries(o)});
  Status closed = store->Close();
  RETURN_IF_ERROR(result.status());
  RETURN_IF_ERROR(closed);
  return QueryResultToJson(*result, "local", "", true);
}

StatusOr<std::string> RunOnServer(const QueryCommandOptions& o, const std::string& spec_json) {
  std::unique_ptr<HttpClient> client = NewHttpClient(o.server, 60000);
  std::vector<std::pair<std::string, std::string>> headers = {
      {"Content-Type", "application/json"}};
  if (!o.api_key.empty()) headers.emplace_back("X-Honeycomb-Team", o.api_key);
  auto call = [&](const std::string& target, const std::string& body) -> StatusOr<std::string> {
    ASSIGN_OR_RETURN(HttpClientResponse r, client->Request("POST", target, headers, body));
    if (r.status / 100 != 2) {
      return absl::FailedPreconditionError("POST " + target + ": HTTP " + std::to_string(r.status) +
                                           " " + r.body);
    }
    return r.body;
  };
  std::string dataset;
  for (unsigned char c : o.dataset) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      dataset.push_back(static_cast<char>(c));
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      dataset += buf;
    }
  }
  ASSIGN_OR_RETURN(std::string created, call("/1/queries/" + dataset, spec_json));
  simdjson::dom::parser parser;
  std::string_view id;
  if (parser.parse(created).at_key("id").get_string().get(id) != simdjson::SUCCESS) {
    return absl::DataLossError("the server's query has no id: " + created);
  }
  return call("/1/query_results/" + dataset,
              absl::StrCat("{\"query_id\":\"", std::string(id), "\",\"disable_series\":",
                           WithoutSeries(o) ? "true" : "false", "}"));
}

}  // namespace

int RunQueryCommand(const QueryCommandOptions& options) {
  StatusOr<std::string> text = ReadSpecText(options.spec);
  StatusOr<query::QuerySpec> spec =
      text.ok() ? BuildSpec(options, *text) : StatusOr<query::QuerySpec>(text.status());
  if (!spec.ok()) {
    std::cerr << "waggle query: " << spec.status().message() << "\n";
    return 2;
  }
  StatusOr<std::string> result = options.data_dir.empty()
                                     ? RunOnServer(options, QuerySpecToJson(*spec, ""))
                                     : RunOnDataDir(options, *spec);
  if (!result.ok()) {
    std::cerr << "waggle query: " << result.status().message() << "\n";
    return 1;
  }
  if (options.json) {
    std::cout << *result << "\n";
    return 0;
  }
  std::vector<std::string> labels;
  for (const query::Calculation& c : spec->calculations) labels.push_back(c.Label());
  if (labels.empty()) labels.push_back("COUNT");
  StatusOr<std::string> table = RenderQueryTable(*result, spec->breakdowns, labels);
  if (!table.ok()) {
    std::cerr << "waggle query: " << table.status().message() << "\n";
    return 1;
  }
  std::cout << *table;
  return 0;
}

}  // namespace waggle
