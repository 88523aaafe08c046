#!/usr/bin/env bash
# Starts the local test API (scripts/services/http_api_server.py) on loopback, runs the pipeline
# with runnel-batch built with the HTTPAPI trait, shows the table, and stops the server.
#   examples/http-api/run.sh [PORT]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PORT="${1:-${RUNNEL_TEST_HTTP_PORT:-18080}}"
export API_URL="http://127.0.0.1:$PORT" API_TOKEN="${API_TOKEN:-example-token}"

mkdir -p "$HERE/out"
python3 "$ROOT/scripts/services/http_api_server.py" --port "$PORT" --records 2500 --token "$API_TOKEN" \
    --rate-limit-every 7 > "$HERE/out/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q listening "$HERE/out/server.log" 2>/dev/null && break; sleep 0.1; done

cd "$ROOT"
swift build --traits HTTPAPI --product runnel-batch >/dev/null
BIN="$(swift build --traits HTTPAPI --show-bin-path)/runnel-batch"
"$BIN" run "$HERE/pipeline.yaml" --no-progress
"$BIN" checkpoint show "$HERE/pipeline.yaml"
sqlite3 "$HERE/out/items.db" "SELECT count(*) AS items, max(updated_at) AS newest FROM items" 2>/dev/null || true
