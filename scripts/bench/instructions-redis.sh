#!/usr/bin/env bash
# Benchmark (not a test): marginal CPU instructions per stream entry of the Redis Streams → SQLite
# path of stream-redis.sh (its payloads, spec and table with the latency trigger), counted by
# callgrind. runnel-batch consumes a stream of SMALL, then one of LARGE entries through a consumer
# group to the end (XREADGROUP, guarded upsert, XACK after each commit);
# (I(large) - I(small)) / (LARGE - SMALL) cancels start-up and set-up.
#
#   scripts/bench/instructions-redis.sh [SMALL LARGE]   default: 100000 200000
#   RUNNEL_BENCH_BIN=/path/to/runnel                     measures that binary (else the image build)
#   RUNNEL_BENCH_REDIS_PORT                              default 6397
#
# A batch run commits each micro-batch of 100 by itself (group commit is the streaming mode's),
# so the store's share is higher here than in the stream benchmark. The split by cost comes from
# ../shared/tools/instructions-per-record where it exists.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
SMALL="${1:-100000}"
LARGE="${2:-200000}"
PORT="${RUNNEL_BENCH_REDIS_PORT:-6397}"
WORK="$(mktemp -d /tmp/runnel-ipr-redis.XXXXXX)"
# shellcheck source=../services/redis.sh
source scripts/services/redis.sh
cleanup() { redis_stop "$WORK/redis" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
command -v valgrind >/dev/null || { apt-get install -y valgrind >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y valgrind >/dev/null; }; }
command -v sqlite3 >/dev/null || { apt-get install -y sqlite3 >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y sqlite3 >/dev/null; }; }
RUNNEL_TEST_REDIS_PORT="$PORT" redis_start "$WORK/redis" >/dev/null

source "$(dirname "${BASH_SOURCE[0]}")/binary.sh"
RUNNEL="$(bench_stripped_binary "$WORK")"

# XADD commands in RESP for `redis-cli --pipe`: stream-redis.sh's payloads.
produce() { # stream, count
    python3 - "$1" "$2" <<'PY' | redis-cli -p "$PORT" --pipe >/dev/null
import json, sys
key, n = sys.argv[1], int(sys.argv[2])
out = sys.stdout
for i in range(1, n + 1):
    payload = json.dumps({"order_id": i, "customer": "customer-%d" % (i % 97), "status": "PAID", "amount": i % 500 + 0.25})
    args = ["XADD", key, "*", "payload", payload]
    out.write("*%d\r\n" % len(args) + "".join("$%d\r\n%s\r\n" % (len(a.encode()), a) for a in args))
PY
}

TABLE="PRAGMA journal_mode=WAL;
CREATE TABLE orders (order_id INTEGER PRIMARY KEY, customer TEXT, status TEXT, amount REAL, entry_id TEXT, loaded_ms REAL);
CREATE TRIGGER stamp_ins AFTER INSERT ON orders BEGIN UPDATE orders SET loaded_ms = (julianday('now') - 2440587.5) * 86400000.0 WHERE order_id = NEW.order_id; END;
CREATE TRIGGER stamp_upd AFTER UPDATE OF entry_id ON orders BEGIN UPDATE orders SET loaded_ms = (julianday('now') - 2440587.5) * 86400000.0 WHERE order_id = NEW.order_id; END;"

totals=()
for n in "$SMALL" "$LARGE"; do
    d="$WORK/run-$n"; mkdir -p "$d"
    produce "stream-$n" "$n"
    sqlite3 "$d/out.db" "$TABLE" >/dev/null
    cat >"$d/pipeline.yaml" <<SPEC
pipeline: ipr-redis
extract: {type: redis_stream, url: "redis://127.0.0.1:$PORT", stream: stream-$n, group: g, consumer: c, id_field: entry_id, start_id: "0"}
transform:
  - {type: lowercase, fields: [status]}
validate: {on_invalid: drop}
load: {type: sqlite, path: out.db, table: orders, key: [order_id], version: entry_id, synchronous: FULL}
batching: {max_records: 100, max_linger: 10ms}
SPEC
    (cd "$d" && valgrind --tool=callgrind --callgrind-out-file="$d/cg.out" "$RUNNEL" run pipeline.yaml --no-progress \
        >"$d/log" 2>&1) || { echo "run failed:"; tail -20 "$d/log"; exit 1; }
    rows=$(sqlite3 "$d/out.db" "SELECT count(*) FROM orders")
    [ "$rows" -eq "$n" ] || { echo "expected $n rows, found $rows" >&2; exit 1; }
    pending=$(redis-cli -p "$PORT" xpending "stream-$n" g | head -1)
    [ "$pending" = 0 ] || { echo "$pending entries left pending" >&2; exit 1; }
    totals+=("$(callgrind_annotate "$d/cg.out" 2>/dev/null | awk '/PROGRAM TOTALS/ && !done {gsub(",", "", $1); print $1; done = 1}')")
done
printf "\nredis-sqlite  %s instructions per entry\n" "$(python3 -c "print(round((${totals[1]} - ${totals[0]}) / ($LARGE - $SMALL)))")"
