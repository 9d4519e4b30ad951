// waggle: the single binary. Subcommands serve, demo, trace, query, version.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>

#include "server/config.h"
#include "server/demo_generator.h"
#include "server/query_cli.h"
#include "server/server.h"
#include "server/trace_cli.h"

#ifndef WAGGLE_VERSION
#define WAGGLE_VERSION "dev"
#endif

namespace waggle {
namespace {

// Flag values as given on the command line, before layering with env and file.
struct ServeFlags {
  std::map<std::string, std::string> values;
  std::map<std::string, CLI::Option*> options;
  std::map<std::string, std::vector<std::string>> lists;  // repeatable settings
  std::map<std::string, CLI::Option*> list_options;
  std::string config_file;
};

void AddServeFlags(CLI::App* sub, ServeFlags* f, bool demo) {
  sub->add_option("--config", f->config_file,
                  "Config file of `key = value` lines (env WAGGLE_CONFIG)");
  for (const ConfigKey& k : ConfigKeys()) {
    std::string name = k.name;
    if (name == "demo-rate" && !demo) continue;
    std::string help = std::string(k.help) + " [env " + EnvNameFor(name) + "]";
    if (*k.default_text) help += " (default " + std::string(k.default_text) + ")";
    if (k.repeatable) {
      f->list_options[name] = sub->add_option("--" + name, f->lists[name], help)
                                  ->type_size(1)
                                  ->allow_extra_args(false);
    } else {
      f->options[name] = sub->add_option("--" + name, f->values[name], help);
    }
  }
}

StatusOr<ServerConfig> ResolveFromFlags(const ServeFlags& f) {
  RawConfig flags;
  for (const auto& [name, opt] : f.options) {
    if (opt->count() > 0) flags[name] = {f.values.at(name)};
  }
  for (const auto& [name, opt] : f.list_options) {
    if (opt->count() > 0) flags[name] = f.lists.at(name);
  }
  std::string config_file = f.config_file;
  if (config_file.empty()) {
    if (const char* env = std::getenv("WAGGLE_CONFIG")) config_file = env;
  }
  RawConfig file;
  if (!config_file.empty()) {
    std::ifstream in(config_file);
    if (!in) {
      return absl::NotFoundError("cannot read config file '" + config_file + "'");
    }
    std::stringstream ss;
    ss << in.rdbuf();
    ASSIGN_OR_RETURN(file, ParseConfigFile(ss.str(), config_file));
  }
  return ResolveConfig(flags, ProcessEnv(), file);
}

// Waits for SIGINT/SIGTERM (blocked in every thread), calling `tick` about once a second.
int WaitForSignal(const sigset_t& signals, const std::function<void()>& tick) {
  while (true) {
    timespec timeout{1, 0};
    int sig = sigtimedwait(&signals, nullptr, &timeout);
    if (sig == SIGINT || sig == SIGTERM) return sig;
    if (tick) tick();
  }
}

int RunServe(const ServeFlags& flags, const sigset_t& signals, bool demo) {
  StatusOr<ServerConfig> config = ResolveFromFlags(flags);
  if (!config.ok()) {
    std::cerr << "waggle: " << config.status().message() << "\n";
    return 2;
  }
  spdlog::set_level(spdlog::level::from_str(config->log_level));
  StatusOr<std::unique_ptr<Server>> server = Server::Start(*config, WAGGLE_VERSION);
  if (!server.ok()) {
    std::cerr << "waggle: " << server.status().message() << "\n";
    return 1;
  }
  std::cout << (*server)->Banner();
  const BoundAddresses& a = (*server)->addresses();
  std::unique_ptr<DemoGenerator> generator;
  bool announced = false;
  std::string key_flag = config->api_keys.empty() ? "" : " --api-key " + config->api_keys[0];
  std::string key_header =
      config->api_keys.empty() ? "" : " -H 'x-honeycomb-team: " + config->api_keys[0] + "'";
  if (demo) {
    DemoOptions d;
    d.otlp_address = a.otlp_http;
    if (!config->api_keys.empty()) d.api_key = config->api_keys[0];
    d.traces_per_second = config->demo_rate;
    generator = std::make_unique<DemoGenerator>(d);
    generator->Start();
    std::printf(
        "\n  demo: sending ~%.1f Cruddur traces/s (frontend-react-js → backend-flask → postgres, "
        "dynamodb, cognito) over OTLP/HTTP to %s\n"
        "  open  http://%s/\n"
        "  try   waggle trace --server %s%s          # recent traces\n"
        "        curl%s http://%s/api/v1/traces\n"
        "        curl http://%s/metrics\n",
        config->demo_rate, a.otlp_http.c_str(), a.http.c_str(), a.http.c_str(), key_flag.c_str(),
        key_header.c_str(), a.http.c_str(), a.http.c_str());
  }
  std::printf("\nready; press Ctrl-C to stop\n");
  std::fflush(stdout);

  int sig = WaitForSignal(signals, [&] {
    if (generator && !announced && !generator->last_trace_id().empty()) {
      announced = true;
      std::printf("  first traces stored; e.g.  waggle trace --server %s%s %s\n", a.http.c_str(),
                  key_flag.c_str(), generator->last_trace_id().c_str());
      std::fflush(stdout);
    }
  });
  std::printf("\nreceived %s, shutting down (finishing in-flight requests, flushing)\n",
              sig == SIGINT ? "SIGINT" : "SIGTERM");
  std::fflush(stdout);
  if (generator) generator->Stop();
  Status st = (*server)->Shutdown();
  if (!st.ok()) {
    std::cerr << "waggle: shutdown: " << st.message() << "\n";
    return 1;
  }
  std::printf("stopped cleanly\n");
  return 0;
}

int Main(int argc, char** argv) {
  // SIGINT/SIGTERM are handled by sigtimedwait in the main thread; block them before any
  // thread starts so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  CLI::App app{"waggle — a self-hosted distributed-tracing backend (OTLP, Honeycomb-compatible)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("waggle ") + WAGGLE_VERSION);

  CLI::App* serve = app.add_subcommand("serve", "Run the server: OTLP ingest, store, APIs");
  ServeFlags serve_flags;
  AddServeFlags(serve, &serve_flags, /*demo=*/false);

  CLI::App* demo = app.add_subcommand(
      "demo", "Run the server plus a built-in generator sending the Cruddur app's traces");
  ServeFlags demo_flags;
  AddServeFlags(demo, &demo_flags, /*demo=*/true);

  CLI::App* trace = app.add_subcommand(
      "trace", "Print a trace as a waterfall (or, without an id, list recent traces)");
  TraceCommandOptions trace_options;
  if (const char* s = std::getenv("WAGGLE_SERVER")) trace_options.server = s;
  if (const char* k = std::getenv("WAGGLE_API_KEY")) {
    std::string keys = k;
    trace_options.api_key = keys.substr(0, keys.find(','));
  }
  trace->add_option("id", trace_options.trace_id,
                    "Trace id: 32 hex digits or an X-Ray id 1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx");
  trace->add_option("--server", trace_options.server,
                    "waggle API address host:port [env WAGGLE_SERVER]")
      ->capture_default_str();
  trace->add_option("--api-key", trace_options.api_key, "API key [env WAGGLE_API_KEY]");
  trace->add_flag("--json", trace_options.json, "Print the raw JSON instead of a waterfall");
  trace->add_option("--limit", trace_options.limit, "How many recent traces to list")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  trace->add_option("--service", trace_options.service, "List only traces of this service");

  CLI::App* query = app.add_subcommand(
      "query", "Run a Honeycomb query spec on a running waggle or on a data directory");
  QueryCommandOptions query_options;
  if (const char* s = std::getenv("WAGGLE_SERVER")) query_options.server = s;
  if (const char* k = std::getenv("WAGGLE_API_KEY")) {
    std::string keys = k;
    query_options.api_key = keys.substr(0, keys.find(','));
  }
  query->add_option("spec", query_options.spec,
                    "Query spec JSON, @file or - (stdin); optional with the flags below");
  query->add_option("--calc", query_options.calcs, "Calculation, e.g. COUNT or 'P99(duration_ms)'");
  query->add_option("--breakdown", query_options.breakdowns, "Group by this column");
  query->add_option("--filter", query_options.filters,
                    "Filter 'COLUMN OP [VALUE]', e.g. 'http.status_code >= 500'");
  query->add_option("--filter-combination", query_options.filter_combination, "AND or OR");
  query->add_option("--order", query_options.orders, "Order, e.g. 'P99(duration_ms) desc' or 'name'");
  query->add_option("--limit", query_options.limit, "Groups to return (1..10000)");
  query->add_option("--time-range", query_options.time_range, "How far back: seconds, 15m, 2h, 7d");
  query->add_option("--granularity", query_options.granularity, "Time series bucket, seconds");
  query->add_option("--dataset", query_options.dataset, "A service name or __all__")
      ->capture_default_str();
  query->add_option("--server", query_options.server,
                    "waggle API address host:port [env WAGGLE_SERVER]")
      ->capture_default_str();
  query->add_option("--data-dir", query_options.data_dir,
                    "Query this data directory directly (no server may be using it)");
  query->add_option("--api-key", query_options.api_key, "API key [env WAGGLE_API_KEY]");
  query->add_flag("--json", query_options.json, "Print the Honeycomb query-result JSON");
  query->add_flag("--no-series", query_options.no_series,
                  "With --json: leave out the time series (faster on many groups)");

  app.add_subcommand("version", "Print the version");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (app.got_subcommand("version")) {
    std::printf("waggle %s\n", WAGGLE_VERSION);
    return 0;
  }
  if (app.got_subcommand(trace)) return RunTraceCommand(trace_options);
  if (app.got_subcommand(query)) return RunQueryCommand(query_options);
  if (app.got_subcommand(serve)) return RunServe(serve_flags, signals, /*demo=*/false);
  if (app.got_subcommand(demo)) return RunServe(demo_flags, signals, /*demo=*/true);
  return 2;
}

}  // namespace
}  // namespace waggle

int main(int argc, char** argv) { return waggle::Main(argc, argv); }
