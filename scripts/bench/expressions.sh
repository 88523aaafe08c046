#!/usr/bin/env bash
# Benchmark (not a test): JSON Lines → filter (CEL `expr`) + two derived fields (`map`) + lowercase →
# JSON Lines, with runnel-batch (release build), side by side in one run with DuckDB (one thread,
# read_json → WHERE → computed columns → COPY TO JSON) and `jq -c` doing the same. Reports
# records/s, the ratios, and peak RSS (which must not grow from 1M to 4M records).
# Two variants, reported side by side: `core` (CEL's core operators) and `ext` (the extension
# libraries in the `map`: `split`, `format` and `math.round`).
#
#   scripts/bench/expressions.sh [RECORDS...]     default: 1000000 4000000
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
SIZES=("$@")
[ $# -gt 0 ] || SIZES=(1000000 4000000)
WORK="$(mktemp -d /tmp/runnel-bench.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
command -v jq >/dev/null || { apt-get install -y jq >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y jq >/dev/null; }; }
[ -x /usr/bin/time ] || { apt-get install -y time >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y time >/dev/null; }; }
VENV="$ROOT/.venv-bench"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c "import duckdb" 2>/dev/null || "$VENV/bin/pip" install -q duckdb

source "$(dirname "${BASH_SOURCE[0]}")/binary.sh"
BIN="$(bench_binary runnel-batch)"

# The same work three ways: keep paid/shipped orders above 20, add derived fields, lowercase the name.
# Variant `core`: total and vip with CEL's core operators. Batching and the memory window are
# the defaults (5,000 records a batch): larger batches were no faster and held more memory
# (20,000: 63-71 MiB peak RSS against 47-48 at 1M and 4M records).
cat >"$WORK/pipeline-core.yaml" <<'SPEC'
pipeline: bench-expressions
extract: {type: jsonl, path: orders.jsonl}
transform:
  - {type: filter, expr: "status in ['paid', 'shipped'] && amount > 20.0"}
  - type: map
    fields:
      total: "amount * (1.0 - discount)"
      vip: "amount > 1000.0 && country == 'US'"
  - {type: lowercase, fields: [customer_name]}
load: {type: jsonl, path: runnel-out}
dead_letter: {type: jsonl, path: dead}
SPEC
# Variant `ext`: the extension libraries — a rounded total, the first name, a formatted label.
cat >"$WORK/pipeline-ext.yaml" <<'SPEC'
pipeline: bench-expressions-ext
extract: {type: jsonl, path: orders.jsonl}
transform:
  - {type: filter, expr: "status in ['paid', 'shipped'] && amount > 20.0"}
  - type: map
    fields:
      total: "math.round(amount * (1.0 - discount) * 100.0) / 100.0"
      first_name: "customer_name.split(' ')[0]"
      label: "'%s-%d'.format([country, order_id])"
  - {type: lowercase, fields: [customer_name]}
load: {type: jsonl, path: runnel-out}
dead_letter: {type: jsonl, path: dead}
SPEC

cat >"$WORK/duck.py" <<'PY'
import sys, duckdb
con = duckdb.connect()
con.execute("SET threads = 1")
derived = {
    "core": "amount * (1.0 - discount) AS total, amount > 1000.0 AND country = 'US' AS vip",
    "ext": "round(amount * (1.0 - discount) * 100.0) / 100.0 AS total, split_part(customer_name, ' ', 1) AS first_name,"
           " country || '-' || CAST(order_id AS VARCHAR) AS label",
}[sys.argv[3]]
con.execute(f"""COPY (
  SELECT * REPLACE (lower(customer_name) AS customer_name), {derived}
  FROM read_json('{sys.argv[1]}', format = 'newline_delimited')
  WHERE status IN ('paid', 'shipped') AND amount > 20.0
) TO '{sys.argv[2]}' (FORMAT JSON)""")
PY
JQ_core='select((.status == "paid" or .status == "shipped") and .amount > 20.0)
  | .total = .amount * (1.0 - .discount) | .vip = (.amount > 1000.0 and .country == "US")
  | .customer_name |= ascii_downcase'
JQ_ext='select((.status == "paid" or .status == "shipped") and .amount > 20.0)
  | .total = ((.amount * (1.0 - .discount) * 100.0 | round) / 100.0)
  | .first_name = (.customer_name | split(" ")[0]) | .label = "\(.country)-\(.order_id)"
  | .customer_name |= ascii_downcase'

# Wall seconds (the median of three runs) and peak RSS (KiB, the largest) of a command, from GNU
# time: one run alone is at the mercy of the page cache (the first tool to read a freshly written
# input, or to write while the kernel flushes, pays for it).
measure() {
    local runs=() kb=0 s k
    for _ in 1 2 3; do
        /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" >"$WORK/stdout.txt" 2>"$WORK/stderr.txt" || { cat "$WORK/stderr.txt"; return 1; }
        read -r s k <"$WORK/time.txt"
        runs+=("$s")
        [ "$k" -gt "$kb" ] && kb=$k
    done
    echo "$(printf "%s\n" "${runs[@]}" | sort -n | sed -n 2p) $kb"
}

printf "\n%-9s %-8s %-22s %12s %10s %12s\n" records variant tool "records/s" "seconds" "peak RSS"
for n in "${SIZES[@]}"; do
    python3 scripts/bench/generate_orders_jsonl.py "$n" >"$WORK/orders.jsonl"
    sync
    for variant in core ext; do
        rm -rf "$WORK/runnel-out" "$WORK/duck.jsonl"
        cp "$WORK/pipeline-$variant.yaml" "$WORK/pipeline.yaml"
        jq_program="JQ_$variant"
        # No checkpoint in the spec: each run reads everything and rewrites the same part files
        # (named from their positions).
        read -r run_s run_kb < <(measure "$BIN" run "$WORK/pipeline.yaml" --no-progress)
        read -r duck_s duck_kb < <(measure "$VENV/bin/python" "$WORK/duck.py" "$WORK/orders.jsonl" "$WORK/duck.jsonl" "$variant")
        read -r jq_s jq_kb < <(measure sh -c "jq -c '${!jq_program}' '$WORK/orders.jsonl' >'$WORK/jq.jsonl'")
        # The three must agree on what they kept.
        run_n=$(cat "$WORK"/runnel-out/*.jsonl | wc -l)
        duck_n=$(wc -l <"$WORK/duck.jsonl")
        jq_n=$(wc -l <"$WORK/jq.jsonl")
        [ "$run_n" -eq "$duck_n" ] && [ "$run_n" -eq "$jq_n" ] || { echo "kept: runnel $run_n, duckdb $duck_n, jq $jq_n"; exit 1; }
        for row in "runnel-batch:$run_s:$run_kb" "duckdb (1 thread):$duck_s:$duck_kb" "jq -c:$jq_s:$jq_kb"; do
            IFS=: read -r tool s kb <<<"$row"
            printf "%-9s %-8s %-22s %12s %10s %9s MiB\n" "$n" "$variant" "$tool" "$(python3 -c "print(round($n / $s))")" "$s" "$((kb / 1024))"
        done
        printf "%-9s %-8s kept %s; ratio runnel / duckdb: %s, runnel / jq: %s\n" "$n" "$variant" "$run_n" \
            "$(python3 -c "print(round($duck_s / $run_s, 2))")" "$(python3 -c "print(round($jq_s / $run_s, 2))")"
    done
done
