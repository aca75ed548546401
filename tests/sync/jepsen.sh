#!/bin/bash
# jepsen.sh: runs tests/sync/jepsen.py against one backend, with the
# PostgreSQL it needs (pgtmp.sh). Used by test_jepsen.sh (the short ctest
# run) and by `make soak` (1,000 runs); not a test itself.
#
#   jepsen.sh sqlite|postgresql RUNS [jepsen.py options...]
#
# Exit status: jepsen.py's (0 passed, 1 a run failed, 77 skipped).
set -u
here=$(cd "$(dirname "$0")" && pwd)
backend=${1:?usage: jepsen.sh sqlite|postgresql RUNS [options]}
runs=${2:?usage: jepsen.sh sqlite|postgresql RUNS [options]}
shift 2
export HEARTH_BUILD_DIR=${HEARTH_BUILD_DIR:-build}
if [ "$backend" = postgresql ]; then
    exec bash "$here/pgtmp.sh" bash -c 'exec python3 "$0" --backend postgresql --pg-url "$HEARTH_TEST_PG_URL" "$@"' \
        "$here/jepsen.py" --runs "$runs" "$@"
fi
exec python3 "$here/jepsen.py" --backend sqlite --runs "$runs" "$@"
