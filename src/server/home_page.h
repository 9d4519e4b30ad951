// The built-in page served at `/`: recent traces and a trace waterfall, drawn in the browser
// from waggle's own API (`/api/v1/traces`, `/api/v1/traces/{id}`). A stop-gap until the full
// web UI lands; it has no dependencies and no build step.
#pragma once

#include <string_view>

namespace waggle {

std::string_view HomePageHtml();

}  // namespace waggle
