#!/bin/bash
# jepsen.sh: runs tests/sync/jepsen.py against one backend, starting the
# PostgreSQL it needs. Used by test_jepsen.sh (the short ctest run) and by
# `make soak` (1,000 runs); not a test itself.
#
#   jepsen.sh sqlite|postgresql RUNS [jepsen.py options...]
#
# PostgreSQL: a private cluster made here: initdb in a temp dir as user nobody (PostgreSQL refuses
# to run as root), trust authentication, 127.0.0.1 on a free port, removed
# on exit. HEARTH_TEST_PG_URL, when set, is used as it is.
# Exit status: jepsen.py's (0 passed, 1 a run failed, 77 skipped).
set -u
here=$(cd "$(dirname "$0")" && pwd)
backend=${1:?usage: jepsen.sh sqlite|postgresql RUNS [options]}
runs=${2:?usage: jepsen.sh sqlite|postgresql RUNS [options]}
shift 2
build=${HEARTH_BUILD_DIR:-build}
export HEARTH_BUILD_DIR=$build

pgdir=""
cleanup() {
    if [ -n "$pgdir" ]; then
        if [ -f "$pgdir/data/postmaster.pid" ]; then
            run_pg "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate -w stop >/dev/null 2>&1
        fi
        rm -rf "$pgdir"
    fi
}
trap cleanup EXIT

run_pg() {
    if [ "$(id -u)" = 0 ]; then
        setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"
    else
        "$@"
    fi
}

start_pg() {
    if [ -n "${HEARTH_TEST_PG_URL:-}" ]; then
        return 0
    fi
    pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ]; then
        echo "jepsen.sh: SKIP: no PostgreSQL server binaries (apt-get install postgresql)"
        exit 77
    fi
    pgdir=$(mktemp -d /tmp/hearth-jepsen-pg.XXXXXX)
    chmod 755 "$pgdir"
    [ "$(id -u)" = 0 ] && chown nobody:nogroup "$pgdir"
    if ! run_pg "$pgbin/initdb" -D "$pgdir/data" -U jepsen --auth=trust -E UTF8 \
            --no-sync >"$pgdir/initdb.log" 2>&1; then
        echo "jepsen.sh: initdb failed:"; cat "$pgdir/initdb.log"; exit 1
    fi
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    # fsync stays on: the server's acknowledgements must mean durable.
    if ! run_pg "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/pg.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $pgdir -c max_connections=200" \
            start >/dev/null 2>&1; then
        echo "jepsen.sh: PostgreSQL did not start:"; cat "$pgdir/pg.log"; exit 1
    fi
    export HEARTH_TEST_PG_URL="postgresql://jepsen@127.0.0.1:$port/postgres"
}

if [ "$backend" = postgresql ]; then
    start_pg
    python3 "$here/jepsen.py" --backend postgresql --pg-url "$HEARTH_TEST_PG_URL" --runs "$runs" "$@"
else
    python3 "$here/jepsen.py" --backend sqlite --runs "$runs" "$@"
fi
