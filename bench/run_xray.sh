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

source "$ROOT/bench/lib_server.sh"
bench_require run_xray "$WAGGLE_BIN" "$XRAY_BENCH"
bench_start_server run_xray --retention 0
xray="$(bench_addr xray)"
api="$(bench_addr http)"
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

bench_stop_server run_xray
exit "$bench_rc"
