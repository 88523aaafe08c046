# shellcheck shell=bash
# Sourced by the scripts/services/*.sh files: stopping a server started with a pid file.

# stop_pidfile FILE: sends the pid in FILE a TERM, waits up to 5 seconds for a clean exit, then
# kills it; removes FILE. Nothing to do when FILE is missing or the process is gone.
stop_pidfile() {
    local pidfile="${1:?usage: stop_pidfile FILE}"
    [ -f "$pidfile" ] || return 0
    local pid
    pid="$(cat "$pidfile")"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null
        local tries=0
        while kill -0 "$pid" 2>/dev/null && [ "$tries" -lt 50 ]; do
            tries=$((tries + 1))
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill -9 "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$pidfile"
}
