#!/bin/bash
# bench_sync.sh: bench_sync.py against SQLite and a throw-away PostgreSQL
# (tests/sync/pg.sh). Never run by the tests.
#   bench/bench_sync.sh [bench_sync.py options]
here=$(cd "$(dirname "$0")" && pwd)
export HEARTH_BUILD_DIR=${HEARTH_BUILD_DIR:-build}
. "$here/../tests/sync/pg.sh"
if pg_available && pg_start; then
    trap pg_stop EXIT
    python3 "$here/bench_sync.py" --backend both --pg-url "$PG_URL" "$@"
else
    echo "bench_sync.sh: no PostgreSQL; SQLite only" >&2
    python3 "$here/bench_sync.py" --backend sqlite "$@"
fi
