#!/usr/bin/env bash
# Benchmark (not a test): Redis Streams → no-op transform → JSON Lines part files, release build,
# micro-batch 100, against a plain Python consumer doing the same work.
#
#   scripts/bench/stream-redis.sh                 # N=200000 messages, 20 s at 1,000 msg/s
#   N=500000 RATE_SECONDS=30 scripts/bench/stream-redis.sh
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
# Environment: RUNNEL_BENCH_REDIS_PORT (default 6399), RUNNEL_BENCH_SCRATCH (SwiftPM scratch path,
# default .build), RUNNEL_STREAM_BINARY (skip the build and use this binary).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
N="${N:-200000}"
RATE_SECONDS="${RATE_SECONDS:-20}"
PORT="${RUNNEL_BENCH_REDIS_PORT:-6399}"
SCRATCH="${RUNNEL_BENCH_SCRATCH:-.build}"
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

if [ -n "${RUNNEL_STREAM_BINARY:-}" ]; then
    BIN="$RUNNEL_STREAM_BINARY"
else
    echo "==> release build of runnel-stream (trait Redis)" >&2
    swift build -c release --traits Redis --product runnel-stream --scratch-path "$SCRATCH" >&2
    BIN="$SCRATCH/release/runnel-stream"
fi

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

def group_done(url, stream, group, n):
    """Seconds until the group has read and acknowledged n entries."""
    r = redis.Redis.from_url(url)
    while True:
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

def consume(url, stream, group, n, directory):
    """The reference consumer: XREADGROUP COUNT 100, parse, write a part file, XACK."""
    r = redis.Redis.from_url(url)
    os.makedirs(directory, exist_ok=True)
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
        lines = []
        for entry_id, fields in entries:
            record = json.loads(fields[b"payload"])
            record["entry_id"] = entry_id.decode()
            lines.append(json.dumps(record, separators=(",", ":")))
        write_part(directory, "part-%s.jsonl" % entries[0][0].decode(), ("\n".join(lines) + "\n").encode())
        r.xack(stream, group, *[e[0] for e in entries])
        done += len(entries)
    return time.perf_counter() - start

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
    elif cmd == "wait": group_done(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif cmd == "consume": print("%.3f" % consume(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6]))
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
load: {type: jsonl, path: $4}
batching: {max_records: 100, max_linger: $3}
EOF
}

peak_rss_kib() { awk '/VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

start_worker() { # spec file
    "$BIN" run "$1" --log-level warning >"$WORK/worker.out" 2>"$WORK/worker.err" &
    WORKER_PID=$!
}

stop_worker() {
    kill -TERM "$WORKER_PID"
    wait "$WORKER_PID" || { echo "worker exited with $?; stderr:" >&2; tail -5 "$WORK/worker.err" >&2; exit 1; }
    WORKER_PID=""
}

echo "==> producing $N messages (pipelined XADD)" >&2
"$PY" "$WORK/bench.py" produce "$URL" bench-swift "$N"
redis-cli -p "$PORT" --raw copy bench-swift bench-python >/dev/null

echo "==> throughput: runnel-stream" >&2
spec bench-swift swift 10ms "$WORK/out-swift" >"$WORK/throughput.yaml"
t0=$(date +%s.%N)
start_worker "$WORK/throughput.yaml"
"$PY" "$WORK/bench.py" wait "$URL" bench-swift swift "$N"
t1=$(date +%s.%N)
rss_throughput=$(peak_rss_kib "$WORKER_PID")
stop_worker
swift_seconds=$(echo "$t1 - $t0" | bc -l)
swift_rate=$(echo "$N / $swift_seconds" | bc -l)
lines=$(cat "$WORK"/out-swift/*.jsonl | wc -l)
[ "$lines" -eq "$N" ] || { echo "expected $N lines, found $lines" >&2; exit 1; }

echo "==> throughput: Python reference consumer" >&2
py_seconds=$("$PY" "$WORK/bench.py" consume "$URL" bench-python python "$N" "$WORK/out-python")
py_rate=$(echo "$N / $py_seconds" | bc -l)

echo "==> latency: 1,000 messages/s for $RATE_SECONDS s, max_linger 10ms" >&2
spec bench-latency swift 10ms "$WORK/out-latency" >"$WORK/latency.yaml"
start_worker "$WORK/latency.yaml"
until redis-cli -p "$PORT" exists bench-latency | grep -q 1; do sleep 0.05; done
"$PY" "$WORK/bench.py" steady "$URL" bench-latency 1000 "$RATE_SECONDS"
"$PY" "$WORK/bench.py" wait "$URL" bench-latency swift $((1000 * RATE_SECONDS))
rss_latency=$(peak_rss_kib "$WORKER_PID")
stop_worker
read -r lat_n p50 p99 pmax < <("$PY" "$WORK/bench.py" latency "$WORK/out-latency")

rss_kib=$(( rss_throughput > rss_latency ? rss_throughput : rss_latency ))
rss_mib=$(echo "$rss_kib / 1024" | bc -l)
printf '\nrunnel-stream benchmark (%s cores, %s messages, micro-batch 100)\n' "$(nproc)" "$N"
printf '  throughput with XACK   %10.0f messages/s  (%.2f s)\n' "$swift_rate" "$swift_seconds"
printf '  python reference       %10.0f messages/s  (%.2f s)\n' "$py_rate" "$py_seconds"
printf '  ratio                  %10.1fx\n' "$(echo "$swift_rate / $py_rate" | bc -l)"
printf '  latency at 1,000/s     p50 %.1f ms, p99 %.1f ms, max %.1f ms over %s messages\n' "$p50" "$p99" "$pmax" "$lat_n"
printf '  peak RSS               %10.1f MiB\n' "$rss_mib"
printf '  goals: >= 100,000 msg/s, p99 <= 25 ms, RSS <= 64 MiB, >= 5x python\n'
