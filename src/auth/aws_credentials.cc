#include "auth/aws_credentials.h"

#include <cctype>

namespace waggle {
namespace {

constexpr size_t kMaxPartBytes = 256;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

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
  int line = 0;
  std::string id;
  std::string secret;
};

Status FinishSection(const Section& s, std::string_view file_name,
                     std::vector<AwsCredential>* out) {
  if (s.id.empty() && s.secret.empty()) return OkStatus();
  std::string where =
      std::string(file_name) + ":" + std::to_string(s.line) + ": profile [" + s.name + "]";
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
  text = Trim(text);
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
  int line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = Trim(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      if (line.back() != ']') {
        return absl::InvalidArgumentError(std::string(file_name) + ":" + std::to_string(line_no) +
                                          ": unterminated [profile]");
      }
      RETURN_IF_ERROR(FinishSection(section, file_name, &out));
      section = Section{std::string(Trim(line.substr(1, line.size() - 2))), line_no, {}, {}};
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return absl::InvalidArgumentError(std::string(file_name) + ":" + std::to_string(line_no) +
                                        ": expected `key = value` or [profile]");
    }
    std::string_view key = Trim(line.substr(0, eq));
    std::string_view value = Trim(line.substr(eq + 1));
    if (key == "aws_access_key_id") section.id = value;
    if (key == "aws_secret_access_key") section.secret = value;
  }
  RETURN_IF_ERROR(FinishSection(section, file_name, &out));
  if (out.empty()) {
    return absl::InvalidArgumentError(std::string(file_name) +
                                      ": no profile with aws_access_key_id and "
                                      "aws_secret_access_key");
  }
  return out;
}

}  // namespace waggle
