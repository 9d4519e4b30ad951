#!/usr/bin/env bash
# The X-Ray daemon benchmark of issue 4: starts a Release `waggle serve` (--wal-sync fsync,
# temporary data dir, free loopback ports from its ready file), drives its UDP daemon port with
# bench/xray_bench (paced 100,000 segments/s, a rate ladder, a flood; see xray_bench.cc for what
# is counted), then stops it with SIGTERM.
#
# usage: bench/run_xray.sh [xray_bench flags]
#   --rate R --duration S     the paced zero-loss check (default 100000/s for 10 s)
#   --ladder R1,R2,...        rates for the highest zero-loss rate (default 150k..400k; '' skips)
#   --step S                  seconds per ladder step (default 5)
#   --flood S                 seconds as fast as possible (default 5; 0 skips)
# env: WAGGLE_BIN (default build/src/server/waggle), XRAY_BENCH (default build/bench/xray_bench),
#      BENCH_DIR (parent of the temporary data dir, default $TMPDIR or /tmp), KEEP_DATA=1
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WAGGLE_BIN="${WAGGLE_BIN:-$ROOT/build/src/server/waggle}"
XRAY_BENCH="${XRAY_BENCH:-$ROOT/build/bench/xray_bench}"

if [[ ! -x "$WAGGLE_BIN" || ! -x "$XRAY_BENCH" ]]; then
  if [[ -f "$ROOT/build/build.ninja" ]]; then
    echo "run_xray: building waggle and xray_bench in build/" >&2
    ninja -C "$ROOT/build" waggle xray_bench >&2
  fi
fi
for b in "$WAGGLE_BIN" "$XRAY_BENCH"; do
  if [[ ! -x "$b" ]]; then
    echo "run_xray: $b not found; build Release first (make build)" >&2
    exit 2
  fi
done

work="$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/waggle-xray-bench.XXXXXX")"
data="$work/data"
pid=""
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  if [[ "${KEEP_DATA:-0}" == 1 ]]; then echo "run_xray: data kept in $data" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$WAGGLE_BIN" serve --data-dir "$data" --wal-sync fsync --retention 0 \
  --http-listen 127.0.0.1:0 --otlp-http-listen 127.0.0.1:0 \
  --otlp-grpc-listen 127.0.0.1:0 --xray-listen 127.0.0.1:0 \
  --ready-file "$work/ready.json" >"$work/waggle.log" 2>&1 &
pid=$!
for _ in $(seq 600); do
  [[ -s "$work/ready.json" ]] && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "run_xray: waggle exited before it was ready:" >&2
    tail -20 "$work/waggle.log" >&2
    exit 1
  fi
  sleep 0.05
done
addr() { sed -n "s/.*\"$1\" *: *\"\\([^\"]*\\)\".*/\\1/p" "$work/ready.json"; }
xray="$(addr xray)"
api="$(addr http)"
if [[ -z "$xray" || -z "$api" ]]; then
  echo "run_xray: no addresses in the ready file: $(cat "$work/ready.json")" >&2
  exit 1
fi
echo "waggle $("$WAGGLE_BIN" version 2>/dev/null | head -1) (pid $pid) on xray udp $xray, http $api; data dir $data, --wal-sync fsync"
echo "kernel: net.core.rmem_max=$(cat /proc/sys/net/core/rmem_max) (caps waggle's SO_RCVBUF request; see docs/XRAY.md)"
grep -i "xray" "$work/waggle.log" | grep -i "buffer" || true

set +e
"$XRAY_BENCH" --xray "$xray" --api "$api" --pid "$pid" "$@"
bench_rc=$?
set -e

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=""
if [[ $rc -ne 0 ]]; then
  echo "run_xray: waggle exited with $rc on SIGTERM" >&2
  tail -20 "$work/waggle.log" >&2
  exit 1
fi
exit "$bench_rc"
