#!/bin/bash
# pgtmp.sh: runs a command with a private, throw-away PostgreSQL (for the
# Jepsen runs and bench/bench_sync.py; not a test itself):
#
#   pgtmp.sh CMD [ARGS...]
#
# initdb in a temp dir (as user nobody when run as root: PostgreSQL refuses
# root), trust authentication, listening on 127.0.0.1 at a free port, fsync
# on (an acknowledged commit must be durable); CMD runs with
# HEARTH_TEST_PG_URL=postgresql://jepsen@127.0.0.1:PORT/postgres and the
# cluster is stopped and removed when it ends. If HEARTH_TEST_PG_URL is set
# already, CMD just runs. Exit status: CMD's; 77 without PostgreSQL.
set -u
if [ -n "${HEARTH_TEST_PG_URL:-}" ]; then
    exec "$@"
fi
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ]; then
    echo "pgtmp.sh: SKIP: no PostgreSQL server binaries (apt-get install postgresql)"
    exit 77
fi
run_pg() {
    if [ "$(id -u)" = 0 ]; then
        setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"
    else
        "$@"
    fi
}
pgdir=$(mktemp -d /tmp/hearth-pg.XXXXXX)
cleanup() {
    if [ -f "$pgdir/data/postmaster.pid" ]; then
        run_pg "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate -w stop >/dev/null 2>&1
    fi
    rm -rf "$pgdir"
}
trap cleanup EXIT
chmod 755 "$pgdir"
[ "$(id -u)" = 0 ] && chown nobody:nogroup "$pgdir"
if ! run_pg "$pgbin/initdb" -D "$pgdir/data" -U jepsen --auth=trust -E UTF8 --no-sync \
        >"$pgdir/initdb.log" 2>&1; then
    echo "pgtmp.sh: initdb failed:"; cat "$pgdir/initdb.log"; exit 1
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
if ! run_pg "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/pg.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $pgdir -c max_connections=200" \
        start >/dev/null 2>&1; then
    echo "pgtmp.sh: PostgreSQL did not start:"; cat "$pgdir/pg.log"; exit 1
fi
export HEARTH_TEST_PG_URL="postgresql://jepsen@127.0.0.1:$port/postgres"
"$@"
