#!/usr/bin/env bash
# The ingest benchmark of issue 2: starts a Release `waggle serve` (--wal-sync fsync, temporary
# data dir, free loopback ports from its ready file), drives it with bench/ingest_bench
# (8 client threads, OTLP/HTTP protobuf, ~500-byte spans), then stops it with SIGTERM (which
# flushes the head to segments) and reports on-disk bytes per span, and the rate counting that
# final flush too (short runs leave about one head's flush outside the load window).
#
# usage: bench/run_ingest.sh [ingest_bench flags]
#   --duration S     load for S seconds (default 10)
#   --spans N        stop after N acknowledged spans; `--spans 10000000 --duration 0` checks the
#                    RSS target (<= 1 GB with 10M spans stored)
#   --threads T      client threads (default 8)      --batch B   spans per request (default 1000)
# env: WAGGLE_BIN (default build/src/server/waggle), INGEST_BENCH (default build/bench/ingest_bench),
#      BENCH_DIR (parent of the temporary data dir, default $TMPDIR or /tmp), KEEP_DATA=1
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WAGGLE_BIN="${WAGGLE_BIN:-$ROOT/build/src/server/waggle}"
INGEST_BENCH="${INGEST_BENCH:-$ROOT/build/bench/ingest_bench}"

source "$ROOT/bench/lib_server.sh"
bench_require run_ingest "$WAGGLE_BIN" "$INGEST_BENCH"
bench_start_server run_ingest
otlp="$(bench_addr otlp_http)"
api="$(bench_addr http)"
if [[ -z "$otlp" || -z "$api" ]]; then
  echo "run_ingest: no addresses in the ready file: $(cat "$work/ready.json")" >&2
  exit 1
fi
echo "waggle $("$WAGGLE_BIN" version 2>/dev/null | head -1) (pid $pid) on otlp_http $otlp, http $api; data dir $data, --wal-sync fsync"

set +e
"$INGEST_BENCH" --otlp "$otlp" --api "$api" --pid "$pid" "$@" | tee "$work/bench.out"
bench_rc=${PIPESTATUS[0]}
set -e
spans="$(sed -n 's/.*machine-readable: spans=\([0-9]*\).*/\1/p' "$work/bench.out")"

t0=$(date +%s.%N)
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
t1=$(date +%s.%N)
pid=""

echo
echo "after SIGTERM (flush)"
calc() { awk "BEGIN { printf \"%.2f\", $1 }"; }
printf '  shutdown             exit code %d after %s s\n' "$rc" "$(calc "$t1 - $t0")"
load_s="$(sed -n 's/.*machine-readable: spans=[0-9]* seconds=\([0-9.]*\).*/\1/p' "$work/bench.out")"
if [[ -n "$load_s" && -n "$spans" && "$spans" != 0 ]]; then
  # The load window leaves the flush of the last heads to the shutdown: counting it gives the
  # rate the store sustains with every acknowledged span written to segments.
  printf '  load + final flush   %s spans/s (%s spans in %s s of load + %s s of shutdown)\n' \
    "$(awk "BEGIN { printf \"%.0f\", $spans / ($load_s + $t1 - $t0) }")" "$spans" "$load_s" \
    "$(calc "$t1 - $t0")"
fi
if [[ -z "$spans" || "$spans" == 0 ]]; then
  echo "  no spans were acknowledged; no disk figures"
  exit 1
fi
seg_bytes=0
seg_files=0
if [[ -d "$data/segments" ]]; then
  seg_bytes=$(du -sb "$data/segments" | cut -f1)
  seg_files=$(find "$data/segments" -type f | wc -l)
fi
all_bytes=$(du -sb "$data" | cut -f1)
seg_bps=$(calc "$seg_bytes / $spans")
all_bps=$(calc "$all_bytes / $spans")
printf '  segments/            %d bytes in %d files = %s bytes/span\n' "$seg_bytes" "$seg_files" "$seg_bps"
printf '  whole data dir       %d bytes = %s bytes/span\n' "$all_bytes" "$all_bps"
echo "  (apparent sizes, du -sb; the data dir also holds the WAL and any files not yet compacted)"
echo "  (this workload carries five random UUIDs per trace, the user's in four services' rows;"
echo "   the <= 25 bytes/span target is for the demo workload: bench/run_demo_bytes.sh, make bench)"
echo
echo "published peer figures (their documentation, not measured here)"
printf '  Jaeger v2 on ClickHouse  75.7 bytes/span  -> waggle uses %sx of that\n' \
  "$(calc "$all_bps / 75.7")"
printf '  Tempo (Parquet)          ~58 bytes/span   -> waggle uses %sx of that\n' \
  "$(calc "$all_bps / 58")"
if [[ $rc -ne 0 ]]; then
  echo "run_ingest: waggle exited with $rc on SIGTERM" >&2
  tail -20 "$work/waggle.log" >&2
  exit 1
fi
exit "$bench_rc"
