#include "api/xray_auth.h"

#include "api/xray_trace_api.h"

namespace waggle {

bool IsXrayRestPath(std::string_view path) {
  return path.size() >= 2 && path[0] == '/' && path[1] >= 'A' && path[1] <= 'Z' &&
         path.find('/', 1) == std::string_view::npos;
}

std::optional<HttpResponse> CheckXraySignature(const SigV4Verifier* verifier,
                                               const HttpRequest& request) {
  if (verifier == nullptr || !verifier->enabled()) return std::nullopt;
  StatusOr<SigV4Identity> identity = verifier->Verify(request);
  if (identity.ok()) return std::nullopt;
  std::string code = SigV4ErrorCode(identity.status());
  if (code.empty()) code = "InvalidSignatureException";
  return AwsJsonError(403, code, std::string(identity.status().message()));
}

}  // namespace waggle
