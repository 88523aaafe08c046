#!/usr/bin/env bash
# Benchmark (not a test): cold start of `runnel-batch --version` (release build), the time a
# CronJob pays before any work, as the mean of 100 runs of a timed loop, beside two references
# in the same run: `sqlite3 -version` (a small C program) and `python3 -c pass` (the runtime
# the reference consumers use). The goal is ≤ 20 ms.
#
#   scripts/bench/startup.sh [RUNS]     default 100
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
RUNS="${1:-100}"
command -v sqlite3 >/dev/null || { apt-get install -y sqlite3 >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y sqlite3 >/dev/null; }; }

source "$(dirname "${BASH_SOURCE[0]}")/binary.sh"
BIN="$(bench_binary runnel-batch)"

# Mean milliseconds per run of "$@" over RUNS runs (after one warm-up run, so that the binary is
# in the page cache as it is on a node that has pulled the image).
mean_ms() {
    "$@" >/dev/null 2>&1 || true
    local start end
    start=$(date +%s%N)
    for _ in $(seq "$RUNS"); do "$@" >/dev/null 2>&1 || true; done
    end=$(date +%s%N)
    echo $(( (end - start) / RUNS / 1000 )) | awk '{printf "%.1f", $1 / 1000}'
}

runnel=$(mean_ms "$BIN" --version)
sqlite=$(mean_ms sqlite3 -version)
python=$(mean_ms python3 -c pass)
printf '%-28s %8s ms\n' "runnel-batch --version" "$runnel" "sqlite3 -version" "$sqlite" "python3 -c pass" "$python"
awk -v r="$runnel" -v s="$sqlite" -v p="$python" 'BEGIN { printf "ratio (reference / runnel): sqlite3 %.2f, python3 %.2f; goal <= 20 ms: %s\n", s / r, p / r, (r <= 20 ? "met" : "missed") }'
