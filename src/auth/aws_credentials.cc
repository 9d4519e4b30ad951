#include "auth/aws_credentials.h"

#include <cctype>

#include "common/text.h"

namespace waggle {
namespace {

constexpr size_t kMaxPartBytes = 256;

// Printable ASCII without spaces or commas (commas separate list entries in WAGGLE_* vars).
Status CheckPart(std::string_view part, const char* what) {
  if (part.empty()) return absl::InvalidArgumentError(std::string(what) + " is empty");
  if (part.size() > kMaxPartBytes) {
    return absl::InvalidArgumentError(std::string(what) + " is longer than 256 characters");
  }
  for (char c : part) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == ',') {
      return absl::InvalidArgumentError(std::string(what) +
                                        " contains a space, comma or non-printable character");
    }
  }
  return OkStatus();
}

StatusOr<AwsCredential> MakeCredential(std::string_view id, std::string_view secret) {
  RETURN_IF_ERROR(CheckPart(id, "the access key id"));
  if (id.find(':') != std::string_view::npos) {
    return absl::InvalidArgumentError("the access key id contains ':'");
  }
  RETURN_IF_ERROR(CheckPart(secret, "the secret access key"));
  return AwsCredential{std::string(id), std::string(secret)};
}

// One profile section of a shared-credentials file while it is read.
struct Section {
  std::string name;
  std::string where;  // "file:line: " of its header
  std::string id;
  std::string secret;
};

Status FinishSection(const Section& s, std::string_view file_name,
                     std::vector<AwsCredential>* out) {
  if (s.id.empty() && s.secret.empty()) return OkStatus();
  std::string where = (s.where.empty() ? std::string(file_name) + ": " : s.where) +
                      "profile [" + s.name + "]";
  if (s.id.empty() || s.secret.empty()) {
    return absl::InvalidArgumentError(where +
                                      " needs both aws_access_key_id and "
                                      "aws_secret_access_key");
  }
  StatusOr<AwsCredential> c = MakeCredential(s.id, s.secret);
  if (!c.ok()) return absl::InvalidArgumentError(where + ": " + std::string(c.status().message()));
  out->push_back(std::move(*c));
  return OkStatus();
}

}  // namespace

StatusOr<AwsCredential> ParseAwsCredential(std::string_view text) {
  text = TrimWhitespace(text);
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return absl::InvalidArgumentError(
        "invalid AWS credential: expected ACCESS_KEY_ID:SECRET_ACCESS_KEY or @/path/to/"
        "credentials-file");
  }
  StatusOr<AwsCredential> c = MakeCredential(text.substr(0, colon), text.substr(colon + 1));
  if (!c.ok()) {
    return absl::InvalidArgumentError("invalid AWS credential: " +
                                      std::string(c.status().message()));
  }
  return c;
}

StatusOr<std::vector<AwsCredential>> ParseSharedCredentialsFile(std::string_view text,
                                                                std::string_view file_name) {
  std::vector<AwsCredential> out;
  Section section;
  RETURN_IF_ERROR(ForEachContentLine(
      text, file_name, "#;", [&](const std::string& where, std::string_view line) -> Status {
        if (line.front() == '[') {
          if (line.back() != ']') return absl::InvalidArgumentError(where + "unterminated [profile]");
          RETURN_IF_ERROR(FinishSection(section, file_name, &out));
          section = Section{std::string(TrimWhitespace(line.substr(1, line.size() - 2))), where,
                            {}, {}};
          return OkStatus();
        }
        size_t eq = line.find('=');
        if (eq == std::string_view::npos) {
          return absl::InvalidArgumentError(where + "expected `key = value` or [profile]");
        }
        std::string_view key = TrimWhitespace(line.substr(0, eq));
        std::string_view value = TrimWhitespace(line.substr(eq + 1));
        if (key == "aws_access_key_id") section.id = value;
        if (key == "aws_secret_access_key") section.secret = value;
        return OkStatus();
      }));
  RETURN_IF_ERROR(FinishSection(section, file_name, &out));
  if (out.empty()) {
    return absl::InvalidArgumentError(std::string(file_name) +
                                      ": no profile with aws_access_key_id and "
                                      "aws_secret_access_key");
  }
  return out;
}

}  // namespace waggle
