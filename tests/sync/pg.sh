# pg.sh: starts and stops a throwaway PostgreSQL (Debian's packages) for the
# sync tests. Source it, then:
#
#   pg_available || exit 77      # PostgreSQL binaries missing: skip
#   pg_start || exit 1           # sets PG_URL, PG_PORT, PG_DIR; initdb + pg_ctl
#   trap pg_stop EXIT            # (or call pg_stop from your own cleanup)
#
# The server listens on 127.0.0.1 at a free port with its socket and data in
# a fresh temp directory, trust authentication for the superuser "hearth",
# database "hearth", fsync on (the sync tests rely on durable commits). Run
# as root (as in CI), the server runs as the unprivileged user nobody, since
# PostgreSQL refuses to run as root. PG_BIN overrides the binaries' directory.
# pg_restart stops and starts the same cluster on the same port.

pg_bindir() {
    if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN"; return; fi
    local d
    for d in /usr/lib/postgresql/*/bin; do
        [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return; }
    done
    command -v initdb >/dev/null 2>&1 && dirname "$(command -v initdb)"
}

pg_available() {
    local b
    b=$(pg_bindir)
    [ -n "$b" ] && [ -x "$b/initdb" ] && [ -x "$b/pg_ctl" ] && [ -x "$b/postgres" ]
}

# Runs a PostgreSQL binary as the cluster's owner.
_pg_as() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u nobody -- "$@"
    else
        "$@"
    fi
}

_pg_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

_pg_ctl_start() {
    _pg_as "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR/sock -c fsync=on -c max_connections=200" \
        start >/dev/null
}

pg_start() {
    PG_BINDIR=$(pg_bindir)
    PG_DIR=$(mktemp -d /tmp/hearth-pg.XXXXXX) || return 1
    mkdir -p "$PG_DIR/sock"
    [ "$(id -u)" = 0 ] && chown -R nobody "$PG_DIR"
    chmod 755 "$PG_DIR"
    # nobody must be able to reach the directory (cd'ing into it too).
    (cd "$PG_DIR" && _pg_as "$PG_BINDIR/initdb" -D "$PG_DIR/data" -U hearth --auth=trust \
        -E UTF8 --no-locale >"$PG_DIR/initdb.log" 2>&1) || {
        echo "pg.sh: initdb failed:" >&2; cat "$PG_DIR/initdb.log" >&2; return 1; }
    local try
    for try in 1 2 3 4 5; do
        PG_PORT=$(_pg_free_port)
        if (cd "$PG_DIR" && _pg_ctl_start); then
            PG_URL="postgresql://hearth@127.0.0.1:$PG_PORT/hearth"
            "$PG_BINDIR/createdb" -h 127.0.0.1 -p "$PG_PORT" -U hearth hearth 2>/dev/null ||
            (cd "$PG_DIR" && _pg_as "$PG_BINDIR/createdb" -h 127.0.0.1 -p "$PG_PORT" -U hearth hearth) || {
                echo "pg.sh: createdb failed" >&2; return 1; }
            export PG_URL PG_PORT PG_DIR PG_BINDIR
            return 0
        fi
    done
    echo "pg.sh: PostgreSQL did not start:" >&2
    cat "$PG_DIR/log" >&2 2>/dev/null
    return 1
}

pg_restart() {
    (cd "$PG_DIR" && _pg_as "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null) &&
        (cd "$PG_DIR" && _pg_ctl_start)
}

pg_stop() {
    [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR" ] || return 0
    (cd "$PG_DIR" && _pg_as "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1)
    rm -rf "$PG_DIR"
    PG_DIR=
}
