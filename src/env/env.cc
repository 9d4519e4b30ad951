#include "env/env.h"

namespace waggle {

StatusOr<std::unique_ptr<FileLock>> Env::LockFile(const std::string& path) {
  (void)path;
  return std::make_unique<FileLock>();
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string out;
  out.reserve(dir.size() + 1 + name.size());
  out.append(dir);
  if (!out.empty() && out.back() != '/' && !name.empty()) out.push_back('/');
  out.append(name);
  return out;
}

}  // namespace waggle
