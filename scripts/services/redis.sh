# shellcheck shell=bash
# Sourced by scripts/test: a throwaway redis-server for the Redis integration tests.
#
#   redis_start DIR   installs redis-server if missing, starts it on 127.0.0.1:$RUNNEL_TEST_REDIS_PORT
#                     (default 6390) with no persistence, its pid/log files in DIR, creates the
#                     ACL user runnel/secret used by the auth tests, and exports
#                     RUNNEL_TEST_REDIS_URL.
#   redis_stop DIR    stops the server started with the same DIR.
#
# The reconnect tests start redis-server processes of their own, so the binary must be on PATH
# even when another server is used through RUNNEL_TEST_REDIS_URL.

# shellcheck source=process.sh
source "$(dirname "${BASH_SOURCE[0]}")/process.sh"

redis_port() {
    echo "${RUNNEL_TEST_REDIS_PORT:-6390}"
}

redis_install() {
    command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 && return 0
    echo "redis: installing redis-server" >&2
    # The package list may be missing or stale on a fresh machine: update once and retry.
    DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server >/dev/null 2>&1 \
        || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server >/dev/null; }
}

redis_start() {
    local dir="${1:?usage: redis_start DIR}"
    local port
    port="$(redis_port)"
    mkdir -p "$dir"
    # Absolute: redis-server changes into --dir before it writes the pid and log files.
    dir="$(cd "$dir" && pwd)"
    redis_install || { echo "redis: could not install redis-server" >&2; return 1; }

    # A server left behind by an interrupted run with the same DIR is ours to replace.
    redis_stop "$dir" 2>/dev/null
    if redis-cli -p "$port" ping >/dev/null 2>&1; then
        echo "redis: something already answers on port $port; set RUNNEL_TEST_REDIS_PORT" >&2
        return 1
    fi

    # --save "" and --appendonly no: nothing is written to disk, every run starts empty.
    redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
        --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir" \
        || { echo "redis: redis-server did not start" >&2; return 1; }

    # Wait for the server to answer, up to 10 seconds.
    local tries=0
    until redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; do
        tries=$((tries + 1))
        if [ "$tries" -gt 100 ]; then
            echo "redis: no answer on port $port after 10 s; log follows" >&2
            cat "$dir/redis.log" >&2
            return 1
        fi
        sleep 0.1
    done

    # The user the authentication tests log in as (all keys, all channels, all commands).
    redis-cli -p "$port" ACL SETUSER runnel on '>secret' '~*' '&*' '+@all' >/dev/null \
        || { echo "redis: could not create the ACL user" >&2; return 1; }

    export RUNNEL_TEST_REDIS_URL="redis://127.0.0.1:$port"
    echo "redis: listening on $RUNNEL_TEST_REDIS_URL" >&2
}

redis_stop() {
    local dir="${1:?usage: redis_stop DIR}"
    local pidfile="$dir/redis.pid"
    stop_pidfile "$pidfile"
}
