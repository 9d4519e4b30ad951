// ServerConfig: waggle's settings and how they are resolved from four layers.
//
// Every setting has a flag (`--data-dir`), an environment twin (`WAGGLE_DATA_DIR`) and a key in
// the optional config file (`data-dir = ./x` or `data_dir = "./x"`). Precedence:
// flag > environment > file > default. `api-key` and `aws-credentials` are repeatable: the
// highest layer that sets one wins (the environment twins `WAGGLE_API_KEY` and
// `WAGGLE_AWS_CREDENTIALS` take comma-separated lists; the file may repeat the key or give a
// comma-separated list).
//
// `aws-credentials` values are `ACCESS_KEY_ID:SECRET_ACCESS_KEY` or `@PATH` naming an AWS
// shared-credentials file (every profile with a key pair is accepted); the file is read when
// the configuration is resolved. The same access key id with two different secrets is an
// error. Messages never contain a secret.
//
// Config file format: one `key = value` per line; `#` starts a comment line; values may be
// double-quoted; blank lines ignored. Unknown keys are an error naming the line.
//
// Sizes ("10GB", "512MiB", "0"): B, KB/MB/GB/TB are powers of 1000, KiB/MiB/GiB/TiB powers of
// 1024; 0 means unlimited. Durations ("7d", "24h", "1h30m", "90s", "2w", "0"): units s m h d w,
// 0 means forever.
//
// Thread-safety: plain values; the functions touch nothing shared (ResolveConfig reads
// `aws-credentials = @PATH` files).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/aws_credentials.h"
#include "common/status.h"
#include "wal/wal.h"

namespace waggle {

struct ServerConfig {
  std::string data_dir = "./waggle-data";
  std::string http_listen = "127.0.0.1:8080";
  std::string otlp_http_listen = "127.0.0.1:4318";
  std::string otlp_grpc_listen = "127.0.0.1:4317";
  std::string xray_listen = "127.0.0.1:2000";
  std::vector<std::string> api_keys;
  std::vector<AwsCredential> aws_credentials;  // none: X-Ray signatures are not verified
  int64_t retention_seconds = 7 * 86400;  // 0 = forever
  uint64_t max_disk_bytes = 0;            // 0 = unlimited
  WalSyncPolicy wal_sync = WalSyncPolicy::kFsync;
  std::string ready_file;
  std::string log_level = "info";         // trace, debug, info, warn, error, off
  double demo_rate = 5.0;                 // `waggle demo`: traces per second
};

// One setting known to the resolver.
struct ConfigKey {
  const char* name;          // flag name without dashes: "data-dir"
  const char* default_text;  // shown in --help
  const char* help;
  bool repeatable = false;
};
const std::vector<ConfigKey>& ConfigKeys();

// "data-dir" → "WAGGLE_DATA_DIR".
std::string EnvNameFor(std::string_view key);

// Raw values by canonical key ("data-dir"); a key maps to one value unless repeatable.
using RawConfig = std::map<std::string, std::vector<std::string>>;

// Parses the config file text. Keys may use '-' or '_'. `file_name` is used in messages.
StatusOr<RawConfig> ParseConfigFile(std::string_view text, std::string_view file_name);

// Returns the value of an environment variable, or nullopt if unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup ProcessEnv();

// Layers flags over env over file over defaults and validates every value; errors name the
// setting and where its value came from ("WAGGLE_RETENTION: invalid duration '7x': ...").
StatusOr<ServerConfig> ResolveConfig(const RawConfig& flags, const EnvLookup& env,
                                     const RawConfig& file);

StatusOr<uint64_t> ParseSize(std::string_view text);
StatusOr<int64_t> ParseDurationSeconds(std::string_view text);
StatusOr<WalSyncPolicy> ParseWalSync(std::string_view text);

// "7d", "36h", "90s", "forever" — for the banner.
std::string FormatDuration(int64_t seconds);
// "10.0 GB", "unlimited".
std::string FormatSize(uint64_t bytes);

}  // namespace waggle
