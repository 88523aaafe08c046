#!/usr/bin/env bash
# Feeds the streaming example: N orders (default 1000) on the "orders" stream, every 50th one
# invalid (a negative amount) so that the dead letter stream gets something.
#
#   examples/streaming/produce.sh [N] [START]
#
# One redis-cli connection reads all the commands from a pipe, so it adds thousands of entries
# a second. REDIS_URL (default redis://127.0.0.1:6379) picks the server.
set -euo pipefail
n="${1:-1000}"
start="${2:-1}"
url="${REDIS_URL:-redis://127.0.0.1:6379}"
statuses=(pending paid shipped cancelled)
for ((i = start; i < start + n; i++)); do
    amount="$((i % 500)).$((i % 100))"
    if ((i % 50 == 0)); then amount="-1"; fi
    printf 'XADD orders * payload "{\\"order_id\\":%d,\\"customer\\":\\" customer-%d \\",\\"status\\":\\"%s\\",\\"amount\\":\\"%s\\"}"\n' \
        "$i" "$((i % 97))" "${statuses[i % 4]^^}" "$amount"
done | redis-cli -u "$url" >/dev/null
echo "added $n orders to stream 'orders' at $url" >&2
