#!/usr/bin/env bash
# Benchmark (not a test): one gzip JSON Lines object in a local S3-compatible server (moto, with
# signatures enforced) → upsert into SQLite, with runnel-batch (release build) and, in the same
# run, a Python reference doing the same (boto3 streaming GET + gzip + json + sqlite3
# executemany upsert, 5,000 rows a transaction). Reports rows/s, the ratio and peak RSS, for each
# size of uncompressed JSON Lines (which must not change Runnel's RSS).
#
#   scripts/bench/s3.sh [BYTES...]     default: 268435456 1073741824 (256 MiB and 1 GiB of JSON Lines)
#   RUNNEL_BENCH_S3_PORT               moto's port (default 15002)
#   RUNNEL_BENCH_BIN                   measure this multi-call `runnel` instead of building one
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
SIZES=("$@")
[ $# -gt 0 ] || SIZES=(268435456 1073741824)
WORK="$(mktemp -d /tmp/runnel-bench-s3.XXXXXX)"
# shellcheck source=../services/s3.sh
source scripts/services/s3.sh
trap 's3_stop "$WORK/s3"; rm -rf "$WORK"' EXIT
command -v sqlite3 >/dev/null || { apt-get install -y sqlite3 >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y sqlite3 >/dev/null; }; }
[ -x /usr/bin/time ] || { apt-get install -y time >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y time >/dev/null; }; }

RUNNEL_TEST_S3_PORT="${RUNNEL_BENCH_S3_PORT:-15002}" s3_start "$WORK/s3"
export S3_ENDPOINT="$RUNNEL_TEST_S3_ENDPOINT" AWS_ACCESS_KEY_ID="$RUNNEL_TEST_S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$RUNNEL_TEST_S3_SECRET_KEY"
PY="$(s3_venv)/bin/python"

source "$(dirname "${BASH_SOURCE[0]}")/binary.sh"
BIN="$(bench_binary runnel-batch)"

cat >"$WORK/pipeline.yaml" <<'SPEC'
pipeline: bench-s3
extract: {type: s3, bucket: bench, endpoint: "${S3_ENDPOINT}", prefix: "${BENCH_KEY}", format: jsonl}
transform:
  - {type: cast, fields: {id: int, amount: double}}
load: {type: sqlite, path: runnel.db, table: orders, key: [id], synchronous: NORMAL}
checkpoint: {type: sqlite}
dead_letter: {type: sqlite}
batching: {max_records: 20000}
SPEC

measure() {
    /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" >"$WORK/stdout.txt" 2>"$WORK/stderr.txt" || { cat "$WORK/stderr.txt"; return 1; }
    cat "$WORK/time.txt"
}

printf "\n%-12s %-28s %10s %10s %12s\n" "JSONL bytes" tool "rows/s" "seconds" "peak RSS"
for size in "${SIZES[@]}"; do
    key="orders-$size.jsonl.gz"
    rows=$("$PY" scripts/bench/s3_reference.py seed bench "$key" "$size")
    stored=$("$PY" -c "import boto3,os; print(boto3.client('s3', endpoint_url=os.environ['S3_ENDPOINT'], region_name='us-east-1').head_object(Bucket='bench', Key='$key')['ContentLength'])")
    rm -f "$WORK"/ref.db* "$WORK"/runnel.db*
    read -r ref_s ref_kb < <(measure "$PY" scripts/bench/s3_reference.py load bench "$key" "$WORK/ref.db")
    read -r run_s run_kb < <(cd "$WORK" && BENCH_KEY="$key" measure "$BIN" run "$WORK/pipeline.yaml" --no-progress)
    loaded=$(sqlite3 "$WORK/runnel.db" "SELECT count(*) FROM orders")
    ref_loaded=$(sqlite3 "$WORK/ref.db" "SELECT count(*) FROM orders")
    [ "$loaded" -eq "$rows" ] && [ "$ref_loaded" -eq "$rows" ] || { echo "loaded $loaded (reference $ref_loaded) of $rows rows"; exit 1; }
    echo "$size bytes of JSON Lines, $rows rows, object $stored bytes gzip"
    printf "%-12s %-28s %10s %10s %9s MiB\n" "$size" "python boto3+executemany" "$("$PY" -c "print(round($rows / $ref_s))")" "$ref_s" "$((ref_kb / 1024))"
    printf "%-12s %-28s %10s %10s %9s MiB\n" "$size" "runnel-batch" "$("$PY" -c "print(round($rows / $run_s))")" "$run_s" "$((run_kb / 1024))"
    printf "%-12s ratio runnel / reference: %s\n" "$size" "$("$PY" -c "print(round($ref_s / $run_s, 2))")"
    "$PY" -c "import boto3,os; boto3.client('s3', endpoint_url=os.environ['S3_ENDPOINT'], region_name='us-east-1').delete_object(Bucket='bench', Key='$key')"
done
