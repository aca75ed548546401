#!/bin/bash
# test_jepsen_check.sh: the Jepsen driver's checker on hand-made histories
# (jepsen_check_test.py): it catches lost, doubled, reordered and phantom
# writes and passes legitimate ones. Needs no server.
exec python3 "$(dirname "$0")/jepsen_check_test.py"
