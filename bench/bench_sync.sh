#!/bin/bash
# bench_sync.sh: bench_sync.py against SQLite and a throw-away PostgreSQL
# (tests/sync/pgtmp.sh). Never run by the tests.
#   bench/bench_sync.sh [bench_sync.py options]
here=$(cd "$(dirname "$0")" && pwd)
export HEARTH_BUILD_DIR=${HEARTH_BUILD_DIR:-build}
exec bash "$here/../tests/sync/pgtmp.sh" bash -c \
    'exec python3 "$0" --backend both --pg-url "$HEARTH_TEST_PG_URL" "$@"' "$here/bench_sync.py" "$@"
