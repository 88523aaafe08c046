#!/usr/bin/env bash
# Benchmark (not a test): N JSON messages (default 1,000,000) from the local Kafka-protocol broker
# (Tansu, scripts/services/kafka.sh) into SQLite with each partition's offset written in the
# load's transaction, release build, against a confluent-kafka Python consumer doing the same
# (executemany upsert + offsets in the same transaction + a manual commit per batch), in one run.
#
#   scripts/bench/kafka.sh                # N=1000000, 4 partitions
#   N=200000 scripts/bench/kafka.sh
#
# Each side reads its own copy of the topic (same content) under its own group; the time is from
# the first row in the table to the last (the group join, about 3 s on Tansu, is left out of both).
# Both go through the same loopback relay in front of Tansu (see scripts/services/kafka.sh).
#
# Environment: RUNNEL_BENCH_KAFKA_PORT (default 19096; the broker uses the next port too),
# RUNNEL_BENCH_BIN (a built multi-call `runnel` to measure instead of building one).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
N="${N:-1000000}"
PARTITIONS="${PARTITIONS:-4}"
WORK="$(mktemp -d /tmp/runnel-bench-kafka.XXXXXX)"
WORKER_PID=""
export RUNNEL_TEST_KAFKA_PORT="${RUNNEL_BENCH_KAFKA_PORT:-19096}"

# shellcheck source=../services/kafka.sh
source scripts/services/kafka.sh
cleanup() {
    [ -n "$WORKER_PID" ] && kill -9 "$WORKER_PID" 2>/dev/null || true
    kafka_stop "$WORK/kafka" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
kafka_start "$WORK/kafka"
BROKERS="$RUNNEL_TEST_KAFKA_BROKERS"

source "$(dirname "${BASH_SOURCE[0]}")/binary.sh"
BIN="$(bench_binary runnel-stream)"

VENV="$ROOT/.venv-kafka"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet confluent-kafka >&2
PY="$VENV/bin/python"

echo "==> producing $N messages to two topics ($PARTITIONS partitions each)" >&2
"$PY" scripts/bench/kafka_produce.py "$BROKERS" bench-runnel "$PARTITIONS" "$N"
"$PY" scripts/bench/kafka_produce.py "$BROKERS" bench-python "$PARTITIONS" "$N"

# Polls the row count of DB's orders table until it reaches N; prints seconds from the first row.
# Fails when process PID (the worker) is gone first.
time_until_loaded() {
    "$PY" - "$1" "$N" "$2" <<'PYEOF'
import os, sqlite3, sys, time
path, n, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
first = None
while True:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(f"the worker (pid {pid}) exited before loading {n} rows")
    try:
        c = sqlite3.connect(path, timeout=1).execute("SELECT count(*) FROM orders").fetchone()[0]
    except sqlite3.OperationalError:
        c = 0
    now = time.monotonic()
    if c > 0 and first is None:
        first = now
    if c >= n:
        print(f"{now - first:.3f}")
        break
    time.sleep(0.01)
PYEOF
}

cat >"$WORK/pipeline.yaml" <<YAML
pipeline: bench-kafka
extract:
  type: kafka
  brokers: $BROKERS
  topics: [bench-runnel]
  properties: {session.timeout.ms: "6000"}
transform:
  - type: cast
    fields: {order_id: int, amount: double}
load: {type: sqlite, path: runnel.db, table: orders, key: [order_id], columns: {order_id: integer, customer: text, amount: real, status: text}}
checkpoint: {type: sqlite}
dead_letter: {type: sqlite}
batching: {max_records: 5000, max_bytes: 8MiB, max_linger: 50ms}
YAML

echo "==> Runnel: runnel-stream" >&2
"$BIN" run "$WORK/pipeline.yaml" --json-logs >"$WORK/runnel.out" 2>"$WORK/runnel.err" &
WORKER_PID=$!
RUNNEL_SECONDS="$(time_until_loaded "$WORK/runnel.db" "$WORKER_PID")" || { tail -n 20 "$WORK/runnel.err" >&2; exit 1; }
kill -TERM "$WORKER_PID"; wait "$WORKER_PID" || true; WORKER_PID=""

echo "==> Python: confluent-kafka + sqlite3 executemany" >&2
read -r PY_ROWS PY_SECONDS < <("$PY" scripts/bench/kafka_reference.py "$BROKERS" bench-python bench-python "$WORK/python.db" "$N")

"$PY" - "$N" "$RUNNEL_SECONDS" "$PY_SECONDS" <<'PYEOF'
import sys
n, r, p = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
print(f"messages            {n:,}")
print(f"runnel-stream       {n / r:,.0f} msg/s ({r:.2f} s)")
print(f"confluent-kafka py  {n / p:,.0f} msg/s ({p:.2f} s)")
print(f"ratio               {p / r:.2f}")
PYEOF
