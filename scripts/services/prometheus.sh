# shellcheck shell=bash
# Sourced by scripts/test: a throwaway Prometheus Pushgateway and Prometheus server for the
# metrics push and the dashboard/alert checks, both on loopback, their files in DIR.
#
#   prometheus_start DIR  fetches Debian's prometheus and prometheus-pushgateway packages if the
#                         binaries are missing (unpacked with dpkg-deb, not installed: installing
#                         would start the daemons on their public ports), starts
#                           the Pushgateway on 127.0.0.1:$RUNNEL_TEST_PUSHGATEWAY_PORT (default 9491)
#                           Prometheus on 127.0.0.1:$RUNNEL_TEST_PROMETHEUS_PORT (default 9490),
#                         which scrapes the Pushgateway (honor_labels) and every target listed in
#                         DIR/targets/*.json (file service discovery, for stream workers) each
#                         second, and exports RUNNEL_TEST_PUSHGATEWAY_URL, RUNNEL_TEST_PROMETHEUS_URL,
#                         RUNNEL_TEST_PROMETHEUS_TARGETS and PATH (promtool).
#   prometheus_stop DIR   stops both.

# shellcheck source=process.sh
source "$(dirname "${BASH_SOURCE[0]}")/process.sh"

prometheus_install() {
    local dir="$1"
    if command -v prometheus >/dev/null 2>&1 && command -v prometheus-pushgateway >/dev/null 2>&1; then
        PROMETHEUS_BIN="$(command -v prometheus)"
        PUSHGATEWAY_BIN="$(command -v prometheus-pushgateway)"
        return 0
    fi
    if [ ! -x "$dir/pkg/usr/bin/prometheus" ] || [ ! -x "$dir/pkg/usr/bin/prometheus-pushgateway" ]; then
        echo "prometheus: fetching Debian's prometheus and prometheus-pushgateway (unpacked)" >&2
        mkdir -p "$dir/pkg"
        ( cd "$dir/pkg" \
            && { apt-get download prometheus prometheus-pushgateway >/dev/null 2>&1 \
                 || { apt-get update >/dev/null && apt-get download prometheus prometheus-pushgateway >/dev/null; }; } \
            && for deb in ./*.deb; do dpkg-deb -x "$deb" .; done ) || return 1
    fi
    PROMETHEUS_BIN="$dir/pkg/usr/bin/prometheus"
    PUSHGATEWAY_BIN="$dir/pkg/usr/bin/prometheus-pushgateway"
    # promtool comes with the prometheus package.
    export PATH="$PATH:$dir/pkg/usr/bin"
}

# wait_http URL WHAT LOG: up to 20 seconds for URL to answer 200.
prometheus_wait() {
    local url="$1" what="$2" log="$3" tries=0
    until python3 -c "import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)" "$url" >/dev/null 2>&1; do
        tries=$((tries + 1))
        if [ "$tries" -gt 100 ]; then
            echo "prometheus: $what gave no answer at $url after 20 s; log follows" >&2
            tail -n 40 "$log" >&2
            return 1
        fi
        sleep 0.2
    done
}

prometheus_start() {
    local dir="${1:?usage: prometheus_start DIR}"
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    local gw_port="${RUNNEL_TEST_PUSHGATEWAY_PORT:-9491}" prom_port="${RUNNEL_TEST_PROMETHEUS_PORT:-9490}"
    prometheus_install "$dir" || { echo "prometheus: could not fetch the packages" >&2; return 1; }
    prometheus_stop "$dir" 2>/dev/null

    mkdir -p "$dir/targets" "$dir/data"
    cat >"$dir/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  # As a Pushgateway must be scraped: honor_labels keeps the pushed job/pipeline/shard labels.
  - job_name: pushgateway
    honor_labels: true
    static_configs:
      - targets: ["127.0.0.1:$gw_port"]
  # Stream workers' /metrics: tests write DIR/targets/<name>.json ([{"targets": ["127.0.0.1:PORT"], "labels": {...}}]).
  - job_name: runnel-stream
    file_sd_configs:
      - files: ["$dir/targets/*.json"]
        refresh_interval: 1s
YAML

    "$PUSHGATEWAY_BIN" --web.listen-address="127.0.0.1:$gw_port" >"$dir/pushgateway.log" 2>&1 &
    echo $! >"$dir/pushgateway.pid"
    "$PROMETHEUS_BIN" --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
        --web.listen-address="127.0.0.1:$prom_port" >"$dir/prometheus.log" 2>&1 &
    echo $! >"$dir/prometheus.pid"

    prometheus_wait "http://127.0.0.1:$gw_port/-/ready" "the Pushgateway" "$dir/pushgateway.log" || return 1
    prometheus_wait "http://127.0.0.1:$prom_port/-/ready" "Prometheus" "$dir/prometheus.log" || return 1

    export RUNNEL_TEST_PUSHGATEWAY_URL="http://127.0.0.1:$gw_port"
    export RUNNEL_TEST_PROMETHEUS_URL="http://127.0.0.1:$prom_port"
    export RUNNEL_TEST_PROMETHEUS_TARGETS="$dir/targets"
    echo "prometheus: Pushgateway on $RUNNEL_TEST_PUSHGATEWAY_URL, Prometheus on $RUNNEL_TEST_PROMETHEUS_URL" >&2
}

prometheus_stop() {
    local dir="${1:?usage: prometheus_stop DIR}"
    stop_pidfile "$dir/prometheus.pid"
    stop_pidfile "$dir/pushgateway.pid"
}
