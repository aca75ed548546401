#!/bin/bash
# test_jepsen.sh: the short Jepsen-style run of sync (tests/sync/jepsen.py)
# under ctest: HEARTH_JEPSEN_RUNS randomized runs (default 15) against the
# SQLite backend and as many against a real PostgreSQL started here, each
# with 3-4 devices and 5-9 rounds (--short), network faults, SIGKILLed devices and servers, then the
# checks (identical ends, nothing lost, nothing twice, order kept).
# The seeds start at HEARTH_JEPSEN_SEED (default 20261202: CI runs the same
# plans every time; `make soak` runs 1,000 others from SOAK_SEED); a failure prints its seed
# and the command that replays it.
# Each run draws each collection's conflict rule from the default and
# HEARTH_JEPSEN_RULES (default lww,server,device,manual).
# `make soak` runs the long version (1,000 runs).
set -u
here=$(cd "$(dirname "$0")" && pwd)
runs=${HEARTH_JEPSEN_RUNS:-15}
seed=${HEARTH_JEPSEN_SEED:-20261202}
echo "test_jepsen: $runs runs per backend from seed $seed"
rc_all=0
skipped=0
for backend in sqlite postgresql; do
    bash "$here/jepsen.sh" "$backend" "$runs" --seed-base "$seed" --short
    rc=$?
    if [ $rc = 77 ]; then
        skipped=$((skipped + 1))
    elif [ $rc != 0 ]; then
        rc_all=1
    fi
done
if [ $rc_all = 0 ] && [ $skipped = 2 ]; then
    exit 77
fi
exit $rc_all
