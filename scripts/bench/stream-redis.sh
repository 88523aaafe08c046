#!/usr/bin/env bash
# Benchmark (not a test): Redis Streams → no-op transform → JSON Lines part files, release build,
# micro-batch 100, against a plain Python consumer doing the same work.
#
#   scripts/bench/stream-redis.sh                 # N=200000 messages, 20 s at 1,000 msg/s
#   N=500000 RATE_SECONDS=30 scripts/bench/stream-redis.sh
#   TARGET=sqlite scripts/bench/stream-redis.sh    # into SQLite instead (below)
#
# TARGET=sqlite loads each micro-batch into an SQLite table by key with a version guard
# (`version: entry_id`, synchronous FULL in WAL mode), XACK after the commit; the Python
# reference does the same with `executemany` of the same guarded upsert. Latency is then taken
# from a trigger that stamps each row when the upsert writes it (the commit's fsync follows).
#
# Measures, on a private redis-server (no persistence) in a temporary folder:
#   1. sustained throughput with acknowledgements: N messages pre-loaded on a stream, time from
#      the worker's start until the group has read and acknowledged all of them (XINFO GROUPS);
#   2. end-to-end latency at a steady 1,000 messages/s with max_linger 10 ms: from each entry's id
#      time (set by Redis on XADD) to the moment its part file was written (mtime; the XACK
#      follows right after), p50/p99 over every message;
#   3. the worker's peak RSS (VmHWM) over both runs;
#   4. the same throughput run with a Python consumer (redis-py, XREADGROUP COUNT 100 + XACK,
#      json.loads each payload, one part file per batch written the same way: temporary file,
#      fsync, rename, fsync of the folder), and the ratio.
#
# Environment: RUNNEL_BENCH_REDIS_PORT (default 6399), RUNNEL_BENCH_BIN (a built multi-call
# `runnel` to measure instead of building one).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
N="${N:-200000}"
TARGET="${TARGET:-jsonl}"
RATE_SECONDS="${RATE_SECONDS:-20}"
PORT="${RUNNEL_BENCH_REDIS_PORT:-6399}"
WORK="$(mktemp -d /tmp/runnel-bench-stream.XXXXXX)"
URL="redis://127.0.0.1:$PORT"
WORKER_PID=""

cleanup() {
    [ -n "$WORKER_PID" ] && kill -9 "$WORKER_PID" 2>/dev/null || true
    redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# shellcheck source=../services/redis.sh
source scripts/services/redis.sh
redis_install
redis-server --bind 127.0.0.1 --port "$PORT" --save "" --appendonly no --daemonize yes \
    --logfile "$WORK/redis.log" --dir "$WORK" >/dev/null
until redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG; do sleep 0.1; done

source "$(dirname "${BASH_SOURCE[0]}")/binary.sh"
BIN="$(bench_binary runnel-stream)"

echo "==> Python reference: venv with redis-py" >&2
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install --quiet redis >&2
PY="$WORK/venv/bin/python"

cat >"$WORK/bench.py" <<'EOF'
import json, os, sys, time, redis

def produce(url, stream, n):
    r = redis.Redis.from_url(url)
    pipe = r.pipeline(transaction=False)
    for i in range(1, n + 1):
        pipe.xadd(stream, {"payload": json.dumps({"order_id": i, "customer": "customer-%d" % (i % 97), "status": "PAID", "amount": i % 500 + 0.25})})
        if i % 1000 == 0:
            pipe.execute()
    pipe.execute()

def steady(url, stream, rate, seconds):
    r = redis.Redis.from_url(url)
    start = time.perf_counter()
    for i in range(1, rate * seconds + 1):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        r.xadd(stream, {"payload": json.dumps({"order_id": i, "customer": "c", "status": "PAID", "amount": 1.5})})

def group_done(url, stream, group, n, worker):
    """Returns once the group has read and acknowledged n entries; exits 1 if the worker died."""
    r = redis.Redis.from_url(url)
    while True:
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            sys.exit("the worker (pid %d) exited before its group acknowledged %d entries" % (worker, n))
        for g in r.xinfo_groups(stream):
            if g["name"].decode() == group and g["entries-read"] is not None and g["entries-read"] >= n and g["pending"] == 0:
                return
        time.sleep(0.005)

def write_part(directory, name, data):
    tmp = os.path.join(directory, ".tmp-" + name)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, data)
    os.fsync(fd)
    os.close(fd)
    os.rename(tmp, os.path.join(directory, name))
    d = os.open(directory, os.O_RDONLY)
    os.fsync(d)
    os.close(d)

def consume_loop(url, stream, group, n, store):
    """XREADGROUP COUNT 100, `store` the entries, XACK; seconds until n entries were stored."""
    r = redis.Redis.from_url(url)
    try:
        r.xgroup_create(stream, group, id="0", mkstream=True)
    except redis.ResponseError:
        pass
    done = 0
    start = time.perf_counter()
    while done < n:
        reply = r.xreadgroup(group, "python", {stream: ">"}, count=100, block=10)
        if not reply:
            continue
        entries = reply[0][1]
        store(entries)
        r.xack(stream, group, *[e[0] for e in entries])
        done += len(entries)
    return time.perf_counter() - start
def consume(url, stream, group, n, directory):
    """The reference consumer: parse, write a part file, XACK."""
    os.makedirs(directory, exist_ok=True)
    def store(entries):
        lines = []
        for entry_id, fields in entries:
            record = json.loads(fields[b"payload"])
            record["entry_id"] = entry_id.decode()
            lines.append(json.dumps(record, separators=(",", ":")))
        write_part(directory, "part-%s.jsonl" % entries[0][0].decode(), ("\n".join(lines) + "\n").encode())
    return consume_loop(url, stream, group, n, store)

TABLE = ("CREATE TABLE orders (order_id INTEGER PRIMARY KEY, customer TEXT, status TEXT, amount REAL, entry_id TEXT, "
         "loaded_ms REAL)")
def create_sqlite(path):
    import sqlite3
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(TABLE)
    # When the upsert writes a row (inside its transaction; the commit follows).
    for name, event in (("ins", "INSERT"), ("upd", "UPDATE OF entry_id")):
        db.execute("CREATE TRIGGER stamp_%s AFTER %s ON orders BEGIN UPDATE orders SET loaded_ms = "
                   "(julianday('now') - 2440587.5) * 86400000.0 WHERE order_id = NEW.order_id; END" % (name, event))
    db.commit()
    db.close()
def consume_sqlite(url, stream, group, n, path):
    """The reference consumer: parse, guarded upsert by executemany, commit, XACK."""
    import sqlite3
    db = sqlite3.connect(path, isolation_level="DEFERRED")
    db.execute("PRAGMA synchronous=FULL")
    upsert = ("INSERT INTO orders (order_id, customer, status, amount, entry_id) VALUES (?, ?, ?, ?, ?) "
              "ON CONFLICT (order_id) DO UPDATE SET customer = excluded.customer, status = excluded.status, "
              "amount = excluded.amount, entry_id = excluded.entry_id "
              "WHERE orders.entry_id IS NULL OR excluded.entry_id >= orders.entry_id")
    def store(entries):
        rows = []
        for entry_id, fields in entries:
            o = json.loads(fields[b"payload"])
            rows.append((o["order_id"], o["customer"], o["status"].lower(), o["amount"], entry_id.decode()))
        db.executemany(upsert, rows)
        db.commit()
    return consume_loop(url, stream, group, n, store)
def latencies_sqlite(path):
    import sqlite3
    db = sqlite3.connect(path)
    return sorted(ms - int(e.split("-")[0]) for e, ms in db.execute("SELECT entry_id, loaded_ms FROM orders"))
def latencies(directory):
    out = []
    for name in os.listdir(directory):
        if not name.endswith(".jsonl"):
            continue
        path = os.path.join(directory, name)
        written_ms = os.stat(path).st_mtime_ns / 1e6
        with open(path) as f:
            for line in f:
                entry_ms = int(json.loads(line)["entry_id"].split("-")[0])
                out.append(written_ms - entry_ms)
    out.sort()
    return out

if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "produce": produce(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif cmd == "steady": steady(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif cmd == "wait": group_done(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]))
    elif cmd == "consume": print("%.3f" % consume(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6]))
    elif cmd == "consume-sqlite": print("%.3f" % consume_sqlite(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6]))
    elif cmd == "create-sqlite": create_sqlite(sys.argv[2])
    elif cmd == "latency-sqlite":
        l = latencies_sqlite(sys.argv[2])
        pick = lambda q: l[min(len(l) - 1, int(q * len(l)))]
        print("%d %.2f %.2f %.2f" % (len(l), pick(0.50), pick(0.99), l[-1]))
    elif cmd == "latency":
        l = latencies(sys.argv[2])
        pick = lambda q: l[min(len(l) - 1, int(q * len(l)))]
        print("%d %.2f %.2f %.2f" % (len(l), pick(0.50), pick(0.99), l[-1]))
EOF

spec() { # stream, group, linger, out
    cat <<EOF
pipeline: bench
extract: {type: redis_stream, url: $URL, stream: $1, group: $2, consumer: bench-1, id_field: entry_id}
transform:
  - {type: lowercase, fields: [status]}   # the no-op-ish transform: one string field per record
validate: {on_invalid: drop}
$(if [ "$TARGET" = sqlite ]; then
    echo "load: {type: sqlite, path: $4/out.db, table: orders, key: [order_id], version: entry_id, synchronous: FULL}"
else
    echo "load: {type: jsonl, path: $4}"
fi)
batching: {max_records: 100, max_linger: $3}
EOF
}

peak_rss_kib() { awk '/VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

start_worker() { # spec file
    "$BIN" run "$1" --log-level warning >"$WORK/worker.out" 2>"$WORK/worker.err" &
    WORKER_PID=$!
}

worker_died() {
    echo "runnel-stream stopped early; its stderr:" >&2
    tail -5 "$WORK/worker.err" >&2
    exit 1
}

stop_worker() {
    kill -TERM "$WORKER_PID"
    wait "$WORKER_PID" || { echo "worker exited with $?; stderr:" >&2; tail -5 "$WORK/worker.err" >&2; exit 1; }
    WORKER_PID=""
}

echo "==> producing $N messages (pipelined XADD)" >&2
"$PY" "$WORK/bench.py" produce "$URL" bench-swift "$N"
redis-cli -p "$PORT" --raw copy bench-swift bench-python >/dev/null

if [ "$TARGET" = sqlite ]; then
    for d in out-swift out-python out-latency; do mkdir -p "$WORK/$d" && "$PY" "$WORK/bench.py" create-sqlite "$WORK/$d/out.db"; done
fi

echo "==> throughput: runnel-stream" >&2
spec bench-swift swift 10ms "$WORK/out-swift" >"$WORK/throughput.yaml"
t0=$(date +%s.%N)
start_worker "$WORK/throughput.yaml"
"$PY" "$WORK/bench.py" wait "$URL" bench-swift swift "$N" "$WORKER_PID" || worker_died
t1=$(date +%s.%N)
rss_throughput=$(peak_rss_kib "$WORKER_PID")
stop_worker
swift_seconds=$(echo "$t1 - $t0" | bc -l)
swift_rate=$(echo "$N / $swift_seconds" | bc -l)
if [ "$TARGET" = sqlite ]; then
    lines=$("$PY" -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM orders').fetchone()[0])" "$WORK/out-swift/out.db")
else
    lines=$(cat "$WORK"/out-swift/*.jsonl | wc -l)
fi
[ "$lines" -eq "$N" ] || { echo "expected $N lines, found $lines" >&2; exit 1; }

echo "==> throughput: Python reference consumer" >&2
if [ "$TARGET" = sqlite ]; then
    py_seconds=$("$PY" "$WORK/bench.py" consume-sqlite "$URL" bench-python python "$N" "$WORK/out-python/out.db")
else
    py_seconds=$("$PY" "$WORK/bench.py" consume "$URL" bench-python python "$N" "$WORK/out-python")
fi
py_rate=$(echo "$N / $py_seconds" | bc -l)

echo "==> latency: 1,000 messages/s for $RATE_SECONDS s, max_linger 10ms" >&2
spec bench-latency swift 10ms "$WORK/out-latency" >"$WORK/latency.yaml"
start_worker "$WORK/latency.yaml"
until redis-cli -p "$PORT" exists bench-latency | grep -q 1; do kill -0 "$WORKER_PID" 2>/dev/null || worker_died; sleep 0.05; done
"$PY" "$WORK/bench.py" steady "$URL" bench-latency 1000 "$RATE_SECONDS"
"$PY" "$WORK/bench.py" wait "$URL" bench-latency swift $((1000 * RATE_SECONDS)) "$WORKER_PID" || worker_died
rss_latency=$(peak_rss_kib "$WORKER_PID")
stop_worker
if [ "$TARGET" = sqlite ]; then
    read -r lat_n p50 p99 pmax < <("$PY" "$WORK/bench.py" latency-sqlite "$WORK/out-latency/out.db")
else
    read -r lat_n p50 p99 pmax < <("$PY" "$WORK/bench.py" latency "$WORK/out-latency")
fi

rss_kib=$(( rss_throughput > rss_latency ? rss_throughput : rss_latency ))
rss_mib=$(echo "$rss_kib / 1024" | bc -l)
printf '\nrunnel-stream benchmark (%s cores, %s messages, micro-batch 100, into %s)\n' "$(nproc)" "$N" "$TARGET"
printf '  throughput with XACK   %10.0f messages/s  (%.2f s)\n' "$swift_rate" "$swift_seconds"
printf '  python reference       %10.0f messages/s  (%.2f s)\n' "$py_rate" "$py_seconds"
printf '  ratio                  %10.1fx\n' "$(echo "$swift_rate / $py_rate" | bc -l)"
printf '  latency at 1,000/s     p50 %.1f ms, p99 %.1f ms, max %.1f ms over %s messages\n' "$p50" "$p99" "$pmax" "$lat_n"
printf '  peak RSS               %10.1f MiB\n' "$rss_mib"
printf '  goals: >= 100,000 msg/s, p99 <= 25 ms, RSS <= 64 MiB, >= 5x python\n'
