#!/usr/bin/env bash
# test_client_pg.sh: test_client.sh (two devices against a real sync server)
# with the server on PostgreSQL (started by pg.sh on 127.0.0.1); the
# plaintext check greps PostgreSQL's data directory. Skips (77) only when
# PostgreSQL's binaries are missing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
source "$here/pg.sh"
pg_available || { echo "SKIP: PostgreSQL binaries not found"; exit 77; }
trap pg_stop EXIT
pg_start
SYNC_TEST_DB="$PG_URL" SYNC_TEST_DATA="$PG_DIR" bash "$here/test_client.sh"
