#!/usr/bin/env bash
# Sends N JSON orders (default 10,000) to the topic `orders`, keyed by order id, with kcat
# (Debian's package `kcat`; it links the same librdkafka as Runnel). Every 500th order is not
# JSON, to show the dead letter queue.
#   examples/kafka/produce.sh [N] [BROKERS]
set -euo pipefail
n="${1:-10000}"
brokers="${2:-${KAFKA_BROKERS:-127.0.0.1:19092}}"
command -v kcat >/dev/null || { echo "needs kcat: apt-get install -y kcat" >&2; exit 2; }
for i in $(seq 1 "$n"); do
    if [ $((i % 500)) -eq 0 ]; then
        printf '%s|not json %s\n' "$i" "$i"
    else
        printf '%s|{"order_id":"%s","amount":"%s.50","customer":"c%s"}\n' "$i" "$i" "$((i % 97))" "$((i % 13))"
    fi
done | kcat -P -b "$brokers" -t orders -K '|' -X enable.idempotence=true
echo "sent $n messages to orders on $brokers" >&2
