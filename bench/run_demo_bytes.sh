#!/usr/bin/env bash
# Issue 2's bytes-per-span target is for the demo workload: runs `waggle demo` (its built-in
# Cruddur generator, over real OTLP/HTTP) at a high rate into a temporary data dir, stops it with
# SIGTERM (which flushes the head to segments), and reports segment bytes per stored span (span
# events are rows too, but not spans: they are counted apart).
#
# usage: bench/run_demo_bytes.sh [SECONDS (default 30)] [TRACES_PER_SECOND (default 3000)]
# env: WAGGLE_BIN (default build/src/server/waggle), BENCH_DIR (parent of the temporary data
#      dir, default $TMPDIR or /tmp)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WAGGLE_BIN="${WAGGLE_BIN:-$ROOT/build/src/server/waggle}"
SECONDS_TO_RUN="${1:-30}"
RATE="${2:-3000}"
work="$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/waggle-demo-bytes.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "demo workload bytes per span: waggle demo at $RATE traces/s for $SECONDS_TO_RUN s, data dir $work"
rc=0
timeout -s TERM "$SECONDS_TO_RUN" "$WAGGLE_BIN" demo --data-dir "$work/data" \
  --http-listen 127.0.0.1:0 --otlp-http-listen 127.0.0.1:0 --otlp-grpc-listen 127.0.0.1:0 \
  --xray-listen 127.0.0.1:0 --demo-rate "$RATE" --log-level warn >"$work/demo.log" 2>&1 || rc=$?
if [[ $rc -ne 124 && $rc -ne 0 ]]; then
  echo "run_demo_bytes: waggle demo exited with $rc" >&2
  tail -5 "$work/demo.log" >&2
  exit 1
fi

count() {  # COUNT of rows matching an optional filter, over the whole data dir
  "$WAGGLE_BIN" query --data-dir "$work/data" --calc COUNT --time-range 7d --json "$@" |
    python3 -c 'import json, sys; r = json.load(sys.stdin)["data"]["results"]; print(sum(x["data"]["COUNT"] for x in r))'
}
spans="$(count --filter 'meta.annotation_type does-not-exist')"
rows="$(count)"
seg_bytes="$(du -sb "$work/data/segments" | cut -f1)"
if [[ -z "$spans" || "$spans" == 0 ]]; then
  echo "run_demo_bytes: no spans stored" >&2
  exit 1
fi
awk -v b="$seg_bytes" -v s="$spans" -v r="$rows" 'BEGIN {
  bps = b / s
  printf "  stored               %d spans (+ %d span events) in %d segment bytes\n", s, r - s, b
  printf "  on disk              %.2f bytes/span   [target <= 25 bytes/span for the demo workload: %s]\n",
         bps, bps <= 25 ? "met" : "NOT met"
}'
