#!/usr/bin/env bash
# Side by side on this machine: voltrs voter against the PostgreSQL, Redis, Tarantool and
# SQLite baselines of ../shared/bench, one after another, with the same duration, repeats
# and client counts, then one table (throughput, p50, p99, voltrs's ratio to each).
#
#   bench/compare.sh            (DURATION=10 WARMUP=2 REPEATS=1 CLIENTS=16)
#   DURATION=30 REPEATS=3 bench/compare.sh
#
# Each baseline script installs its server with apt-get when missing (run as root) and
# writes CSV rows; this script points them at one results folder per run and passes:
#   PostgreSQL: CLIENTS clients over TCP, synchronous_commit off (its fastest setting);
#   Redis: CLIENTS clients, pipeline 32, no persistence;
#   Tarantool: 4*CLIENTS fibers (its best in the reference run), wal_mode none;
#   SQLite: in-memory, in-process (Python and Rust loops).
# voltrs runs on its defaults (synchronous command log) with `voltrs bench voter`.
# Knobs: DURATION, WARMUP, REPEATS, CLIENTS, BASELINES ("pg redis tarantool sqlite"),
# SHARED_BENCH (../shared/bench), OUT (a results folder; default a new temp folder).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-2}"
REPEATS="${REPEATS:-1}"
CLIENTS="${CLIENTS:-16}"
BASELINES="${BASELINES:-pg redis tarantool sqlite}"
SHARED_BENCH="${SHARED_BENCH:-$root/../shared/bench}"
OUT="${OUT:-$(mktemp -d /tmp/voltrs-compare.XXXXXX)}"
mkdir -p "$OUT"
# The baseline scripts append to dated CSV files: rows of an earlier run in the same folder
# would be counted in this run's medians.
if [ -n "$(ls -A "$OUT")" ]; then
  echo "compare: $OUT is not empty; give a new folder (OUT=...) so earlier rows are not mixed in" >&2
  exit 2
fi
export RESULTS_DIR="$OUT"
# The SQLite baseline runs its Rust program from $SHARED_BENCH/rust/target: it builds there
# when that folder is writable, and is skipped (SKIP_RUST=1) when it is not.
if [ ! -w "$SHARED_BENCH/rust" ]; then
  export SKIP_RUST=1
  echo "compare: $SHARED_BENCH/rust is read-only: SQLite's Rust variant is skipped" >&2
fi
echo "compare: results in $OUT (duration ${DURATION}s, warmup ${WARMUP}s, repeats $REPEATS, clients $CLIENTS)" >&2

# voltrs: a fresh server per repeat, default settings (sync command log), voter over the
# binary protocol; the JSON line of each run goes to voltrs_voter.jsonl.
(cd "$root" && cargo build --release -q -p voltrs)
bin="${CARGO_TARGET_DIR:-$root/target}/release/voltrs"
for rep in $(seq 1 "$REPEATS"); do
  dir="$(mktemp -d /tmp/voltrs-compare-data.XXXXXX)"
  "$bin" start --dir "$dir" --client-port 21612 --admin-port 0 --http-port 0 --pg-port 0 \
    >"$dir/server.out" 2>"$dir/server.err" &
  server=$!
  trap 'kill $server 2>/dev/null || true' EXIT
  for _ in $(seq 100); do grep -q listening "$dir/server.out" 2>/dev/null && break; sleep 0.1; done
  "$bin" bench voter --servers localhost:21612 --duration "$DURATION" --warmup "$WARMUP" --json \
    | tail -1 >>"$OUT/voltrs_voter.jsonl"
  kill "$server"; wait "$server" 2>/dev/null || true
  trap - EXIT
  rm -rf "$dir"
done

# A baseline that fails (a package that cannot be installed, ...) is reported and skipped.
for b in $BASELINES; do
  case "$b" in
    pg) CLIENTS="$CLIENTS" DURATION="$DURATION" REPEATS="$REPEATS" TRANSPORTS=tcp SYNC_MODES=off \
          bash "$SHARED_BENCH/pg_voter.sh" >&2 || echo "compare: the PostgreSQL baseline failed" >&2 ;;
    redis) CLIENTS="$CLIENTS" DURATION="$DURATION" REPEATS="$REPEATS" PIPELINES=32 PERSIST_MODES=none \
          bash "$SHARED_BENCH/redis_voter.sh" >&2 || echo "compare: the Redis baseline failed" >&2 ;;
    tarantool) FIBERS="$((4 * CLIENTS))" DURATION="$DURATION" WARMUP="$WARMUP" REPEATS="$REPEATS" WAL_MODES=none \
          bash "$SHARED_BENCH/tarantool_voter.sh" >&2 || echo "compare: the Tarantool baseline failed" >&2 ;;
    sqlite) DURATION="$DURATION" REPEATS="$REPEATS" bash "$SHARED_BENCH/sqlite_voter.sh" >&2 \
          || echo "compare: the SQLite baseline failed" >&2 ;;
    *) echo "compare: unknown baseline $b" >&2; exit 2 ;;
  esac
done

python3 "$here/compare.py" "$OUT"
