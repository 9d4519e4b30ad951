#!/usr/bin/env bash
# Runs every end-to-end test against a built waggle: installs the test clients (tools/e2e_setup.sh),
# then pytest (tests/e2e/*.py) and node's test runner (tests/e2e/js). Exits non-zero if either fails.
#   WAGGLE_BIN               binary to test (default build/src/server/waggle)
#   WAGGLE_E2E_TIMEOUT_SCALE multiply every wait (e.g. 3 for a sanitizer build)
#   extra arguments go to pytest (e.g. -k crash -x)
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export WAGGLE_BIN="${WAGGLE_BIN:-$ROOT/build/src/server/waggle}"
WAGGLE_BIN="$(readlink -f "$WAGGLE_BIN" || echo "$WAGGLE_BIN")"
if [[ ! -x "$WAGGLE_BIN" ]]; then
  echo "e2e: waggle binary not found at $WAGGLE_BIN (build it, or set WAGGLE_BIN)" >&2
  exit 2
fi
bash "$ROOT/tools/e2e_setup.sh" || { echo "e2e: setup failed" >&2; exit 2; }
echo "e2e: testing $WAGGLE_BIN"

rc=0
(cd "$ROOT/tests/e2e" && "$ROOT/.venv/bin/python" -m pytest -q -p no:cacheprovider "$@" .) || rc=1
(cd "$ROOT/tests/e2e/js" && node --test --test-reporter=spec) || rc=1
if [[ $rc -ne 0 ]]; then
  echo "e2e: FAILED" >&2
else
  echo "e2e: all passed"
fi
exit $rc
