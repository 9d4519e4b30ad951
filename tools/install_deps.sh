#!/usr/bin/env bash
# Installs the Debian packages waggle needs to build, test and fuzz. Idempotent: when every
# package is already installed it only checks and returns within a second.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libboost-dev libabsl-dev libsimdjson-dev libzstd-dev liblz4-dev libdeflate-dev zlib1g-dev
  libxxhash-dev libfmt-dev libspdlog-dev libcli11-dev libgtest-dev googletest libbenchmark-dev
  libgrpc++-dev libssl-dev clang libclang-rt-14-dev ccache
  python3 python3-venv nodejs npm curl procps
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# Node and Python may come from outside Debian (nvm, pyenv); accept those when present.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
if command -v python3 >/dev/null && python3 -c 'import venv, ensurepip' 2>/dev/null; then
  missing=("${missing[@]/python3-venv}"); missing=("${missing[@]/python3}")
fi
filtered=()
for p in "${missing[@]}"; do [ -n "$p" ] && filtered+=("$p"); done

if [ ${#filtered[@]} -eq 0 ]; then
  exit 0
fi
echo "install_deps: installing ${filtered[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${filtered[@]}"
