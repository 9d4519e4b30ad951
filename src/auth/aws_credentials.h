// AwsCredential: an AWS access key pair waggle accepts on SigV4-signed requests, and the two
// textual forms it is configured from.
//
//   "AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"   ParseAwsCredential
//   an AWS shared-credentials file (~/.aws/credentials)       ParseSharedCredentialsFile
//
// Access key ids and secrets are printable ASCII without spaces, ':' (in the id) or ','; the
// secret is everything after the first ':'.
//
// Thread-safety: pure functions and plain values.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace waggle {

struct AwsCredential {
  std::string access_key_id;
  std::string secret_access_key;

  bool operator==(const AwsCredential&) const = default;
};

// Parses "ACCESS_KEY_ID:SECRET_ACCESS_KEY" (surrounding whitespace trimmed). InvalidArgument
// naming the problem (no ':', empty half, a space or control character, over 256 bytes); the
// message never contains the secret.
StatusOr<AwsCredential> ParseAwsCredential(std::string_view text);

// Parses an AWS shared-credentials file: `[profile]` sections of `key = value` lines, `#` and
// `;` comment lines. Every section that has both `aws_access_key_id` and
// `aws_secret_access_key` yields a credential (other keys, such as region or
// aws_session_token, are ignored). A section with only one of the two, a line that is neither
// a section, a comment nor `key = value`, or a file without any credential is an
// InvalidArgument error naming `file_name` and the line.
StatusOr<std::vector<AwsCredential>> ParseSharedCredentialsFile(std::string_view text,
                                                                std::string_view file_name);

}  // namespace waggle
