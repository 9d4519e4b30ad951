#!/usr/bin/env bash
# The one way to check everything: `make test`, CI (.ci/run) and developers all run this.
# Stages: Release build + unit tests + end-to-end tests; ASan+UBSan build + unit tests +
# end-to-end tests; libFuzzer smoke runs. Ends with "check: N passed, M failed" (stages).
#
# Environment: WAGGLE_CHECK_STAGES (default "release asan fuzz") selects stages;
# WAGGLE_FUZZ_SECONDS (default 15) is the time per fuzz target.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

stages=${WAGGLE_CHECK_STAGES:-"release asan fuzz"}
fuzz_seconds=${WAGGLE_FUZZ_SECONDS:-15}
jobs=$(nproc)
passed=0
failed=0
failures=()

run_stage() {
  local name=$1
  shift
  echo "=== check: $name"
  local start=$SECONDS
  if "$@"; then
    passed=$((passed + 1))
    echo "=== check: $name ok ($((SECONDS - start)) s)"
  else
    failed=$((failed + 1))
    failures+=("$name")
    echo "=== check: $name FAILED ($((SECONDS - start)) s)"
  fi
}

build() {  # build PRESET DIR
  cmake --preset "$1" >/dev/null && ninja -C "$2" -j"$jobs"
}

unit_tests() {  # unit_tests DIR
  ctest --test-dir "$1" --output-on-failure -j"$jobs" --timeout 300
}

e2e_tests() {  # e2e_tests BINARY
  WAGGLE_BIN="$root/$1" bash tests/e2e/run.sh
}

fuzz_smoke() {
  local ok=0
  shopt -s nullglob
  local fuzzers=(build-fuzz/fuzz/*_fuzzer)
  [ ${#fuzzers[@]} -gt 0 ] || { echo "no fuzz targets built"; return 1; }
  for f in "${fuzzers[@]}"; do
    local name
    name=$(basename "$f")
    local corpus
    corpus=$(mktemp -d)
    [ -d "fuzz/corpus/$name" ] && cp -r "fuzz/corpus/$name/." "$corpus/"
    echo "--- fuzz $name (${fuzz_seconds}s)"
    if ! "$f" -max_total_time="$fuzz_seconds" -rss_limit_mb=2048 -print_final_stats=1 "$corpus" \
        >"$corpus.log" 2>&1; then
      tail -50 "$corpus.log"
      ok=1
    else
      grep -E 'stat::number_of_executed_units|Done' "$corpus.log" | tail -2
    fi
    rm -rf "$corpus" "$corpus.log"
  done
  return $ok
}

run_stage "install dependencies" tools/install_deps.sh
for stage in $stages; do
  case $stage in
    release)
      run_stage "release build" build release build
      run_stage "release unit tests" unit_tests build
      run_stage "release end-to-end tests" e2e_tests build/src/server/waggle
      ;;
    asan)
      export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
      export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
      run_stage "asan+ubsan build" build asan build-asan
      run_stage "asan+ubsan unit tests" unit_tests build-asan
      run_stage "asan+ubsan end-to-end tests" e2e_tests build-asan/src/server/waggle
      ;;
    fuzz)
      run_stage "fuzz build" build fuzz build-fuzz
      run_stage "fuzz smoke" fuzz_smoke
      ;;
    *) echo "unknown stage $stage"; failed=$((failed + 1)) ;;
  esac
done

if [ ${#failures[@]} -gt 0 ]; then
  echo "failed stages: ${failures[*]}"
fi
echo "check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
