// Command-line flags of the bench drivers: `--name value` or `--name=value`, every flag with a
// value. Header-only; benchmarks only.
#pragma once

#include <cstdio>
#include <functional>
#include <string>

namespace waggle::bench {

// Calls set(name, value) for every flag in order. False (with a message on stderr) when a flag
// lacks its value or set() returns false (an unknown flag).
inline bool ForEachFlag(int argc, char** argv,
                        const std::function<bool(const std::string&, const std::string&)>& set) {
  for (int i = 1; i < argc; ++i) {
    std::string name = argv[i], value;
    const size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      std::fprintf(stderr, "missing value for %s\n", name.c_str());
      return false;
    }
    if (!set(name, value)) {
      std::fprintf(stderr, "unknown flag %s\n", name.c_str());
      return false;
    }
  }
  return true;
}

}  // namespace waggle::bench
