#!/usr/bin/env bash
# The side-by-side query benchmark of issue 3: waggle vs ClickHouse 26.x in-process (PyPI chdb)
# vs Debian's clickhouse-server 18.16, on the same generated spans.
#
#   1. installs what it needs, idempotently: clickhouse-server/-client (apt), a venv with chdb
#      (bench/.venv-bench), and builds Release waggle + bench/query_dataset;
#   2. generates the dataset once into the cache (bench/.data/spans-N-seedS: a waggle data dir,
#      the same rows as TSV, 100 sampled trace ids), reused while N/seed/end epoch match;
#   3. starts `waggle serve` on that data dir and clickhouse-server 18.16 as a plain process with
#      its own config and data folder under the cache, both on free 127.0.0.1 ports;
#   4. loads the TSV into 18.16 and into a persistent chdb session (once per dataset);
#   5. runs bench/query_bench.py (1 warm-up + 5 timed runs per query, medians, agreement checks)
#      and prints the table; --write-results also writes bench/RESULTS.md.
# Every process it starts is stopped on exit.
#
# usage: bench/run_query.sh [--spans N] [--seed S] [--end-epoch SECONDS] [--runs R]
#                           [--only q1,q2,...] [--write-results] [--cache DIR]
#   defaults: --spans 10000000 --seed 1 --end-epoch 1767225600 (2026-01-01T00:00Z) --runs 5
# env: BENCH_JOBS (ninja -j, default 2), KEEP_RUNNING=1 (leave servers up; prints their pids)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SPANS=10000000
SEED=1
END_EPOCH=1767225600
RUNS=5
ONLY=""
WRITE=0
CACHE="$ROOT/bench/.data"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --spans) SPANS="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    --end-epoch) END_EPOCH="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --only) ONLY="$2"; shift 2 ;;
    --write-results) WRITE=1; shift ;;
    --cache) CACHE="$2"; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "run_query: unknown argument $1" >&2; exit 2 ;;
  esac
done
JOBS="${BENCH_JOBS:-2}"
say() { echo "run_query: $*" >&2; }

# --- 1. dependencies -------------------------------------------------------------------------
apt_install() {
  local need=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
  [[ ${#need[@]} -eq 0 ]] && return 0
  say "apt-get install ${need[*]}"
  local sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  if ! apt-cache policy "${need[0]}" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    $sudo apt-get update -qq
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >&2
}
if ! command -v clickhouse-server >/dev/null || ! command -v clickhouse-client >/dev/null; then
  apt_install clickhouse-server clickhouse-client
fi
# clickhouse-server's package may start a system service; this benchmark runs its own process.
if ! command -v cmake >/dev/null || ! command -v ninja >/dev/null; then
  "$ROOT/tools/install_deps.sh"
fi
VENV="$ROOT/bench/.venv-bench"
if ! "$VENV/bin/python" -c 'import chdb' 2>/dev/null; then
  python3 -m venv --help >/dev/null 2>&1 && python3 -c 'import ensurepip' 2>/dev/null ||
    apt_install python3-venv
  [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
  say "pip install chdb into $VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check chdb >&2
fi
PY="$VENV/bin/python"

# --- build -----------------------------------------------------------------------------------
cmake --preset release -S "$ROOT" >/dev/null
nice ninja -C "$ROOT/build" -j "$JOBS" waggle query_dataset >&2
WAGGLE="$ROOT/build/src/server/waggle"
GEN="$ROOT/build/bench/query_dataset"

# --- 2. dataset ------------------------------------------------------------------------------
DS="$CACHE/spans-$SPANS-seed$SEED"
KEY="spans=$SPANS seed=$SEED end=$END_EPOCH generator=$(sha1sum "$ROOT/bench/query_dataset.cc" | cut -c1-12)"
FORMAT="$(sed -n 's/.*kSegmentFormatVersion = \([0-9]*\);.*/\1/p' "$ROOT/src/store/internal/segment_format.h")"
BLOCK_ROWS="$(sed -n 's/.*kDefaultBlockRows = \([0-9]*\);.*/\1/p' "$ROOT/src/store/internal/segment_format.h")"
WRITER="$(cat "$ROOT/src/store/internal/segment_format.h" "$ROOT/src/store/internal/segment_writer.cc" | sha1sum | cut -c1-12)"
WKEY="$KEY segment-format=$FORMAT block-rows=$BLOCK_ROWS writer=$WRITER"
if [[ ! -f "$DS/dataset.done" || "$(cat "$DS/dataset.done")" != "$KEY" ]]; then
  say "generating $SPANS spans into $DS"
  rm -rf "$DS"
  mkdir -p "$DS"
  nice "$GEN" --spans "$SPANS" --seed "$SEED" --end-epoch "$END_EPOCH" --data-dir "$DS/waggle" \
    --tsv "$DS/spans.tsv" --trace-ids "$DS/trace_ids.txt" | tee "$DS/generate.log" >&2
  echo "$KEY" >"$DS/dataset.done"
  echo "$WKEY" >"$DS/waggle.done"
else
  say "reusing the dataset in $DS"
fi
# The waggle store is rewritten (same rows, same seed) when the segment format, the block size
# or the segment writer changes; the ClickHouse tables loaded from spans.tsv stay.
if [[ ! -f "$DS/waggle.done" || "$(cat "$DS/waggle.done")" != "$WKEY" ]]; then
  say "writing the waggle store (segment format $FORMAT) into $DS/waggle"
  rm -rf "$DS/waggle" "$DS/regen"
  mkdir -p "$DS/regen"
  nice "$GEN" --spans "$SPANS" --seed "$SEED" --end-epoch "$END_EPOCH" --data-dir "$DS/waggle" \
    --tsv "$DS/regen/spans.tsv" --trace-ids "$DS/regen/trace_ids.txt" | tee "$DS/generate.log" >&2
  cmp -s "$DS/regen/trace_ids.txt" "$DS/trace_ids.txt" || { say "regenerated rows differ"; exit 1; }
  rm -rf "$DS/regen"
  echo "$WKEY" >"$DS/waggle.done"
fi

# --- 3. servers ------------------------------------------------------------------------------
RUN="$(mktemp -d "${TMPDIR:-/tmp}/waggle-query-bench.XXXXXX")"
WPID=""
CPID=""
stop() {  # stop PID: TERM, wait up to 20 s, then KILL
  local pid="$1"
  [[ -z "$pid" ]] && return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
  if [[ "${KEEP_RUNNING:-0}" == 1 ]]; then
    say "leaving waggle (pid $WPID) and clickhouse-server (pid $CPID) running; logs in $RUN"
    return
  fi
  stop "$WPID"
  stop "$CPID"
  rm -rf "$RUN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

"$WAGGLE" serve --data-dir "$DS/waggle" --retention 0 --wal-sync none --log-level warn \
  --http-listen 127.0.0.1:0 --otlp-http-listen 127.0.0.1:0 --otlp-grpc-listen 127.0.0.1:0 \
  --xray-listen 127.0.0.1:0 --ready-file "$RUN/waggle-ready.json" >"$RUN/waggle.log" 2>&1 &
WPID=$!

CH="$DS/ch18"
mkdir -p "$CH/data" "$CH/tmp" "$CH/user_files" "$CH/log" "$CH/format_schemas"
CH_HTTP=""
for attempt in 1 2 3; do
  http_port="$(free_port)"
  tcp_port="$(free_port)"
  cat >"$CH/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$CH/log/server.log</log><errorlog>$CH/log/err.log</errorlog><size>100M</size><count>2</count></logger>
  <http_port>$http_port</http_port>
  <tcp_port>$tcp_port</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <max_connections>64</max_connections>
  <keep_alive_timeout>60</keep_alive_timeout>
  <max_concurrent_queries>16</max_concurrent_queries>
  <uncompressed_cache_size>1073741824</uncompressed_cache_size>
  <mark_cache_size>1073741824</mark_cache_size>
  <path>$CH/data/</path>
  <tmp_path>$CH/tmp/</tmp_path>
  <user_files_path>$CH/user_files/</user_files_path>
  <format_schema_path>$CH/format_schemas/</format_schema_path>
  <users_config>$CH/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
</yandex>
EOF
  cat >"$CH/users.xml" <<'EOF'
<?xml version="1.0"?>
<yandex>
  <profiles>
    <default>
      <max_memory_usage>8000000000</max_memory_usage>
      <allow_experimental_low_cardinality_type>1</allow_experimental_low_cardinality_type>
    </default>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas>
    <default>
      <interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval>
    </default>
  </quotas>
</yandex>
EOF
  clickhouse-server --config-file="$CH/config.xml" >"$RUN/clickhouse.log" 2>&1 &
  CPID=$!
  for _ in $(seq 600); do
    if curl -sf "http://127.0.0.1:$http_port/" --data-binary 'SELECT 1' >/dev/null 2>&1; then
      CH_HTTP="127.0.0.1:$http_port"
      break
    fi
    kill -0 "$CPID" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n "$CH_HTTP" ]] && break
  say "clickhouse-server did not come up (attempt $attempt):"
  tail -5 "$CH/log/err.log" "$RUN/clickhouse.log" >&2 || true
  stop "$CPID"
  CPID=""
done
if [[ -z "$CH_HTTP" ]]; then
  say "giving up on clickhouse-server"
  exit 1
fi
say "clickhouse-server 18.16 (pid $CPID) on http $CH_HTTP, data in $CH/data"

for _ in $(seq 1200); do
  [[ -s "$RUN/waggle-ready.json" ]] && break
  if ! kill -0 "$WPID" 2>/dev/null; then
    say "waggle exited before it was ready:"
    tail -20 "$RUN/waggle.log" >&2
    exit 1
  fi
  sleep 0.05
done
W_HTTP="$(sed -n 's/.*"http" *: *"\([^"]*\)".*/\1/p' "$RUN/waggle-ready.json")"
if [[ -z "$W_HTTP" ]]; then
  say "no http address in the ready file: $(cat "$RUN/waggle-ready.json")"
  exit 1
fi
say "waggle (pid $WPID) on http $W_HTTP, data dir $DS/waggle"

# --- 4. load the ClickHouse peers ------------------------------------------------------------
nice "$PY" "$ROOT/bench/query_bench.py" load-ch18 --ch-http "$CH_HTTP" --tsv "$DS/spans.tsv" \
  --key "$KEY" --marker "$DS/ch18.loaded" --spans "$SPANS"
nice "$PY" "$ROOT/bench/query_bench.py" load-chdb --chdb-path "$DS/chdb" --tsv "$DS/spans.tsv" \
  --key "$KEY" --marker "$DS/chdb.loaded" --spans "$SPANS"

# --- 5. run ----------------------------------------------------------------------------------
args=(run --waggle "$W_HTTP" --waggle-bin "$WAGGLE" --waggle-data "$DS/waggle" --ch-http "$CH_HTTP"
      --chdb-path "$DS/chdb" --end-epoch "$END_EPOCH" --spans "$SPANS" --seed "$SEED"
      --trace-ids "$DS/trace_ids.txt" --runs "$RUNS")
[[ -n "$ONLY" ]] && args+=(--only "$ONLY")
[[ "$WRITE" == 1 ]] && args+=(--write-results "$ROOT/bench/RESULTS.md")
say "load before the run: $(uptime)"
"$PY" "$ROOT/bench/query_bench.py" "${args[@]}"
