#!/bin/bash
# jepsen.sh: runs tests/sync/jepsen.py against one backend, with a
# throw-away PostgreSQL from pg.sh for the postgresql one (each run makes its
# own database in it). Used by test_jepsen.sh (the short ctest run) and by
# `make soak` (1,000 runs); not a test itself.
#
#   jepsen.sh sqlite|postgresql RUNS [jepsen.py options...]
#
# HEARTH_TEST_PG_URL, when set, names an existing PostgreSQL to use instead.
# Exit status: jepsen.py's (0 passed, 1 a run failed, 77 skipped).
set -u
here=$(cd "$(dirname "$0")" && pwd)
backend=${1:?usage: jepsen.sh sqlite|postgresql RUNS [options]}
runs=${2:?usage: jepsen.sh sqlite|postgresql RUNS [options]}
shift 2
export HEARTH_BUILD_DIR=${HEARTH_BUILD_DIR:-build}
if [ "$backend" != postgresql ]; then
    exec python3 "$here/jepsen.py" --backend sqlite --runs "$runs" "$@"
fi
url=${HEARTH_TEST_PG_URL:-}
if [ -z "$url" ]; then
    . "$here/pg.sh"
    if ! pg_available; then
        echo "jepsen.sh: SKIP: no PostgreSQL server binaries"
        exit 77
    fi
    pg_start || exit 1
    trap pg_stop EXIT
    url=$PG_URL
fi
python3 "$here/jepsen.py" --backend postgresql --pg-url "$url" --runs "$runs" "$@"
