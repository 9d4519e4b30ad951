#include "server/config.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include <gtest/gtest.h>

namespace waggle {
namespace {

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(Config, DefaultsWhenNothingSet) {
  StatusOr<ServerConfig> c = ResolveConfig({}, FakeEnv({}), {});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->data_dir, "./waggle-data");
  EXPECT_EQ(c->http_listen, "127.0.0.1:8080");
  EXPECT_EQ(c->otlp_http_listen, "127.0.0.1:4318");
  EXPECT_EQ(c->otlp_grpc_listen, "127.0.0.1:4317");
  EXPECT_EQ(c->xray_listen, "127.0.0.1:2000");
  EXPECT_TRUE(c->api_keys.empty());
  EXPECT_EQ(c->wal_sync, WalSyncPolicy::kFsync);
  EXPECT_EQ(c->retention_seconds, 7 * 86400);
  EXPECT_EQ(c->max_disk_bytes, 0u);
}

TEST(Config, PrecedenceFlagOverEnvOverFileOverDefault) {
  StatusOr<RawConfig> file = ParseConfigFile(
      "# waggle.conf\n"
      "data_dir = \"/from/file\"\n"
      "http-listen = 0.0.0.0:9000\n"
      "retention = 24h\n"
      "max_disk = 10GB\n"
      "api-key = file-key-1, file-key-2\n"
      "\n",
      "waggle.conf");
  ASSERT_TRUE(file.ok()) << file.status();
  RawConfig flags = {{"data-dir", {"/from/flag"}}};
  EnvLookup env = FakeEnv({{"WAGGLE_DATA_DIR", "/from/env"},
                           {"WAGGLE_HTTP_LISTEN", "127.0.0.1:0"},
                           {"WAGGLE_UNRELATED", "x"}});
  StatusOr<ServerConfig> c = ResolveConfig(flags, env, *file);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->data_dir, "/from/flag");          // flag beats env and file
  EXPECT_EQ(c->http_listen, "127.0.0.1:0");      // env beats file
  EXPECT_EQ(c->retention_seconds, 86400);        // file beats default
  EXPECT_EQ(c->max_disk_bytes, 10'000'000'000u);
  EXPECT_EQ(c->api_keys, (std::vector<std::string>{"file-key-1", "file-key-2"}));
  EXPECT_EQ(c->otlp_http_listen, "127.0.0.1:4318");  // default
}

TEST(Config, RepeatableKeysTakeTheHighestLayerOnly) {
  RawConfig file = {{"api-key", {"f1", "f2"}}};
  StatusOr<ServerConfig> env_wins =
      ResolveConfig({}, FakeEnv({{"WAGGLE_API_KEY", "e1,e2 , "}}), file);
  ASSERT_TRUE(env_wins.ok());
  EXPECT_EQ(env_wins->api_keys, (std::vector<std::string>{"e1", "e2"}));
  StatusOr<ServerConfig> flag_wins =
      ResolveConfig({{"api-key", {"a", "b"}}}, FakeEnv({{"WAGGLE_API_KEY", "e1"}}), file);
  ASSERT_TRUE(flag_wins.ok());
  EXPECT_EQ(flag_wins->api_keys, (std::vector<std::string>{"a", "b"}));
}

TEST(Config, ErrorsNameTheSource) {
  StatusOr<ServerConfig> c = ResolveConfig({}, FakeEnv({{"WAGGLE_RETENTION", "7x"}}), {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("WAGGLE_RETENTION: invalid duration '7x'"),
            std::string::npos)
      << c.status();
  c = ResolveConfig({{"wal-sync", {"sometimes"}}}, FakeEnv({}), {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("--wal-sync"), std::string::npos);
  c = ResolveConfig({}, FakeEnv({}), {{"max-disk", {"lots"}}});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("config file setting 'max-disk'"), std::string::npos);
  c = ResolveConfig({{"http-listen", {"8080"}}}, FakeEnv({}), {});
  EXPECT_FALSE(c.ok());
  c = ResolveConfig({{"demo-rate", {"-1"}}}, FakeEnv({}), {});
  EXPECT_FALSE(c.ok());
}

TEST(Config, AwsCredentialsFromFlagEnvAndFile) {
  StatusOr<ServerConfig> none = ResolveConfig({}, FakeEnv({}), {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->aws_credentials.empty());

  StatusOr<RawConfig> file = ParseConfigFile("aws_credentials = AKIDF1:s1, AKIDF2:s2\n", "f");
  ASSERT_TRUE(file.ok()) << file.status();
  StatusOr<ServerConfig> from_file = ResolveConfig({}, FakeEnv({}), *file);
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_EQ(from_file->aws_credentials,
            (std::vector<AwsCredential>{{"AKIDF1", "s1"}, {"AKIDF2", "s2"}}));

  EnvLookup env = FakeEnv({{"WAGGLE_AWS_CREDENTIALS", "AKIDE:se/cr+et, AKIDE:se/cr+et"}});
  StatusOr<ServerConfig> from_env = ResolveConfig({}, env, *file);
  ASSERT_TRUE(from_env.ok()) << from_env.status();
  EXPECT_EQ(from_env->aws_credentials, (std::vector<AwsCredential>{{"AKIDE", "se/cr+et"}}));

  StatusOr<ServerConfig> from_flag =
      ResolveConfig({{"aws-credentials", {"AKIDTEST:secretkey", "AKIDB:x:y"}}}, env, *file);
  ASSERT_TRUE(from_flag.ok()) << from_flag.status();
  EXPECT_EQ(from_flag->aws_credentials,
            (std::vector<AwsCredential>{{"AKIDTEST", "secretkey"}, {"AKIDB", "x:y"}}));
}

TEST(Config, AwsCredentialsFromSharedCredentialsFile) {
  std::string path = ::testing::TempDir() + "/waggle-creds-" + std::to_string(::getpid());
  {
    std::ofstream out(path);
    out << "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = filesecret\n";
  }
  StatusOr<ServerConfig> c =
      ResolveConfig({{"aws-credentials", {"@" + path, "AKIDTEST:secretkey"}}}, FakeEnv({}), {});
  std::remove(path.c_str());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->aws_credentials,
            (std::vector<AwsCredential>{{"AKIDFILE", "filesecret"}, {"AKIDTEST", "secretkey"}}));

  StatusOr<ServerConfig> missing =
      ResolveConfig({{"aws-credentials", {"@/nonexistent/creds"}}}, FakeEnv({}), {});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(std::string(missing.status().message())
                .find("--aws-credentials: cannot read AWS credentials file '/nonexistent/creds'"),
            std::string::npos)
      << missing.status();
}

TEST(Config, AwsCredentialErrorsNameTheSourceButNotTheSecret) {
  StatusOr<ServerConfig> c =
      ResolveConfig({}, FakeEnv({{"WAGGLE_AWS_CREDENTIALS", "AKIDONLY"}}), {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(std::string(c.status().message()).find("WAGGLE_AWS_CREDENTIALS: invalid AWS"),
            std::string::npos)
      << c.status();
  c = ResolveConfig({{"aws-credentials", {"AKID:topsecret1", "AKID:topsecret2"}}}, FakeEnv({}),
                    {});
  ASSERT_FALSE(c.ok());
  std::string message(c.status().message());
  EXPECT_NE(message.find("'AKID' is given twice with different secrets"), std::string::npos)
      << message;
  EXPECT_EQ(message.find("topsecret"), std::string::npos);
}

TEST(Config, FileErrors) {
  EXPECT_FALSE(ParseConfigFile("data-dir\n", "f").ok());
  StatusOr<RawConfig> unknown = ParseConfigFile("# ok\nbogus = 1\n", "w.conf");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("w.conf:2: unknown setting 'bogus'"),
            std::string::npos)
      << unknown.status();
  EXPECT_FALSE(ParseConfigFile("data-dir = \"unterminated\n", "f").ok());
}

TEST(Config, ParseSize) {
  EXPECT_EQ(*ParseSize("0"), 0u);
  EXPECT_EQ(*ParseSize("1024"), 1024u);
  EXPECT_EQ(*ParseSize("10GB"), 10'000'000'000u);
  EXPECT_EQ(*ParseSize("10 gb"), 10'000'000'000u);
  EXPECT_EQ(*ParseSize("512MiB"), 512u * 1024 * 1024);
  EXPECT_EQ(*ParseSize("1.5G"), 1'500'000'000u);
  EXPECT_EQ(*ParseSize("2KiB"), 2048u);
  EXPECT_FALSE(ParseSize("").ok());
  EXPECT_FALSE(ParseSize("GB").ok());
  EXPECT_FALSE(ParseSize("10XB").ok());
  EXPECT_FALSE(ParseSize("-5GB").ok());
  EXPECT_FALSE(ParseSize("99999999999TB").ok());
}

TEST(Config, ParseDuration) {
  EXPECT_EQ(*ParseDurationSeconds("0"), 0);
  EXPECT_EQ(*ParseDurationSeconds("forever"), 0);
  EXPECT_EQ(*ParseDurationSeconds("7d"), 7 * 86400);
  EXPECT_EQ(*ParseDurationSeconds("24h"), 86400);
  EXPECT_EQ(*ParseDurationSeconds("1h30m"), 5400);
  EXPECT_EQ(*ParseDurationSeconds("90s"), 90);
  EXPECT_EQ(*ParseDurationSeconds("2w"), 14 * 86400);
  EXPECT_EQ(*ParseDurationSeconds("1.5h"), 5400);
  EXPECT_FALSE(ParseDurationSeconds("7").ok());
  EXPECT_FALSE(ParseDurationSeconds("7x").ok());
  EXPECT_FALSE(ParseDurationSeconds("h").ok());
  EXPECT_FALSE(ParseDurationSeconds("").ok());
  EXPECT_FALSE(ParseDurationSeconds("99999999999999w").ok());
}

TEST(Config, Formatting) {
  EXPECT_EQ(FormatDuration(0), "forever");
  EXPECT_EQ(FormatDuration(7 * 86400), "1w");
  EXPECT_EQ(FormatDuration(86400 * 3), "3d");
  EXPECT_EQ(FormatDuration(5400), "90m");
  EXPECT_EQ(FormatSize(0), "unlimited");
  EXPECT_EQ(FormatSize(10'000'000'000u), "10.0 GB");
  EXPECT_EQ(EnvNameFor("otlp-http-listen"), "WAGGLE_OTLP_HTTP_LISTEN");
}

}  // namespace
}  // namespace waggle
