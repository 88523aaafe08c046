#!/usr/bin/env bash
# Benchmark (not a test): N JSON messages (default 1,000,000) from the local Kafka-protocol broker
# (Tansu, scripts/services/kafka.sh) into SQLite with each partition's offset written in the
# load's transaction, release build, against a confluent-kafka Python consumer doing the same
# (executemany upsert + offsets in the same transaction + a manual commit per batch), in one run.
#
#   scripts/bench/kafka.sh                # N=1000000, 4 partitions
#   N=200000 scripts/bench/kafka.sh
#
# Then p50/p99 end-to-end latency at a steady 1,000 messages/s for RATE_SECONDS (default 20) with
# micro-batches of 100: from each message's time to when the upsert wrote its row (a trigger).
#
# Each side reads its own copy of the topic (same content) under its own group; the time is from
# the first row in the table to the last (the group join, about 3 s on Tansu, is left out of both).
# Both go through the same loopback relay in front of Tansu (see scripts/services/kafka.sh).
#
# First, the ceiling: a bare librdkafka consumer (kafka_ceiling.c, compiled here with cc) reads a
# third copy through the same relay with the same consumer settings and discards every message,
# timed from the first message to the last. Runnel's and Python's rates are reported as a
# fraction of it too (goal for Runnel: at least 0.7).
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

# The ceiling consumer: cc and librdkafka's headers (Debian's librdkafka-dev), installed if missing.
if ! command -v cc >/dev/null || [ ! -f /usr/include/librdkafka/rdkafka.h ]; then
    echo "==> installing build-essential and librdkafka-dev (for the ceiling consumer)" >&2
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq >&2 && $SUDO apt-get install -y -qq build-essential librdkafka-dev >&2
fi
cc -O2 -o "$WORK/kafka_ceiling" scripts/bench/kafka_ceiling.c -lrdkafka

VENV="$ROOT/.venv-kafka"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet confluent-kafka >&2
PY="$VENV/bin/python"

echo "==> producing $N messages to three topics ($PARTITIONS partitions each)" >&2
"$PY" scripts/bench/kafka_produce.py "$BROKERS" bench-ceiling "$PARTITIONS" "$N"
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

echo "==> ceiling: bare librdkafka consumer, messages discarded" >&2
CEILING_OUT="$("$WORK/kafka_ceiling" "$BROKERS" bench-ceiling bench-ceiling "$N")"
read -r _ CEILING_SECONDS _ <<<"$CEILING_OUT"

echo "==> Runnel: runnel-stream" >&2
"$BIN" run "$WORK/pipeline.yaml" --json-logs >"$WORK/runnel.out" 2>"$WORK/runnel.err" &
WORKER_PID=$!
RUNNEL_SECONDS="$(time_until_loaded "$WORK/runnel.db" "$WORKER_PID")" || { tail -n 20 "$WORK/runnel.err" >&2; exit 1; }
kill -TERM "$WORKER_PID"; wait "$WORKER_PID" || true; WORKER_PID=""

echo "==> Python: confluent-kafka + sqlite3 executemany" >&2
read -r PY_ROWS PY_SECONDS < <("$PY" scripts/bench/kafka_reference.py "$BROKERS" bench-python bench-python "$WORK/python.db" "$N")

# Latency: 1,000 messages/s for RATE_SECONDS into micro-batches of 100 (linger 10 ms), Runnel and
# then the reference, each on its own topic; a trigger stamps each row when the upsert writes it
# (the commit follows), against the message's time.
RATE_SECONDS="${RATE_SECONDS:-20}"
LAT_N=$((1000 * RATE_SECONDS))
sed -e 's/topics: \[bench-runnel\]/topics: [bench-latency]\n  format: fields/' -e 's/runnel\.db/latency.db/' \
    -e 's/status: text}}/status: text, kafka_timestamp: text}}/' \
    -e 's/^batching: .*/batching: {max_records: 100, max_linger: 10ms}/' \
    -e 's/session.timeout.ms: "6000"}/session.timeout.ms: "6000", fetch.wait.max.ms: "10"}/' "$WORK/pipeline.yaml" >"$WORK/latency.yaml"

# Makes DB (orders with the stamping trigger) and TOPIC.
latency_setup() {
    "$PY" - "$1" "$BROKERS" "$2" <<'PYEOF'
import sqlite3, sys
from confluent_kafka.admin import AdminClient, NewTopic
db = sqlite3.connect(sys.argv[1])
db.execute("PRAGMA journal_mode=WAL")
db.execute("CREATE TABLE orders (order_id INTEGER PRIMARY KEY, customer TEXT, amount REAL, status TEXT, "
           "kafka_timestamp TEXT, loaded_ms REAL)")
db.execute("CREATE TRIGGER stamp AFTER INSERT ON orders BEGIN UPDATE orders SET loaded_ms = "
           "(julianday('now') - 2440587.5) * 86400000.0 WHERE order_id = NEW.order_id; END")
db.commit()
admin = AdminClient({"bootstrap.servers": sys.argv[2]})  # kept alive until the topic exists
admin.create_topics([NewTopic(sys.argv[3], 4, 1)])[sys.argv[3]].result()
PYEOF
}

# Sends LAT_N messages to TOPIC at 1,000 a second, each at once.
produce_steadily() {
    "$PY" - "$BROKERS" "$1" "$LAT_N" <<'PYEOF'
import sys, time
from confluent_kafka import Producer
brokers, topic, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
p = Producer({"bootstrap.servers": brokers, "linger.ms": 0})
start = time.perf_counter()
for i in range(1, n + 1):
    delay = start + i / 1000 - time.perf_counter()
    if delay > 0:
        time.sleep(delay)
    p.produce(topic, key=str(i), value='{"order_id":%d,"customer":"c","amount":1.25,"status":"paid"}' % i)
    p.poll(0)
p.flush(30)
PYEOF
}

# "N p50 p99 max" of DB's rows: loaded_ms minus the message's time.
latencies() {
    "$PY" - "$1" <<'PYEOF'
import sqlite3, sys
from datetime import datetime
rows = sqlite3.connect(sys.argv[1]).execute("SELECT kafka_timestamp, loaded_ms FROM orders").fetchall()
lat = sorted(ms - datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() * 1000 for t, ms in rows)
pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
print(f"{len(lat)} {pick(0.5):.1f} {pick(0.99):.1f} {lat[-1]:.1f}")
PYEOF
}

echo "==> latency, Runnel: 1,000 messages/s for $RATE_SECONDS s" >&2
latency_setup "$WORK/latency.db" bench-latency
(cd "$WORK" && exec "$BIN" run "$WORK/latency.yaml" --json-logs >"$WORK/latency.out" 2>"$WORK/latency.err") &
WORKER_PID=$!
# Produce only once the worker has its partitions, so that no message waits for the group join.
until grep -q "partitions assigned" "$WORK/latency.err" 2>/dev/null; do
    kill -0 "$WORKER_PID" 2>/dev/null || { tail -n 20 "$WORK/latency.err" >&2; exit 1; }
    sleep 0.1
done
produce_steadily bench-latency
N="$LAT_N" time_until_loaded "$WORK/latency.db" "$WORKER_PID" >/dev/null || { tail -n 20 "$WORK/latency.err" >&2; exit 1; }
kill -TERM "$WORKER_PID"; wait "$WORKER_PID" || true; WORKER_PID=""
read -r LAT_COUNT R50 R99 RMAX < <(latencies "$WORK/latency.db")

echo "==> latency, Python: 1,000 messages/s for $RATE_SECONDS s" >&2
latency_setup "$WORK/latency-py.db" bench-latency-py
"$PY" scripts/bench/kafka_reference.py "$BROKERS" bench-latency-py bench-latency-py "$WORK/latency-py.db" "$LAT_N" 100 >/dev/null &
REF_PID=$!
# The reference prints nothing until it ends; give its group join the time Runnel's took.
sleep 4
produce_steadily bench-latency-py
wait "$REF_PID"
read -r _ P50 P99 PMAX < <(latencies "$WORK/latency-py.db")

"$PY" - "$N" "$RUNNEL_SECONDS" "$PY_SECONDS" "$CEILING_SECONDS" <<'PYEOF'
import sys
n, r, p, c = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
print(f"messages            {n:,}")
print(f"librdkafka ceiling  {n / c:,.0f} msg/s ({c:.2f} s)")
print(f"runnel-stream       {n / r:,.0f} msg/s ({r:.2f} s)")
print(f"confluent-kafka py  {n / p:,.0f} msg/s ({p:.2f} s)")
print(f"ratio               {p / r:.2f}")
print(f"Runnel / ceiling = {c / r:.2f} (goal \u2265 0.7)")
print(f"Python / ceiling = {c / p:.2f}")
PYEOF
echo "latency at 1,000/s  runnel p50 $R50 ms, p99 $R99 ms, max $RMAX ms; python p50 $P50 ms, p99 $P99 ms, max $PMAX ms ($LAT_COUNT messages)"
