#!/usr/bin/env bash
# Installs what the end-to-end tests need, and nothing when it is already there:
#   - a Python venv at .venv with tests/e2e/requirements.txt (re-installed only when that file
#     changes: a sha256 stamp lives in .venv/),
#   - tests/e2e/js/node_modules from package-lock.json via `npm ci` (again only when the lock
#     changes: stamp in node_modules/).
# Missing Debian packages (python3-venv, nodejs, npm) are installed with apt-get when running as
# root, so a clean Debian 12 machine works. Safe to run repeatedly; quick when up to date.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${WAGGLE_VENV:-$ROOT/.venv}"
REQ="$ROOT/tests/e2e/requirements.txt"
JS="$ROOT/tests/e2e/js"

log() { echo "e2e_setup: $*" >&2; }

apt_install() {
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    log "missing system packages: $* (install them, e.g. 'sudo apt-get install $*')"
    exit 1
  fi
  log "apt-get install $*"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null; then
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null
  fi
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

# --- Python -------------------------------------------------------------------------------
PY="${PYTHON:-python3}"
if ! command -v "$PY" >/dev/null; then apt_install python3 python3-venv; fi
if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c 'import sys' 2>/dev/null; then
  # Debian splits venv/ensurepip into python3-venv.
  if ! "$PY" -c 'import ensurepip, venv' 2>/dev/null; then apt_install python3-venv; fi
  rm -rf "$VENV"
  log "creating venv $VENV"
  "$PY" -m venv "$VENV"
fi
stamp="$VENV/.e2e-requirements.sha256"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$(sha "$REQ")" ]]; then
  log "pip install -r tests/e2e/requirements.txt"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ"
  sha "$REQ" >"$stamp"
fi

# --- Node ---------------------------------------------------------------------------------
node_ok() {
  command -v node >/dev/null && command -v npm >/dev/null &&
    node -e 'const [a,b]=process.versions.node.split(".").map(Number);
             process.exit(a>20||(a===20&&b>=6)||(a===18&&b>=19)?0:1)'
}
if ! node_ok; then apt_install nodejs npm; fi
if ! node_ok; then
  log "node >= 18.19 (or >= 20.6) and npm are required; found $(node --version 2>/dev/null || echo none)"
  exit 1
fi
lock="$JS/package-lock.json"
jstamp="$JS/node_modules/.e2e-lock.sha256"
if [[ ! -f "$jstamp" || "$(cat "$jstamp")" != "$(sha "$lock")" ]]; then
  log "npm ci in tests/e2e/js"
  (cd "$JS" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  sha "$lock" >"$jstamp"
fi
log "ready (python: $VENV, node $(node --version))"
