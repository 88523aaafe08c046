# shellcheck shell=bash
# Sourced by scripts/test: a throwaway S3-compatible server (moto, from PyPI) for the S3 tests.
#
#   s3_start DIR   installs moto[server] into .venv-moto/ if missing, starts it on
#                  127.0.0.1:$RUNNEL_TEST_S3_PORT (default 15000) with SigV4 signatures and IAM
#                  policies enforced, and exports RUNNEL_TEST_S3_ENDPOINT, RUNNEL_TEST_S3_ACCESS_KEY,
#                  RUNNEL_TEST_S3_SECRET_KEY and RUNNEL_TEST_S3_ROLE_ARN (a web identity role).
#   s3_stop DIR    stops the server started with the same DIR.

# shellcheck source=process.sh
source "$(dirname "${BASH_SOURCE[0]}")/process.sh"

s3_port() {
    echo "${RUNNEL_TEST_S3_PORT:-15000}"
}

s3_venv() {
    echo "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.venv-moto"
}

s3_install() {
    local venv
    venv="$(s3_venv)"
    if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import moto.server, boto3" 2>/dev/null; then
        return 0
    fi
    echo "s3: installing moto[server] into $venv" >&2
    python3 -m venv "$venv" && "$venv/bin/pip" install -q "moto[server]" boto3
}

s3_start() {
    local dir="${1:?usage: s3_start DIR}"
    local port venv here
    port="$(s3_port)"
    venv="$(s3_venv)"
    here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
    mkdir -p "$dir"
    s3_install || { echo "s3: could not install moto" >&2; return 1; }

    s3_stop "$dir" 2>/dev/null
    if "$venv/bin/python" -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1', $port)) != 0)"; then
        echo "s3: something already answers on port $port; set RUNNEL_TEST_S3_PORT" >&2
        return 1
    fi
    "$venv/bin/python" "$here/moto_server.py" "$port" >"$dir/moto.log" 2>&1 &
    echo $! >"$dir/moto.pid"

    # Wait for the server to answer, up to 20 seconds (moto's own page, which needs no auth).
    local tries=0
    until "$venv/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/data.json', timeout=1)" 2>/dev/null; do
        tries=$((tries + 1))
        if [ "$tries" -gt 100 ]; then
            echo "s3: no answer on port $port after 20 s; log follows" >&2
            cat "$dir/moto.log" >&2
            return 1
        fi
        sleep 0.2
    done

    local keys
    keys="$("$venv/bin/python" "$here/moto_setup.py" "http://127.0.0.1:$port")" \
        || { echo "s3: could not create the test user" >&2; return 1; }
    read -r RUNNEL_TEST_S3_ACCESS_KEY RUNNEL_TEST_S3_SECRET_KEY RUNNEL_TEST_S3_ROLE_ARN <<<"$keys"
    export RUNNEL_TEST_S3_ENDPOINT="http://127.0.0.1:$port" RUNNEL_TEST_S3_ACCESS_KEY RUNNEL_TEST_S3_SECRET_KEY RUNNEL_TEST_S3_ROLE_ARN
    echo "s3: moto listening on $RUNNEL_TEST_S3_ENDPOINT (signatures enforced)" >&2
}

s3_stop() {
    local dir="${1:?usage: s3_stop DIR}"
    local pidfile="$dir/moto.pid"
    stop_pidfile "$pidfile"
}
