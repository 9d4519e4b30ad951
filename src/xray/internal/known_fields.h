// The keys of a segment's `http`, `aws`, `sql` and `service` objects that the X-Ray SDKs and
// docs/XRAY.md name (waggle_xray-internal), with their column names computed at compile time,
// so the decoder finds the column of a known key without building its dotted path, hashing it
// or looking it up in the rename table. Keys not listed here are still decoded: the decoder
// builds their dotted path then (see Flatten in segment_decoder.cc).
//
// Invariant (checked at compile time below): a key's `path` is its parent's path, ".", and the
// key; its `column` is that path renamed by kRenames (columns.h), as the decoder would build it.
#pragma once

#include <cstring>
#include <span>
#include <string_view>

#include "xray/internal/columns.h"

namespace waggle::xray_internal {

struct KnownKey {
  std::string_view key;
  std::string_view path;    // the dotted X-Ray path: "http.request.url"
  std::string_view column;  // the column it becomes: "url.full"
  std::span<const KnownKey> children;  // the known keys of an object value
};

// `path` renamed as docs/XRAY.md says (kRenames), or `path` itself.
constexpr std::string_view RenamedColumn(std::string_view path) {
  for (const Rename& r : kRenames) {
    if (r.xray_path == path) return r.column;
  }
  return path;
}

constexpr KnownKey Known(std::string_view key, std::string_view path,
                         std::span<const KnownKey> children = {}) {
  return {key, path, RenamedColumn(path), children};
}

inline constexpr KnownKey kHttpRequestKeys[] = {
    Known("method", "http.request.method"),
    Known("url", "http.request.url"),
    Known("user_agent", "http.request.user_agent"),
    Known("client_ip", "http.request.client_ip"),
    Known("x_forwarded_for", "http.request.x_forwarded_for"),
    Known("traced", "http.request.traced"),
};
inline constexpr KnownKey kHttpResponseKeys[] = {
    Known("status", "http.response.status"),
    Known("content_length", "http.response.content_length"),
};
inline constexpr KnownKey kHttpKeys[] = {
    Known("request", "http.request", kHttpRequestKeys),
    Known("response", "http.response", kHttpResponseKeys),
};

inline constexpr KnownKey kAwsXrayKeys[] = {
    Known("sdk", "aws.xray.sdk"),
    Known("sdk_version", "aws.xray.sdk_version"),
    Known("auto_instrumentation", "aws.xray.auto_instrumentation"),
};
inline constexpr KnownKey kAwsEc2Keys[] = {
    Known("instance_id", "aws.ec2.instance_id"),
    Known("availability_zone", "aws.ec2.availability_zone"),
    Known("instance_size", "aws.ec2.instance_size"),
    Known("ami_id", "aws.ec2.ami_id"),
};
inline constexpr KnownKey kAwsEcsKeys[] = {
    Known("container", "aws.ecs.container"),
    Known("container_id", "aws.ecs.container_id"),
    Known("container_arn", "aws.ecs.container_arn"),
};
inline constexpr KnownKey kAwsEksKeys[] = {
    Known("pod", "aws.eks.pod"),
    Known("cluster_name", "aws.eks.cluster_name"),
    Known("container_id", "aws.eks.container_id"),
};
inline constexpr KnownKey kAwsBeanstalkKeys[] = {
    Known("environment_name", "aws.elastic_beanstalk.environment_name"),
    Known("version_label", "aws.elastic_beanstalk.version_label"),
    Known("deployment_id", "aws.elastic_beanstalk.deployment_id"),
};
inline constexpr KnownKey kAwsKeys[] = {
    Known("xray", "aws.xray", kAwsXrayKeys),
    Known("operation", "aws.operation"),
    Known("region", "aws.region"),
    Known("account_id", "aws.account_id"),
    Known("request_id", "aws.request_id"),
    Known("table_name", "aws.table_name"),
    Known("queue_url", "aws.queue_url"),
    Known("retries", "aws.retries"),
    Known("resource_names", "aws.resource_names"),
    Known("cloudwatch_logs", "aws.cloudwatch_logs"),
    Known("ec2", "aws.ec2", kAwsEc2Keys),
    Known("ecs", "aws.ecs", kAwsEcsKeys),
    Known("eks", "aws.eks", kAwsEksKeys),
    Known("elastic_beanstalk", "aws.elastic_beanstalk", kAwsBeanstalkKeys),
};

inline constexpr KnownKey kSqlKeys[] = {
    Known("url", "sql.url"),
    Known("sanitized_query", "sql.sanitized_query"),
    Known("database_type", "sql.database_type"),
    Known("database_version", "sql.database_version"),
    Known("driver_version", "sql.driver_version"),
    Known("user", "sql.user"),
    Known("preparation", "sql.preparation"),
    Known("connection_string", "sql.connection_string"),
};

inline constexpr KnownKey kServiceKeys[] = {
    Known("version", "service.version"),
    Known("runtime", "service.runtime"),
    Known("runtime_version", "service.runtime_version"),
    Known("compiler", "service.compiler"),
    Known("compiler_version", "service.compiler_version"),
};

// The known key `key` among `keys`, or null.
inline const KnownKey* FindKnownKey(std::span<const KnownKey> keys, std::string_view key) {
  for (const KnownKey& k : keys) {
    if (k.key.size() == key.size() && std::memcmp(k.key.data(), key.data(), key.size()) == 0) {
      return &k;
    }
  }
  return nullptr;
}

namespace known_fields_check {

constexpr bool PathsFollowKeys(std::string_view parent, std::span<const KnownKey> keys) {
  for (const KnownKey& k : keys) {
    if (k.path.size() != parent.size() + 1 + k.key.size() ||
        k.path.substr(0, parent.size()) != parent || k.path[parent.size()] != '.' ||
        k.path.substr(parent.size() + 1) != k.key || !PathsFollowKeys(k.path, k.children)) {
      return false;
    }
  }
  return true;
}
static_assert(PathsFollowKeys("http", kHttpKeys));
static_assert(PathsFollowKeys("aws", kAwsKeys));
static_assert(PathsFollowKeys("sql", kSqlKeys));
static_assert(PathsFollowKeys("service", kServiceKeys));

}  // namespace known_fields_check

}  // namespace waggle::xray_internal
