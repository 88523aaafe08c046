#!/usr/bin/env bash
# Benchmark (not a test): N records over N/1000 pages from the local test API
# (scripts/services/http_api_server.py, offset pagination) into SQLite, with runnel-batch
# (release build, HTTPAPI trait: guarded upsert, checkpoint in the load's transaction) and, in
# the same run against the same server, the Python reference (requests + sqlite3 executemany
# upsert, scripts/bench/http_reference.py). Reports records/s, the ratio, and peak RSS.
# The server is warmed first (it caches encoded pages), so both clients meet the same server.
#
#   scripts/bench/http.sh [RECORDS...]     default: 1000000
#   RUNNEL_BENCH_BIN=path  measure that multi-call `runnel` instead of building one
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
SIZES=("$@")
[ $# -gt 0 ] || SIZES=(1000000)
PORT="${RUNNEL_TEST_HTTP_PORT:-18080}"
WORK="$(mktemp -d /tmp/runnel-bench-http.XXXXXX)"
SERVER=""
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
[ -x /usr/bin/time ] || { apt-get install -y time >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y time >/dev/null; }; }
python3 -c "import requests" 2>/dev/null || {
    python3 -m venv "$ROOT/.venv-bench" && "$ROOT/.venv-bench/bin/pip" install -q requests
    export PATH="$ROOT/.venv-bench/bin:$PATH"
}

source "$(dirname "${BASH_SOURCE[0]}")/binary.sh"
RUNNEL_BIN="$(bench_binary runnel-batch)"

measure() {
    /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" >/dev/null 2>"$WORK/stderr.txt" || { cat "$WORK/stderr.txt"; return 1; }
    cat "$WORK/time.txt"
}

printf "\n%-9s %-36s %12s %9s %10s\n" records tool "records/s" seconds "peak RSS"
for n in "${SIZES[@]}"; do
    [ -n "$SERVER" ] && { kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; }
    python3 scripts/services/http_api_server.py --port "$PORT" --records "$n" >"$WORK/server.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 300); do grep -q listening "$WORK/server.log" 2>/dev/null && break; sleep 0.1; done
    # Warm the page cache: one pass with the reference, thrown away.
    python3 scripts/bench/http_reference.py "http://127.0.0.1:$PORT" "$WORK/warm.db"
    cat >"$WORK/pipeline.yaml" <<SPEC
pipeline: bench-http
extract:
  type: http
  url: http://127.0.0.1:$PORT/offset/items
  records: data
  pagination: {type: offset, limit: 1000}
load: {type: sqlite, path: runnel.db, table: items, key: [id], version: updated_at}
checkpoint: {type: sqlite}
dead_letter: {type: sqlite}
SPEC
    # The same with four requests in flight (offset pagination allows it): a second row, not the
    # headline ratio, which compares one request at a time on both sides.
    sed 's/pagination: {type: offset, limit: 1000}/pagination: {type: offset, limit: 1000}\n  concurrency: 4/' \
        "$WORK/pipeline.yaml" >"$WORK/pipeline-c4.yaml"
    rm -f "$WORK"/runnel.db* "$WORK"/ref.db*
    read -r cs ck < <(measure "$RUNNEL_BIN" run "$WORK/pipeline-c4.yaml" --no-progress)
    rm -f "$WORK"/runnel.db*
    read -r rs rk < <(measure "$RUNNEL_BIN" run "$WORK/pipeline.yaml" --no-progress)
    read -r ps pk < <(measure python3 scripts/bench/http_reference.py "http://127.0.0.1:$PORT" "$WORK/ref.db")
    rc=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from items').fetchone()[0])" "$WORK/runnel.db")
    pc=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from items').fetchone()[0])" "$WORK/ref.db")
    [ "$rc" = "$n" ] && [ "$pc" = "$n" ] || { echo "row counts differ: runnel $rc, reference $pc, expected $n" >&2; exit 1; }
    printf "%-9s %-36s %12.0f %9.2f %7.1f MiB\n" "$n" "runnel-batch" "$(echo "$n / $rs" | bc -l)" "$rs" "$(echo "$rk / 1024" | bc -l)"
    printf "%-9s %-36s %12.0f %9.2f %7.1f MiB\n" "$n" "python requests + sqlite3 executemany" "$(echo "$n / $ps" | bc -l)" "$ps" "$(echo "$pk / 1024" | bc -l)"
    printf "%-9s %-36s %12.2f\n" "$n" "ratio (runnel / reference)" "$(echo "$ps / $rs" | bc -l)"
    printf "%-9s %-36s %12.0f %9.2f %7.1f MiB\n" "$n" "runnel-batch, concurrency: 4" "$(echo "$n / $cs" | bc -l)" "$cs" "$(echo "$ck / 1024" | bc -l)"
    printf "%-9s %-36s %12.2f\n" "$n" "ratio (concurrency 4 / reference)" "$(echo "$ps / $cs" | bc -l)"
done
