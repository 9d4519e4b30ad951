#include "auth/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <optional>

#include "absl/strings/cord.h"

namespace waggle {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kTerminator = "aws4_request";
constexpr std::string_view kErrorCodeUrl = "type.waggle.dev/aws-error-code";
constexpr size_t kMaxAuthorizationBytes = 4096;
constexpr size_t kMaxSignedHeaders = 64;
constexpr size_t kMaxScopePartBytes = 128;
constexpr size_t kMaxEchoBytes = 64;

constexpr std::string_view kMissingToken = "MissingAuthenticationTokenException";
constexpr std::string_view kIncomplete = "IncompleteSignatureException";
constexpr std::string_view kUnrecognized = "UnrecognizedClientException";
constexpr std::string_view kInvalid = "InvalidSignatureException";

Status AwsAuthError(std::string_view code, std::string message) {
  Status s = absl::UnauthenticatedError(message);
  s.SetPayload(absl::string_view(kErrorCodeUrl.data(), kErrorCodeUrl.size()),
               absl::Cord(absl::string_view(code.data(), code.size())));
  return s;
}

Status Incomplete(std::string message) { return AwsAuthError(kIncomplete, std::move(message)); }

// Untrusted text quoted in a message: at most kMaxEchoBytes, non-printables as '?'.
std::string Echo(std::string_view s) {
  std::string out(s.substr(0, kMaxEchoBytes));
  for (char& c : out) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) c = '?';
  }
  if (s.size() > kMaxEchoBytes) out += "...";
  return out;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLowerHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f'); }

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || IsDigit(static_cast<char>(c)) ||
         c == '-' || c == '_' || c == '.' || c == '~';
}

// Lowercase header-name characters (RFC 9110 token, letters lowercase).
bool IsHeaderNameChar(char c) {
  return (c >= 'a' && c <= 'z') || IsDigit(c) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// SigV4's URI encoding: unreserved bytes as is, '/' as is when `keep_slash`, every other byte
// as %XX with upper-case hex.
void UriEncode(std::string_view in, bool keep_slash, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : in) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      out->push_back(ch);
    } else {
      out->push_back('%');
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
    }
  }
}

std::string LowerHex(const unsigned char* bytes, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 15];
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return LowerHex(md, len);
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
  return std::string(reinterpret_cast<const char*>(md), len);
}

// Days since 1970-01-01 of a proleptic Gregorian date (valid for years 1..9999).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = y / 400;
  const int64_t year_of_era = y - era * 400;
  const int64_t day_of_year = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

// "YYYYMMDDTHHMMSSZ" for seconds since the epoch (UTC).
std::string FormatAmzDate(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d%02d%02dT%02d%02d%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

int Digits(std::string_view s, size_t pos, size_t n) {
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) v = v * 10 + (s[i] - '0');
  return v;
}

// Splits "a,b,,c" at every `sep` (empty parts kept).
std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    size_t at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

// Splits "a,b , c" into trimmed parts.
std::vector<std::string_view> SplitTrimmed(std::string_view s, char sep) {
  std::vector<std::string_view> out = Split(s, sep);
  for (std::string_view& part : out) part = Trim(part);
  return out;
}

Status ParseCredential(std::string_view value, SigV4Authorization* out) {
  std::vector<std::string_view> parts = SplitTrimmed(value, '/');
  if (parts.size() != 5) {
    return Incomplete(
        "Credential must have the form ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/"
        "aws4_request, got '" +
        Echo(value) + "'");
  }
  for (std::string_view p : parts) {
    if (p.empty() || p.size() > kMaxScopePartBytes) {
      return Incomplete("Credential has an empty or over-long part: '" + Echo(value) + "'");
    }
  }
  if (parts[1].size() != 8 || !std::all_of(parts[1].begin(), parts[1].end(), IsDigit)) {
    return Incomplete("Credential scope date must be YYYYMMDD, got '" + Echo(parts[1]) + "'");
  }
  if (parts[4] != kTerminator) {
    return Incomplete(
        "Credential should be scoped with a valid terminator: 'aws4_request', "
        "not '" +
        Echo(parts[4]) + "'.");
  }
  out->access_key_id = parts[0];
  out->date = parts[1];
  out->region = parts[2];
  out->service = parts[3];
  return OkStatus();
}

Status ParseSignedHeaders(std::string_view value, SigV4Authorization* out) {
  std::vector<std::string_view> names = SplitTrimmed(value, ';');
  if (names.size() > kMaxSignedHeaders) {
    return Incomplete("SignedHeaders lists more than 64 headers");
  }
  for (std::string_view n : names) {
    if (n.empty() || !std::all_of(n.begin(), n.end(), IsHeaderNameChar)) {
      return Incomplete("SignedHeaders must be lowercase header names separated by ';', got '" +
                        Echo(value) + "'");
    }
    out->signed_headers.emplace_back(n);
  }
  return OkStatus();
}

Status ParseSignatureValue(std::string_view value, SigV4Authorization* out) {
  if (value.size() != 64 || !std::all_of(value.begin(), value.end(), IsLowerHex)) {
    return Incomplete("Signature must be 64 lowercase hex digits, got '" + Echo(value) + "'");
  }
  out->signature = value;
  return OkStatus();
}

// One signed header's canonical value: every occurrence trimmed, runs of whitespace collapsed
// to one space, occurrences joined with ','. False if the request lacks the header.
bool CanonicalHeaderValue(const HttpRequest& request, std::string_view name, std::string* out) {
  bool found = false;
  for (const auto& [key, value] : request.headers) {
    if (key != name) continue;
    if (found) out->push_back(',');
    found = true;
    bool pending_space = false;
    for (char c : Trim(value)) {
      if (IsSpace(c)) {
        pending_space = true;
        continue;
      }
      if (pending_space) out->push_back(' ');
      pending_space = false;
      out->push_back(c);
    }
  }
  return found;
}

std::string Join(const std::vector<std::string>& parts, char sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out.push_back(sep);
    out += parts[i];
  }
  return out;
}

std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request) {
  std::string s(kAlgorithm);
  s += '\n';
  s += amz_date;
  s += '\n';
  s += scope;
  s += '\n';
  s += Sha256Hex(canonical_request);
  return s;
}

std::string Scope(std::string_view date, std::string_view region, std::string_view service) {
  std::string s(date);
  s += '/';
  s += region;
  s += '/';
  s += service;
  s += '/';
  s += kTerminator;
  return s;
}

// The payload hash a client may state in x-amz-content-sha256 must be the body's.
Status CheckContentSha256(const HttpRequest& request) {
  std::string_view stated = Trim(request.Header("x-amz-content-sha256"));
  if (stated.empty()) return OkStatus();
  if (stated.size() != 64 || !std::all_of(stated.begin(), stated.end(), [](char c) {
        return IsLowerHex(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
      })) {
    return Incomplete("x-amz-content-sha256 '" + Echo(stated) +
                      "' is not supported: waggle verifies signed payloads only");
  }
  std::string lower(stated);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower != Sha256Hex(request.body)) {
    return AwsAuthError(kInvalid,
                        "The provided 'x-amz-content-sha256' header does not match what was "
                        "computed.");
  }
  return OkStatus();
}

}  // namespace

StatusOr<SigV4Authorization> ParseSigV4Authorization(std::string_view header) {
  if (header.size() > kMaxAuthorizationBytes) {
    return Incomplete("Authorization header is longer than 4096 bytes");
  }
  header = Trim(header);
  if (header.substr(0, kAlgorithm.size()) != kAlgorithm || header.size() == kAlgorithm.size() ||
      !IsSpace(header[kAlgorithm.size()])) {
    return Incomplete(
        "Authorization header is not AWS Signature Version 4: expected "
        "'AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...', got '" +
        Echo(header.substr(0, header.find(' '))) + " ...'");
  }
  SigV4Authorization out;
  bool seen[3] = {false, false, false};
  static constexpr std::string_view kNames[3] = {"Credential", "SignedHeaders", "Signature"};
  for (std::string_view part : SplitTrimmed(header.substr(kAlgorithm.size() + 1), ',')) {
    size_t eq = part.find('=');
    std::string_view key = Trim(part.substr(0, eq));
    std::string_view value = eq == std::string_view::npos ? "" : Trim(part.substr(eq + 1));
    int which = -1;
    for (int i = 0; i < 3; ++i) {
      if (key == kNames[i]) which = i;
    }
    if (which < 0 || eq == std::string_view::npos) {
      return Incomplete("Authorization header has an unexpected component '" + Echo(part) +
                        "': expected Credential=, SignedHeaders= and Signature=");
    }
    if (seen[which]) {
      return Incomplete("Authorization header gives '" + std::string(key) + "' twice");
    }
    seen[which] = true;
    if (which == 0) RETURN_IF_ERROR(ParseCredential(value, &out));
    if (which == 1) RETURN_IF_ERROR(ParseSignedHeaders(value, &out));
    if (which == 2) RETURN_IF_ERROR(ParseSignatureValue(value, &out));
  }
  std::string missing;
  for (int i = 0; i < 3; ++i) {
    if (!seen[i]) {
      missing += "Authorization header requires '" + std::string(kNames[i]) + "' parameter. ";
    }
  }
  if (!missing.empty()) {
    missing.pop_back();
    return Incomplete(missing);
  }
  return out;
}

StatusOr<int64_t> ParseAmzDate(std::string_view s) {
  auto bad = [&] {
    return absl::InvalidArgumentError("X-Amz-Date '" + Echo(s) +
                                      "' is not of the form YYYYMMDD'T'HHMMSS'Z'");
  };
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return bad();
  for (size_t i : {0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14}) {
    if (!IsDigit(s[i])) return bad();
  }
  int year = Digits(s, 0, 4), month = Digits(s, 4, 2), day = Digits(s, 6, 2);
  int hour = Digits(s, 9, 2), minute = Digits(s, 11, 2), second = Digits(s, 13, 2);
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
      second > 60) {
    return bad();
  }
  return DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
}

std::string SigV4CanonicalUri(std::string_view raw_path) {
  std::vector<std::string_view> kept;
  for (std::string_view segment : Split(raw_path, '/')) {
    if (segment.empty() || segment == ".") continue;
    if (segment == "..") {
      if (!kept.empty()) kept.pop_back();
      continue;
    }
    kept.push_back(segment);
  }
  std::string out = "/";
  for (size_t i = 0; i < kept.size(); ++i) {
    if (i > 0) out.push_back('/');
    UriEncode(kept[i], /*keep_slash=*/false, &out);
  }
  if (!kept.empty() && !raw_path.empty() && raw_path.back() == '/') out.push_back('/');
  return out;
}

std::string SigV4CanonicalQuery(std::string_view raw_query) {
  std::vector<std::pair<std::string, std::string>> params;
  while (!raw_query.empty()) {
    size_t amp = raw_query.find('&');
    std::string_view pair = raw_query.substr(0, amp);
    raw_query.remove_prefix(amp == std::string_view::npos ? raw_query.size() : amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string name, value;
    UriEncode(PercentDecode(pair.substr(0, eq)), /*keep_slash=*/false, &name);
    if (eq != std::string_view::npos) {
      UriEncode(PercentDecode(pair.substr(eq + 1)), /*keep_slash=*/false, &value);
    }
    params.emplace_back(std::move(name), std::move(value));
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

StatusOr<std::string> SigV4CanonicalRequest(const HttpRequest& request,
                                            const std::vector<std::string>& signed_headers) {
  std::string out = request.method;
  out += '\n';
  out += SigV4CanonicalUri(request.path);
  out += '\n';
  out += SigV4CanonicalQuery(request.query);
  out += '\n';
  for (const std::string& name : signed_headers) {
    out += name;
    out += ':';
    if (!CanonicalHeaderValue(request, name, &out)) {
      return AwsAuthError(kInvalid,
                          "The request signature we calculated does not match the "
                          "signature you provided: signed header '" +
                              Echo(name) + "' is not in the request.");
    }
    out += '\n';
  }
  out += '\n';
  out += Join(signed_headers, ';');
  out += '\n';
  out += Sha256Hex(request.body);
  return out;
}

std::string SigV4Signature(std::string_view secret_access_key, std::string_view amz_date,
                           std::string_view region, std::string_view service,
                           std::string_view canonical_request) {
  std::string_view date = amz_date.substr(0, 8);
  std::string key = HmacSha256("AWS4" + std::string(secret_access_key), date);
  key = HmacSha256(key, region);
  key = HmacSha256(key, service);
  key = HmacSha256(key, kTerminator);
  std::string sts = StringToSign(amz_date, Scope(date, region, service), canonical_request);
  std::string mac = HmacSha256(key, sts);
  return LowerHex(reinterpret_cast<const unsigned char*>(mac.data()), mac.size());
}

Status SignSigV4(HttpRequest* request, const AwsCredential& credential, std::string_view region,
                 std::string_view service, std::string_view amz_date,
                 const std::vector<std::string>& extra_signed_headers) {
  std::erase_if(request->headers, [](const auto& h) {
    return h.first == "x-amz-date" || h.first == "authorization";
  });
  request->headers.emplace_back("x-amz-date", std::string(amz_date));
  std::vector<std::string> names = extra_signed_headers;
  names.push_back("host");
  names.push_back("x-amz-date");
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  ASSIGN_OR_RETURN(std::string canonical, SigV4CanonicalRequest(*request, names));
  std::string signature =
      SigV4Signature(credential.secret_access_key, amz_date, region, service, canonical);
  request->headers.emplace_back(
      "authorization", std::string(kAlgorithm) + " Credential=" + credential.access_key_id + "/" +
                           Scope(amz_date.substr(0, 8), region, service) +
                           ", SignedHeaders=" + Join(names, ';') + ", Signature=" + signature);
  return OkStatus();
}

std::string SigV4ErrorCode(const Status& status) {
  auto code = status.GetPayload(absl::string_view(kErrorCodeUrl.data(), kErrorCodeUrl.size()));
  return code.has_value() ? std::string(*code) : std::string();
}

SigV4Verifier::SigV4Verifier(std::vector<AwsCredential> credentials, SigV4VerifierOptions options)
    : options_(std::move(options)) {
  for (AwsCredential& c : credentials) {
    if (c.access_key_id.empty() || c.secret_access_key.empty()) continue;
    secrets_.emplace(std::move(c.access_key_id), std::move(c.secret_access_key));
  }
}

int64_t SigV4Verifier::Now() const {
  if (options_.now_unix_seconds) return options_.now_unix_seconds();
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

StatusOr<SigV4Identity> SigV4Verifier::Verify(const HttpRequest& request) const {
  std::string_view header = request.Header("authorization");
  if (Trim(header).empty()) {
    if (!request.QueryParam("X-Amz-Signature").empty() ||
        !request.QueryParam("X-Amz-Credential").empty()) {
      return Incomplete(
          "query-string (presigned URL) authentication is not supported; sign the "
          "request with the Authorization header");
    }
    return AwsAuthError(kMissingToken, "Missing Authentication Token");
  }
  ASSIGN_OR_RETURN(SigV4Authorization auth, ParseSigV4Authorization(header));

  std::string_view amz_date = Trim(request.Header("x-amz-date"));
  if (amz_date.empty()) {
    return Incomplete("Authorization header requires existence of a 'X-Amz-Date' header.");
  }
  StatusOr<int64_t> signed_at = ParseAmzDate(amz_date);
  if (!signed_at.ok()) return Incomplete(std::string(signed_at.status().message()));
  if (amz_date.substr(0, 8) != auth.date) {
    return AwsAuthError(kInvalid,
                        "Date in Credential scope does not match YYYYMMDD from "
                        "ISO-8601 version of date from HTTP: '" +
                            auth.date + "' != '" + std::string(amz_date.substr(0, 8)) +
                            "', from '" + std::string(amz_date) + "'.");
  }
  if (!options_.service.empty() && auth.service != options_.service) {
    return AwsAuthError(
        kInvalid, "Credential should be scoped to correct service: '" + options_.service + "'.");
  }
  if (std::find(auth.signed_headers.begin(), auth.signed_headers.end(), "host") ==
      auth.signed_headers.end()) {
    return Incomplete("'Host' must be a 'SignedHeader' in the AWS Authorization.");
  }

  auto secret = secrets_.find(auth.access_key_id);
  if (secret == secrets_.end()) {
    return AwsAuthError(kUnrecognized, "The security token included in the request is invalid.");
  }

  const int64_t now = Now();
  const std::string minutes = std::to_string(options_.max_skew_seconds / 60) + " min.)";
  if (now - *signed_at > options_.max_skew_seconds) {
    return AwsAuthError(kInvalid, "Signature expired: " + std::string(amz_date) +
                                      " is now earlier than " +
                                      FormatAmzDate(now - options_.max_skew_seconds) + " (" +
                                      FormatAmzDate(now) + " - " + minutes);
  }
  if (*signed_at - now > options_.max_skew_seconds) {
    return AwsAuthError(kInvalid, "Signature not yet current: " + std::string(amz_date) +
                                      " is still later than " +
                                      FormatAmzDate(now + options_.max_skew_seconds) + " (" +
                                      FormatAmzDate(now) + " + " + minutes);
  }

  RETURN_IF_ERROR(CheckContentSha256(request));
  ASSIGN_OR_RETURN(std::string canonical, SigV4CanonicalRequest(request, auth.signed_headers));
  std::string expected =
      SigV4Signature(secret->second, amz_date, auth.region, auth.service, canonical);
  if (CRYPTO_memcmp(expected.data(), auth.signature.data(), expected.size()) != 0) {
    return AwsAuthError(kInvalid,
                        "The request signature we calculated does not match the signature you "
                        "provided. Check your AWS Secret Access Key and signing method. Consult "
                        "the service documentation for details.");
  }
  return SigV4Identity{auth.access_key_id, auth.region, auth.service};
}

}  // namespace waggle
