#include "server/config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>

#include "common/text.h"

namespace waggle {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

const ConfigKey* FindKey(std::string_view name) {
  for (const ConfigKey& k : ConfigKeys()) {
    if (name == k.name) return &k;
  }
  return nullptr;
}

std::vector<std::string> SplitCommaList(std::string_view s) {
  std::vector<std::string> out;
  while (true) {
    size_t comma = s.find(',');
    std::string_view part = TrimWhitespace(s.substr(0, comma));
    if (!part.empty()) out.emplace_back(part);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

// Parses a leading non-negative decimal number (digits and at most one '.').
bool ParseNumberPrefix(std::string_view* s, double* value) {
  size_t n = 0;
  bool dot = false;
  while (n < s->size() && (std::isdigit(static_cast<unsigned char>((*s)[n])) ||
                           ((*s)[n] == '.' && !dot))) {
    dot |= (*s)[n] == '.';
    ++n;
  }
  if (n == 0 || (n == 1 && dot)) return false;
  std::string digits(s->substr(0, n));
  char* end = nullptr;
  *value = std::strtod(digits.c_str(), &end);
  s->remove_prefix(n);
  return true;
}

StatusOr<std::vector<AwsCredential>> ReadCredentialsFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError("cannot read AWS credentials file '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseSharedCredentialsFile(ss.str(), path);
}

// `ACCESS_KEY_ID:SECRET` and `@FILE` values → credentials, duplicates dropped.
StatusOr<std::vector<AwsCredential>> ResolveAwsCredentials(
    const std::vector<std::string>& values) {
  std::vector<AwsCredential> out;
  for (const std::string& value : values) {
    std::string_view v = TrimWhitespace(value);
    if (v.empty()) continue;
    std::vector<AwsCredential> parsed;
    if (v.front() == '@') {
      ASSIGN_OR_RETURN(parsed, ReadCredentialsFile(std::string(TrimWhitespace(v.substr(1)))));
    } else {
      ASSIGN_OR_RETURN(AwsCredential c, ParseAwsCredential(v));
      parsed.push_back(std::move(c));
    }
    for (AwsCredential& c : parsed) {
      auto same_id = std::find_if(out.begin(), out.end(), [&](const AwsCredential& o) {
        return o.access_key_id == c.access_key_id;
      });
      if (same_id == out.end()) {
        out.push_back(std::move(c));
      } else if (same_id->secret_access_key != c.secret_access_key) {
        return absl::InvalidArgumentError("access key id '" + c.access_key_id +
                                          "' is given twice with different secrets");
      }
    }
  }
  return out;
}

// Where a resolved value came from, for messages.
struct Sourced {
  std::vector<std::string> values;
  std::string source;  // "--retention", "WAGGLE_RETENTION", "config file key 'retention'"
};

}  // namespace

const std::vector<ConfigKey>& ConfigKeys() {
  static const std::vector<ConfigKey> kKeys = {
      {"data-dir", "./waggle-data", "Directory for the WAL and segment files"},
      {"http-listen", "127.0.0.1:8080", "Address for the UI and every REST API (port 0 = any)"},
      {"otlp-http-listen", "127.0.0.1:4318", "Address for OTLP/HTTP ingest (port 0 = any)"},
      {"otlp-grpc-listen", "127.0.0.1:4317", "Address for OTLP/gRPC ingest (port 0 = any)"},
      {"xray-listen", "127.0.0.1:2000", "UDP address for the X-Ray daemon protocol (port 0 picks a free port)"},
      {"api-key", "", "API key accepted in x-honeycomb-team (repeatable; none = local mode)",
       true},
      {"aws-credentials", "",
       "AWS key X-Ray API requests must be SigV4-signed with, as ACCESS_KEY_ID:SECRET or "
       "@CREDENTIALS_FILE (repeatable; none = signatures not checked)",
       true},
      {"retention", "7d", "Drop data older than this (e.g. 7d, 24h; 0 = forever)"},
      {"max-disk", "0", "Drop oldest data beyond this size (e.g. 10GB; 0 = unlimited)"},
      {"wal-sync", "fsync", "WAL durability: fsync (ack after fsync), batch, none"},
      {"ready-file", "", "Write the bound addresses as JSON to this file once ready"},
      {"log-level", "info", "trace, debug, info, warn, error or off"},
      {"demo-rate", "5", "waggle demo: traces per second to generate"},
  };
  return kKeys;
}

std::string EnvNameFor(std::string_view key) {
  std::string out = "WAGGLE_";
  for (char c : key) {
    out.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return out;
}

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

namespace {

// One `key = value` line of a config file into *out; `where` prefixes error messages.
Status ParseConfigLine(const std::string& where, std::string_view line, RawConfig* out) {
  size_t eq = line.find('=');
  if (eq == std::string_view::npos) {
    return absl::InvalidArgumentError(where + "expected 'key = value', got '" +
                                      std::string(line.substr(0, 80)) + "'");
  }
  std::string key = Lower(TrimWhitespace(line.substr(0, eq)));
  for (char& c : key) {
    if (c == '_') c = '-';
  }
  const ConfigKey* k = FindKey(key);
  if (k == nullptr) return absl::InvalidArgumentError(where + "unknown setting '" + key + "'");
  std::string_view value = TrimWhitespace(line.substr(eq + 1));
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    value = value.substr(1, value.size() - 2);
  } else if (!value.empty() && value.front() == '"') {
    return absl::InvalidArgumentError(where + "unterminated quoted value for '" + key + "'");
  }
  if (k->repeatable) {
    for (std::string& v : SplitCommaList(value)) (*out)[key].push_back(std::move(v));
  } else {
    (*out)[key] = {std::string(value)};
  }
  return OkStatus();
}

}  // namespace

StatusOr<RawConfig> ParseConfigFile(std::string_view text, std::string_view file_name) {
  RawConfig out;
  RETURN_IF_ERROR(ForEachContentLine(
      text, file_name, "#", [&](const std::string& where, std::string_view line) -> Status {
        return ParseConfigLine(where, line, &out);
      }));
  return out;
}

StatusOr<uint64_t> ParseSize(std::string_view text) {
  std::string_view s = TrimWhitespace(text);
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError("invalid size '" + std::string(text) + "': " +
                                      std::string(why) + " (examples: 10GB, 512MiB, 0)");
  };
  double number = 0;
  if (!ParseNumberPrefix(&s, &number)) return bad("expected a number");
  std::string unit = Lower(TrimWhitespace(s));
  double mult;
  if (unit.empty() || unit == "b") {
    mult = 1;
  } else if (unit == "k" || unit == "kb") {
    mult = 1e3;
  } else if (unit == "m" || unit == "mb") {
    mult = 1e6;
  } else if (unit == "g" || unit == "gb") {
    mult = 1e9;
  } else if (unit == "t" || unit == "tb") {
    mult = 1e12;
  } else if (unit == "kib") {
    mult = 1024.0;
  } else if (unit == "mib") {
    mult = 1024.0 * 1024;
  } else if (unit == "gib") {
    mult = 1024.0 * 1024 * 1024;
  } else if (unit == "tib") {
    mult = 1024.0 * 1024 * 1024 * 1024;
  } else {
    return bad("unknown unit '" + unit + "'");
  }
  double bytes = std::round(number * mult);
  if (!(bytes < 1.8e19)) return bad("too large");
  return static_cast<uint64_t>(bytes);
}

StatusOr<int64_t> ParseDurationSeconds(std::string_view text) {
  std::string_view s = TrimWhitespace(text);
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError("invalid duration '" + std::string(text) + "': " +
                                      std::string(why) + " (examples: 7d, 24h, 1h30m, 0)");
  };
  if (s == "0" || Lower(s) == "forever") return 0;
  if (s.empty()) return bad("empty");
  double total = 0;
  while (!s.empty()) {
    double number = 0;
    if (!ParseNumberPrefix(&s, &number)) return bad("expected a number");
    if (s.empty()) return bad("missing unit (s, m, h, d or w)");
    double mult;
    switch (std::tolower(static_cast<unsigned char>(s.front()))) {
      case 's': mult = 1; break;
      case 'm': mult = 60; break;
      case 'h': mult = 3600; break;
      case 'd': mult = 86400; break;
      case 'w': mult = 7 * 86400; break;
      default: return bad("unknown unit '" + std::string(1, s.front()) + "'");
    }
    s.remove_prefix(1);
    total += number * mult;
  }
  if (total > 1e15) return bad("too large");
  int64_t seconds = static_cast<int64_t>(std::llround(total));
  if (seconds == 0) return bad("rounds to 0 seconds; use 0 to mean forever");
  return seconds;
}

StatusOr<WalSyncPolicy> ParseWalSync(std::string_view text) {
  std::string v = Lower(TrimWhitespace(text));
  if (v == "fsync") return WalSyncPolicy::kFsync;
  if (v == "batch") return WalSyncPolicy::kBatch;
  if (v == "none") return WalSyncPolicy::kNone;
  return absl::InvalidArgumentError("invalid WAL sync policy '" + std::string(text) +
                                    "': expected fsync, batch or none");
}

std::string FormatDuration(int64_t seconds) {
  if (seconds <= 0) return "forever";
  if (seconds % (7 * 86400) == 0) return std::to_string(seconds / (7 * 86400)) + "w";
  if (seconds % 86400 == 0) return std::to_string(seconds / 86400) + "d";
  if (seconds % 3600 == 0) return std::to_string(seconds / 3600) + "h";
  if (seconds % 60 == 0) return std::to_string(seconds / 60) + "m";
  return std::to_string(seconds) + "s";
}

std::string FormatSize(uint64_t bytes) {
  if (bytes == 0) return "unlimited";
  const char* units[] = {"B", "KB", "MB", "GB", "TB", "PB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1000 && u < 5) {
    v /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

StatusOr<ServerConfig> ResolveConfig(const RawConfig& flags, const EnvLookup& env,
                                     const RawConfig& file) {
  std::map<std::string, Sourced> chosen;
  for (const ConfigKey& k : ConfigKeys()) {
    std::string name = k.name;
    if (auto it = flags.find(name); it != flags.end() && !it->second.empty()) {
      chosen[name] = {it->second, "--" + name};
      continue;
    }
    std::string env_name = EnvNameFor(name);
    if (std::optional<std::string> v = env ? env(env_name) : std::nullopt; v.has_value()) {
      chosen[name] = {k.repeatable ? SplitCommaList(*v) : std::vector<std::string>{*v}, env_name};
      continue;
    }
    if (auto it = file.find(name); it != file.end() && !it->second.empty()) {
      chosen[name] = {it->second, "config file setting '" + name + "'"};
    }
  }
  for (const auto& [name, _] : flags) {
    if (FindKey(name) == nullptr) {
      return absl::InvalidArgumentError("unknown setting '" + name + "'");
    }
  }

  ServerConfig c;
  auto single = [&](const char* name) -> const std::string* {
    auto it = chosen.find(name);
    return it == chosen.end() ? nullptr : &it->second.values.back();
  };
  auto fail = [&](const char* name, const Status& st) {
    return Status(st.code(), chosen[name].source + ": " + std::string(st.message()));
  };
  if (auto* v = single("data-dir")) c.data_dir = *v;
  if (auto* v = single("http-listen")) c.http_listen = *v;
  if (auto* v = single("otlp-http-listen")) c.otlp_http_listen = *v;
  if (auto* v = single("otlp-grpc-listen")) c.otlp_grpc_listen = *v;
  if (auto* v = single("xray-listen")) c.xray_listen = *v;
  if (auto it = chosen.find("api-key"); it != chosen.end()) {
    for (const std::string& k : it->second.values) {
      if (!TrimWhitespace(k).empty()) c.api_keys.emplace_back(TrimWhitespace(k));
    }
  }
  if (auto it = chosen.find("aws-credentials"); it != chosen.end()) {
    StatusOr<std::vector<AwsCredential>> creds = ResolveAwsCredentials(it->second.values);
    if (!creds.ok()) return fail("aws-credentials", creds.status());
    c.aws_credentials = std::move(*creds);
  }
  if (auto* v = single("retention")) {
    StatusOr<int64_t> d = ParseDurationSeconds(*v);
    if (!d.ok()) return fail("retention", d.status());
    c.retention_seconds = *d;
  }
  if (auto* v = single("max-disk")) {
    StatusOr<uint64_t> s = ParseSize(*v);
    if (!s.ok()) return fail("max-disk", s.status());
    c.max_disk_bytes = *s;
  }
  if (auto* v = single("wal-sync")) {
    StatusOr<WalSyncPolicy> p = ParseWalSync(*v);
    if (!p.ok()) return fail("wal-sync", p.status());
    c.wal_sync = *p;
  }
  if (auto* v = single("ready-file")) c.ready_file = *v;
  if (auto* v = single("log-level")) {
    std::string level = Lower(TrimWhitespace(*v));
    if (level == "warning") level = "warn";
    static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "off"};
    bool ok = false;
    for (const char* l : kLevels) ok |= level == l;
    if (!ok) {
      return fail("log-level", absl::InvalidArgumentError(
                                   "invalid log level '" + *v +
                                   "': expected trace, debug, info, warn, error or off"));
    }
    c.log_level = level;
  }
  if (auto* v = single("demo-rate")) {
    double rate = 0;
    auto res = std::from_chars(v->data(), v->data() + v->size(), rate);
    if (res.ec != std::errc() || res.ptr != v->data() + v->size() || !(rate > 0) ||
        rate > 100000) {
      return fail("demo-rate", absl::InvalidArgumentError(
                                   "invalid rate '" + *v +
                                   "': expected traces per second, > 0 and <= 100000"));
    }
    c.demo_rate = rate;
  }
  for (const char* addr : {"http-listen", "otlp-http-listen", "otlp-grpc-listen", "xray-listen"}) {
    const std::string* v = single(addr);
    if (v != nullptr && v->find(':') == std::string::npos) {
      return fail(addr, absl::InvalidArgumentError("invalid address '" + *v +
                                                   "': expected host:port, e.g. 127.0.0.1:0"));
    }
  }
  if (c.data_dir.empty()) {
    return absl::InvalidArgumentError("data-dir must not be empty");
  }
  return c;
}

}  // namespace waggle
