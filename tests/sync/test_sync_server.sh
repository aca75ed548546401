#!/bin/bash
# test_sync_server.sh: the sync server against its SQLite backend: a real
# `hearth sync-server` on 127.0.0.1 driven over HTTP by server_check.py
# (registration, 401s, push idempotency, conflicts, pull paging, limits,
# crash hook); then the database file holds no payload as text (it stores
# only what devices sent) and is in WAL mode.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$here/server_check.py" "$HEARTH_BIN" "sqlite:$work/sync.db" "$work" || {
    echo "--- server log"; cat "$work/server.log"; exit 1; }
mode=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("pragma journal_mode").fetchone()[0])' "$work/sync.db")
[ "$mode" = wal ] || { echo "journal_mode is $mode, not wal"; exit 1; }
echo "ok"
