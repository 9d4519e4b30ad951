# Sourced by the bench/run_*.sh scripts: builds what is missing, starts a Release `waggle serve`
# on free loopback ports with a temporary data dir, and stops it on exit.
#
#   bench_require NAME BIN...      build (ninja in build/) and check the binaries; NAME prefixes
#                                  messages
#   bench_start_server NAME [ARGS] start `$WAGGLE_BIN serve --wal-sync fsync ARGS`; sets $pid,
#                                  $work, $data and bench_addr() over its ready file
#   bench_stop_server NAME         SIGTERM (the head is flushed), fail if waggle did not exit 0
# env: BENCH_DIR (parent of the temporary dir, default $TMPDIR or /tmp), KEEP_DATA=1

bench_require() {
  local name="$1"; shift
  local missing=0 b
  for b in "$@"; do [[ -x "$b" ]] || missing=1; done
  if [[ $missing == 1 && -f "$ROOT/build/build.ninja" ]]; then
    echo "$name: building $(for b in "$@"; do basename "$b"; done | tr '\n' ' ')in build/" >&2
    ninja -C "$ROOT/build" $(for b in "$@"; do basename "$b"; done) >&2
  fi
  for b in "$@"; do
    if [[ ! -x "$b" ]]; then
      echo "$name: $b not found; build Release first (make build)" >&2
      exit 2
    fi
  done
}

bench_cleanup() {
  if [[ -n "${pid:-}" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  if [[ "${KEEP_DATA:-0}" == 1 ]]; then echo "bench: data kept in $data" >&2; else rm -rf "$work"; fi
}

bench_start_server() {
  local name="$1"; shift
  work="$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/waggle-$name.XXXXXX")"
  data="$work/data"
  pid=""
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
  "$WAGGLE_BIN" serve --data-dir "$data" --wal-sync fsync \
    --http-listen 127.0.0.1:0 --otlp-http-listen 127.0.0.1:0 \
    --otlp-grpc-listen 127.0.0.1:0 --xray-listen 127.0.0.1:0 \
    --ready-file "$work/ready.json" "$@" >"$work/waggle.log" 2>&1 &
  pid=$!
  for _ in $(seq 600); do
    [[ -s "$work/ready.json" ]] && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$name: waggle exited before it was ready:" >&2
      tail -20 "$work/waggle.log" >&2
      exit 1
    fi
    sleep 0.05
  done
  echo "$name: waggle was not ready within 30 s" >&2
  exit 1
}

# The address of listener $1 (http, otlp_http, otlp_grpc, xray) from the ready file.
bench_addr() { sed -n "s/.*\"$1\" *: *\"\\([^\"]*\\)\".*/\\1/p" "$work/ready.json"; }

bench_stop_server() {
  local name="$1" rc=0
  kill -TERM "$pid"
  wait "$pid" || rc=$?
  pid=""
  if [[ $rc -ne 0 ]]; then
    echo "$name: waggle exited with $rc on SIGTERM" >&2
    tail -20 "$work/waggle.log" >&2
    exit 1
  fi
}
