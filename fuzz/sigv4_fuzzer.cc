// libFuzzer target: AWS SigV4 verification (untrusted Authorization headers, paths, queries and
// bodies on the X-Ray REST API). The input is split at its first two '\n' into the
// Authorization header, the request target (path?query) and the body; the header is parsed on
// its own, then the whole request goes through a verifier with a fixed clock, and the result
// must be either success or an error carrying an AWS error code.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auth/sigv4.h"

namespace {

std::string_view NextLine(std::string_view* in) {
  size_t nl = in->find('\n');
  std::string_view line = in->substr(0, nl);
  in->remove_prefix(nl == std::string_view::npos ? in->size() : nl + 1);
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view authorization = NextLine(&in);
  std::string_view target = NextLine(&in);

  (void)waggle::ParseSigV4Authorization(authorization);

  waggle::HttpRequest request;
  request.method = "POST";
  size_t q = target.find('?');
  request.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) request.query = std::string(target.substr(q + 1));
  request.body = std::string(in);
  request.headers = {{"host", "localhost:8080"},
                     {"x-amz-date", "20150830T123600Z"},
                     {"content-type", std::string(target)},
                     {"authorization", std::string(authorization)}};
  static const waggle::SigV4Verifier verifier(
      {{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}},
      waggle::SigV4VerifierOptions{"", 15 * 60, [] { return int64_t{1440938160}; }});
  auto result = verifier.Verify(request);
  if (!result.ok() && waggle::SigV4ErrorCode(result.status()).empty()) std::abort();
  (void)waggle::SigV4CanonicalUri(request.path);
  (void)waggle::SigV4CanonicalQuery(request.query);
  return 0;
}
