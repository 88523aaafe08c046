# shellcheck shell=bash
# Sourced by scripts/test: a throwaway PostgreSQL cluster for the PostgreSQL integration tests.
#
#   postgres_start DIR   installs PostgreSQL if missing, initdb's a cluster in DIR/data owned by
#                        the postgres user (PostgreSQL refuses to run as root), starts it on
#                        127.0.0.1:$RUNNEL_TEST_PG_PORT (default 5433) with its socket in DIR,
#                        creates the role runnel (password runnel-test-secret, with REPLICATION) and
#                        the database runnel, and exports
#                        RUNNEL_TEST_PG_HOST/PORT/USER/PASSWORD/DATABASE, RUNNEL_TEST_POSTGRES_URL
#                        and RUNNEL_TEST_PG_BIN (the restart test initdb's a private instance
#                        of its own with those binaries, so the shared server is never stopped).
#   postgres_stop DIR    stops the cluster started with the same DIR.
#   postgres_install_wal2json
#                        installs Debian's wal2json plugin for the server's major version if
#                        missing: the replication tests read the same changes through pg_recvlogical
#                        and wal2json, an independent decoder, and compare.
#
# The cluster runs with wal_level=logical and room for replication slots and WAL senders: the
# change data capture tests (PostgresReplicationTests, postgres_cdc) create slots and stream from
# them. A logical replication connection (replication=database) matches pg_hba by its database
# like any other, so the `host all` lines admit it; the `replication` lines admit physical
# replication (pg_receivewal) for the same roles.
#
# fsync stays on: the crash tests SIGKILL the client, never the server, but the server must behave
# as in production. The password is fixed and only valid on loopback.

postgres_port() {
    echo "${RUNNEL_TEST_PG_PORT:-5433}"
}

postgres_bin() {
    if [ -n "${RUNNEL_TEST_PG_BIN:-}" ] && [ -x "$RUNNEL_TEST_PG_BIN/pg_ctl" ]; then
        echo "$RUNNEL_TEST_PG_BIN"
        return 0
    fi
    local d
    # The newest installed major version.
    d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    [ -n "$d" ] && [ -x "$d/pg_ctl" ] && echo "$d"
}

postgres_install() {
    [ -n "$(postgres_bin)" ] && command -v psql >/dev/null 2>&1 && return 0
    echo "postgres: installing postgresql" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >/dev/null 2>&1 \
        || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >/dev/null; }
    [ -n "$(postgres_bin)" ]
}

postgres_install_wal2json() {
    local bin major
    bin="$(postgres_bin)" || return 1
    major="$(basename "$(dirname "$bin")")"
    [ -f "/usr/lib/postgresql/$major/lib/wal2json.so" ] && return 0
    echo "postgres: installing postgresql-$major-wal2json" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y "postgresql-$major-wal2json" >/dev/null 2>&1 \
        || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y "postgresql-$major-wal2json" >/dev/null; }
    [ -f "/usr/lib/postgresql/$major/lib/wal2json.so" ]
}

# Runs a command as the postgres user (runuser when we are root, plain when we already are postgres).
postgres_as() {
    if [ "$(id -u)" = "0" ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

postgres_start() {
    local dir="${1:?usage: postgres_start DIR}"
    local port bin
    port="$(postgres_port)"
    postgres_install || { echo "postgres: could not install postgresql" >&2; return 1; }
    bin="$(postgres_bin)"
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"

    # A cluster left behind by an interrupted run with the same DIR is ours to replace.
    postgres_stop "$dir" 2>/dev/null
    if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" 2>/dev/null; then
        echo "postgres: something already answers on port $port; set RUNNEL_TEST_PG_PORT" >&2
        return 1
    fi
    rm -rf "$dir/data"
    # The postgres user must reach DIR: every parent needs o+x.
    chown postgres: "$dir" 2>/dev/null || true
    chmod 0755 "$dir"

    postgres_as "$bin/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
        -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { echo "postgres: initdb failed; log follows" >&2; cat "$dir/initdb.log" >&2; return 1; }
    # Loopback host connections as postgres (no password) keep the tests' admin queries simple.
    postgres_as sh -c "printf '%s\n' \
        'local all all trust' \
        'local replication all trust' \
        'host all postgres 127.0.0.1/32 trust' \
        'host replication postgres 127.0.0.1/32 trust' \
        'host all all 127.0.0.1/32 scram-sha-256' \
        'host replication all 127.0.0.1/32 scram-sha-256' >'$dir/data/pg_hba.conf'"

    # Enough connections for parallel tests (each run: a pool plus a lease connection).
    postgres_as "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 start \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$dir' -c max_connections=300 \
            -c shared_buffers=256MB -c max_wal_size=4GB -c logging_collector=off \
            -c wal_level=logical -c max_replication_slots=40 -c max_wal_senders=40" >/dev/null \
        || { echo "postgres: the server did not start; log follows" >&2; cat "$dir/postgres.log" >&2; return 1; }

    local tries=0
    until "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; do
        tries=$((tries + 1))
        if [ "$tries" -gt 100 ]; then
            echo "postgres: no answer on port $port after 10 s; log follows" >&2
            cat "$dir/postgres.log" >&2
            return 1
        fi
        sleep 0.1
    done

    # The role and database the tests and examples use.
    postgres_as psql -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d postgres \
        -c "CREATE ROLE runnel LOGIN PASSWORD 'runnel-test-secret' CREATEDB REPLICATION" \
        -c "CREATE DATABASE runnel OWNER runnel" >/dev/null \
        || { echo "postgres: could not create the runnel role and database" >&2; return 1; }

    export RUNNEL_TEST_PG_HOST=127.0.0.1
    export RUNNEL_TEST_PG_PORT="$port"
    export RUNNEL_TEST_PG_USER=runnel
    export RUNNEL_TEST_PG_PASSWORD=runnel-test-secret
    export RUNNEL_TEST_PG_DATABASE=runnel
    export RUNNEL_TEST_POSTGRES_URL="postgres://runnel:runnel-test-secret@127.0.0.1:$port/runnel"
    export RUNNEL_TEST_PG_BIN="$bin"
    echo "postgres: listening on 127.0.0.1:$port (database runnel, user runnel)" >&2
}

postgres_stop() {
    local dir="${1:?usage: postgres_stop DIR}"
    local bin
    bin="$(postgres_bin)"
    [ -n "$bin" ] && [ -f "$dir/data/postmaster.pid" ] || return 0
    postgres_as "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 \
        || postgres_as "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1
    return 0
}
