#!/bin/bash
# test_sync_server_pg.sh: the same checks as test_sync_server.sh
# (server_check.py) against the PostgreSQL backend, on a real PostgreSQL
# started by pg.sh on 127.0.0.1. Skips (77) only when PostgreSQL's binaries
# are missing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
source "$here/pg.sh"
pg_available || { echo "PostgreSQL binaries not found: skipped"; exit 77; }
work=$(mktemp -d)
cleanup() { pg_stop; rm -rf "$work"; }
trap cleanup EXIT
pg_start
python3 "$here/server_check.py" "$HEARTH_BIN" "$PG_URL" "$work" || {
    echo "--- server log"; cat "$work/server.log"; exit 1; }
echo "ok"
